/**
 * Real Redis topologies started from redis-server on free ports: a master
 * with replicas watched by three sentinels, and a three-master Cluster with
 * one replica per master. Nothing persists; everything lives in a temp dir.
 */
import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Redis } from "ioredis";
import { afterAll, beforeAll } from "vitest";
import { Worker, freePort, removeWorkerBundle, uniquePrefix, waitFor as eventually, workerBundle } from "./helpers.js";

const MASTER = "detour-master";

// Waits, not speed claims: a replica syncs in well under a second on an idle machine, far longer on a loaded one.
const SYNC_BOUND_MS = 45_000;

/** One redis-server process (data node or sentinel). */
export class Node {
  process: ChildProcess | undefined;
  constructor(
    readonly port: number,
    private readonly args: string[],
  ) {}

  start(extra: string[] = []): void {
    const child = spawn("redis-server", [...this.args, ...extra], { stdio: "ignore" });
    child.on("error", () => {});
    this.process = child;
  }

  async ready(): Promise<void> {
    await eventually(() => this.ask((r) => r.ping()), 15_000, `redis-server on ${this.port}`);
  }

  /** Runs `fn` on a short-lived connection. */
  async ask<T>(fn: (redis: Redis) => Promise<T>): Promise<T> {
    const redis = new Redis({ port: this.port, host: "127.0.0.1", lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null, connectTimeout: 2000 });
    redis.on("error", () => {});
    try {
      await redis.connect();
      return await fn(redis);
    } finally {
      redis.disconnect();
    }
  }

