/**
 * A `targets` notice as core's target changes: each list in a set is the
 * receiver's own list with the set's delta applied (`DocumentChanges.targets`),
 * so receiving one user added to a list of a million costs that user: no
 * list is copied, validated or compiled again whole.
 */
import type { Flag, Target } from "@detour/core";
import type { DocumentChanges } from "@detour/core/store";
import type { TargetsNotice } from "./layout.js";
import { LISTS, flagOf, setId, type TargetList } from "./targets.js";

type TargetChanges = NonNullable<DocumentChanges["targets"]>;

const dictionary = <T>(): Record<string, T> => Object.create(null) as Record<string, T>;

/** The changes of a `targets` notice over `current` (the document at the notice's base). */
export function noticeChanges(current: Readonly<{ flags?: Readonly<Record<string, Flag>> }>, notice: TargetsNotice): DocumentChanges {
  const sets = new Set(notice.sets);
  const deltas = new Map(notice.deltas.map((d) => [d.id, d]));
  const own = (key: string) => (current.flags && Object.prototype.hasOwnProperty.call(current.flags, key) ? current.flags[key] : undefined);
  const flags: Record<string, unknown> = Object.assign(dictionary<unknown>(), notice.changes.flags);
  for (const d of notice.deltas) if (!(flagOf(d.id) in flags)) flags[flagOf(d.id)] = own(flagOf(d.id));
  const targets: TargetChanges = dictionary();
  for (const [key, def] of Object.entries(flags)) {
    if (def === null || def === undefined || typeof def !== "object") continue;
    const flag: Flag = { ...(def as Flag) };
    const changes: TargetChanges[string] = [];
    for (const list of LISTS) {
      const entries = flag[list];
      if (!Array.isArray(entries)) continue;
      flag[list] = entries.map((t, index) => {
        const id = setId(key, list, t);
        if (!sets.has(id)) return t;
        const delta = deltas.get(id);
        changes.push({ list, index, from: entryIndex(own(key), list, t), added: delta?.added ?? [], removed: delta?.removed ?? [], sorted: true });
        return { ...t, values: [] };
      });
    }
    flags[key] = flag;
    if (changes.length > 0) targets[key] = changes;
  }
  return { ...notice.changes, flags, targets };
}

/** Where the entry of `target`'s variation and kind is in the previous definition (`entryOf`'s entry), -1 when none. */
function entryIndex(flag: Readonly<Flag> | undefined, list: TargetList, target: Target): number {
  const entries = flag?.[list];
  if (!Array.isArray(entries)) return -1;
  return entries.findIndex((t) => t.variation === target.variation && (t.contextKind ?? "user") === (target.contextKind ?? "user"));
}
