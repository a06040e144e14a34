import { beforeAll, describe, expect, it } from "vitest";
import { detour } from "./cli-run.js";
import { waitFor as eventually, type Worker } from "./helpers.js";
import { ClusterSetup, onTopology, reaches as reachesWithin } from "./topologies.js";

// A master's replica is promoted after cluster-node-timeout (1 s) and an
// election; the stores then find the new master on their next command.
const PROMOTION_BOUND_MS = 45_000;

describe.sequential("redis+cluster: three masters, one replica each", () => {
  const suite = onTopology(() => ClusterSetup.start());
  let setup: ClusterSetup;
  let prefix: string;
  let a: Worker;
  let b: Worker;
  beforeAll(() => void ({ setup, prefix, a, b } = suite));
  const reaches = (worker: Worker, revision: number) => reachesWithin(worker, revision, PROMOTION_BOUND_MS);
  // Every key of the store shares one hash slot: the prefix is the hash tag.
  const key = (name: string) => `{${prefix}}:${name}`;

  const cli = (...args: string[]) => detour([...args, "--store", setup.url, "--prefix", prefix]);

  it("keeps document, revision, channel and target sets in one hash slot, and a change from the CLI reaches both processes", async () => {
    const [node] = setup.live();
    const slots = await Promise.all(
      ["document", "revision", "changes", "targets", "targets:targets:1:user:site"].map((k) => node!.ask((r) => r.call("CLUSTER", "KEYSLOT", key(k)))),
    );
    expect(new Set(slots).size).toBe(1);

    // A list large enough for a set of its own, then a delta to it: both scripts run on the Cluster.
    const seeded = await a.send("target", { prefix: "u", n: 2000 });
    await reaches(b, Number(seeded.revision));
    const delta = await a.send("target", { prefix: "v", n: 1 });
    await reaches(b, Number(delta.revision));
    expect((await b.send("state")).targeted).toBe(2001);
    expect(await (await setup.masterOf(key("document"))).ask((r) => r.scard(key("targets:targets:1:user:site")))).toBe(2001);

    const { revision } = await a.send("set-site", { mode: "read-only" });
    await Promise.all([reaches(a, Number(revision)), reaches(b, Number(revision))]);
    const on = await cli("on", "site", "--mode", "maintenance");
    expect(on.stderr).toBe("");
    expect(on.code).toBe(0);
    await Promise.all([a, b].map((w) => w.next((m) => m.event === "snapshot" && m.site === "maintenance", PROMOTION_BOUND_MS)));
    expect(await (await setup.masterOf(key("document"))).ask((r) => r.exists(key("document")))).toBe(1);
  });

  it("killing a master that does not hold Detour's slot changes nothing", async () => {
    const ours = await setup.masterOf(key("document"));
    const other = (await setup.masters()).find((m) => m !== ours)!;
    await other.kill();
    const { revision } = await a.send("set-site", { mode: "available" });
    await Promise.all([reaches(a, Number(revision)), reaches(b, Number(revision))]);
    const off = await cli("on", "site", "--mode", "read-only");
    expect(off.stderr).toBe("");
    expect(off.code).toBe(0);
    await Promise.all([a, b].map((w) => w.next((m) => m.event === "snapshot" && m.site === "read-only" && Number(m.revision) > Number(revision), PROMOTION_BOUND_MS)));
    for (const w of [a, b]) expect((await w.send("state")).health).toMatchObject({ stale: false, error: null });
    // Its replica takes over (the next test needs a majority of masters alive).
    await setup.healthy(PROMOTION_BOUND_MS);
  }, 120_000);

  it("killing the master that holds it leaves every instance serving its snapshot until the replica is promoted, then resyncs", async () => {
    const ours = await setup.masterOf(key("document"));
    const before = await a.send("state");
    await ours.kill();
    // No master for the slot: writes fail, both processes keep serving what they had.
    const refused = await a.send("set-site", { mode: "maintenance" }).then(
      () => null,
      (error: Error) => error.message,
    );
    for (const w of [a, b]) expect((await w.send("state")).site).toBe(before.site);

    const promoted = await eventually(async () => {
      const node = await setup.masterOf(key("document"));
      return node !== ours && node;
    }, PROMOTION_BOUND_MS, "the replica of Detour's master to be promoted");
    expect(promoted).not.toBe(ours);
    const revision = await eventually(
      async () => Number((await b.send("set-site", { mode: "maintenance" })).revision),
      PROMOTION_BOUND_MS,
      "a write after the promotion",
    );
    await Promise.all([reaches(a, revision), reaches(b, revision)]);
    for (const w of [a, b]) {
      await eventually(
        async () => ((await w.send("state")).health as { stale: boolean }).stale === false,
        PROMOTION_BOUND_MS,
        "the store to be current again",
      );
      expect((await w.send("state")).site).toBe("maintenance");
    }
    // Either the write during the outage failed, or it landed before the master died: never half-applied.
    if (refused !== null) expect(refused).toMatch(/StoreUnavailableError|unreachable|cannot write/);
  }, 120_000);
});
