import type { Flag, Target } from "./types.js";
import { deriveValues, foldLimit, trackedChange, valueCount, type TargetChange, type TargetList } from "./target-values.js";

/*
 * Flags changed by target deltas (`DocumentChanges.targets`): the
 * definition a change carries leaves the values of its changed entries
 * out, and the delta says which keys the entry gains and loses from the
 * entry it starts from in the previous definition.
 */

const LISTS: readonly TargetList[] = ["targets", "contextTargets"];
const EMPTY: readonly string[] = Object.freeze([]);

const entriesOf = (flag: unknown, list: TargetList): readonly Target[] | undefined => {
  const entries = flag !== null && typeof flag === "object" ? (flag as Flag)[list] : undefined;
  return Array.isArray(entries) ? entries : undefined;
};

/**
 * For `Snapshot.patch`: `flags` (the changed definitions) with the changed
 * entries holding only their added keys, to validate; `derive` then gives
 * the validated definitions their lists (derived from `previous`, not
 * copied); `undefined` when no change is a target delta.
 */
export function withTargetChanges(
  flags: Record<string, unknown> | undefined,
  targets: Readonly<Record<string, readonly TargetChange[]>> | undefined,
  previous: Readonly<Record<string, Flag>> | undefined,
): { fragment: Record<string, unknown>; derive(merged: Record<string, Flag>): void; changes: Record<string, readonly TargetChange[]> } | undefined {
  if (!targets || !flags) return undefined;
  const fragment = { ...flags };
  const changes: Record<string, readonly TargetChange[]> = {};
  for (const [key, list] of Object.entries(targets)) {
    const def = flags[key];
    if (def === null || typeof def !== "object" || !Array.isArray(list)) continue;
    const copy: Record<string, unknown> = { ...(def as object) };
    for (const name of LISTS) {
      const entries = entriesOf(def, name);
      if (!entries) continue;
      copy[name] = entries.map((t, i) => {
        const change = list.find((c) => c.list === name && c.index === i);
        return change && t !== null && typeof t === "object" ? { ...t, values: change.added } : t;
      });
    }
    fragment[key] = copy;
    changes[key] = list;
  }
  const own = (key: string) => (previous && Object.prototype.hasOwnProperty.call(previous, key) ? previous[key] : undefined);
  const derive = (merged: Record<string, Flag>) => {
    for (const [key, list] of Object.entries(changes)) {
      const flag = merged[key];
      if (!flag) continue;
      for (const change of list) {
        const entry = entriesOf(flag, change.list)?.[change.index];
        if (!entry) continue;
        const from = entriesOf(own(key), change.list)?.[change.from]?.values ?? EMPTY;
        entry.values = deriveValues(from, change.added, change.removed, foldLimit(valueCount(from)), change.sorted === true) as string[];
      }
    }
  };
  return { fragment, derive, changes };
}

/**
 * For `diffDocuments`: a draft's flag whose large lists are tracked (see
 * `trackValues`) as its definition without those lists' values and the
 * target changes; `undefined` when it has no tracked list. `unchanged` when
 * the write changed nothing in it.
 */
export function splitTracked(before: Readonly<Flag> | undefined, after: Flag): { shell: Flag; changes: TargetChange[]; unchanged: boolean } | undefined {
  let shell: Flag | undefined;
  const changes: TargetChange[] = [];
  let moved = false;
  for (const list of LISTS) {
    const entries = entriesOf(after, list);
    if (!entries) continue;
    let copied: Target[] | undefined;
    entries.forEach((t, index) => {
      const change = t !== null && typeof t === "object" ? trackedChange(t.values) : undefined;
      if (!change) return;
      const from = (entriesOf(before, list) ?? []).findIndex((old) => old?.values === change.source);
      if (from < 0) return;
      if (from !== index) moved = true;
      copied ??= entries.slice();
      copied[index] = { ...t, values: [] };
      changes.push({ list, index, from, added: change.added, removed: change.removed });
    });
    if (copied) (shell ??= { ...after })[list] = copied;
  }
  if (!shell) return undefined;
  const empty = !moved && changes.every((c) => c.added.length === 0 && c.removed.length === 0);
  return { shell, changes, unchanged: empty && before !== undefined && JSON.stringify(shell) === JSON.stringify(withEmptied(before, changes)) };
}

/** `flag` with the lists `changes` start from emptied, to compare with a shell. */
function withEmptied(flag: Readonly<Flag>, changes: readonly TargetChange[]): Flag {
  const out: Flag = { ...flag };
  for (const list of LISTS) {
    const entries = entriesOf(flag, list);
    if (entries && changes.some((c) => c.list === list)) out[list] = entries.map((t, i) => (changes.some((c) => c.list === list && c.from === i) ? { ...t, values: [] } : t));
  }
  return out;
}
