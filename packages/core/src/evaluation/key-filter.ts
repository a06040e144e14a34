/*
 * A Bloom filter over the keys of a target list, read before the list's Map:
 * most requests meet a list of read-only users (or tenants) they are not in,
 * and a few of a key's characters turn them away without V8 hashing the
 * whole key, a fresh string on every request, for the Map lookup. A key the
 * filter lets through is looked up as before: no false negatives, and three
 * bits per key in a table of 32 to 64 bits per key let through about 0.07 %
 * (at 32) of the keys in no list.
 */

/** Bits per key (rounded up to a power of two), and the bounds of the table. */
const BITS_PER_KEY = 32;
const MIN_BITS = 256;
const MAX_BITS = 1 << 24;

export interface KeyFilter {
  readonly bits: Uint32Array;
  readonly mask: number;
}

/** Mixes the length and up to six characters of a key: its last four, its first and its middle one (ids vary at their ends). */
export function keyMix(key: string): number {
  const n = key.length;
  let h = Math.imul(n, 0x9e3779b1);
  if (n >= 6) {
    // Most keys: straight-line.
    h = Math.imul(h ^ key.charCodeAt(n - 1), 0x01000193);
    h = Math.imul(h ^ key.charCodeAt(n - 2), 0x01000193);
    h = Math.imul(h ^ key.charCodeAt(n - 3), 0x01000193);
    h = Math.imul(h ^ key.charCodeAt(n - 4), 0x01000193);
    h = Math.imul(h ^ key.charCodeAt(0), 0x01000193);
    h = Math.imul(h ^ key.charCodeAt(n >> 1), 0x01000193);
  } else {
    for (let i = n - 1; i >= 0; i--) h = Math.imul(h ^ key.charCodeAt(i), 0x01000193);
  }
  h ^= h >>> 15;
  h = Math.imul(h, 0x2c1b3c6d);
  return h ^ (h >>> 12);
}

/** The second and third bits of a key, from its first. */
function second(h: number): number {
  return Math.imul(h ^ (h >>> 16), 0x85ebca6b) ^ (h >>> 13);
}
function third(h: number): number {
  return Math.imul(h ^ (h >>> 11), 0xc2b2ae35) ^ (h >>> 17);
}

/** The filter of `keys` (their string ones: no other key can equal a context's key). */
export function keyFilter(keys: Iterable<unknown>, count: number): KeyFilter {
  let size = MIN_BITS;
  while (size < count * BITS_PER_KEY && size < MAX_BITS) size *= 2;
  const bits = new Uint32Array(size >>> 5);
  const filter = { bits, mask: size - 1 };
  for (const key of keys) {
    if (typeof key === "string") addKey(filter, key);
  }
  return filter;
}

/** False when `key` is certainly not among the filter's keys. */
export function mayContain(filter: KeyFilter, key: string): boolean {
  const { bits, mask } = filter;
  const h = keyMix(key);
  const a = h & mask;
  if ((bits[a >>> 5]! & (1 << (a & 31))) === 0) return false;
  const b = second(h) & mask;
  if ((bits[b >>> 5]! & (1 << (b & 31))) === 0) return false;
  const c = third(h) & mask;
  return (bits[c >>> 5]! & (1 << (c & 31))) !== 0;
}

/**
 * Lets `key` through `filter` from now on, in place. Safe on a filter other
 * snapshots share: a filter only ever turns keys away, and a key it lets
 * through in error is looked up in the snapshot's own Map.
 */
export function addKey(filter: KeyFilter, key: string): void {
  const { bits, mask } = filter;
  const h = keyMix(key);
  const a = h & mask;
  const b = second(h) & mask;
  const c = third(h) & mask;
  bits[a >>> 5]! |= 1 << (a & 31);
  bits[b >>> 5]! |= 1 << (b & 31);
  bits[c >>> 5]! |= 1 << (c & 31);
}
