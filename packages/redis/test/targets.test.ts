import { Redis } from "ioredis";
import { afterAll, describe, expect, it } from "vitest";
import type { Flag } from "@detour/core";
import { INLINE_MEMBERS, readCopy, scanSet, stageLarge } from "../src/bulk.js";
import { redisKeys } from "../src/index.js";
import { assemble, fillChanges, layoutOf, planWrite } from "../src/layout.js";
import { READ_SCRIPT, READ_SHA, WRITE_SCRIPT, WRITE_SHA, runScript } from "../src/scripts.js";
import { LARGE_TARGETS, applyDelta, deltaOf, largeEntries, setId, targetSetKey } from "../src/targets.js";
import { REDIS_URL, uniquePrefix } from "./helpers.js";

const users = (n: number, from = 0) => Array.from({ length: n }, (_, i) => `u${String(from + i).padStart(7, "0")}`);
const flag = (values: string[], extra: Partial<Flag> = {}): Flag => ({
  key: "site",
  on: true,
  variations: ["available", "read-only"],
  offVariation: 0,
  targets: [{ variation: 1, values }],
  fallthrough: { variation: 0 },
  ...extra,
});
const ID = "targets:1:user:site";

describe("target deltas", () => {
  it("tells users added and removed, by a scan when few changed and by sets otherwise", () => {
    expect(deltaOf(["a", "b", "c"], ["a", "c", "d"])).toEqual({ added: ["d"], removed: ["b"] });
    expect(deltaOf(["a", "b"], ["b", "a"])).toEqual({ added: [], removed: [] });
    const many = users(100);
    expect(deltaOf(many, [...many.slice(50), "x"])).toEqual({ added: ["x"], removed: many.slice(0, 50) });
  });

  it("applies a delta with set semantics, sorted", () => {
    expect(applyDelta(["c", "a"], { added: ["b", "a"], removed: ["c"] })).toEqual(["a", "b"]);
    expect(applyDelta(["a", "c", "e"], { added: ["d", "a"], removed: ["c", "z"] })).toEqual(["a", "d", "e"]);
  });

  it("keeps lists of at least LARGE_TARGETS values apart, once per variation and kind", () => {
    expect([...largeEntries("site", flag(users(LARGE_TARGETS))).keys()]).toEqual([ID]);
    expect(largeEntries("site", flag(users(LARGE_TARGETS - 1))).size).toBe(0);
    const twice = flag([], { targets: [{ variation: 1, values: users(LARGE_TARGETS) }, { variation: 1, values: users(LARGE_TARGETS) }] });
    expect(largeEntries("site", twice).size).toBe(0);
    expect(setId("a:b", "contextTargets", { contextKind: "org", variation: 2, values: [] })).toBe("contextTargets:2:org:a:b");
  });
});

describe("the document as Redis holds it", () => {
  const big = users(2000);
  const doc = { flags: { site: flag(big), small: { ...flag(["x"]), key: "small" } } };

  it("stores large lists empty, and assembles them back sorted", () => {
    const { stored, sets } = layoutOf(doc);
    expect(stored.flags!.site!.targets![0]!.values).toEqual([]);
    expect(stored.flags!.small).toBe(doc.flags.small);
    expect(sets.get(ID)).toBe(big);
    const back = assemble(JSON.parse(JSON.stringify(stored)), new Map([[ID, [...big].reverse()]]));
    expect(back).toEqual(doc);
    // A set never overrides a list the document holds inline.
    const inline = assemble({ flags: { small: flag(["x"]) } }, new Map([["targets:1:user:small", ["y"]]])) as typeof doc;
    expect(inline.flags.small.targets![0]!.values).toEqual(["x"]);
  });

  it("plans one added user as one added user, and the notice as that delta", () => {
    const next = { flags: { ...doc.flags, site: flag([...big, "new"], { version: 2 }) } };
    const plan = planWrite(doc, new Set([ID]), next, "5", () => "unused", 64 * 1024);
    expect(plan.ops).toEqual([{ id: ID, op: "a", added: ["new"], removed: [] }]);
    expect(plan.notice.length).toBeLessThan(600);
    expect(plan.stored.length).toBeLessThan(600);
    const notice = JSON.parse(plan.notice.slice(plan.notice.indexOf("\n") + 1));
    const filled = fillChanges(doc, notice);
    expect((filled.flags!.site as Flag).targets![0]!.values).toEqual([...big, "new"].sort());
    expect((filled.flags!.site as Flag).version).toBe(2);
  });

  it("writes a set whole when Redis does not hold it yet, and deletes it when the list shrinks", () => {
    expect(planWrite(doc, new Set(), doc, "5", () => "", 64 * 1024).ops).toEqual([{ id: ID, op: "r", added: big, removed: [] }]);
    const shrunk = { flags: { ...doc.flags, site: flag(["a"]) } };
    const plan = planWrite(doc, new Set([ID]), shrunk, "5", () => "", 64 * 1024);
    expect(plan.ops).toEqual([{ id: ID, op: "d", added: [], removed: [] }]);
    expect(JSON.parse(plan.stored).flags.site.targets[0].values).toEqual(["a"]);
  });
});

