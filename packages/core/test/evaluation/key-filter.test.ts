import { describe, expect, it } from "vitest";
import { bucketHash } from "../../src/evaluation/bucket-memo.js";
import { keyFilter, mayContain } from "../../src/evaluation/key-filter.js";
import { sha1High60, sharedSha1Prefix } from "../../src/evaluation/sha1.js";

describe("keyFilter", () => {
  it("lets every key of its list through, of any length and alphabet", () => {
    const keys = ["", "a", "ab", "abc", "abcd", "abcde", "abcdef", "ünïcødé", "😀-user", ...Array.from({ length: 5000 }, (_, i) => `user-${i * 7919}`)];
    const filter = keyFilter(keys, keys.length);
    expect(keys.filter((key) => !mayContain(filter, key))).toEqual([]);
  });

  it("turns away nearly every key in no list", () => {
    const filter = keyFilter(Array.from({ length: 1000 }, (_, i) => `other-${i}`), 1000);
    let through = 0;
    for (let i = 0; i < 20_000; i++) if (mayContain(filter, `user-${i}`)) through++;
    expect(through).toBeLessThan(100); // 0.5 %; about 0.07 % expected
  });

  it("ignores keys that are not strings (no context key can equal them)", () => {
    const filter = keyFilter([42, null, "x"], 3);
    expect(mayContain(filter, "x")).toBe(true);
  });
});

describe("bucketHash", () => {
  it("is sha1High60, for returning keys and keys whose slot another key took", () => {
    const keys = Array.from({ length: 10_000 }, (_, i) => `user-${i}`);
    for (const round of [0, 1]) {
      for (const key of keys) {
        const prefix = sharedSha1Prefix(round === 0 ? "site.salt." : "other.salt.");
        const expected = sha1High60(prefix, key);
        expect(bucketHash(prefix, key)).toBe(expected);
        expect(bucketHash(prefix, `${key}`)).toBe(expected);
      }
    }
  });
});
