/**
 * Large target lists kept apart from the document: which `targets` /
 * `contextTargets` entries live in a Redis set of their own, the set's key,
 * and the users a write added to or removed from it. Sets keep no order, so
 * lists read back from them are sorted.
 */
import type { Flag, Target } from "@detour/core";

/** A list of at least this many values lives in its own Redis set. */
export const LARGE_TARGETS = 1024;

export type TargetList = "targets" | "contextTargets";
export const LISTS: readonly TargetList[] = ["targets", "contextTargets"];

/** One target entry of one flag: `<list>:<variation>:<contextKind>:<flag>` (the flag last: its key may hold `:`). */
export type SetId = string;

/** Users added to and removed from the set of one target entry. */
export interface TargetDelta {
  readonly id: SetId;
  readonly added: string[];
  readonly removed: string[];
}

export const setId = (flag: string, list: TargetList, target: Target): SetId => `${list}:${target.variation}:${target.contextKind ?? "user"}:${flag}`;

/**
 * The key of the set holding entry `id`: `<index key>:<id>`, that is
 * `<prefix>:targets:<list>:<variation>:<contextKind>:<flag>`, so on a Cluster
 * every set shares the document's hash tag and slot.
 */
export const targetSetKey = (index: string, id: SetId): string => `${index}:${id}`;

/** Entry `id` of a flag definition (the first entry of that variation and kind), if any. */
export function entryOf(flag: Readonly<Flag> | undefined, id: SetId): Target | undefined {
  const [list, variation, kind] = id.split(":", 3) as [TargetList, string, string];
  const entries = flag?.[list];
  if (!Array.isArray(entries)) return undefined;
  return entries.find((t) => String(t.variation) === variation && (t.contextKind ?? "user") === kind);
}

/** The flag key of entry `id`. */
export const flagOf = (id: SetId): string => id.split(":").slice(3).join(":");

/**
 * The entries of `flag` large enough to live in a set, keyed by id. An entry
 * whose variation and kind appear twice in its list stays inline (one set per id).
 */
export function largeEntries(key: string, flag: Readonly<Flag>): Map<SetId, readonly string[]> {
  const found = new Map<SetId, readonly string[]>();
  for (const list of LISTS) {
    const entries = flag[list];
    // Most flags have no list that large: no ids built for them.
    if (!Array.isArray(entries) || !entries.some((t) => Array.isArray(t.values) && t.values.length >= LARGE_TARGETS)) continue;
    const seen = new Map<SetId, number>();
    for (const t of entries) seen.set(setId(key, list, t), (seen.get(setId(key, list, t)) ?? 0) + 1);
    for (const t of entries) {
      const id = setId(key, list, t);
      if (seen.get(id) === 1 && Array.isArray(t.values) && t.values.length >= LARGE_TARGETS) found.set(id, t.values);
    }
  }
  return found;
}

/** Past this many, a delta is worked out with a set instead of a scan. */
const FEW = 16;

/**
 * What turns list `before` into `after`, as sets. Fast when `after` is
 * `before` with a few values dropped and a few appended (what core's edits
 * do): one scan, no set of a million entries built.
 */
export function deltaOf(before: readonly string[], after: readonly string[]): Pick<TargetDelta, "added" | "removed"> {
  if (before === after) return { added: [], removed: [] };
  const removed: string[] = [];
  let j = 0;
  for (let i = 0; i < before.length && removed.length <= FEW; i++) {
    if (after[j] === before[i]) j++;
    else removed.push(before[i]!);
  }
  const added = after.length - j <= FEW ? after.slice(j) : null;
  if (added && removed.length <= FEW && removed.every((v) => !after.includes(v)) && added.every((v) => !before.includes(v))) {
    return { added: [...new Set(added)], removed: [...new Set(removed)] };
  }
  const had = new Set(before);
  const has = new Set(after);
  return { added: [...has].filter((v) => !had.has(v)), removed: [...had].filter((v) => !has.has(v)) };
}

const isSorted = (values: readonly string[]) => values.every((v, i) => i === 0 || values[i - 1]! < v);

/** Where `value` is, or would go, in sorted `values`. */
function place(values: readonly string[], value: string): number {
  let [lo, hi] = [0, values.length];
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (values[mid]! < value) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/** `values` with a delta applied, sorted and without duplicates (set semantics); a few changes to a sorted list cost no sort. */
export function applyDelta(values: readonly string[], delta: Pick<TargetDelta, "added" | "removed">): string[] {
  if (delta.added.length + delta.removed.length > FEW || !isSorted(values)) {
    const set = new Set(values);
    for (const v of delta.added) set.add(v);
    for (const v of delta.removed) set.delete(v);
    return [...set].sort();
  }
  const out = values.slice();
  for (const v of delta.removed) {
    const at = place(out, v);
    if (out[at] === v) out.splice(at, 1);
  }
  for (const v of delta.added) {
    const at = place(out, v);
    if (out[at] !== v) out.splice(at, 0, v);
  }
  return out;
}
