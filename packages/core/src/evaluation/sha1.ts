/**
 * SHA-1 of a rollout's bucketing input, `<prefix><key>`, returning only the
 * first 60 bits of the digest as a number: exactly
 * `parseInt(sha1hex(prefix + key).slice(0, 15), 16)`, which is all percentage
 * bucketing needs.
 *
 * Why not node:crypto: `createHash` costs ~880 ns a call and the one-shot
 * `crypto.hash` 260-440 ns, while a whole rollout evaluation has a budget of
 * ~270 ns. The prefix (`<flag key>.<salt>.` or `<seed>.`) is the same for
 * every context, so it is prepared once (`sha1Prefix`): its whole 64-byte
 * blocks hashed, the rest packed into words. A call then copies those words,
 * packs the key's characters straight into the word buffer in one pass
 * (UTF-8 encoded on the way from the first non-ASCII character on), and runs
 * the unrolled block function; nothing is allocated. Tests check it against
 * node:crypto.
 */
import { compress, firstBlockHigh60 } from "./sha1-compress.js";

const INITIAL = Int32Array.of(0x67452301, 0xefcdab89 | 0, 0x98badcfe | 0, 0x10325476, 0xc3d2e1f0 | 0);

/** A prepared prefix: the state after its whole blocks, and the rest of its bytes as words. */
export interface Sha1Prefix {
  readonly text: string;
  /** Whole 64-byte blocks already hashed into `state`. */
  readonly blocks: number;
  readonly state: Int32Array;
  /** The bytes after those blocks: whole big-endian words, then `partial` holding the last `rest & 3`. */
  readonly words: Int32Array;
  readonly partial: number;
  readonly rest: number;
}

let message = new Int32Array(64);
const state = new Int32Array(5);
const encoder = new TextEncoder();

/** Words of the padded message for `byteLength` bytes after the prefix's blocks (a multiple of 16). */
function paddedWords(byteLength: number): number {
  return (((byteLength + 8) >> 6) + 1) << 4;
}

/** Appends 0x80, zeros and the bit length after `n` bytes; `acc` holds the partial last word. Returns the word count. */
function pad(m: Int32Array, acc: number, n: number, blocks: number): number {
  const count = paddedWords(n);
  m[n >> 2] = ((acc << 8) | 0x80) << ((3 - (n & 3)) * 8);
  for (let i = (n >> 2) + 1; i < count - 2; i++) m[i] = 0;
  // The bit length as two words (a string's UTF-8 is well under 2^31 bytes).
  const bytes = blocks * 64 + n;
  m[count - 2] = bytes >>> 29;
  m[count - 1] = bytes << 3;
  return count;
}

// The slow path's running word and byte count (module state: it appends byte by byte).
let pending = 0;
let written = 0;

function put(byte: number): void {
  pending = (pending << 8) | byte;
  if ((++written & 3) === 0) {
    message[(written >> 2) - 1] = pending;
    pending = 0;
  }
}

/**
 * Packs `key` from `from` on as UTF-8, as Node's `hash.update(string)` encodes
 * it: surrogate pairs as 4 bytes, a lone surrogate as U+FFFD. `acc` and `n`
 * are where the ASCII loop stopped. Returns the word count.
 */
function packUtf8(m: Int32Array, key: string, from: number, acc: number, n: number, blocks: number): number {
  pending = acc;
  written = n;
  for (let i = from; i < key.length; i++) {
    const c = key.charCodeAt(i);
    if (c < 0x80) {
      put(c);
    } else if (c < 0x800) {
      put(0xc0 | (c >> 6));
      put(0x80 | (c & 0x3f));
    } else if (c < 0xd800 || c > 0xdfff) {
      put(0xe0 | (c >> 12));
      put(0x80 | ((c >> 6) & 0x3f));
      put(0x80 | (c & 0x3f));
    } else {
      const low = i + 1 < key.length ? key.charCodeAt(i + 1) : 0;
      if (c <= 0xdbff && low >= 0xdc00 && low <= 0xdfff) {
        const point = 0x10000 + ((c - 0xd800) << 10) + (low - 0xdc00);
        put(0xf0 | (point >> 18));
        put(0x80 | ((point >> 12) & 0x3f));
        put(0x80 | ((point >> 6) & 0x3f));
        put(0x80 | (point & 0x3f));
        i++;
      } else {
        put(0xef);
        put(0xbf);
        put(0xbd);
      }
    }
  }
  return pad(m, pending, written, blocks);
}

