/**
 * SHA-1 of a short UTF-8 string, returning only the first 60 bits of the
 * digest as a number: exactly `parseInt(sha1hex(a + b).slice(0, 15), 16)`,
 * which is all percentage bucketing needs.
 *
 * Why not node:crypto: `createHash` costs ~880 ns a call and the one-shot
 * `crypto.hash` 260-440 ns, while a whole rollout evaluation has a budget of
 * ~270 ns. This one packs the input straight into a preallocated buffer (two
 * parts, so callers need not concatenate), allocates nothing for ASCII input,
 * and runs an unrolled block function. Tests check it against node:crypto.
 */
import { compress } from "./sha1-compress.js";

let message = new Int32Array(64);
const state = new Int32Array(5);
const encoder = new TextEncoder();
let utf8 = new Uint8Array(256);

function isAscii(s: string): boolean {
  for (let i = 0; i < s.length; i++) if (s.charCodeAt(i) > 0x7f) return false;
  return true;
}

function wordsFor(byteLength: number): number {
  const count = (((byteLength + 8) >> 6) + 1) << 4;
  if (message.length < count) message = new Int32Array(count * 2);
  return count;
}

/** Packs ASCII `a + b` big-endian into `message`, padded; returns the word count. */
function packAscii(a: string, b: string): number {
  const count = wordsFor(a.length + b.length);
  const m = message;
  let acc = 0;
  let n = 0;
  for (let i = 0; i < a.length; i++) {
    acc = (acc << 8) | a.charCodeAt(i);
    if ((++n & 3) === 0) {
      m[(n >> 2) - 1] = acc;
      acc = 0;
    }
  }
  for (let i = 0; i < b.length; i++) {
    acc = (acc << 8) | b.charCodeAt(i);
    if ((++n & 3) === 0) {
      m[(n >> 2) - 1] = acc;
      acc = 0;
    }
  }
  return pad(m, acc, n, count);
}

function packUtf8(a: string, b: string): number {
  const max = (a.length + b.length) * 3;
  if (utf8.length < max) utf8 = new Uint8Array(max * 2);
  const first = encoder.encodeInto(a, utf8).written;
  const length = first + encoder.encodeInto(b, utf8.subarray(first)).written;
  const count = wordsFor(length);
  const m = message;
  let acc = 0;
  for (let n = 1; n <= length; n++) {
    acc = (acc << 8) | utf8[n - 1]!;
    if ((n & 3) === 0) {
      m[(n >> 2) - 1] = acc;
      acc = 0;
    }
  }
  return pad(m, acc, length, count);
}

/** Appends 0x80, zeros and the bit length after `n` bytes; `acc` holds the partial last word. */
function pad(m: Int32Array, acc: number, n: number, count: number): number {
  m[n >> 2] = ((acc << 8) | 0x80) << ((3 - (n & 3)) * 8);
  for (let i = (n >> 2) + 1; i < count - 2; i++) m[i] = 0;
  const bits = n * 8;
  m[count - 2] = Math.floor(bits / 0x100000000);
  m[count - 1] = bits >>> 0;
  return count;
}

/** First 60 bits of SHA-1(`a` + `b`) as a number (rounded exactly as `parseInt` rounds). */
export function sha1High60(a: string, b = ""): number {
  const count = isAscii(a) && isAscii(b) ? packAscii(a, b) : packUtf8(a, b);
  const h = state;
  h[0] = 0x67452301;
  h[1] = 0xefcdab89 | 0;
  h[2] = 0x98badcfe | 0;
  h[3] = 0x10325476;
  h[4] = 0xc3d2e1f0 | 0;
  for (let offset = 0; offset < count; offset += 16) compress(message, offset, h);
  // h0 * 2^28 is exact; the one addition rounds once, like parseInt.
  return (h[0]! >>> 0) * 0x10000000 + ((h[1]! >>> 0) >>> 4);
}
