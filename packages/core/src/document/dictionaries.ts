import type { FlagDocument } from "./types.js";

/** The maps of a document keyed by user-chosen names. */
const MAPS = ["flags", "flagValues", "segments"] as const;

/** An object without a prototype, for keys chosen by users. */
export function dictionary<V>(): Record<string, V> {
  return Object.create(null) as Record<string, V>;
}

/**
 * A prototype-free copy of `source`'s own entries, in their order. Copied key
 * by key: `Object.assign` from a dictionary of a thousand entries costs about
 * three times as much.
 */
export function copyDictionary<V>(source: Readonly<Record<string, V>> | undefined): Record<string, V> {
  const copy = dictionary<V>();
  if (source) for (const key of Object.keys(source)) copy[key] = source[key]!;
  return copy;
}

/**
 * Gives a document's `flags`, `flagValues` and `segments` no prototype (in
 * place) and returns it, so that looking up a flag named `constructor` or
 * `toString` finds that flag or nothing, never `Object.prototype`'s member,
 * and writing one never touches the global `Object`. Stores call it on every
 * draft they hand to a mutator.
 */
export function withDictionaries<T extends FlagDocument>(document: T): T {
  for (const map of MAPS) {
    const value = document[map];
    if (value !== null && typeof value === "object" && Object.getPrototypeOf(value) !== null) {
      (document as FlagDocument)[map] = Object.assign(dictionary(), value) as never;
    }
  }
  return document;
}
