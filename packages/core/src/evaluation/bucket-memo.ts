import { keyMix } from "./key-filter.js";
import { sha1High60 } from "./sha1.js";

/*
 * The SHA-1 of a rollout's bucketing (prefix and key) is most of what
 * evaluating a rollout costs, and the same users come back request after
 * request. A small direct-mapped memo of the last hashes, shared by every
 * rollout of the process (the hash is a pure function of its two strings),
 * answers a returning key with a few character reads and two string
 * comparisons; a key whose slot another took is hashed again. One miss in
 * four is remembered: storing a fresh string in the (old) table costs the
 * garbage collector, and traffic that never returns (more distinct keys than
 * slots, in turn) would pay it on every call.
 */

const SLOTS = 4096;
const prefixes: (string | undefined)[] = new Array<string | undefined>(SLOTS).fill(undefined);
const keys: (string | undefined)[] = new Array<string | undefined>(SLOTS).fill(undefined);
const hashes = new Float64Array(SLOTS);
/** The full mix of each slot's key: compared first, so that a miss does not read the stored string (a cache miss of its own). */
const mixes = new Int32Array(SLOTS);
let misses = 0;

/** `sha1High60(prefix, key)`, remembered. */
export function bucketHash(prefix: string, key: string): number {
  const mix = keyMix(key) | 0;
  const slot = mix & (SLOTS - 1);
  if (mixes[slot] === mix && keys[slot] === key && prefixes[slot] === prefix) return hashes[slot]!;
  const hash = sha1High60(prefix, key);
  if ((misses++ & 3) !== 0) return hash;
  mixes[slot] = mix;
  keys[slot] = key;
  prefixes[slot] = prefix;
  hashes[slot] = hash;
  return hash;
}
