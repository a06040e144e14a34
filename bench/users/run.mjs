#!/usr/bin/env node
// Per-user changes at scale (section 6 of the benchmarks): the latency of one
// `detour.enable("site", { users: [id] })` and of its propagation to a second
// process, with 10, 10,000 and 1,000,000 users already targeted, on the file
// store and on Redis (a redis-server of its own on a free port).
//
// The writer is this process (a Detour on the store); the receiver is a child
// process with its own store that reports when the new user is in force
// (its snapshot evaluates the user to "read-only"). Timestamps come from
// process.hrtime (CLOCK_MONOTONIC, shared by the processes of one host).
// Per case: the median over --rounds changes, each adding a fresh user; the
// document size and what a receiver reads per change are reported with it.
// Goal (Redis): ≤ 2× between 10 and 1,000,000 users.
//
//   node bench/users/run.mjs [--rounds 5] [--sizes 10,10000,1000000] [--stores file,redis] [--json out.json]
import { mkdtempSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createInterface } from "node:readline";
import { fileURLToPath, pathToFileURL } from "node:url";
import { bundlePath, loadDetour } from "../lib/bundle.mjs";
import { cli, emit } from "../lib/common.mjs";
import { machine } from "../lib/machine.mjs";
import { spawnLines, startRedisServer } from "../lib/proc.mjs";
import { fmt, median, table } from "../lib/stats.mjs";

const { isMain, args, log } = cli(import.meta.url, {
  rounds: { type: "string", default: "5" },
  sizes: { type: "string", default: "10,10000,1000000" },
  stores: { type: "string", default: "file,redis" },
  child: { type: "string" },
});

export const GOAL = { store: "redis", from: 10, to: 1_000_000, ratio: 2 };
const now = () => Number(process.hrtime.bigint()) / 1e6; // ms

function openStore(mod, spec, role) {
  if (spec.kind === "file") return mod.fileStore(spec.path, { watch: role === "receiver", pollIntervalMs: role === "receiver" ? 250 : 0 });
  // A million users take longer than the default 5 s to load on a busy machine; the measured change is unaffected.
  return mod.redisStore({ url: spec.url, prefix: spec.prefix, logger: null, loadTimeoutMs: 300_000 });
}

/** The document: "site" in read-only for `users` users (the CLI's flag shape). */
function documentWith(users) {
  const values = Array.from({ length: users }, (_, i) => `user-${i}`);
  return {
    revision: 1,
    flags: {
      site: {
        key: "site",
        on: true,
        variations: ["available", "read-only", "maintenance"],
        offVariation: 0,
        targets: [{ variation: 1, values }],
        fallthrough: { variation: 0 },
      },
    },
  };
}

async function receiver(spec) {
  const mod = await import(pathToFileURL(await bundlePath(["core", "redis"])).href);
  const store = openStore(mod, spec, "receiver");
  await store.load();
  const out = (m) => process.stdout.write(`${JSON.stringify(m)}\n`);
  let waiting = null;
  store.subscribe((event) => {
    if (event.type !== "snapshot" || waiting === null) return;
    if (event.snapshot.evaluate("site", { key: waiting }).value === "read-only") {
      out({ seen: waiting, t1: now() });
      waiting = null;
    }
  });
  createInterface({ input: process.stdin }).on("line", (line) => {
    const { expect } = JSON.parse(line);
    waiting = expect;
    out({ waiting: expect });
  });
  process.stdin.on("end", () => void store.close().then(() => process.exit(0)));
  out({ ready: true });
}

/** The receiving process: `expect(id)` resolves once it waits for `id`, `seen(id)` with the time `id` was in force there. */
function spawnReceiver(spec) {
  const proc = spawnLines(process.execPath, ["--max-old-space-size=4096", fileURLToPath(import.meta.url), "--child", JSON.stringify(spec)]);
  const quoted = (id) => JSON.stringify(id).replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
  return {
    proc,
    ready: () => proc.waitFor(/^\{"ready":true\}$/, 300_000),
    expect: (id) => proc.ask(JSON.stringify({ expect: id }), new RegExp(`^\\{"waiting":${quoted(id)}\\}$`), 60_000),
    seen: (id, from) => proc.waitFor(new RegExp(`^\\{"seen":${quoted(id)},"t1":([\\d.e+-]+)\\}$`), 300_000, from).then((m) => Number(m[1])),
  };
}

