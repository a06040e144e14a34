import { ValidationError, validateDocument, type Flag, type FlagDocument } from "@detour/core";
import type { Context } from "../context.js";
import { UsageError } from "../errors.js";
import { readInput } from "../io-files.js";

export interface ImportOptions {
  dryRun?: boolean;
}

/** Parses and validates an import; a `UsageError` lists every problem with its path. */
export function parseDocument(text: string, name: string): FlagDocument {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (error) {
    throw new UsageError(`${name} is not valid JSON (${(error as Error).message}); nothing was imported`);
  }
  try {
    return validateDocument(json, name);
  } catch (error) {
    if (!(error instanceof ValidationError)) throw error;
    const count = error.issues.length;
    throw new UsageError(`${name} is not a valid flag document: ${count} problem${count === 1 ? "" : "s"}; nothing was imported`, {
      cause: error,
      details: error.issues.map((issue) => `${issue.path}: ${issue.message}`),
    });
  }
}

interface Changes {
  added: string[];
  removed: string[];
  changed: string[];
  unchanged: string[];
}

function flagsOf(doc: Readonly<FlagDocument>): Map<string, unknown> {
  const flags = new Map<string, unknown>();
  for (const [key, flag] of Object.entries(doc.flags ?? {})) flags.set(key, comparable(flag));
  for (const [key, value] of Object.entries(doc.flagValues ?? {})) flags.set(key, { flagValue: value });
  return flags;
}

/** A flag without the fields every write changes (version), for comparison. */
function comparable(flag: Readonly<Flag>): string {
  const { version: _version, ...rest } = flag as Flag & { version?: number };
  return stableJson(rest);
}

function stableJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(stableJson).join(",")}]`;
  if (value !== null && typeof value === "object") {
    const entries = Object.entries(value as Record<string, unknown>).filter(([, v]) => v !== undefined);
    entries.sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${stableJson(v)}`).join(",")}}`;
  }
  return JSON.stringify(value);
}

function compare(before: Readonly<FlagDocument>, after: Readonly<FlagDocument>): Changes {
  const old = flagsOf(before);
  const next = flagsOf(after);
  const changes: Changes = { added: [], removed: [], changed: [], unchanged: [] };
  for (const [key, value] of next) {
    if (!old.has(key)) changes.added.push(key);
    else if (stableJson(old.get(key)) !== stableJson(value)) changes.changed.push(key);
    else changes.unchanged.push(key);
  }
  for (const key of old.keys()) if (!next.has(key)) changes.removed.push(key);
  return changes;
}

function summary(changes: Changes): string {
  const parts: string[] = [];
  const list = (keys: string[]) => (keys.length > 8 ? `${keys.slice(0, 8).join(", ")} +${keys.length - 8} more` : keys.join(", "));
  if (changes.added.length) parts.push(`add ${list(changes.added)}`);
  if (changes.changed.length) parts.push(`change ${list(changes.changed)}`);
  if (changes.removed.length) parts.push(`remove ${list(changes.removed)}`);
  if (changes.unchanged.length) parts.push(`${changes.unchanged.length} unchanged`);
  return parts.length ? parts.join("; ") : "no flags either way";
}

/**
 * `detour import FILE [--dry-run]`: validates the whole document (reporting
 * every problem), then replaces the store's document atomically — or, with
 * `--dry-run`, says what would change. The store's audit log is kept.
 */
export async function importCommand(context: Context, file: string, options: ImportOptions): Promise<number> {
  const name = file === "-" ? "stdin" : file;
  const document = parseDocument(await readInput(file, context.io.cwd, context.io.stdin), name);
  if (options.dryRun) {
    const current = await context.read((view) => ({ doc: view.document() ?? { flags: {} }, revision: view.status().store.version }));
    context.print(
      `${name} is valid; importing it would replace ${current.revision === null ? "an empty store" : `revision ${current.revision}`} of ${context.location.display}: ${summary(compare(current.doc, document))} (dry run: nothing changed)`,
    );
    return 0;
  }
  let changes: Changes | undefined;
  const status = await context.write(async (detour) => {
    changes = compare(detour.document() ?? { flags: {} }, document);
    return detour.replace(document, { actor: context.actor });
  });
  context.print(`imported ${name} into ${context.location.display} (revision ${status.store.version ?? "?"}): ${summary(changes!)}`);
  return 0;
}
