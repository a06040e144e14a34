import { createHash } from "node:crypto";
import fc from "fast-check";
import { seededRandom as random } from "@detour/test-support/random";
import { describe, expect, it, vi } from "vitest";
import { sha1High60 as hashOf, sha1Prefix } from "../../src/evaluation/sha1.js";

/** SHA-1 of `a + b` through a prepared prefix `a`. */
function sha1High60(a: string, b = ""): number {
  return hashOf(sha1Prefix(a), b);
}

/** The reference: exactly what LaunchDarkly computes from the hex digest. */
function reference(text: string): number {
  return parseInt(createHash("sha1").update(text, "utf8").digest("hex").slice(0, 15), 16);
}

/** A code point of 1, 2, 3 or 4 UTF-8 bytes, never a surrogate half. */
function codePoint(next: () => number, bytes: 1 | 2 | 3 | 4): string {
  const pick = (lo: number, hi: number) => lo + Math.floor(next() * (hi - lo + 1));
  if (bytes === 1) return String.fromCodePoint(pick(0, 0x7f));
  if (bytes === 2) return String.fromCodePoint(pick(0x80, 0x7ff));
  if (bytes === 3) {
    const cp = pick(0x800, 0xfffd - 0x800);
    return String.fromCodePoint(cp >= 0xd800 ? cp + 0x800 : cp); // skip D800..DFFF
  }
  return String.fromCodePoint(pick(0x10000, 0x10ffff));
}

/** Code points making a string of exactly `byteLength` UTF-8 bytes. */
function codePoints(next: () => number, byteLength: number, ascii: boolean): string[] {
  const out: string[] = [];
  let left = byteLength;
  while (left > 0) {
    const bytes = ascii ? 1 : (Math.min(left, 1 + Math.floor(next() * 4)) as 1 | 2 | 3 | 4);
    out.push(codePoint(next, bytes));
    left -= bytes;
  }
  return out;
}

function utf8Length(text: string): number {
  return Buffer.byteLength(text, "utf8");
}