describe("large sets through the scripts", () => {
  const redis = new Redis(REDIS_URL);
  const keys = redisKeys(uniquePrefix());
  const set = targetSetKey(keys.targets, ID);
  afterAll(async () => {
    await redis.del(keys.document, keys.revision, keys.targets, set);
    redis.disconnect();
  });

  it("stages a large set before the write, which renames it; a read scans it or copies it", async () => {
    const many = users(12_000);
    const { ops, discard } = await stageLarge(redis, keys.targets, [{ id: ID, op: "r", added: many, removed: [] }]);
    expect(ops[0]!.op).toBe("s");
    const args = [keys.document, keys.revision, keys.targets, set, "0", "", "1", "{}", keys.channel, "", "0", "s", "1", "0", ops[0]!.added[0]!];
    expect(await runScript(redis, WRITE_SCRIPT, WRITE_SHA, [4, ...args])).toBe(1);
    await discard(); // nothing left to discard: the staged set was renamed
    expect(await redis.exists(ops[0]!.added[0]!)).toBe(0);
    expect([await redis.scard(set), await redis.ttl(set)]).toEqual([12_000, -1]);

    const scanned = (await runScript(redis, READ_SCRIPT, READ_SHA, [3, keys.document, keys.revision, keys.targets, "r1", INLINE_MEMBERS, "0"])) as unknown[];
    expect(scanned).toEqual(["{}", "1", set, 12_000]);
    expect((await scanSet(redis, set)).sort()).toEqual(many);
    const copied = (await runScript(redis, READ_SCRIPT, READ_SHA, [3, keys.document, keys.revision, keys.targets, "r2", INLINE_MEMBERS, "1"])) as unknown[];
    expect(copied[3]).toBe(`${set}:read:r2`);
    expect((await readCopy(redis, copied[3] as string)).sort()).toEqual(many);
    expect(await redis.exists(`${set}:read:r2`)).toBe(0);
  });

  it("refuses a delta to a set the index does not list, and a staged set that is gone", async () => {
    const rev = await redis.get(keys.revision);
    const other = targetSetKey(keys.targets, "targets:2:user:site");
    const delta = [5, keys.document, keys.revision, keys.targets, set, other, "1", rev!, "9", "{}", keys.channel, "", "0", "a", "1", "0", "x", "a", "1", "0", "y"];
    expect(await runScript(redis, WRITE_SCRIPT, WRITE_SHA, delta)).toBe(0);
    const gone = [4, keys.document, keys.revision, keys.targets, set, "1", rev!, "9", "{}", keys.channel, "", "0", "s", "1", "0", `${set}:staged:gone`];
    expect(await runScript(redis, WRITE_SCRIPT, WRITE_SHA, gone)).toBe(0);
    expect([await redis.get(keys.revision), await redis.sismember(set, "x")]).toEqual([rev, 0]);
  });
});
