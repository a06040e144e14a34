/**
 * The document as Redis holds it: large target lists moved into sets (the
 * document keeps their entries with `values: []`, the index key lists the
 * sets), and back again when read. A write is planned as the small document
 * plus what each set gains or loses, so adding one user to a list of a
 * million sends one user.
 */
import type { Flag, FlagDocument } from "@detour/core";
import { diffDocuments, valuesChange, type DocumentChanges } from "@detour/core/store";
import { LISTS, applyDelta, deltaOf, entryOf, flagOf, largeEntries, setId, type SetId, type TargetDelta } from "./targets.js";

/** A dictionary without a prototype, as core keeps `flags` (a flag may be called `constructor`). */
const dictionary = <T>(): Record<string, T> => Object.create(null) as Record<string, T>;

/** What a write does to one set: apply a delta (`a`), replace its content (`r`, or `s` from a staged set), or delete it (`d`). */
export interface SetOp {
  readonly id: SetId;
  readonly op: "a" | "r" | "s" | "d";
  readonly added: readonly string[];
  readonly removed: readonly string[];
}

/** The sets of a document and the document without their values. */
export interface Layout {
  readonly stored: FlagDocument;
  /** The lists in sets, with their values. */
  readonly sets: ReadonlyMap<SetId, readonly string[]>;
}

/** `doc` with its large lists taken out (the flags without one are shared, not copied). */
export function layoutOf(doc: Readonly<FlagDocument>): Layout {
  const sets = new Map<SetId, readonly string[]>();
  const flags = doc.flags;
  if (!flags) return { stored: doc as FlagDocument, sets };
  let copied: Record<string, Flag> | undefined;
  for (const [key, flag] of Object.entries(flags)) {
    if (flag === null || typeof flag !== "object") continue;
    const large = largeEntries(key, flag);
    if (large.size === 0) continue;
    for (const [id, values] of large) sets.set(id, values);
    copied ??= Object.assign(dictionary<Flag>(), flags);
    const out = copied;
    const stripped: Flag = { ...flag };
    for (const list of LISTS) {
      const entries = flag[list];
      if (Array.isArray(entries)) stripped[list] = entries.map((t) => (large.has(setId(key, list, t)) ? { ...t, values: [] } : t));
    }
    out[key] = stripped;
  }
  return { stored: copied ? { ...doc, flags: copied } : (doc as FlagDocument), sets };
}

/** What a compare-and-set writes: the small document, the set operations, and the notice for other instances. */
export interface WritePlan {
  readonly stored: string;
  readonly ops: readonly SetOp[];
  /** The ids of the lists in sets after the write. */
  readonly sets: ReadonlySet<SetId>;
  /** Every set listed in the index is dropped first: Redis holds something else than the base the plan was made from. */
  readonly reset: boolean;
  /** The notice after `<revision>\n` (`""`: the revision alone). */
  readonly notice: string;
}

/** Marks a notice that carries target deltas: `<revision>\ntargets <base revision>\n<TargetsNotice JSON>`. */
export const TARGETS = "targets ";

/** A `targets` notice: the changes of the small document, the deltas of the sets, and which lists are in sets now. */
export interface TargetsNotice {
  readonly changes: DocumentChanges;
  readonly deltas: readonly TargetDelta[];
  readonly sets: readonly SetId[];
}

/**
 * Plans writing `next` over `base`. `inRedis`: the ids of the sets Redis holds
 * for `base`, or `null` when what Redis holds is not `base` (absent, refused):
 * then every set is written whole. `smallNotice(stored)`: the notice of a
 * write that involves no set (the document or its changes), as before sets.
 */