describe("sha1High60", () => {
  it("matches LaunchDarkly's parseInt(sha1hex.slice(0, 15), 16) on known inputs", () => {
    // sha1("") = da39a3ee5e6b4b0d3255bfef95601890afd80709; sha1("abc") = a9993e364706816aba3e25717850c26c9cd0d89d
    expect(sha1High60("")).toBe(parseInt("da39a3ee5e6b4b0", 16));
    expect(sha1High60("abc")).toBe(parseInt("a9993e364706816", 16));
    expect(sha1High60("a", "bc")).toBe(parseInt("a9993e364706816", 16));
    expect(sha1High60("", "abc")).toBe(parseInt("a9993e364706816", 16));
    expect(sha1High60("hashKey.saltyA.", "userKeyA")).toBe(reference("hashKey.saltyA.userKeyA"));
  });

  for (const ascii of [true, false]) {
    it(`agrees with node:crypto for ${ascii ? "ASCII" : "non-ASCII"} inputs of every UTF-8 length 0..300, split anywhere`, () => {
      const next = random(ascii ? 1 : 2);
      for (let length = 0; length <= 300; length++) {
        for (let sample = 0; sample < 3; sample++) {
          const points = codePoints(next, length, ascii);
          const text = points.join("");
          expect(utf8Length(text)).toBe(length);
          // Split between whole code points only: never inside a surrogate pair.
          const cut = Math.floor(next() * (points.length + 1));
          const a = points.slice(0, cut).join("");
          const b = points.slice(cut).join("");
          const expected = reference(text);
          expect(sha1High60(a, b), `length ${length}, cut ${cut}: ${JSON.stringify(text)}`).toBe(expected);
          expect(sha1High60(text)).toBe(expected);
        }
      }
    });
  }

  it("handles the padding boundaries (55, 56, 63, 64, 119, 120 bytes) at every split point", () => {
    const next = random(3);
    for (const length of [54, 55, 56, 57, 63, 64, 65, 119, 120, 128]) {
      for (const ascii of [true, false]) {
        const points = codePoints(next, length, ascii);
        const text = points.join("");
        const expected = reference(text);
        for (let cut = 0; cut <= points.length; cut++) {
          expect(sha1High60(points.slice(0, cut).join(""), points.slice(cut).join("")), `${length} bytes, cut ${cut}`).toBe(expected);
        }
      }
    }
  });

  it("sizes its buffers right from a fresh start (3-byte characters, surrogate pairs)", async () => {
    // Earlier tests grow the module's buffers; a fresh module instance starts small.
    for (const text of ["€".repeat(100), "😀".repeat(70), "a€😀".repeat(40)]) {
      vi.resetModules();
      const fresh = await import("../../src/evaluation/sha1.js");
      expect(fresh.sha1High60(fresh.sha1Prefix(""), text), `${text.length} code units`).toBe(reference(text));
      const half = text.length >> 1;
      const cut = text.codePointAt(half - 1)! > 0xffff ? half + 1 : half; // stay between whole code points
      expect(fresh.sha1High60(fresh.sha1Prefix(text.slice(0, cut)), text.slice(cut))).toBe(reference(text));
    }
  });

  it("agrees with node:crypto for long inputs (the buffers grow)", () => {
    const next = random(4);
    for (const length of [1000, 4096, 10_000]) {
      const text = codePoints(next, length, false).join("");
      expect(sha1High60(text)).toBe(reference(text));
      const ascii = codePoints(next, length, true).join("");
      expect(sha1High60(ascii.slice(0, 7), ascii.slice(7))).toBe(reference(ascii));
    }
    // And small inputs still hash right after the buffers grew.
    expect(sha1High60("abc")).toBe(parseInt("a9993e364706816", 16));
  });

  it("agrees with node:crypto on random strings of whole code points (fast-check)", () => {
    const unit = fc.oneof(
      fc.integer({ min: 0, max: 0x7f }),
      fc.integer({ min: 0x80, max: 0xd7ff }),
      fc.integer({ min: 0xe000, max: 0x10ffff }),
    );
    fc.assert(
      fc.property(fc.array(unit, { maxLength: 80 }), fc.nat(), (points, at) => {
        const chars = points.map((cp) => String.fromCodePoint(cp));
        const cut = at % (chars.length + 1);
        const text = chars.join("");
        expect(sha1High60(chars.slice(0, cut).join(""), chars.slice(cut).join(""))).toBe(reference(text));
      }),
      { seed: 42, numRuns: 2000 },
    );
  });

  it("hashes lone surrogates as U+FFFD, as Node's hash.update(string) does, and pairs as one code point", () => {
    const next = random(7);
    const units = ["a", "\ud83d", "\ude00", "\ud83d\ude00", "é", "€", "\udbff", "\udc00"];
    for (let sample = 0; sample < 500; sample++) {
      let key = "";
      const length = Math.floor(next() * 40);
      for (let i = 0; i < length; i++) key += units[Math.floor(next() * units.length)];
      const prefix = sample % 2 === 0 ? "flag.salt." : "ü".repeat(40) + "."; // the second: a prefix of 81 bytes
      expect(sha1High60(prefix, key), JSON.stringify(key)).toBe(reference(prefix + key));
    }
  });

  it("hashes through prefixes of whole blocks and more (64, 128 bytes and around), one prefix for many keys", () => {
    const next = random(8);
    for (const length of [63, 64, 65, 100, 127, 128, 129]) {
      for (const ascii of [true, false]) {
        const prefixText = codePoints(next, length, ascii).join("");
        const prefix = sha1Prefix(prefixText);
        for (let k = 0; k < 70; k++) {
          const key = codePoints(next, k, k % 3 !== 0).join("");
          expect(hashOf(prefix, key), `${length}-byte prefix, ${k}-byte key`).toBe(reference(prefixText + key));
        }
      }
    }
  });
});
