import { keyMix } from "./key-filter.js";
import { sha1High60, type Sha1Prefix } from "./sha1.js";

/*
 * The SHA-1 of a rollout's bucketing (prefix and key) is most of what
 * evaluating a rollout costs, and the same users come back request after
 * request. A small direct-mapped memo of the last hashes, shared by every
 * rollout of the process (the hash is a pure function of the prefix and the
 * key), answers a returning key with a few character reads and two
 * comparisons; a key whose slot another took is hashed again. One miss in
 * four is remembered: storing a fresh string in the (old) table costs the
 * garbage collector, and traffic that never returns (more distinct keys than
 * slots, in turn) would pay it on every call.
 *
 * Such traffic would also pay the lookup itself on every call for nothing,
 * so the memo watches its hits: after a window of lookups with almost none
 * it is skipped (the key hashed straight away) for the next few windows'
 * worth of calls, then looked up again for one window, and so on until
 * keys come back.
 */

const SLOTS = 4096;
const prefixes: (Sha1Prefix | undefined)[] = new Array<Sha1Prefix | undefined>(SLOTS).fill(undefined);
const keys: (string | undefined)[] = new Array<string | undefined>(SLOTS).fill(undefined);
const hashes = new Float64Array(SLOTS);
/** The full mix of each slot's key: compared first, so that a miss does not read the stored string (a cache miss of its own). */
const mixes = new Int32Array(SLOTS);

/** Lookups per window, and the hits below which a window counts as missing. */
const WINDOW = 256;
const FEW_HITS = WINDOW / 16;
/** Calls that skip the memo after a window that missed: 7 windows' worth, so 1 call in 8 still looks keys up. */
const SKIP = 7 * WINDOW;

let misses = 0;
let lookups = 0;
let hits = 0;
let skipping = 0;

/** `sha1High60(prefix, key)`, remembered. */
export function bucketHash(prefix: Sha1Prefix, key: string): number {
  if (skipping > 0) {
    skipping--;
    return sha1High60(prefix, key);
  }
  if (++lookups === WINDOW) {
    if (hits < FEW_HITS) skipping = SKIP;
    lookups = 0;
    hits = 0;
  }
  const mix = keyMix(key) | 0;
  const slot = mix & (SLOTS - 1);
  if (mixes[slot] === mix && keys[slot] === key && prefixes[slot] === prefix) {
    hits++;
    return hashes[slot]!;
  }
  const hash = sha1High60(prefix, key);
  if ((misses++ & 3) !== 0) return hash;
  mixes[slot] = mix;
  keys[slot] = key;
  prefixes[slot] = prefix;
  hashes[slot] = hash;
  return hash;
}