async function measure(mod, spec, users, rounds) {
  const doc = documentWith(users);
  const json = JSON.stringify(doc);
  if (spec.kind === "file") writeFileSync(spec.path, json);
  else {
    // Seeded in bulk through a store, so Redis holds what Detour writes (a large list in a set of its own).
    const seeder = openStore(mod, spec, "writer");
    await seeder.load();
    await seeder.write((draft) => {
      draft.flags = doc.flags;
    });
    await seeder.close();
  }
  // What a change sends to the other instances: on Redis the change notice, on the file store the file they re-read.
  const sent = [];
  let listener = null;
  if (spec.kind === "redis") {
    const { Redis } = await import("ioredis");
    listener = new Redis(spec.url);
    listener.on("message", (_channel, message) => sent.push(Buffer.byteLength(message)));
    await listener.subscribe(`${spec.prefix}:changes`);
  }
  const rx = spawnReceiver(spec);
  const ready = rx.ready();
  const detour = mod.createDetour({ store: openStore(mod, spec, "writer") });
  await Promise.all([detour.store.load(), ready]);
  const write = [];
  const propagate = [];
  try {
    for (let r = 0; r < rounds + 1; r++) {
      const id = `new-${users}-${r}`;
      await rx.expect(id);
      const seen = rx.seen(id, rx.proc.lines.length);
      const t0 = now();
      await detour.enable("site", { users: [id] });
      const t1 = now();
      const t2 = await seen;
      if (r > 0) {
        // The first change warms both processes up.
        write.push(t1 - t0);
        propagate.push(t2 - t0);
        if (spec.kind === "file") sent.push(statSync(spec.path).size);
      } else sent.length = 0;
    }
  } finally {
    rx.proc.child.stdin.end();
    await rx.proc.exit;
    await detour.store.close();
    listener?.disconnect();
  }
  return { users, bytes: json.length, sent: median(sent), write: median(write), propagate: median(propagate), samples: { write, propagate, sent } };
}

async function main() {
  const mod = await loadDetour(["core", "redis"]);
  const sizes = args.sizes.split(",").map(Number);
  const rounds = Number(args.rounds);
  const dir = mkdtempSync(join(tmpdir(), "detour-bench-users-"));
  const stores = args.stores.split(",");
  const server = stores.includes("redis") ? await startRedisServer() : null;
  const results = [];
  try {
    for (const kind of stores) {
      for (const users of sizes) {
        const spec = kind === "file" ? { kind, path: join(dir, `flags-${users}.json`) } : { kind, url: server.url, prefix: `detour-bench-users-${users}` };
        log(`users: ${kind}, ${users} users targeted…`);
        results.push({ store: kind, ...(await measure(mod, spec, users, rounds)) });
      }
    }
  } finally {
    await server?.proc.kill();
    rmSync(dir, { recursive: true, force: true });
  }
  return { machine: machine(), rounds, results };
}

export function usersGoal(result) {
  const of = (users) => result?.results.find((r) => r.store === GOAL.store && r.users === users);
  const [a, b] = [of(GOAL.from), of(GOAL.to)];
  if (!a || !b) return { name: "per-user change on Redis, 10 → 1,000,000 users", status: "not run" };
  const ratio = b.propagate / a.propagate;
  return { name: "per-user change on Redis, 10 → 1,000,000 users (propagation)", ratio, met: ratio <= GOAL.ratio };
}

export function renderUsers(result) {
  const rows = result.results.map((r) => [
    r.store,
    fmt.int(r.users),
    fmt.bytes(r.bytes),
    r.sent === undefined ? "–" : fmt.bytes(r.sent),
    `${r.write.toFixed(1)} ms`,
    `${r.propagate.toFixed(1)} ms`,
  ]);
  const goal = usersGoal(result);
  return [
    `Median of ${result.rounds} changes each (one new user per change); ${result.machine?.cpu ?? ""}.`,
    "",
    table(["store", "users already targeted", "document", "sent per change", "enable() resolved", "in force in a 2nd process"], rows, "lrrrrr"),
    "",
    "Sent per change: on Redis the change notice (a `targets` notice with the users added once a list lives in a set), on the file store the file every other process re-reads.",
    "",
    goal.ratio === undefined ? `Goal: ${goal.status}.` : `Goal (Redis ≤ 2× from 10 to 1,000,000 users): ${goal.met ? "met" : "NOT met"} (${goal.ratio.toFixed(1)}×).`,
  ].join("\n");
}

if (args.child) await receiver(JSON.parse(args.child));
else if (isMain) emit(await main(), renderUsers, args);
