import { beforeAll, describe, expect, it } from "vitest";
import { detour } from "./cli-run.js";
import { waitFor as eventually, type Worker } from "./helpers.js";
import { SentinelSetup, onTopology, reaches as reachesWithin, type Node } from "./topologies.js";

// Propagation after a failover is stated as: within FAILOVER_BOUND_MS of the
// master dying (sentinels declare it down after 1 s; promotion and the
// stores' reconnect take a few seconds more on an idle machine).
const FAILOVER_BOUND_MS = 45_000;

describe.sequential("redis+sentinel: a master, a replica, three sentinels", () => {
  const suite = onTopology(() => SentinelSetup.start(1));
  let setup: SentinelSetup;
  let prefix: string;
  let a: Worker;
  let b: Worker;
  beforeAll(() => void ({ setup, prefix, a, b } = suite));
  const reaches = (worker: Worker, revision: number) => reachesWithin(worker, revision, FAILOVER_BOUND_MS);

  /** Writes from `writer` until one is acknowledged (they reject while there is no master); its revision. */
  const writeThrough = (writer: Worker, mode: string) =>
    eventually(async () => Number((await writer.send("set-site", { mode })).revision), FAILOVER_BOUND_MS, "a write to be acknowledged");

  const counterOn = async (node: Node) => {
    const raw = await node.ask((r) => r.get(`${prefix}:document`));
    return Number((JSON.parse(raw ?? "{}") as { flagValues?: { counter?: number } }).flagValues?.counter ?? 0);
  };

  it("a change from one process, or from the CLI, reaches both", async () => {
    const { revision } = await a.send("set-site", { mode: "read-only" });
    await Promise.all([reaches(a, Number(revision)), reaches(b, Number(revision))]);
    expect((await b.send("state")).site).toBe("read-only");

    const cli = await detour(["on", "site", "--mode", "maintenance", "--store", setup.url, "--prefix", prefix]);
    expect(cli.stderr).toBe("");
    expect(cli.code).toBe(0);
    await Promise.all([a, b].map((w) => w.next((m) => m.event === "snapshot" && m.site === "maintenance", FAILOVER_BOUND_MS)));
    const status = await detour(["status", "--json", "--store", setup.url, "--prefix", prefix]);
    expect(status.code).toBe(0);
    expect(JSON.stringify(JSON.parse(status.stdout))).toContain('"site"');
  });

  it("killing the master loses no acknowledged write, and propagation resumes", async () => {
    const master = await setup.master();
    const writes = a.send("incr-until-error");
    // Let some writes be acknowledged, then kill the master under them.
    await eventually(async () => (await counterOn(master)) >= 20, FAILOVER_BOUND_MS, "20 acknowledged increments");
    await master.kill();
    const { acked, failure } = await writes;
    expect(String(failure)).toMatch(/StoreUnavailableError/);
    const promoted = await setup.failedOver(master);
    // The replica had every acknowledged write (WAIT); at most the one in flight may be there too.
    const counter = await counterOn(promoted);
    expect(counter).toBeGreaterThanOrEqual(Number(acked));
    expect(counter).toBeLessThanOrEqual(Number(acked) + 1);

    const revision = await writeThrough(a, "available");
    await Promise.all([reaches(a, revision), reaches(b, revision)]);
    expect((await b.send("state")).site).toBe("available");

    // Bring the old master back as a replica of the new one, for the next test.
    master.start(["--replicaof", "127.0.0.1", String(promoted.port)]);
    await setup.synced(master);
  }, 120_000);

  it("while the replica lags a write is not acknowledged, with a clear error; a failover then loses nothing acknowledged", async () => {
    const master = await setup.master();
    const replica = setup.servers.find((s) => s !== master)!;
    await setup.online(master, replica);
    const before = await a.send("incr-until-error", { max: 5 });
    expect(before.failure).toBeNull();
    const acked = await counterOn(master);

    replica.pause();
    try {
      const lagging = await a.send("incr-until-error", { max: 1 });
      expect(lagging.acked).toBe(0);
      expect(String(lagging.failure)).toMatch(/reached the master, but only 0 of its 1 replicas confirmed it within \d+ ms \(WAIT\); a failover may lose it/);
      await master.kill();
    } finally {
      replica.resume();
    }
    const promoted = await setup.failedOver(master);
    expect(promoted).toBe(replica);
    expect(await counterOn(promoted)).toBeGreaterThanOrEqual(acked);

    const revision = await writeThrough(b, "read-only");
    await Promise.all([reaches(a, revision), reaches(b, revision)]);
    expect((await a.send("state")).site).toBe("read-only");
  }, 120_000);
});
