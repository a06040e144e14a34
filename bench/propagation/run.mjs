#!/usr/bin/env node
// Propagation benchmark for @detour/redis.
//
// Measures, across two Node processes sharing one Redis, the time from a
// write on one process to the change being in force on the other, side by
// side with a raw Redis pub/sub round trip (PUBLISH on one connection →
// message on another, between the same two processes) in the same run.
// Prints a Markdown table with p50/p99 and the ratio (goal: p99 ≤ 2× raw).
//
//   node bench/propagation/run.mjs [--n 1000] [--warmup 100] [--flags 1,20] [--readers 1] [--url redis://127.0.0.1:6379]
//   node bench/propagation/run.mjs --readers 20 --flags 20,1000 --n 200   # a fleet: 20 receiving processes
//
// --flags lists document sizes (flags with targets, an inCidr rule and a
// message each); --readers how many receiving processes. Every combination
// gets its own processes and table rows. With several readers a sample is
// the time until the change is in force in all of them (the slowest reader),
// and the raw path is one PUBLISH until every reader's subscriber has it.
//
// Timestamps come from process.hrtime (CLOCK_MONOTONIC), which all processes
// on one machine share. The store sources are bundled with esbuild into a
// temporary file, so no build is needed.
import { spawn } from "node:child_process";
import { randomUUID } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { createInterface } from "node:readline";
import { fileURLToPath, pathToFileURL } from "node:url";
import { parseArgs } from "node:util";

const here = dirname(fileURLToPath(import.meta.url));
const root = join(here, "../..");
const now = () => Number(process.hrtime.bigint()) / 1e3; // µs, monotonic, shared by processes on one host

const { values: args } = parseArgs({
  options: {
    child: { type: "string" },
    n: { type: "string", default: "1000" },
    warmup: { type: "string", default: "100" },
    flags: { type: "string", default: "1,20" },
    readers: { type: "string", default: "1" },
    url: { type: "string", default: process.env.REDIS_URL ?? "redis://127.0.0.1:6379" },
  },
});

if (args.child) await child(args.child);
else await parent();

// ---------------------------------------------------------------- children

async function child(role) {
  const { redisStore } = await import(pathToFileURL(process.env.DETOUR_BENCH_BUNDLE).href);
  const { Redis } = await import("ioredis");
  const prefix = process.env.DETOUR_BENCH_PREFIX;
  const channel = `${prefix}:raw`;
  const out = (m) => process.stdout.write(`${JSON.stringify(m)}\n`);
  // The raw connection(s) use the settings the store uses for its own.
  const rawOptions = { enableOfflineQueue: false, maxRetriesPerRequest: 0 };
  const store = redisStore({ url: args.url, prefix, logger: null });
  await store.load();

  if (role === "reader") {
    const sub = new Redis(args.url, rawOptions);
    await new Promise((r) => sub.once("ready", r));
    sub.on("message", (_channel, message) => out({ kind: "raw", seq: Number(message), t1: now() }));
    await sub.subscribe(channel);
    store.subscribe((event) => {
      if (event.type !== "snapshot") return;
      const seq = event.snapshot.document.flagValues?.seq;
      // In force: the store's snapshot() now returns it.
      if (typeof seq === "number" && store.snapshot() === event.snapshot) out({ kind: "store", seq, t1: now() });
    });
    out({ ready: true });
    // Stay until stdin closes.
    createInterface({ input: process.stdin }).on("close", async () => {
      await store.close();
      sub.disconnect();
      process.exit(0);
    });
    return;
  }

  // writer
  const pub = new Redis(args.url, rawOptions);
  await new Promise((r) => pub.once("ready", r));
  const flags = Number(args.flags);
  await store.write((draft) => {
    // A realistic document: some flags with targets and rules, plus the counter we change.
    draft.flags = {};
    for (let i = 0; i < flags; i++) {
      draft.flags[`feature-${i}`] = {
        key: `feature-${i}`,
        on: i % 3 === 0,
        variations: ["available", "read-only", "maintenance"],
        offVariation: 0,
        targets: [{ variation: 1, values: [`user-${i}`, `user-${i + 1}`] }],
        rules: [{ clauses: [{ attribute: "ip", op: "inCidr", values: ["10.0.0.0/8"] }], variation: 0 }],
        fallthrough: { variation: 2 },
        detour: { message: `Feature ${i} is being upgraded`, retryAfter: 600 },
      };
    }
    draft.flagValues = { seq: 0 };
  });
  out({ ready: true });
  const lines = createInterface({ input: process.stdin });
  lines.on("line", async (line) => {
    const { kind, seq } = JSON.parse(line);
    if (kind === "raw") {
      const t0 = now();
      await pub.publish(channel, String(seq));
      out({ kind, seq, t0 });
    } else {
      const t0 = now();
      await store.write((draft) => {
        draft.flagValues = { ...draft.flagValues, seq };
      });
      out({ kind, seq, t0 });
    }
  });
  lines.on("close", async () => {
    await store.close();
    pub.disconnect();
    process.exit(0);
  });
}

// ---------------------------------------------------------------- parent

