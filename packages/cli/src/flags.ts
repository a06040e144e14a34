import type { Flag, FlagDocument, JsonValue } from "@detour/core";
import { toMode } from "@detour/core";
import { UsageError } from "./errors.js";
import { likelyTypos, orList } from "./suggest.js";

/** Every flag key of a document: `flags` and `flagValues` alike. */
export function flagKeys(doc: Readonly<FlagDocument> | undefined): string[] {
  return [...Object.keys(doc?.flags ?? {}), ...Object.keys(doc?.flagValues ?? {})];
}

function has(record: object | undefined, key: string): boolean {
  return record !== undefined && Object.prototype.hasOwnProperty.call(record, key);
}

/** Whether the document has a flag (or flagValues entry) `key`. */
export function hasFlag(doc: Readonly<FlagDocument> | undefined, key: string): boolean {
  return has(doc?.flags, key) || has(doc?.flagValues, key);
}

/**
 * Refuses to create `key` when it looks like a typo of a flag that exists
 * (`detour on stie` next to `site`); `create` (`--create`) overrides. A new
 * name with no near neighbour is created, as always.
 */
export function checkNewFlag(doc: Readonly<FlagDocument> | undefined, key: string, create: boolean | undefined): void {
  if (create === true || hasFlag(doc, key)) return;
  const near = likelyTypos(key, flagKeys(doc));
  if (near.length > 0) throw new UsageError(`no flag "${key}"; did you mean ${orList(near)}? (--create makes a new flag)`);
}

/** The flag `key` that a command changes, or a `UsageError` naming the flags that do exist (nearest first). */
export function requireFlag(doc: Readonly<FlagDocument> | undefined, key: string, command: string): Readonly<Flag> {
  const flag = has(doc?.flags, key) ? doc!.flags![key] : undefined;
  if (flag !== undefined) return flag;
  if (has(doc?.flagValues, key)) {
    throw new UsageError(`${command}: "${key}" is a fixed flagValues entry, not a flag detour can turn on and off (change it with detour import)`);
  }
  const keys = flagKeys(doc);
  const near = likelyTypos(key, keys);
  if (near.length > 0) throw new UsageError(`${command}: no flag "${key}"; did you mean ${orList(near)}?`);
  const list = keys.length === 0 ? "the store has no flags" : `its flags: ${keys.slice(0, 10).join(", ")}${keys.length > 10 ? `, +${keys.length - 10} more` : ""}`;
  throw new UsageError(`${command}: no flag "${key}" (${list})`);
}

/** The users a flag targets into read-only or maintenance. */
/** The contexts of other kinds than user a flag targets into a mode, as `kind:key`. */
export function contextsIn(flag: Readonly<Flag>): Set<string> {
  const contexts = new Set<string>();
  for (const target of flag.contextTargets ?? []) {
    if (!target.contextKind || target.contextKind === "user") continue;
    const mode = toMode(flag.variations[target.variation] as JsonValue);
    if (mode === "read-only" || mode === "maintenance") for (const key of target.values ?? []) contexts.add(`${target.contextKind}:${key}`);
  }
  return contexts;
}

export function usersIn(flag: Readonly<Flag>): Set<string> {
  const users = new Set<string>();
  for (const target of [...(flag.targets ?? []), ...(flag.contextTargets ?? [])]) {
    if (target.contextKind !== undefined && target.contextKind !== "user") continue;
    const mode = toMode(flag.variations[target.variation] as JsonValue);
    if (mode === "read-only" || mode === "maintenance") for (const user of target.values) users.add(user);
  }
  return users;
}
