/**
 * Large target lists on Redis: kept in sets apart from the document, changed
 * by deltas, announced as deltas, and put back together by every read.
 */
import { Redis } from "ioredis";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { createDetour, type Detour, type Flag, type FlagDocument } from "@detour/core";
// The compiled forms, to check which ones a change shares: core internals, never exported.
import { compiledFlagOf } from "../../core/src/snapshot.js";
import { redisStore, type RedisStore } from "../src/index.js";
import { LARGE_TARGETS } from "../src/targets.js";
import { REDIS_URL, capture, deleteKeys, uniquePrefix, waitFor } from "./helpers.js";

const users = (n: number, from = 0) => Array.from({ length: n }, (_, i) => `user-${from + i}`);
const MODES = ["available", "read-only", "maintenance"];
const siteWith = (values: string[]): Flag => ({ key: "site", on: true, variations: MODES, offVariation: 0, targets: [{ variation: 1, values }], fallthrough: { variation: 0 } });
const other: Flag = { key: "other", on: true, variations: MODES, offVariation: 0, targets: [{ variation: 2, values: ["x"] }], fallthrough: { variation: 0 } };
const targeted = (store: RedisStore) => [...(store.snapshot()?.definition("site")?.targets?.find((t) => t.variation === 1)?.values ?? [])].sort();
const readOnly = (store: RedisStore, user: string) => store.snapshot()?.evaluate("site", { key: user }).value === "read-only";