  async kill(): Promise<void> {
    const child = this.process;
    if (!child || child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise((r) => child.once("exit", r));
    child.kill("SIGKILL");
    await exited;
  }

  /** SIGSTOP: the process keeps its connections but answers nothing (a replica that lags). */
  pause(): void {
    this.process?.kill("SIGSTOP");
  }

  resume(): void {
    this.process?.kill("SIGCONT");
  }
}

// Replicas sync at once (the default diskless sync waits 5 s for more replicas)
// and keep the RDB they receive in the setup's temp dir.
const dataArgs = (port: number, dir: string) => [
  ...["--port", String(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"],
  ...["--repl-diskless-sync-delay", "0", "--dir", dir, "--dbfilename", `dump-${port}.rdb`],
];

/** A master, `replicas` replicas and three sentinels (quorum 2, down after 1 s). */
export class SentinelSetup {
  readonly name = MASTER;
  private constructor(
    readonly dir: string,
    readonly servers: Node[],
    readonly sentinels: Node[],
  ) {}

  static async start(replicas = 1): Promise<SentinelSetup> {
    const dir = mkdtempSync(join(tmpdir(), "detour-sentinel-"));
    const ports = await distinctPorts(1 + replicas + 3);
    const servers = ports.slice(0, 1 + replicas).map((port) => new Node(port, dataArgs(port, dir)));
    const [master] = servers as [Node];
    const sentinels = ports.slice(1 + replicas).map((port) => new Node(port, []));
    const setup = new SentinelSetup(dir, servers, sentinels);
    master.start();
    await master.ready();
    for (const replica of servers.slice(1)) replica.start(["--replicaof", "127.0.0.1", String(master.port)]);
    await Promise.all(servers.slice(1).map((replica) => setup.synced(replica)));
    for (const sentinel of sentinels) {
      const conf = join(setup.dir, `sentinel-${sentinel.port}.conf`);
      writeFileSync(
        conf,
        [
          `port ${sentinel.port}`,
          "bind 127.0.0.1",
          `dir ${setup.dir}`,
          `sentinel monitor ${MASTER} 127.0.0.1 ${master.port} 2`,
          `sentinel down-after-milliseconds ${MASTER} 1000`,
          `sentinel failover-timeout ${MASTER} 4000`,
          `sentinel parallel-syncs ${MASTER} 1`,
          "",
        ].join("\n"),
      );
      sentinel.start([conf, "--sentinel"]);
    }
    await Promise.all(sentinels.map((s) => s.ready()));
    // Failover needs a majority that know each other and the replicas.
    await eventually(
      async () => {
        for (const s of sentinels) {
          const known = (await s.ask((r) => r.call("SENTINEL", "SENTINELS", MASTER))) as unknown[];
          const seen = (await s.ask((r) => r.call("SENTINEL", "REPLICAS", MASTER))) as unknown[];
          if (known.length < 2 || seen.length < replicas) return false;
        }
        return true;
      },
      30_000,
      "the sentinels to discover each other and the replicas",
    );
    return setup;
  }

  get url(): string {
    return `redis+sentinel://${this.sentinels.map((s) => `127.0.0.1:${s.port}`).join(",")}/${MASTER}`;
  }

  /** The data node the sentinels name as master now. */
  async master(): Promise<Node> {
    const [, port] = (await this.sentinels[0]!.ask((r) => r.call("SENTINEL", "GET-MASTER-ADDR-BY-NAME", MASTER))) as [string, string];
    const node = this.servers.find((s) => s.port === Number(port));
    if (!node) throw new Error(`unknown master port ${port}`);
    return node;
  }

  /** Waits until every sentinel names a master other than `old`, and that master answers as one. */
  async failedOver(old: Node, timeoutMs = 45_000): Promise<Node> {
    return eventually(
      async () => {
        const ports = await Promise.all(
          this.sentinels.map(async (s) => ((await s.ask((r) => r.call("SENTINEL", "GET-MASTER-ADDR-BY-NAME", MASTER))) as [string, string])[1]),
        );
        if (ports.some((p) => Number(p) === old.port || p !== ports[0])) return false;
        const node = this.servers.find((s) => s.port === Number(ports[0]))!;
        const role = (await node.ask((r) => r.call("ROLE"))) as [string];
        return role[0] === "master" ? node : false;
      },
      timeoutMs,
      `a failover away from ${old.port}`,
    );
  }

  /** Waits until `master` counts `replica` as an online replica (sentinels may re-point a restarted node first). */
  async online(master: Node, replica: Node): Promise<void> {
    await this.synced(replica);
    await eventually(
      async () => new RegExp(`port=${replica.port},state=online`).test(await master.ask((r) => r.info("replication"))),
      SYNC_BOUND_MS,
      `replica ${replica.port} online at ${master.port}`,
    );
  }

  /** Waits until `replica` is connected to its master and in sync. */
  async synced(replica: Node): Promise<void> {
    await eventually(
      async () => /master_link_status:up/.test(await replica.ask((r) => r.info("replication"))),
      SYNC_BOUND_MS,
      `replica ${replica.port} to sync`,
    );
  }

  async stop(): Promise<void> {
    for (const node of [...this.sentinels, ...this.servers]) {
      node.resume();
      await node.kill();
    }
    rmSync(this.dir, { recursive: true, force: true });
  }
}

/** Three masters with one replica each (node timeout 1 s, partial coverage allowed). */
export class ClusterSetup {
  readonly dir = mkdtempSync(join(tmpdir(), "detour-cluster-"));
  private constructor(readonly nodes: Node[]) {}

  static async start(): Promise<ClusterSetup> {
    const ports = await distinctPorts(6);
    const setup = new ClusterSetup([]);
    for (const port of ports) {
      const node = new Node(port, [
        ...dataArgs(port, setup.dir),
        "--cluster-enabled",
        "yes",
        "--cluster-config-file",
        join(setup.dir, `nodes-${port}.conf`),
        "--cluster-node-timeout",
        "1000",
        "--cluster-require-full-coverage",
        "no",
        // A replica whose link dropped a while ago may still take over (the test kills masters on purpose).
        "--cluster-replica-validity-factor",
        "0",
      ]);
      node.start();
      setup.nodes.push(node);
    }
    await Promise.all(setup.nodes.map((n) => n.ready()));
    const created = spawnSync(
      "redis-cli",
      ["--cluster", "create", ...ports.map((p) => `127.0.0.1:${p}`), "--cluster-replicas", "1", "--cluster-yes"],
      { encoding: "utf8", timeout: 60_000 },
    );
    if (created.status !== 0) throw new Error(`redis-cli --cluster create failed: ${created.stdout}${created.stderr}`);
    await setup.healthy();
    await setup.replicasSynced();
    return setup;
  }

  get url(): string {
    return `redis+cluster://${this.nodes
      .slice(0, 3)
      .map((n) => `127.0.0.1:${n.port}`)
      .join(",")}`;
  }

  /** Waits until every live node reports cluster_state:ok and sees every slot served by a live master. */
  async healthy(timeoutMs = 45_000): Promise<void> {
    await eventually(
      async () => {
        const live = this.live();
        for (const node of live) {
          if (!/cluster_state:ok/.test((await node.ask((r) => r.call("CLUSTER", "INFO"))) as string)) return false;
          const ranges = (await node.ask((r) => r.call("CLUSTER", "SLOTS"))) as Array<[number, number, [string, number]]>;
          if (ranges.some((range) => !live.some((n) => n.port === Number(range[2][1])))) return false;
        }
        return true;
      },
      timeoutMs,
      "the cluster to be healthy",
    );
  }

  /** Waits until every replica has completed its sync with its master. */
  async replicasSynced(timeoutMs = 45_000): Promise<void> {
    await eventually(
      async () => {
        for (const node of this.live()) {
          const info = await node.ask((r) => r.info("replication"));
          if (/role:slave/.test(info) && !/master_link_status:up/.test(info)) return false;
        }
        return true;
      },
      timeoutMs,
      "the replicas to sync",
    );
  }

  live(): Node[] {
    return this.nodes.filter((n) => n.process && n.process.exitCode === null && n.process.signalCode === null);
  }

  /** The live master serving `key`'s slot, as a live node sees it. */
  async masterOf(key: string): Promise<Node> {
    const [probe] = this.live() as [Node];
    const slot = (await probe.ask((r) => r.call("CLUSTER", "KEYSLOT", key))) as number;
    const ranges = (await probe.ask((r) => r.call("CLUSTER", "SLOTS"))) as Array<[number, number, [string, number]]>;
    const range = ranges.find(([from, to]) => slot >= from && slot <= to);
    const node = this.nodes.find((n) => n.port === Number(range?.[2][1]));
    if (!node) throw new Error(`no master for slot ${slot}`);
    return node;
  }

  /** The masters, as a live node sees them. */
  async masters(): Promise<Node[]> {
    const [probe] = this.live() as [Node];
    const ranges = (await probe.ask((r) => r.call("CLUSTER", "SLOTS"))) as Array<[number, number, [string, number]]>;
    const ports = new Set(ranges.map((r) => Number(r[2][1])));
    return this.nodes.filter((n) => ports.has(n.port));
  }

  async stop(): Promise<void> {
    for (const node of this.nodes) await node.kill();
    rmSync(this.dir, { recursive: true, force: true });
  }
}

async function distinctPorts(n: number): Promise<number[]> {
  const ports = new Set<number>();
  // Cluster buses listen on port + 10000: keep ports low enough.
  while (ports.size < n) {
    const port = await freePort();
    if (port < 55_000) ports.add(port);
  }
  return [...ports];
}

/**
 * Starts `start()`'s topology and two worker processes on it before the
 * suite's tests (stopping both after); the returned object fills in then.
 */
export function onTopology<S extends { url: string; stop(): Promise<void> }>(start: () => Promise<S>): { setup: S; prefix: string; a: Worker; b: Worker } {
  const suite = {} as { setup: S; prefix: string; a: Worker; b: Worker };
  let stopWorkers: (() => Promise<void>) | undefined;
  beforeAll(async () => {
    suite.setup = await start();
    suite.prefix = uniquePrefix();
    const bundle = await workerBundle();
    suite.a = new Worker(bundle, { url: suite.setup.url, prefix: suite.prefix, pollIntervalMs: 500 });
    suite.b = new Worker(bundle, { url: suite.setup.url, prefix: suite.prefix, pollIntervalMs: 500 });
    stopWorkers = async () => {
      await Promise.all([suite.a.stop(), suite.b.stop()]);
      removeWorkerBundle();
    };
    await Promise.all([suite.a.send("load"), suite.b.send("load")]);
  }, 120_000);
  afterAll(async () => {
    await stopWorkers?.();
    await suite.setup?.stop();
  });
  return suite;
}

/** Resolves once `worker` has a snapshot at `revision` or later; on a timeout, says what the worker holds. */
export function reaches(worker: Worker, revision: number, timeoutMs: number): Promise<unknown> {
  return worker.next((m) => m.event === "snapshot" && Number(m.revision) >= revision, timeoutMs).catch(async (error: Error) => {
    const state = await worker.send("state").catch((e: Error) => e.message);
    throw new Error(`${error.message}; revision ${revision} never arrived; the worker reports ${JSON.stringify(state)}; last messages ${JSON.stringify(worker.messages.slice(-5))}`);
  });
}
