import type { Snapshot } from "../snapshot.js";

/*
 * Which context kinds other than `user` a flag reads, so that a request
 * meeting it computes only those of its `contexts(req)`: a flag in force that
 * targets users only computes none. Conservative: any non-user kind named
 * anywhere in the flag, its prerequisites or the segments it matches counts,
 * and a clause on the `kind` attribute reads every kind (it asks which kinds
 * the context has).
 */

const KIND_FIELDS = ["contextKind", "rolloutContextKind", "unboundedContextKind"];

type Node = Readonly<Record<string, unknown>>;

/** The other kinds a flag reads: a set of kind names (empty: none), or `ALL_KINDS`. */
export type KindsRead = ReadonlySet<string> | typeof ALL_KINDS;
export const ALL_KINDS = "all";
const NONE: ReadonlySet<string> = new Set();

/** Adds the other kinds `node` names to `kinds`; `true` when it reads every kind. */
function namesOtherKinds(node: unknown, kinds: Set<string>, segments: string[], prerequisites: string[]): boolean {
  const stack: unknown[] = [node];
  while (stack.length > 0) {
    const value = stack.pop();
    if (value === null || typeof value !== "object") continue;
    if (Array.isArray(value)) {
      for (const item of value) if (item !== null && typeof item === "object") stack.push(item);
      continue;
    }
    const object = value as Node;
    for (const field of KIND_FIELDS) {
      const kind = object[field];
      if (typeof kind === "string" && kind !== "" && kind !== "user") kinds.add(kind);
    }
    if (object.attribute === "kind" && typeof object.op === "string" && object.op !== "segmentMatch") return true;
    if (object.op === "segmentMatch" && Array.isArray(object.values)) {
      for (const key of object.values) if (typeof key === "string") segments.push(key);
    }
    for (const [name, child] of Object.entries(object)) {
      // Target and segment key lists can be long: only objects matter.
      if (name === "values" || name === "variations" || name === "detour") continue;
      if (name === "prerequisites" && Array.isArray(child)) {
        for (const p of child) if (p && typeof (p as Node).key === "string") prerequisites.push((p as Node).key as string);
      }
      if (child !== null && typeof child === "object") stack.push(child);
    }
  }
  return false;
}

/** The kinds other than `user` that evaluating flag `key` of `snapshot` can read. */
export function kindsRead(snapshot: Snapshot, key: string): KindsRead {
  const kinds = new Set<string>();
  const seenFlags = new Set<string>();
  const seenSegments = new Set<string>();
  const flags = [key];
  const segments: string[] = [];
  while (flags.length > 0 || segments.length > 0) {
    const flagKey = flags.pop();
    if (flagKey !== undefined) {
      if (seenFlags.has(flagKey)) continue;
      seenFlags.add(flagKey);
      const definition = snapshot.definition(flagKey);
      if (definition && namesOtherKinds(definition, kinds, segments, flags)) return ALL_KINDS;
      continue;
    }
    const segmentKey = segments.pop()!;
    if (seenSegments.has(segmentKey)) continue;
    seenSegments.add(segmentKey);
    const segment = snapshot.document.segments?.[segmentKey];
    if (segment && namesOtherKinds(segment, kinds, segments, flags)) return ALL_KINDS;
  }
  return kinds.size === 0 ? NONE : kinds;
}

/** Whether `kinds` holds any kind. */
export function readsAnyKind(kinds: KindsRead): boolean {
  return kinds === ALL_KINDS || kinds.size > 0;
}

/** The kinds read by any of `each` (the flags in force of one snapshot). */
export function unionKinds(each: Iterable<KindsRead>): KindsRead {
  let union: Set<string> | undefined;
  for (const kinds of each) {
    if (kinds === ALL_KINDS) return ALL_KINDS;
    for (const kind of kinds) (union ??= new Set()).add(kind);
  }
  return union ?? NONE;
}
