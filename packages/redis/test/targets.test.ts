import { Redis } from "ioredis";
import { afterAll, describe, expect, it } from "vitest";
import type { Flag } from "@detour/core";
import { TARGETS_SCRIPT, applyDelta, targetDeltas, targetSetKey, targetsScriptArgs } from "../src/targets.js";
import { REDIS_URL, uniquePrefix } from "./helpers.js";

const flag = (values: string[], extra: Partial<Flag> = {}): Flag => ({
  key: "site",
  on: true,
  variations: ["available", "read-only"],
  offVariation: 0,
  targets: [{ variation: 1, values }],
  fallthrough: { variation: 0 },
  ...extra,
});

describe("target deltas", () => {
  it("tells users added and removed when only targets changed", () => {
    expect(targetDeltas("site", flag(["a", "b"]), flag(["b", "c"]))).toEqual([
      { flag: "site", list: "targets", variation: 1, contextKind: "user", added: ["c"], removed: ["a"] },
    ]);
    expect(targetDeltas("site", flag(["a"]), flag(["a"]))).toEqual([]);
  });

  it("is null when anything else changed", () => {
    expect(targetDeltas("site", flag(["a"]), flag(["a", "b"], { on: false }))).toBeNull();
    expect(targetDeltas("site", flag(["a"]), flag(["a"], { targets: [] }))).toBeNull();
    expect(targetDeltas("site", flag(["a"]), flag(["a"], { targets: [{ variation: 0, values: ["a"] }] }))).toBeNull();
  });

  it("applies a delta with set semantics, sorted", () => {
    expect(applyDelta(["c", "a"], { added: ["b", "a"], removed: ["c"] })).toEqual(["a", "b"]);
  });
});

describe("the target delta script", () => {
  const redis = new Redis(REDIS_URL);
  const base = uniquePrefix();
  const rev = `${base}:revision`;
  const channel = `${base}:changes`;
  afterAll(async () => {
    await redis.del(rev, `${base}:targets:targets:1:user:site`);
    redis.disconnect();
  });

  it("applies deltas over the expected revision only, with a notice whose size follows the delta", async () => {
    await redis.set(rev, "7");
    const key = targetSetKey(base, { flag: "site", list: "targets", variation: 1, contextKind: "user" });
    const many = Array.from({ length: 12_000 }, (_, i) => `u${i}`);
    const seed = targetsScriptArgs(base, rev, channel, "7", 8, [{ flag: "site", list: "targets", variation: 1, contextKind: "user", added: many, removed: [] }]);
    expect(await redis.eval(TARGETS_SCRIPT, seed.keys.length, ...seed.keys, ...seed.argv)).toBe(1);
    expect(await redis.scard(key)).toBe(12_000);

    const one = targetsScriptArgs(base, rev, channel, "8", 9, [{ flag: "site", list: "targets", variation: 1, contextKind: "user", added: ["x"], removed: ["u0"] }]);
    expect(one.notice.length).toBeLessThan(200);
    // A second writer that read revision 8 too loses the race and must retry: no lost update.
    const stale = targetsScriptArgs(base, rev, channel, "8", 9, [{ flag: "site", list: "targets", variation: 1, contextKind: "user", added: ["y"], removed: [] }]);
    expect(await redis.eval(TARGETS_SCRIPT, one.keys.length, ...one.keys, ...one.argv)).toBe(1);
    expect(await redis.eval(TARGETS_SCRIPT, stale.keys.length, ...stale.keys, ...stale.argv)).toBe(0);
    expect(await redis.get(rev)).toBe("9");
    expect([await redis.sismember(key, "x"), await redis.sismember(key, "u0"), await redis.sismember(key, "y")]).toEqual([1, 0, 0]);
  });
});
