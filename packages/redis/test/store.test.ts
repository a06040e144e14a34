import { Redis } from "ioredis";
import { afterEach, describe, expect, it } from "vitest";
import { Snapshot, StoreClosedError, ValidationError, WriteConflictError, type StoreEvent } from "@detour/core";
import { redisStore, type RedisStore, type RedisStoreOptions } from "../src/index.js";
import { REDIS_URL, capture, deleteKeys, siteDoc, uniquePrefix, waitFor } from "./helpers.js";

const siteMode = (store: RedisStore) => store.snapshot()?.evaluate("site", { key: "anonymous" }).value;

describe("redisStore against the shared Redis", () => {
  const opened: RedisStore[] = [];
  const prefixes: string[] = [];
  const clients: Redis[] = [];

  function setup(options: RedisStoreOptions = {}) {
    const prefix = options.prefix ?? uniquePrefix();
    if (!prefixes.includes(prefix)) prefixes.push(prefix);
    const logger = capture();
    const events: StoreEvent[] = [];
    const store = redisStore({ url: REDIS_URL, logger, ...options, prefix });
    store.subscribe((event) => events.push(event));
    opened.push(store);
    return { store, prefix, logger, events };
  }

  function raw(): Redis {
    const client = new Redis(REDIS_URL);
    clients.push(client);
    return client;
  }

  afterEach(async () => {
    await Promise.all(opened.splice(0).map((store) => store.close()));
    for (const client of clients.splice(0)) client.disconnect();
    await Promise.all(prefixes.splice(0).map((prefix) => deleteKeys(REDIS_URL, prefix)));
  });

  it("loads an empty document from an empty Redis and leaves Redis untouched", async () => {
    const { store, prefix } = setup();
    const snapshot = await store.load();
    expect(snapshot.keys()).toEqual([]);
    expect(store.keys).toEqual({ document: `${prefix}:document`, revision: `${prefix}:revision`, channel: `${prefix}:changes`, targets: `${prefix}:targets` });
    expect(await raw().exists(`${prefix}:document`)).toBe(0);
    expect(store.health()).toMatchObject({ kind: "redis", revision: 0, stale: false, error: null });
  });

  it("two stores see each other's writes", async () => {
    const a = setup();
    const b = setup({ prefix: a.prefix });
    await Promise.all([a.store.load(), b.store.load()]);

    const written = await a.store.write((draft) => {
      Object.assign(draft, siteDoc("maintenance"));
    });
    expect(written.revision).toBe(1);
    expect(siteMode(a.store)).toBe("maintenance");
    await waitFor(() => siteMode(b.store) === "maintenance", 5000, "b to see a's write");
    expect(b.store.snapshot()?.revision).toBe(1);

    await b.store.write((draft) => {
      draft.flags!.site!.fallthrough = { variation: 1 };
    });
    await waitFor(() => siteMode(a.store) === "read-only", 5000, "a to see b's write");
    expect(a.store.snapshot()?.revision).toBe(2);

    const redis = raw();
    expect(await redis.get(`${a.prefix}:revision`)).toBe("2");
    const stored = JSON.parse((await redis.get(`${a.prefix}:document`))!) as { revision: number };
    expect(stored.revision).toBe(2);
    expect(b.events.filter((e) => e.type === "error")).toEqual([]);
  });

  it("validates before writing: a bad result is refused and nothing is written", async () => {
    const { store, prefix } = setup();
    await store.load();
    await store.write((draft) => {
      Object.assign(draft, siteDoc("maintenance"));
    });
    await expect(
      store.write((draft) => {
        draft.flags!.site!.fallthrough = { variation: 7 };
      }),
    ).rejects.toBeInstanceOf(ValidationError);
    await expect(
      store.write(() => {
        throw new Error("changed my mind");
      }),
    ).rejects.toThrow("changed my mind");
    expect(await raw().get(`${prefix}:revision`)).toBe("1");
    expect(siteMode(store)).toBe("maintenance");
  });

  it("refuses a third party's invalid document and keeps the last good snapshot", async () => {
    const { store, prefix, events, logger } = setup({ pollIntervalMs: 100 });
    const onError: Error[] = [];
    await store.load();
    store.subscribe((e) => e.type === "error" && onError.push(e.error));
    await store.write((draft) => {
      Object.assign(draft, siteDoc("maintenance"));
    });
    const redis = raw();

    // Not JSON at all.
    await redis.set(`${prefix}:document`, "{ this is not json");
    await redis.set(`${prefix}:revision`, "2");
    await redis.publish(`${prefix}:changes`, "2");
    await waitFor(() => onError.length === 1, 5000, "an error event");
    expect(onError[0]).toBeInstanceOf(ValidationError);
    expect(onError[0]!.message).toMatch(/refused the document in Redis.*not JSON/);
    expect(siteMode(store)).toBe("maintenance");
    expect(store.snapshot()?.revision).toBe(1);
    expect(store.health()).toMatchObject({ stale: true, revision: 1 });
    expect(store.health().error).toMatch(/not JSON/);
    // Reported once, not on every revision check.
    await new Promise((r) => setTimeout(r, 350));
    expect(onError).toHaveLength(1);
    expect(logger.errors.length).toBe(1);

    // JSON, but not an object of flags (a document whose flags have problems loads flag by flag instead).
    await redis.set(`${prefix}:document`, JSON.stringify({ flags: [{ key: "site", on: true, variations: ["a"], fallthrough: { variation: 3 } }] }));
    await redis.set(`${prefix}:revision`, "3");
    await redis.publish(`${prefix}:changes`, "3");
    await waitFor(() => onError.length === 2, 5000, "a second error event");
    expect(onError[1]!.message).toMatch(/flags: expected an object/);
    expect(siteMode(store)).toBe("maintenance");

    // A good document afterwards is applied again.
    await redis.set(`${prefix}:document`, JSON.stringify(siteDoc("read-only")));
    await redis.set(`${prefix}:revision`, "4");
    await redis.publish(`${prefix}:changes`, "4");
    await waitFor(() => siteMode(store) === "read-only", 5000, "the good document");
    expect(store.health()).toMatchObject({ stale: false, error: null, revision: 4 });
    expect(events.filter((e) => e.type === "snapshot").length).toBeGreaterThanOrEqual(3);

    // A write on top of a refused document replaces it, based on the last good one.
    await redis.set(`${prefix}:document`, "garbage");
    await redis.set(`${prefix}:revision`, "5");
    await waitFor(() => onError.length === 3, 5000, "a third error event");
    const repaired = await store.write((draft) => {
      draft.flagValues = { repaired: true };
    });
    expect(repaired.revision).toBe(6);
    expect(siteMode(store)).toBe("read-only");
    expect(JSON.parse((await redis.get(`${prefix}:document`))!)).toMatchObject({ revision: 6, flagValues: { repaired: true } });
  });

  it("catches a missed change notice with the periodic revision check", async () => {
    const { store, prefix } = setup({ pollIntervalMs: 150 });
    await store.load();
    const redis = raw();
    // A change made without publishing anything, as if the notice were lost.
    await redis.set(`${prefix}:document`, JSON.stringify({ ...siteDoc("maintenance"), revision: 9 }));
    await redis.set(`${prefix}:revision`, "9");
    const started = Date.now();
    await waitFor(() => siteMode(store) === "maintenance", 5000, "the revision check to pick the change up");
    expect(Date.now() - started).toBeLessThan(3000);
    expect(store.snapshot()?.revision).toBe(9);
  });

  it("adopts what Redis holds even when its revision went backwards (keys reset by hand)", async () => {
    const { store, prefix } = setup({ pollIntervalMs: 100 });
    await store.load();
    for (let i = 0; i < 3; i++) await store.write((d) => void (d.flagValues = { i }));
    expect(store.snapshot()?.revision).toBe(3);
    const redis = raw();
    await redis.set(`${prefix}:document`, JSON.stringify(siteDoc("maintenance")));
    await redis.set(`${prefix}:revision`, "1");
    await redis.publish(`${prefix}:changes`, "1");
    await waitFor(() => siteMode(store) === "maintenance", 5000, "the reset document");
    expect(store.snapshot()?.revision).toBe(1);
    // And writes continue from there.
    expect((await store.write((d) => void (d.flagValues = { after: true }))).revision).toBe(2);
  });

  it("a notice without a poll applies immediately (poll far away)", async () => {
    const a = setup({ pollIntervalMs: 60_000 });
    const b = setup({ prefix: a.prefix, pollIntervalMs: 60_000 });
    await Promise.all([a.store.load(), b.store.load()]);
    await a.store.write((d) => void Object.assign(d, siteDoc("maintenance")));
    await waitFor(() => siteMode(b.store) === "maintenance", 2000, "pub/sub propagation");
  });

  it("seeds an empty Redis from bootstrap, exactly once among concurrent instances", async () => {
    const prefix = uniquePrefix();
    const bootstrap = { ...siteDoc("maintenance"), revision: 4 };
    const stores = Array.from({ length: 5 }, () => setup({ prefix, bootstrap }));
    const loaded = await Promise.all(stores.map((s) => s.store.load()));
    for (const snapshot of loaded) expect(snapshot.evaluate("site", { key: "x" }).value).toBe("maintenance");
    const seeded = stores.flatMap((s) => s.logger.warnings).filter((w) => /seeded/.test(w));
    expect(seeded).toHaveLength(1);
    expect(await raw().get(`${prefix}:revision`)).toBe("4");
    // Every instance is now on what Redis holds.
    for (const s of stores) expect(s.store.health()).toMatchObject({ revision: 4, stale: false });
  });

  it("prefers what Redis holds over the bootstrap document", async () => {
    const a = setup();
    await a.store.load();
    await a.store.write((d) => void Object.assign(d, siteDoc("read-only")));
    const b = setup({ prefix: a.prefix, bootstrap: siteDoc("maintenance") });
    expect((await b.store.load()).evaluate("site", { key: "x" }).value).toBe("read-only");
  });

  it("retries a conflicting write with a fresh read and never loses an update (in-process)", async () => {
    const prefix = uniquePrefix();
    const stores = Array.from({ length: 4 }, () => setup({ prefix }).store);
    await Promise.all(stores.map((s) => s.load()));
    const perStore = 10;
    await Promise.all(
      stores.map(async (store) => {
        for (let i = 0; i < perStore; i++) {
          await store.write((draft) => {
            const n = draft.flagValues?.n;
            draft.flagValues = { n: (typeof n === "number" ? n : 0) + 1 };
          });
        }
      }),
    );
    const final = JSON.parse((await raw().get(`${prefix}:document`))!) as { flagValues: { n: number }; revision: number };
    expect(final.flagValues.n).toBe(stores.length * perStore);
    expect(final.revision).toBe(stores.length * perStore);
  });

  it("gives up with WriteConflictError when it keeps losing", async () => {
    // The interfering commands share the store's connection, so Redis runs
    // them between the store's read and its compare-and-set, every time.
    const redis = new Redis(REDIS_URL, { enableOfflineQueue: false, maxRetriesPerRequest: 0 });
    clients.push(redis);
    const { store, prefix } = setup({ maxWriteAttempts: 3, url: undefined, client: redis });
    await store.load();
    let calls = 0;
    const interference: Promise<unknown>[] = [];
    await expect(
      store.write((draft) => {
        calls++;
        interference.push(redis.incr(`${prefix}:revision`));
        draft.flagValues = { lost: true };
      }),
    ).rejects.toBeInstanceOf(WriteConflictError);
    await Promise.all(interference);
    expect(calls).toBe(3);
    expect(await redis.exists(`${prefix}:document`)).toBe(0);
  });

  it("uses EVAL when the script cache was flushed", async () => {
    const { store } = setup();
    await store.load();
    await store.write((d) => void (d.flagValues = { a: 1 }));
    await raw().script("FLUSH");
    const next = await store.write((d) => void (d.flagValues = { a: 2 }));
    expect(next.revision).toBe(2);
  });

  it("with a client given: duplicates it for pub/sub and never quits it", async () => {
    const client = new Redis(REDIS_URL, { enableOfflineQueue: false, maxRetriesPerRequest: 0 });
    clients.push(client);
    const a = setup({ url: undefined, client });
    const b = setup({ prefix: a.prefix });
    await Promise.all([a.store.load(), b.store.load()]);
    await b.store.write((d) => void Object.assign(d, siteDoc("maintenance")));
    await waitFor(() => siteMode(a.store) === "maintenance", 5000, "propagation to the client-backed store");
    await a.store.close();
    expect(client.status).toBe("ready");
    expect(await client.ping()).toBe("PONG");
    expect(client.listenerCount("ready")).toBe(0);
  });

  it("close() quits its connections, clears timers and refuses further use", async () => {
    const { store } = setup({ pollIntervalMs: 50 });
    await store.load();
    const before = (await raw().client("LIST")) as string;
    await store.close();
    await store.close();
    expect(() => store.snapshot()).not.toThrow();
    await expect(store.load()).rejects.toBeInstanceOf(StoreClosedError);
    await expect(store.write(() => {})).rejects.toBeInstanceOf(StoreClosedError);
    const after = (await raw().client("LIST")) as string;
    expect(after.split("\n").length).toBeLessThan(before.split("\n").length);
  });

  it("after close() a new subscriber hears nothing, even when another instance writes", async () => {
    const a = setup();
    const b = setup({ prefix: a.prefix });
    await Promise.all([a.store.load(), b.store.load()]);
    await a.store.close();
    const late: StoreEvent[] = [];
    const unsubscribe = a.store.subscribe((event) => late.push(event));
    await b.store.write((d) => void Object.assign(d, siteDoc("maintenance")));
    await a.store.resync();
    await new Promise((r) => setTimeout(r, 100));
    expect(late).toEqual([]);
    expect(a.store.snapshot()?.revision).toBe(0);
    expect(() => unsubscribe()).not.toThrow();
  });

  it("rejects bad options", () => {
    expect(() => redisStore({ pollIntervalMs: 0 })).toThrow(/pollIntervalMs/);
    expect(() => redisStore({ prefix: "" })).toThrow(/prefix/);
  });

  it("health reports the revision and the age of the last confirmation", async () => {
    const { store } = setup({ pollIntervalMs: 100 });
    expect(store.health()).toMatchObject({ revision: null, stale: false });
    await store.load();
    await store.write((d) => void (d.flagValues = { x: true }));
    await new Promise((r) => setTimeout(r, 250));
    const health = store.health();
    expect(health.revision).toBe(1);
    expect(health.ageMs).not.toBeNull();
    expect(health.ageMs!).toBeLessThan(250);
    // health() speaks of the snapshot the store serves.
    expect(store.snapshot()).toBeInstanceOf(Snapshot);
    expect(store.snapshot()!.revision).toBe(health.revision);
  });
});