/** First 60 bits of SHA-1(`prefix.text` + `key`) as a number (rounded exactly as `parseInt` rounds). */
export function sha1High60(prefix: Sha1Prefix, key: string): number {
  const length = key.length;
  const rest = prefix.rest;
  // A UTF-16 code unit is at most 3 UTF-8 bytes.
  const needed = paddedWords(rest + 3 * length);
  if (message.length < needed) message = new Int32Array(needed * 2);
  const m = message;
  const words = prefix.words;
  let w = words.length;
  for (let k = 0; k < w; k++) m[k] = words[k]!;
  let acc = prefix.partial;
  let n = rest;
  let i = 0;
  const blocks = prefix.blocks;
  // ASCII: up to the next word boundary, then four characters a word, then the last few.
  for (; (n & 3) !== 0 && i < length; i++, n++) {
    const c = key.charCodeAt(i);
    if (c > 0x7f) return digest(m, packUtf8(m, key, i, acc, n, blocks), prefix);
    acc = (acc << 8) | c;
  }
  if ((n & 3) === 0) {
    if (n > rest) m[(n >> 2) - 1] = acc;
    acc = 0;
    w = n >> 2;
    for (; i + 4 <= length; i += 4) {
      const c0 = key.charCodeAt(i);
      const c1 = key.charCodeAt(i + 1);
      const c2 = key.charCodeAt(i + 2);
      const c3 = key.charCodeAt(i + 3);
      if ((c0 | c1 | c2 | c3) > 0x7f) break;
      m[w++] = (c0 << 24) | (c1 << 16) | (c2 << 8) | c3;
    }
    n = w << 2;
  }
  for (; i < length; i++) {
    const c = key.charCodeAt(i);
    if (c > 0x7f) return digest(m, packUtf8(m, key, i, acc, n, blocks), prefix);
    acc = (acc << 8) | c;
    n++;
  }
  return digest(m, pad(m, acc, n, blocks), prefix);
}

/** The first 60 bits of the digest of the prefix's blocks and the `count` packed words. */
function digest(m: Int32Array, count: number, prefix: Sha1Prefix): number {
  if (count === 16 && prefix.blocks === 0) return firstBlockHigh60(m);
  const h = state;
  h.set(prefix.state);
  for (let offset = 0; offset < count; offset += 16) compress(m, offset, h);
  return high60(h);
}

/** h0 * 2^28 is exact; the one addition rounds once, like parseInt. */
function high60(h: Int32Array): number {
  return (h[0]! >>> 0) * 0x10000000 + ((h[1]! >>> 0) >>> 4);
}

/** Prepares `text` as a prefix: its whole blocks hashed, the rest packed. */
export function sha1Prefix(text: string): Sha1Prefix {
  const bytes = encoder.encode(text);
  const blocks = bytes.length >> 6;
  const h = Int32Array.from(INITIAL);
  const block = new Int32Array(16);
  const word = (at: number) => (bytes[at]! << 24) | (bytes[at + 1]! << 16) | (bytes[at + 2]! << 8) | bytes[at + 3]!;
  for (let b = 0; b < blocks; b++) {
    for (let w = 0; w < 16; w++) block[w] = word(b * 64 + w * 4);
    compress(block, 0, h);
  }
  const from = blocks * 64;
  const rest = bytes.length - from;
  const words = new Int32Array(rest >> 2);
  for (let w = 0; w < words.length; w++) words[w] = word(from + w * 4);
  let partial = 0;
  for (let at = from + words.length * 4; at < bytes.length; at++) partial = (partial << 8) | bytes[at]!;
  return { text, blocks, state: h, words, partial, rest };
}

/** `sha1Prefix(text)`, shared by every rollout with the same prefix (so that the bucket memo can compare prefixes by identity). */
const prepared = new Map<string, Sha1Prefix>();

export function sharedSha1Prefix(text: string): Sha1Prefix {
  let prefix = prepared.get(text);
  if (prefix === undefined) {
    prefix = sha1Prefix(text);
    if (prepared.size < 4096) prepared.set(text, prefix);
  }
  return prefix;
}
