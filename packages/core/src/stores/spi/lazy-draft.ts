import { DICTIONARIES } from "../../document/changes.js";
import { dictionary } from "../../document/dictionaries.js";
import type { AuditEntry, FlagDocument } from "../../document/types.js";
import { cloneJson } from "../../document/clone.js";
import { trackValues } from "../../document/target-values.js";

/**
 * A mutable copy of a frozen document that copies each flag, flag value and
 * segment only when a mutator reads it: entries it never touches stay the
 * snapshot's own objects, so `diffDocuments` tells them unchanged by identity
 * and a write to one flag of thousands costs that flag. The audit log is
 * copied whole (mutators may edit its entries in place) when a mutator reads
 * it; Detour's own operations only put entries in front (`prependAudit`),
 * which leaves the old entries the snapshot's own, uncopied.
 */
export function lazyDraft(document: Readonly<FlagDocument>, options: { trackTargets?: boolean } = {}): FlagDocument {
  const draft: Record<string, unknown> = { ...document };
  for (const name of DICTIONARIES) {
    const entries = document[name];
    if (entries) draft[name] = copyOnRead(entries as Record<string, unknown>, name === "flags" && options.trackTargets ? draftFlag : cloneJson);
  }
  if (document.audit) deferAudit(draft, document.audit);
  return draft as FlagDocument;
}

/** The entries put in front of a draft's audit log that nobody has read yet, and the log they go in front of. */
interface DeferredAudit {
  readonly original: readonly AuditEntry[];
  readonly added: AuditEntry[];
  limit: number;
}

const deferred = new WeakMap<object, DeferredAudit>();

/** `draft.audit` reads as a private copy, made on first read, with the entries put in front so far. */
function deferAudit(draft: Record<string, unknown>, original: readonly AuditEntry[]): void {
  const state: DeferredAudit = { original, added: [], limit: Infinity };
  deferred.set(draft, state);
  Object.defineProperty(draft, "audit", {
    configurable: true,
    enumerable: true,
    get: () => settleAudit(draft, structuredClone(original)),
    set: (value: unknown) => {
      deferred.delete(draft);
      Object.defineProperty(draft, "audit", { value, writable: true, enumerable: true, configurable: true });
    },
  });
}

/** Replaces the deferred log by `[...added, ...old]` (cut to the limit) as a plain property; returns it. */
function settleAudit(draft: Record<string, unknown>, old: readonly AuditEntry[]): AuditEntry[] {
  const state = deferred.get(draft)!;
  deferred.delete(draft);
  const audit = [...state.added, ...old].slice(0, state.limit);
  Object.defineProperty(draft, "audit", { value: audit, writable: true, enumerable: true, configurable: true });
  return audit;
}

/**
 * Puts `entry` in front of `doc.audit`, keeping the newest `limit`, without
 * copying the old entries when `doc` is a draft whose log nobody has read;
 * returns false (nothing done) for any other document.
 */
export function prependAudit(doc: object, entry: AuditEntry, limit: number): boolean {
  const state = deferred.get(doc);
  if (state === undefined || Object.getOwnPropertyDescriptor(doc, "audit")?.get === undefined) return false;
  state.added.unshift(entry);
  state.limit = Math.min(state.limit, limit);
  return true;
}

/** What each copy-on-read dictionary stands for: its plain object, read without copying. */
const targets = new WeakMap<object, Record<string, unknown>>();

/**
 * The draft after the mutator ran, with its copy-on-read dictionaries
 * replaced by their plain objects, so comparing entries copies nothing.
 */
export function settleDraft(draft: unknown): unknown {
  if (draft === null || typeof draft !== "object") return draft;
  const doc = draft as Record<string, unknown>;
  const audit = deferred.get(doc);
  // Unless a mutator deleted the log (the accessor went with it).
  if (audit && Object.getOwnPropertyDescriptor(doc, "audit")?.get !== undefined) settleAudit(doc, audit.original);
  for (const name of DICTIONARIES) {
    const value = doc[name];
    const plain = value !== null && typeof value === "object" ? targets.get(value) : undefined;
    if (plain) doc[name] = plain;
  }
  return doc;
}

const targetAware = new WeakSet<object>();

/**
 * Marks a mutator that edits target lists only through `removeValues`,
 * `appendValues`, `hasValue` and `valueCount` (Detour's own operations):
 * its incremental draft tracks large lists instead of copying them. Other
 * mutators get plain arrays (a tracked list is a Proxy, which
 * `structuredClone` refuses).
 */
export function tracksTargets<M extends object>(mutator: M): M {
  targetAware.add(mutator);
  return mutator;
}

/** Whether `mutator` was marked by `tracksTargets`. */
export const isTargetAware = (mutator: object): boolean => targetAware.has(mutator);

/** Lists from this many keys are tracked in a draft rather than copied. */
const TRACKED_FROM = 256;

/** A flag's private copy, its large target lists tracked (see `trackValues`): a write that adds one user to a million copies none. */
function draftFlag(flag: unknown): unknown {
  if (flag === null || typeof flag !== "object" || Array.isArray(flag)) return cloneJson(flag);
  const copy: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(flag)) {
    copy[key] = (key === "targets" || key === "contextTargets") && Array.isArray(value) ? value.map(draftTarget) : cloneJson(value);
  }
  return copy;
}

function draftTarget(target: unknown): unknown {
  if (target === null || typeof target !== "object") return target;
  const copy: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(target)) {
    copy[key] = key === "values" && Array.isArray(value) && value.length >= TRACKED_FROM ? trackValues(value as string[]) : cloneJson(value);
  }
  return copy;
}

function copyOnRead(entries: Readonly<Record<string, unknown>>, copy: (entry: unknown) => unknown): Record<string, unknown> {
  const target = Object.assign(dictionary<unknown>(), entries);
  const copied = new Set<string>();
  const proxy = new Proxy(target, {
    get(t, key, receiver) {
      if (typeof key === "string" && !copied.has(key) && Object.prototype.hasOwnProperty.call(t, key)) {
        copied.add(key);
        const value = t[key];
        if (value !== null && typeof value === "object" && value === entries[key]) t[key] = copy(value);
      }
      return Reflect.get(t, key, receiver);
    },
    set(t, key, value) {
      if (typeof key === "string") copied.add(key);
      return Reflect.set(t, key, value);
    },
  });
  targets.set(proxy, target);
  return proxy;
}

/**
 * A deep copy of a document that may be a copy-on-read draft (its
 * dictionaries are Proxies, which `structuredClone` refuses): the copy is
 * taken from the dictionaries' plain objects, without marking entries read.
 */
export function cloneDocument<T extends Readonly<FlagDocument>>(document: T): T {
  return cloneJson(settleDraft({ ...document })) as T;
}
