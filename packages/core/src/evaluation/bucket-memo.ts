import { keyMix } from "./key-filter.js";
import { sha1High60 } from "./sha1.js";

/*
 * The SHA-1 of a rollout's bucketing (prefix and key) is most of what
 * evaluating a rollout costs, and the same users come back request after
 * request. A small direct-mapped memo of the last hashes, shared by every
 * rollout of the process (the hash is a pure function of its two strings),
 * answers a returning key with a few character reads and two string
 * comparisons; a key whose slot another took is hashed again.
 */

const SLOTS = 4096;
const prefixes: (string | undefined)[] = new Array<string | undefined>(SLOTS).fill(undefined);
const keys: (string | undefined)[] = new Array<string | undefined>(SLOTS).fill(undefined);
const hashes = new Float64Array(SLOTS);

/** `sha1High60(prefix, key)`, remembered. */
export function bucketHash(prefix: string, key: string): number {
  const slot = keyMix(key) & (SLOTS - 1);
  if (keys[slot] === key && prefixes[slot] === prefix) return hashes[slot]!;
  const hash = sha1High60(prefix, key);
  keys[slot] = key;
  prefixes[slot] = prefix;
  hashes[slot] = hash;
  return hash;
}