describe.sequential("redis store: large target lists", () => {
  const prefix = uniquePrefix();
  const setKey = `${prefix}:targets:targets:1:user:site`;
  const redis = new Redis(REDIS_URL);
  const notices: string[] = [];
  const listener = new Redis(REDIS_URL);
  const opened: Array<RedisStore | Detour> = [];
  const open = (options: { poll?: number } = {}) => {
    const store = redisStore({ url: REDIS_URL, prefix, logger: capture(), pollIntervalMs: options.poll ?? 60_000 });
    const detour = createDetour({ store });
    opened.push(detour);
    return { store, detour };
  };

  beforeAll(async () => {
    listener.on("message", (_channel, message: string) => notices.push(message));
    await listener.subscribe(`${prefix}:changes`);
  });
  afterEach(async () => {
    await Promise.all(opened.splice(0).map((o) => o.close()));
    await deleteKeys(REDIS_URL, prefix);
    notices.length = 0;
  });
  afterAll(() => {
    redis.disconnect();
    listener.disconnect();
  });

  it("a change by one store reaches the other as a delta; the receiver recompiles that flag only, and a fresh read agrees", async () => {
    const a = open();
    const b = open();
    await Promise.all([a.detour.ready, b.detour.ready]);
    const all = users(5000);
    await a.store.write((doc) => {
      doc.flags = { site: siteWith(all), other };
    });
    await waitFor(() => targeted(b.store).length === 5000, 10_000, "the 5,000 users on b");
    // The document holds the entry empty; the users are in a set of their own.
    expect(JSON.parse((await redis.get(`${prefix}:document`))!).flags.site.targets).toEqual([{ variation: 1, values: [] }]);
    expect(await redis.scard(setKey)).toBe(5000);
    expect(await redis.smembers(`${prefix}:targets`)).toEqual([setKey]);

    const before = b.store.snapshot()!;
    notices.length = 0;
    await a.detour.enable("site", { users: ["new-user"] });
    await waitFor(() => readOnly(b.store, "new-user"), 10_000, "new-user on b");
    await waitFor(() => notices.length > 0, 10_000, "the notice");
    expect(notices).toHaveLength(1);
    expect(notices[0]!.split("\n")[1]).toBe(`targets ${before.revision}`);
    expect(await redis.sismember(setKey, "new-user")).toBe(1);
    const after = b.store.snapshot()!;
    expect(compiledFlagOf(after, "other")).toBe(compiledFlagOf(before, "other"));
    expect(compiledFlagOf(after, "site")).not.toBe(compiledFlagOf(before, "site"));
    // Both sides took the change as a delta: the compiled list is the previous one with an overlay, not a Map built again.
    expect(compiledFlagOf(after, "site")!.targets![0]!.keys).not.toBeInstanceOf(Map);
    expect(compiledFlagOf(a.store.snapshot()!, "site")!.targets![0]!.keys).not.toBeInstanceOf(Map);
    expect(after.document.audit?.[0]).toMatchObject({ action: "enable", flag: "site" });

    // Reload == incremental: a store that reads everything holds what b built from deltas.
    const c = open();
    await c.detour.ready;
    expect(c.store.snapshot()!.revision).toBe(after.revision);
    expect(c.store.snapshot()!.document).toEqual(after.document);
    expect(targeted(c.store)).toEqual([...all, "new-user"].sort());
  });

  it("disabling a user takes them out of the set and out of every instance", async () => {
    const a = open();
    const b = open();
    await Promise.all([a.detour.ready, b.detour.ready]);
    await a.detour.enable("site", { users: users(LARGE_TARGETS + 10) });
    await waitFor(() => readOnly(b.store, "user-3"), 10_000, "user-3 on b");
    await b.detour.disable("site", { users: ["user-3"] });
    await waitFor(() => !readOnly(a.store, "user-3"), 10_000, "user-3 released on a");
    expect(await redis.sismember(setKey, "user-3")).toBe(0);
    expect(await redis.scard(setKey)).toBe(LARGE_TARGETS + 9);
    expect(readOnly(a.store, "user-4")).toBe(true);
  });

  it("concurrent writers adding users lose none of them", async () => {
    const a = open();
    const b = open();
    await Promise.all([a.detour.ready, b.detour.ready]);
    await a.detour.enable("site", { users: users(2000) });
    await waitFor(() => targeted(b.store).length === 2000, 10_000, "2,000 users on b");
    const writes = [];
    for (let i = 0; i < 10; i++) writes.push(a.detour.enable("site", { users: [`a-${i}`] }), b.detour.enable("site", { users: [`b-${i}`] }));
    await Promise.all(writes);
    const expected = [...users(2000), ...Array.from({ length: 10 }, (_, i) => [`a-${i}`, `b-${i}`]).flat()].sort();
    expect((await redis.smembers(setKey)).sort()).toEqual(expected);
    const revision = Number(await redis.get(`${prefix}:revision`));
    for (const { store } of [a, b]) {
      await waitFor(() => store.snapshot()!.revision === revision, 10_000, "the last revision");
      expect(targeted(store)).toEqual(expected);
    }
  });

  it("loads an inline document written by an older Detour unchanged, and moves its large list into a set on the next write", async () => {
    const doc: FlagDocument = { revision: 4, flags: { site: siteWith(users(3000)), other } };
    await redis.mset(`${prefix}:document`, JSON.stringify(doc), `${prefix}:revision`, "4");
    const a = open();
    await a.detour.ready;
    expect(a.store.snapshot()!.document.flags).toEqual(doc.flags);
    const b = open();
    await b.detour.ready;
    await a.detour.enable("site", { users: ["late"] });
    expect(await redis.scard(setKey)).toBe(3001);
    await waitFor(() => readOnly(b.store, "late"), 10_000, "late on b");
    expect(targeted(b.store)).toEqual([...users(3000), "late"].sort());
    // A list that shrinks below the threshold goes back inline.
    await a.store.write((draft) => {
      draft.flags!.site!.targets![0]!.values = ["only"];
    });
    expect(await redis.exists(setKey, `${prefix}:targets`)).toBe(0);
    expect(JSON.parse((await redis.get(`${prefix}:document`))!).flags.site.targets[0].values).toEqual(["only"]);
    await waitFor(() => targeted(b.store).join() === "only", 10_000, "the short list on b");
  });

  it("one enable() of one user on a flag with 100,000 users sends a notice of a few hundred bytes, and no document", async () => {
    const a = open();
    const b = open();
    await Promise.all([a.detour.ready, b.detour.ready]);
    await a.store.write((doc) => {
      doc.flags = { site: siteWith(users(100_000)) };
    });
    await waitFor(() => targeted(b.store).length === 100_000, 30_000, "100,000 users on b");
    notices.length = 0;
    await a.detour.enable("site", { users: ["one-more"] });
    await waitFor(() => readOnly(b.store, "one-more"), 30_000, "one-more on b");
    await waitFor(() => notices.length > 0, 10_000, "the notice");
    expect(notices).toHaveLength(1);
    expect(Buffer.byteLength(notices[0]!)).toBeLessThan(1024);
    expect(Buffer.byteLength((await redis.get(`${prefix}:document`))!)).toBeLessThan(1024);
  }, 60_000);

  it("a targets notice over a revision the receiver does not hold makes it read Redis", async () => {
    const a = open();
    const b = open({ poll: 60_000 });
    await Promise.all([a.detour.ready, b.detour.ready]);
    await a.detour.enable("site", { users: users(LARGE_TARGETS) });
    await waitFor(() => readOnly(b.store, "user-0"), 10_000, "the users on b");
    // A missed change: Redis moves on without telling anyone.
    const revision = Number(await redis.get(`${prefix}:revision`));
    await redis.sadd(setKey, "quiet");
    await redis.set(`${prefix}:revision`, String(revision + 1));
    await a.detour.enable("site", { users: ["loud"] });
    await waitFor(() => readOnly(b.store, "loud"), 10_000, "loud on b");
    expect(readOnly(b.store, "quiet")).toBe(true);
  });

  it("keeps large context target lists (tenants) in sets too", async () => {
    const a = open();
    const b = open();
    await Promise.all([a.detour.ready, b.detour.ready]);
    const orgs = users(LARGE_TARGETS + 5).map((key) => ({ kind: "organization", key }));
    await a.detour.enable("site", { contexts: orgs });
    await a.detour.enable("site", { contexts: [{ kind: "organization", key: "acme" }] });
    const orgSet = `${prefix}:targets:contextTargets:1:organization:site`;
    expect(await redis.scard(orgSet)).toBe(LARGE_TARGETS + 6);
    const blocked = (store: RedisStore, key: string) => store.snapshot()?.evaluate("site", { kind: "organization", key }).value === "read-only";
    await waitFor(() => blocked(b.store, "acme") && blocked(b.store, "user-7"), 10_000, "the tenants on b");
    await b.detour.disable("site", { contexts: [{ kind: "organization", key: "user-7" }] });
    await waitFor(() => !blocked(a.store, "user-7"), 10_000, "user-7 released on a");
    expect(blocked(a.store, "acme")).toBe(true);
  });

  it("writes its large lists back into sets when Redis comes back empty", async () => {
    const a = open({ poll: 100 });
    await a.detour.ready;
    await a.detour.enable("site", { users: users(LARGE_TARGETS + 1) });
    await deleteKeys(REDIS_URL, prefix);
    await waitFor(async () => (await redis.scard(setKey)) === LARGE_TARGETS + 1, 10_000, "the set written back");
    const c = open();
    await c.detour.ready;
    expect(targeted(c.store)).toEqual(users(LARGE_TARGETS + 1).sort());
  });
});
