import { spawn, type ChildProcess } from "node:child_process";
import { randomUUID } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createInterface } from "node:readline";
import { fileURLToPath } from "node:url";
import { build } from "esbuild";
import { Redis } from "ioredis";
import type { FlagDocument } from "@detour/core";
import type { RedisStoreLogger } from "../src/index.js";

export const REDIS_URL = "redis://127.0.0.1:6379";
const here = fileURLToPath(new URL(".", import.meta.url));
const root = join(here, "../../..");

export function uniquePrefix(): string {
  return `detour-test:${randomUUID()}`;
}

export async function deleteKeys(url: string, prefix: string): Promise<void> {
  const redis = new Redis(url, { maxRetriesPerRequest: 0 });
  try {
    const sets = await redis.smembers(`${prefix}:targets`);
    await redis.del(`${prefix}:document`, `${prefix}:revision`, `${prefix}:targets`, ...sets);
  } finally {
    redis.disconnect();
  }
}

export function siteDoc(mode: "available" | "read-only" | "maintenance", on = true): FlagDocument {
  return {
    flags: {
      site: {
        key: "site",
        on,
        variations: ["available", "read-only", "maintenance"],
        offVariation: 0,
        fallthrough: { variation: ["available", "read-only", "maintenance"].indexOf(mode) },
      },
    },
  };
}

export function capture(): RedisStoreLogger & { warnings: string[]; errors: string[] } {
  const warnings: string[] = [];
  const errors: string[] = [];
  return { warnings, errors, warn: (m) => void warnings.push(m), error: (m) => void errors.push(m) };
}

/** Polls `check` (sync or async; a throw counts as "not yet") until it returns a truthy value. */
export async function waitFor<T>(
  check: () => T | undefined | false | null | Promise<T | undefined | false | null>,
  timeoutMs = 5000,
  what = "condition",
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const value = await check();
      if (value) return value;
    } catch (error) {
      last = error;
    }
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}${last ? ` (last error: ${String(last)})` : ""}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.unref();
    server.on("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const address = server.address();
      const port = typeof address === "object" && address ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

/** A redis-server of our own (no persistence), which tests may kill and restart. */
export class OwnRedis {
  process: ChildProcess | undefined;
  private constructor(readonly port: number) {}

  get url(): string {
    return `redis://127.0.0.1:${this.port}`;
  }

  static async start(): Promise<OwnRedis> {
    const redis = new OwnRedis(await freePort());
    await redis.start();
    return redis;
  }

  async start(): Promise<void> {
    const child = spawn("redis-server", ["--port", String(this.port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"], {
      stdio: "ignore",
    });
    this.process = child;
    const probe = new Redis(this.url, { lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null });
    probe.on("error", () => {});
    try {
      await waitFor(() => child.exitCode === null, 100);
      const deadline = Date.now() + 5000;
      for (;;) {
        try {
          await probe.connect();
          if ((await probe.ping()) === "PONG") return;
        } catch {
          if (Date.now() > deadline) throw new Error(`redis-server on ${this.port} did not start`);
          await new Promise((r) => setTimeout(r, 25));
        }
      }
    } finally {
      probe.disconnect();
    }
  }

  async kill(): Promise<void> {
    const child = this.process;
    if (!child || child.exitCode !== null) return;
    const exited = new Promise((r) => child.once("exit", r));
    child.kill("SIGKILL");
    await exited;
    this.process = undefined;
  }
}

let bundled: Promise<string> | undefined;
let bundleDir: string | undefined;

/** Bundles test/fixtures/worker.ts (store sources, core sources and ioredis) into one .mjs a child Node can run. */
export function workerBundle(): Promise<string> {
  bundled ??= (async () => {
    bundleDir = mkdtempSync(join(tmpdir(), "detour-redis-worker-"));
    const outfile = join(bundleDir, "worker.mjs");
    await build({
      entryPoints: [join(here, "fixtures/worker.ts")],
      outfile,
      bundle: true,
      platform: "node",
      format: "esm",
      target: "node20",
      alias: { "@detour/core": join(root, "packages/core/src/index.ts"), "@detour/core/store": join(root, "packages/core/src/store.ts") },
      banner: { js: 'import { createRequire as __detourRequire } from "node:module"; const require = __detourRequire(import.meta.url);' },
      logLevel: "error",
    });
    return outfile;
  })();
  return bundled;
}

export function removeWorkerBundle(): void {
  if (bundleDir) rmSync(bundleDir, { recursive: true, force: true });
  bundled = undefined;
  bundleDir = undefined;
}

export interface WorkerMessage {
  [key: string]: unknown;
  event?: string;
  id?: number;
  error?: string;
}

/** A child Node process running the worker fixture; JSON lines both ways. */
export class Worker {
  readonly messages: WorkerMessage[] = [];
  private readonly child: ChildProcess;
  private nextId = 1;
  private readonly pending = new Map<number, { resolve: (m: WorkerMessage) => void; reject: (e: Error) => void }>();
  private readonly watchers = new Set<(m: WorkerMessage) => void>();
  stderr = "";

  constructor(bundle: string, env: { url: string; prefix: string; pollIntervalMs?: number }) {
    this.child = spawn(process.execPath, [bundle], {
      stdio: ["pipe", "pipe", "pipe"],
      env: {
        ...process.env,
        DETOUR_REDIS_URL: env.url,
        DETOUR_REDIS_PREFIX: env.prefix,
        DETOUR_POLL_MS: String(env.pollIntervalMs ?? 1500),
      },
    });
    this.child.stderr!.on("data", (d) => (this.stderr += String(d)));
    createInterface({ input: this.child.stdout! }).on("line", (line) => {
      let message: WorkerMessage;
      try {
        message = JSON.parse(line) as WorkerMessage;
      } catch {
        return;
      }
      this.messages.push(message);
      for (const watch of this.watchers) watch(message);
      if (message.id !== undefined) {
        const waiting = this.pending.get(message.id);
        this.pending.delete(message.id);
        if (message.error) waiting?.reject(new Error(message.error));
        else waiting?.resolve(message);
      }
    });
    this.child.on("exit", (code) => {
      for (const waiting of this.pending.values()) waiting.reject(new Error(`worker exited (${code}): ${this.stderr}`));
      this.pending.clear();
    });
  }

  send(op: string, args: Record<string, unknown> = {}): Promise<WorkerMessage> {
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      this.pending.set(id, { resolve, reject });
      this.child.stdin!.write(`${JSON.stringify({ id, op, ...args })}\n`);
    });
  }

  /** Resolves with the first message (already received or future) that matches. */
  next(match: (m: WorkerMessage) => boolean, timeoutMs = 10_000): Promise<WorkerMessage> {
    const seen = this.messages.find(match);
    if (seen) return Promise.resolve(seen);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.watchers.delete(watch);
        reject(new Error(`worker: no matching message within ${timeoutMs} ms; stderr: ${this.stderr}`));
      }, timeoutMs);
      const watch = (m: WorkerMessage) => {
        if (!match(m)) return;
        clearTimeout(timer);
        this.watchers.delete(watch);
        resolve(m);
      };
      this.watchers.add(watch);
    });
  }

  async stop(): Promise<void> {
    if (this.child.exitCode !== null || this.child.signalCode !== null) return;
    const exited = new Promise((r) => this.child.once("exit", r));
    this.child.stdin!.end();
    const timer = setTimeout(() => this.child.kill("SIGKILL"), 3000);
    await exited;
    clearTimeout(timer);
  }
}
