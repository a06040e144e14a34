import { DICTIONARIES } from "../../document/changes.js";
import { dictionary } from "../../document/dictionaries.js";
import type { FlagDocument } from "../../document/types.js";

/**
 * A mutable copy of a frozen document that copies each flag, flag value and
 * segment only when a mutator reads it: entries it never touches stay the
 * snapshot's own objects, so `diffDocuments` tells them unchanged by identity
 * and a write to one flag of thousands costs that flag. The audit log is
 * copied whole (mutators may edit its entries in place).
 */
export function lazyDraft(document: Readonly<FlagDocument>): FlagDocument {
  const draft: Record<string, unknown> = { ...document };
  for (const name of DICTIONARIES) {
    const entries = document[name];
    if (entries) draft[name] = copyOnRead(entries as Record<string, unknown>);
  }
  if (document.audit) draft.audit = structuredClone(document.audit);
  return draft as FlagDocument;
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
  for (const name of DICTIONARIES) {
    const value = doc[name];
    const plain = value !== null && typeof value === "object" ? targets.get(value) : undefined;
    if (plain) doc[name] = plain;
  }
  return doc;
}

function copyOnRead(entries: Readonly<Record<string, unknown>>): Record<string, unknown> {
  const target = Object.assign(dictionary<unknown>(), entries);
  const copied = new Set<string>();
  const proxy = new Proxy(target, {
    get(t, key, receiver) {
      if (typeof key === "string" && !copied.has(key) && Object.prototype.hasOwnProperty.call(t, key)) {
        copied.add(key);
        const value = t[key];
        if (value !== null && typeof value === "object" && value === entries[key]) t[key] = structuredClone(value);
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
  return structuredClone(settleDraft({ ...document })) as T;
}