export function planWrite(
  base: Readonly<FlagDocument>,
  inRedis: ReadonlySet<SetId> | null,
  next: Readonly<FlagDocument>,
  baseRevision: string | null,
  smallNotice: (stored: string, changes: () => DocumentChanges | null) => string,
  maxNotice: number,
): WritePlan {
  const after = layoutOf(next);
  const stored = JSON.stringify(after.stored);
  const sets = new Set(after.sets.keys());
  const reset = inRedis === null;
  const before = reset ? new Map<SetId, readonly string[]>() : layoutOf(base).sets;
  const ops: SetOp[] = [];
  const deltas: TargetDelta[] = [];
  for (const [id, values] of after.sets) {
    const old = inRedis?.has(id) ? before.get(id) : undefined;
    if (old === undefined) {
      ops.push({ id, op: "r", added: values, removed: [] });
      continue;
    }
    // A list the write's snapshot derived from the base's tells its change without a scan.
    const delta = valuesChange(old, values) ?? deltaOf(old, values);
    if (delta.added.length + delta.removed.length === 0) continue;
    ops.push({ id, op: "a", ...delta });
    deltas.push({ id, ...delta });
  }
  for (const id of inRedis ?? []) if (!sets.has(id)) ops.push({ id, op: "d", added: [], removed: [] });
  const changes = () => (baseRevision === null ? null : diffDocuments(reset ? base : layoutOf(base).stored, after.stored));
  let notice = "";
  if (sets.size === 0 && (inRedis?.size ?? 0) === 0) notice = smallNotice(stored, changes);
  else if (baseRevision !== null && !reset && ops.every((o) => o.op !== "r")) {
    const diff = changes();
    const body = diff && `${TARGETS}${baseRevision}\n${JSON.stringify({ changes: diff, deltas, sets: [...sets] } satisfies TargetsNotice)}`;
    if (body && body.length <= maxNotice) notice = body;
  }
  return { stored, ops, sets, reset, notice };
}

/** The stored document with the sets' values put back (sorted), as a plain document. */
export function assemble(stored: unknown, members: ReadonlyMap<SetId, readonly string[]>): unknown {
  if (members.size === 0 || stored === null || typeof stored !== "object") return stored;
  const flags = (stored as FlagDocument).flags;
  if (!flags || typeof flags !== "object") return stored;
  for (const [id, values] of members) {
    const key = flagOf(id);
    const flag = Object.prototype.hasOwnProperty.call(flags, key) ? flags[key] : undefined;
    const entry = flag && typeof flag === "object" ? entryOf(flag, id) : undefined;
    // Only an entry the document left empty takes a set's values (a stale set never overrides a list written inline).
    if (entry && Array.isArray(entry.values) && entry.values.length === 0) entry.values = [...values].sort();
  }
  return stored;
}

/**
 * The changes of a `targets` notice as plain changes over `current` (the
 * document at the notice's base): every flag it names or whose sets changed,
 * with the sets' values taken from `current` and the deltas applied.
 */
export function fillChanges(current: Readonly<FlagDocument>, notice: TargetsNotice): DocumentChanges {
  const sets = new Set(notice.sets);
  const deltas = new Map(notice.deltas.map((d) => [d.id, d]));
  const flags: Record<string, unknown> = Object.assign(dictionary<unknown>(), notice.changes.flags);
  const own = (key: string) => (current.flags && Object.prototype.hasOwnProperty.call(current.flags, key) ? current.flags[key] : undefined);
  for (const d of notice.deltas) if (!(flagOf(d.id) in flags)) flags[flagOf(d.id)] = own(flagOf(d.id));
  for (const [key, def] of Object.entries(flags)) {
    if (def === null || def === undefined || typeof def !== "object") continue;
    const flag = { ...(def as Flag) };
    for (const list of LISTS) {
      const entries = flag[list];
      if (!Array.isArray(entries)) continue;
      flag[list] = entries.map((t) => {
        const id = setId(key, list, t);
        if (!sets.has(id)) return t;
        const old = entryOf(own(key), id)?.values ?? [];
        const delta = deltas.get(id);
        return { ...t, values: delta ? applyDelta(old, delta) : [...old] };
      });
    }
    flags[key] = flag;
  }
  return { ...notice.changes, flags };
}
