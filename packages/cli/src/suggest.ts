import { distance } from "fastest-levenshtein";

/** The same letters in another order (`stie` for `site`). */
function sameLetters(a: string, b: string): boolean {
  return a.length === b.length && [...a].sort().join("") === [...b].sort().join("");
}

/**
 * Whether `name` looks like a mistyped `known`: at most two edits apart (and
 * fewer edits than the shorter name has letters, so `a` is no typo of `b`),
 * or the same letters in another order. Case is ignored.
 */
export function isLikelyTypo(name: string, known: string): boolean {
  const a = name.toLowerCase();
  const b = known.toLowerCase();
  if (a === b) return name !== known;
  if (sameLetters(a, b)) return true;
  const edits = distance(a, b);
  return edits <= 2 && edits < Math.min(a.length, b.length);
}

/** The existing keys `name` is likely a typo of, nearest first. */
export function likelyTypos(name: string, keys: Iterable<string>): string[] {
  const near = [...keys].filter((key) => key !== name && isLikelyTypo(name, key));
  return near.sort((a, b) => distance(name, a) - distance(name, b) || a.localeCompare(b));
}

/** `a`, `a or b`, `a, b or c`. */
export function orList(items: readonly string[]): string {
  return items.length <= 1 ? (items[0] ?? "") : `${items.slice(0, -1).join(", ")} or ${items.at(-1)}`;
}