function spawnChild(role, env, flags) {
  const proc = spawn(process.execPath, [fileURLToPath(import.meta.url), "--child", role, "--url", args.url, "--flags", String(flags)], {
    stdio: ["pipe", "pipe", "inherit"],
    env: { ...process.env, ...env },
  });
  const waiters = new Set();
  createInterface({ input: proc.stdout }).on("line", (line) => {
    const message = JSON.parse(line);
    for (const w of [...waiters]) w(message);
  });
  return {
    proc,
    send: (m) => proc.stdin.write(`${JSON.stringify(m)}\n`),
    next: (match, timeoutMs = 10_000) =>
      new Promise((resolve, reject) => {
        const timer = setTimeout(() => {
          waiters.delete(w);
          reject(new Error(`${role}: timed out`));
        }, timeoutMs);
        const w = (m) => {
          if (!match(m)) return;
          clearTimeout(timer);
          waiters.delete(w);
          resolve(m);
        };
        waiters.add(w);
      }),
  };
}

function percentile(sorted, p) {
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)];
}

async function parent() {
  const { build } = await import("esbuild");
  const dir = mkdtempSync(join(tmpdir(), "detour-bench-propagation-"));
  const bundle = join(dir, "redis-store.mjs");
  await build({
    entryPoints: [join(root, "packages/redis/src/index.ts")],
    outfile: bundle,
    bundle: true,
    platform: "node",
    format: "esm",
    target: "node20",
    alias: { "@detour/core": join(root, "packages/core/src/index.ts"), "@detour/core/store": join(root, "packages/core/src/store.ts") },
    banner: { js: 'import { createRequire as __detourRequire } from "node:module"; const require = __detourRequire(import.meta.url);' },
    logLevel: "error",
  });

  const sizes = args.flags.split(",").map(Number);
  const fleets = args.readers.split(",").map(Number);
  const n = Number(args.n);
  const warmup = Number(args.warmup);
  const rows = [];
  try {
    for (const readers of fleets) for (const flags of sizes) rows.push({ flags, readers, ...(await measure(bundle, flags, n, warmup, readers)) });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }

  const f = (us) => `${us.toFixed(0)} µs`;
  const x = (a, b) => `${(a / b).toFixed(2)}×`;
  console.log(`\n### Propagation across processes (n = ${n} per path, ${args.url})\n`);
  console.log("| document | receivers | path | p50 | p99 | mean |");
  console.log("|---|---:|---|---:|---:|---:|");
  for (const { flags, readers, raw, store } of rows) {
    const on = readers === 1 ? "B" : `all ${readers}`;
    console.log(`| ${flags} flag${flags === 1 ? "" : "s"} | ${readers} | raw Redis pub/sub (PUBLISH on A → message on ${on}) | ${f(raw.p50)} | ${f(raw.p99)} | ${f(raw.mean)} |`);
    console.log(`| | | Detour redisStore (write() on A → snapshot in force on ${on}) | ${f(store.p50)} | ${f(store.p99)} | ${f(store.mean)} |`);
    console.log(`| | | **ratio Detour / raw** | ${x(store.p50, raw.p50)} | **${x(store.p99, raw.p99)}** | ${x(store.mean, raw.mean)} |`);
  }
  console.log("");
  for (const { flags, readers, raw, store } of rows) {
    const ratio = store.p99 / raw.p99;
    console.log(`Goal p99 ≤ 2× raw pub/sub, ${flags} flag(s), ${readers} receiver(s): ${ratio <= 2 ? "met" : "NOT met"} (${ratio.toFixed(2)}×).`);
  }
}

async function measure(bundle, flags, n, warmup, count) {
  const { Redis } = await import("ioredis");
  const prefix = `detour-bench:${randomUUID()}`;
  const env = { DETOUR_BENCH_BUNDLE: bundle, DETOUR_BENCH_PREFIX: prefix };
  const samples = { raw: [], store: [] };
  const readers = Array.from({ length: count }, () => spawnChild("reader", env, flags));
  await Promise.all(readers.map((reader) => reader.next((m) => m.ready, 60_000)));
  const writer = spawnChild("writer", env, flags);
  await writer.next((m) => m.ready, 60_000);
  // The writer's initial document must be in force on the readers before we start.
  await new Promise((r) => setTimeout(r, 200 + 50 * count));

  try {
    // Interleave raw and store rounds so both see the same conditions.
    for (let i = 1; i <= warmup + n; i++) {
      for (const kind of i % 2 ? ["raw", "store"] : ["store", "raw"]) {
        const sent = writer.next((m) => m.kind === kind && m.seq === i && m.t0 !== undefined);
        const seen = readers.map((reader) => reader.next((m) => m.kind === kind && m.seq === i && m.t1 !== undefined, 30_000));
        writer.send({ kind, seq: i });
        const [{ t0 }, ...heard] = await Promise.all([sent, ...seen]);
        if (i > warmup) samples[kind].push(Math.max(...heard.map((m) => m.t1)) - t0);
      }
    }
  } finally {
    for (const reader of readers) reader.proc.stdin.end();
    writer.proc.stdin.end();
    const redis = new Redis(args.url);
    await redis.del(`${prefix}:document`, `${prefix}:revision`);
    redis.disconnect();
  }

  const stats = (list) => {
    const sorted = [...list].sort((a, b) => a - b);
    return { p50: percentile(sorted, 50), p99: percentile(sorted, 99), mean: sorted.reduce((s, v) => s + v, 0) / sorted.length };
  };
  return { raw: stats(samples.raw), store: stats(samples.store) };
}
