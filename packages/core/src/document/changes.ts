/**
 * What a write changed in a flag document, entry by entry: the flags,
 * flag values and segments added, replaced or removed (`null`), and the audit
 * entries put in front. Small when a write touches one flag of many, so a
 * store can send it to other instances instead of the whole document, and
 * `Snapshot.patch()` recompiles only what it names.
 */
import type { AuditEntry, Flag, FlagDocument } from "./types.js";
import type { TargetChange } from "./target-values.js";
import { splitTracked } from "./target-changes.js";

export const DICTIONARIES = ["flags", "flagValues", "segments"] as const;
export type Dictionary = (typeof DICTIONARIES)[number];

export interface DocumentChanges {
  /** Entries set (the new definition) or removed (`null`), per dictionary. */
  flags?: Record<string, unknown>;
  flagValues?: Record<string, unknown>;
  segments?: Record<string, unknown>;
  /**
   * Flags (of `flags`) whose definition there leaves out the values of some
   * target entries: each such entry is the entry `from` of the previous
   * definition with keys added and removed. Adding a user to a list of a
   * million is told, validated and compiled as that user.
   */
  targets?: Record<string, TargetChange[]>;
  /** New audit entries, newest first, put in front of the old ones; the log is then cut to `auditLength`. */
  auditAdded?: AuditEntry[];
  auditLength?: number;
}

const json = (value: unknown) => (value === undefined ? undefined : JSON.stringify(value));

/**
 * The changes that turn `base` into `next`, or `null` when they cannot be
 * told as changes (the audit log was rewritten rather than added to, or
 * `next` is no document `patch()` could take: unknown top-level fields, a
 * dictionary that is not an object). Compares entries by identity, then by
 * their JSON.
 */
export function diffDocuments(base: Readonly<FlagDocument>, next: Readonly<FlagDocument>): DocumentChanges | null {
  if (!patchable(next)) return null;
  const changes: DocumentChanges = {};
  for (const name of DICTIONARIES) {
    const before = (base[name] ?? {}) as Record<string, unknown>;
    const after = (next[name] ?? {}) as Record<string, unknown>;
    const delta: Record<string, unknown> = {};
    let any = false;
    for (const key of Object.keys(after)) {
      const had = Object.prototype.hasOwnProperty.call(before, key);
      const split = name === "flags" && before[key] !== after[key] ? splitTracked(had ? (before[key] as Flag) : undefined, after[key] as Flag) : undefined;
      if (split) {
        if (split.unchanged) continue;
        delta[key] = split.shell;
        (changes.targets ??= {})[key] = split.changes;
        any = true;
      } else if (!had || (before[key] !== after[key] && json(before[key]) !== json(after[key]))) {
        delta[key] = after[key];
        any = true;
      }
    }
    for (const key of Object.keys(before)) {
      if (!Object.prototype.hasOwnProperty.call(after, key)) {
        delta[key] = null;
        any = true;
      }
    }
    if (any) changes[name] = delta;
  }
  const oldAudit = base.audit ?? [];
  const newAudit = next.audit ?? [];
  const added = addedInFront(oldAudit, newAudit);
  if (added === null) return null;
  if (added > 0 || newAudit.length !== oldAudit.length) {
    changes.auditAdded = newAudit.slice(0, added);
    changes.auditLength = newAudit.length;
  }
  return changes;
}

const TOP_LEVEL = new Set(["flags", "flagValues", "segments", "audit", "revision"]);
const isPlainObject = (v: unknown) => v !== null && typeof v === "object" && !Array.isArray(v);

/** A document whose shape changes can describe; anything else gets a full validation. */
function patchable(doc: unknown): boolean {
  if (!isPlainObject(doc)) return false;
  for (const key of Object.keys(doc as object)) if (!TOP_LEVEL.has(key)) return false;
  const d = doc as Record<string, unknown>;
  return DICTIONARIES.every((name) => d[name] === undefined || isPlainObject(d[name])) && (d.audit === undefined || Array.isArray(d.audit));
}

/**
 * How many entries `after` has in front of (a prefix of) `before`, or `null`
 * when it is not that. Entries are compared one by one (by identity, then by
 * their JSON), so a mismatch stops at the first entry that differs instead
 * of serializing the whole log (1,000 entries) for every candidate.
 */
function addedInFront(before: readonly AuditEntry[], after: readonly AuditEntry[]): number | null {
  for (let added = 0; added <= Math.min(after.length, 16); added++) {
    const kept = after.length - added;
    if (kept > before.length) continue;
    let same = true;
    for (let i = 0; i < kept && same; i++) same = sameEntry(after[added + i], before[i]);
    if (same) return added;
  }
  return null;
}

/** Equal as elements of a JSON array (where `undefined` is written `null`). */
function sameEntry(a: unknown, b: unknown): boolean {
  return a === b || entryJson(a) === entryJson(b);
}

/** The JSON of frozen entries (a snapshot's, compared again on every write after it), kept. */
const frozenJson = new WeakMap<object, string>();

function entryJson(entry: unknown): string {
  const frozen = entry !== null && typeof entry === "object" && Object.isFrozen(entry);
  if (frozen) {
    const known = frozenJson.get(entry);
    if (known !== undefined) return known;
  }
  const text = json(entry) ?? "null";
  if (frozen) frozenJson.set(entry, text);
  return text;
}
