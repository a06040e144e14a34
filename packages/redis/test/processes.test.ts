import { Redis } from "ioredis";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { REDIS_URL, Worker, deleteKeys, removeWorkerBundle, uniquePrefix, workerBundle } from "./helpers.js";

// Separate Node processes sharing the Redis at 127.0.0.1:6379. Each runs
// test/fixtures/worker.ts, bundled with esbuild (sources + ioredis) because a
// child process cannot use vitest's aliases.
describe("redisStore across processes", () => {
  let bundle: string;
  const workers: Worker[] = [];
  const prefixes: string[] = [];

  beforeAll(async () => {
    bundle = await workerBundle();
  });

  afterAll(async () => {
    await Promise.all(workers.map((w) => w.stop()));
    await Promise.all(prefixes.map((p) => deleteKeys(REDIS_URL, p)));
    removeWorkerBundle();
  });

  function spawnWorkers(count: number, prefix: string): Worker[] {
    const spawned = Array.from({ length: count }, () => new Worker(bundle, { url: REDIS_URL, prefix }));
    workers.push(...spawned);
    return spawned;
  }

  it("a write in one process is in force in the others within a bounded time", async () => {
    const prefix = uniquePrefix();
    prefixes.push(prefix);
    const [writer, ...watchers] = spawnWorkers(3, prefix);
    await Promise.all([writer!, ...watchers].map((w) => w.send("load")));
    for (const w of watchers) expect((await w.send("state")).site).toBeNull();

    const seen = watchers.map((w) => w.next((m) => m.event === "snapshot" && m.site === "maintenance"));
    const started = Date.now();
    const reply = await writer!.send("set-site", { mode: "maintenance" });
    expect(reply.revision).toBe(1);
    const messages = await Promise.all(seen);
    const elapsed = Date.now() - started;
    for (const m of messages) expect(m.revision).toBe(1);
    // Correctness with a generous bound: pub/sub normally, the 1.5 s revision check at worst.
    expect(elapsed).toBeLessThan(5000);

    // And back the other way.
    const back = writer!.next((m) => m.event === "snapshot" && m.site === "read-only");
    await watchers[0]!.send("set-site", { mode: "read-only" });
    expect((await back).revision).toBe(2);
    for (const w of watchers) expect(w.messages.filter((m) => m.event === "error")).toEqual([]);
  });

  it("20 concurrent compare-and-set writers in separate processes lose no update", async () => {
    const prefix = uniquePrefix();
    prefixes.push(prefix);
    const writers = spawnWorkers(20, prefix);
    await Promise.all(writers.map((w) => w.send("load")));
    const perWriter = 5;
    const replies = await Promise.all(writers.map((w) => w.send("incr", { n: perWriter })));
    const attempts = replies.reduce((sum, r) => sum + Number(r.attempts), 0);

    const redis = new Redis(REDIS_URL);
    try {
      const stored = JSON.parse((await redis.get(`${prefix}:document`))!) as { flagValues: { counter: number }; revision: number };
      expect(stored.flagValues.counter).toBe(20 * perWriter);
      expect(stored.revision).toBe(20 * perWriter);
      expect(await redis.get(`${prefix}:revision`)).toBe(String(20 * perWriter));
    } finally {
      redis.disconnect();
    }
    // The mutators ran at least once per write; more when they lost a race and were retried.
    expect(attempts).toBeGreaterThanOrEqual(20 * perWriter);
    await Promise.all(writers.map((w) => w.stop()));
  }, 60_000);
});
