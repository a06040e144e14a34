import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Redis } from "ioredis";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { StoreUnavailableError, type StoreEvent } from "@detour/core";
import { redisStore, type RedisStore, type RedisStoreOptions } from "../src/index.js";
import { OwnRedis, capture, siteDoc, uniquePrefix, waitFor } from "./helpers.js";

const siteMode = (store: RedisStore) => store.snapshot()?.evaluate("site", { key: "anonymous" }).value;

// These tests kill and restart a redis-server of their own (no persistence).
describe("redisStore when Redis goes away", () => {
  let redis: OwnRedis;
  const opened: RedisStore[] = [];
  const tmp = mkdtempSync(join(tmpdir(), "detour-redis-outage-"));

  beforeAll(async () => {
    redis = await OwnRedis.start();
  });

  afterEach(async () => {
    await Promise.all(opened.splice(0).map((s) => s.close()));
    if (!redis.process) await redis.start();
  });

  afterAll(async () => {
    await redis.kill();
    rmSync(tmp, { recursive: true, force: true });
  });

  function setup(options: RedisStoreOptions = {}) {
    const logger = capture();
    const events: StoreEvent[] = [];
    const hooked: Error[] = [];
    const store = redisStore({
      url: redis.url,
      pollIntervalMs: 100,
      loadTimeoutMs: 2000,
      logger,
      onError: (e) => hooked.push(e),
      ...options,
    });
    store.subscribe((e) => events.push(e));
    opened.push(store);
    return { store, logger, events, hooked };
  }

  async function raw<T>(fn: (client: Redis) => Promise<T>): Promise<T> {
    const client = new Redis(redis.url, { maxRetriesPerRequest: 0 });
    try {
      return await fn(client);
    } finally {
      client.disconnect();
    }
  }

  it("kill under load: the snapshot stays in force, health goes stale, nothing throws; restart empty: state written back once, everyone resyncs", async () => {
    const prefix = uniquePrefix();
    const a = setup({ prefix });
    const b = setup({ prefix });
    await Promise.all([a.store.load(), b.store.load()]);
    await a.store.write((d) => void Object.assign(d, siteDoc("maintenance")));
    await waitFor(() => siteMode(b.store) === "maintenance", 5000, "b to see the write");

    // "Requests": decisions taken from the snapshot every millisecond throughout.
    let c: ReturnType<typeof setup> | undefined;
    let decisions = 0;
    const failures: string[] = [];
    const load = setInterval(() => {
      for (const store of [a.store, b.store]) {
        try {
          const mode = siteMode(store);
          decisions++;
          if (mode !== "maintenance") failures.push(`got ${String(mode)}`);
        } catch (error) {
          failures.push(String(error));
        }
      }
    }, 1);

    try {
      await redis.kill();
      await waitFor(() => a.store.health().stale && b.store.health().stale, 5000, "both stores to report stale");
      for (const s of [a, b]) {
        const health = s.store.health();
        expect(health).toMatchObject({ kind: "redis", revision: 1, stale: true });
        expect(health.error).toBeTruthy();
        expect(health.ageMs).toEqual(expect.any(Number));
        const errors = s.events.filter((e) => e.type === "error");
        expect(errors.length).toBeGreaterThanOrEqual(1);
        expect(errors[0]!.type === "error" && errors[0]!.error).toBeInstanceOf(StoreUnavailableError);
        expect(s.hooked.length).toBe(errors.length);
      }

      // Writes fail fast while Redis is down; reads keep working.
      const started = Date.now();
      await expect(a.store.write((d) => void (d.flagValues = { x: 1 }))).rejects.toBeInstanceOf(StoreUnavailableError);
      expect(Date.now() - started).toBeLessThan(1000);
      await new Promise((r) => setTimeout(r, 500));
      // One outage, reported once per store (not once per reconnection attempt).
      expect(a.events.filter((e) => e.type === "error").length).toBe(1);
      const ageDuringOutage = a.store.health().ageMs!;
      expect(ageDuringOutage).toBeGreaterThanOrEqual(400);

      // A third instance starts during the outage with a bootstrap file saying read-only.
      const file = join(tmp, "bootstrap.json");
      writeFileSync(file, JSON.stringify(siteDoc("read-only")));
      c = setup({ prefix, bootstrap: file });
      expect((await c.store.load()).evaluate("site", { key: "x" }).value).toBe("read-only");
      expect(c.store.health()).toMatchObject({ stale: true, revision: 0 });

      // Restart empty: one of a/b writes its snapshot back (the bootstrap instance defers to them).
      await redis.start();
      await waitFor(() => !a.store.health().stale && !b.store.health().stale, 10_000, "a and b to reconnect");
      expect(await raw((client) => client.get(`${prefix}:revision`))).toBe("1");
      const warnings = [...a.logger.warnings, ...b.logger.warnings, ...c.logger.warnings].filter((w) => /was empty/.test(w));
      expect(warnings).toHaveLength(1);
      expect(warnings[0]).toMatch(/wrote back this instance's snapshot, revision 1/);
      await waitFor(() => siteMode(c!.store) === "maintenance", 5000, "c to adopt the written-back state");
      expect(c.store.health()).toMatchObject({ stale: false, revision: 1 });

    } finally {
      clearInterval(load);
    }
    expect(failures).toEqual([]);
    expect(decisions).toBeGreaterThan(100);

    // Propagation works again (subscribers resubscribed).
    await b.store.write((d) => void (d.flags!.site!.fallthrough = { variation: 0 }));
    await waitFor(() => siteMode(a.store) === "available" && siteMode(c!.store) === "available", 5000, "propagation after restart");
  }, 40_000);

  it("starts on the bootstrap document while Redis is down, then seeds Redis from it when Redis is back empty", async () => {
    const prefix = uniquePrefix();
    const file = join(tmp, "seed.json");
    writeFileSync(file, JSON.stringify({ ...siteDoc("maintenance"), revision: 3 }));
    await redis.kill();
    const { store, logger, events } = setup({ prefix, bootstrap: file });
    const started = Date.now();
    const snapshot = await store.load();
    expect(Date.now() - started).toBeLessThan(2500);
    expect(snapshot.revision).toBe(3);
    expect(siteMode(store)).toBe("maintenance");
    expect(store.health()).toMatchObject({ stale: true, revision: 3 });
    expect(events.some((e) => e.type === "error")).toBe(true);

    await redis.start();
    await waitFor(() => logger.warnings.some((w) => /seeded it from the bootstrap/.test(w)), 5000, "the seed warning");
    const doc = JSON.parse((await raw((c) => c.get(`${prefix}:document`)))!) as { revision: number };
    expect(doc.revision).toBe(3);
    expect(store.health()).toMatchObject({ stale: false, revision: 3 });
  });

  it("without bootstrap, load() rejects while Redis is down, keeps trying and emits the snapshot when Redis is back", async () => {
    const prefix = uniquePrefix();
    await redis.kill();
    const { store, events } = setup({ prefix });
    const started = Date.now();
    await expect(store.load()).rejects.toBeInstanceOf(StoreUnavailableError);
    expect(Date.now() - started).toBeLessThan(2500);
    expect(store.snapshot()).toBeUndefined();
    expect(store.health()).toMatchObject({ revision: null, stale: false });
    expect(store.health().error).toBeTruthy();

    await redis.start();
    await raw(async (c) => {
      await c.set(`${prefix}:document`, JSON.stringify(siteDoc("maintenance")));
      await c.set(`${prefix}:revision`, "7");
      await c.publish(`${prefix}:changes`, "7");
    });
    await waitFor(() => siteMode(store) === "maintenance", 5000, "the snapshot once Redis is back");
    expect(events.some((e) => e.type === "snapshot")).toBe(true);
    expect(store.snapshot()!.revision).toBe(7);
    await expect(store.load()).resolves.toBe(store.snapshot());
  });

  it("an empty Redis never turns maintenance off, even with no other instance around", async () => {
    const prefix = uniquePrefix();
    const { store } = setup({ prefix });
    await store.load();
    await store.write((d) => void Object.assign(d, siteDoc("maintenance")));
    await raw((c) => c.flushall());
    await new Promise((r) => setTimeout(r, 300));
    expect(siteMode(store)).toBe("maintenance");
    await waitFor(() => store.health().ageMs! < 150 && !store.health().stale, 5000, "a confirmation after the flush");
    const doc = await raw((c) => c.get(`${prefix}:document`));
    expect(JSON.parse(doc!)).toMatchObject({ revision: 1, flags: { site: { on: true } } });
  });
});
