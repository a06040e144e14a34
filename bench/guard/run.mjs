#!/usr/bin/env node
// Guard loop (section 5 of the benchmarks): users per second of
// `detour guard -f billing --users-from <list> --concurrency N -- true`,
// N = 1 / 16 / 64, on a file store and on Redis (a redis-server of its own on
// a free port), side by side with spawn() alone: a bare node process spawning
// `true` the same number of times at the same concurrency, as the guard does
// (no shell, stdio inherited; detour itself spawns from helper processes, one
// per core, with --concurrency above 1). Each run is a fresh process (bench/guard/once.mjs)
// on a fresh store; the CLI is bundled from the TypeScript sources.
//
// Every store starts in the steady state of a long run: its audit log full
// (1,000 entries, as after 500 users one at a time), since every write
// rewrites and revalidates the whole document, audit log included.
//
// Per run: users/s over the loop itself (the --debug line: from the first
// user to the last, store connection included, process start-up excluded),
// detour's own CPU per user (getrusage of the detour process, children
// excluded, start-up included), the store writes (users per write, ms per
// write), and the goal's case once more with --journal. Rounds interleave every case; medians. Goal: ≥ 500 users/s at
// --concurrency 64 on Redis.
//
//   node bench/guard/run.mjs [--rounds 3] [--users 1500] [--serial-users 200] [--json out.json]
import { execFileSync, spawn } from "node:child_process";
import { mkdirSync, mkdtempSync, renameSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { build } from "esbuild";
import { SOURCES, loadDetour, root } from "../lib/bundle.mjs";
import { cli, emit } from "../lib/common.mjs";
import { machine } from "../lib/machine.mjs";
import { startRedisServer } from "../lib/proc.mjs";
import { fmt, median, table } from "../lib/stats.mjs";

const here = fileURLToPath(new URL(".", import.meta.url));
const ONCE = join(here, "once.mjs");

const { isMain, args, log } = cli(import.meta.url, {
  rounds: { type: "string", default: "3" },
  users: { type: "string", default: "1500" },
  "serial-users": { type: "string", default: "200" },
});

export const CONCURRENCY = [1, 16, 64];
export const GOAL = { store: "redis", concurrency: 64, usersPerSecond: 500 };

/** The CLI (cli, core, redis from their sources), bundled into one CommonJS file. */
async function bundleCli() {
  const dir = join(root, "node_modules/.cache/detour-bench");
  mkdirSync(dir, { recursive: true });
  const outfile = join(dir, "cli.cjs");
  const tmp = `${outfile}.${process.pid}.tmp`;
  await build({
    entryPoints: [join(root, "packages/cli/src/index.ts")],
    bundle: true,
    platform: "node",
    format: "cjs",
    target: "node20",
    outfile: tmp,
    logLevel: "warning",
    plugins: [
      {
        name: "detour-sources",
        setup(b) {
          // Subpaths too (`@detour/core/store`, which the Redis store imports): from dist/ they would be a second, stale copy of core.
          b.onResolve({ filter: /^@detour\// }, (a) => (SOURCES[a.path] ? { path: join(root, SOURCES[a.path]) } : undefined));
        },
      },
    ],
  });
  renameSync(tmp, outfile);
  return outfile;
}

async function startRedis() {
  try {
    return await startRedisServer();
  } catch (error) {
    log(`  no redis-server (${error.message.split("\n")[0]}): the Redis cases are skipped`);
    return null;
  }
}

/** 1,000 audit entries of earlier guard writes: the document a long guard run writes over and over. */
async function seed(lib, store) {
  const at = Date.parse("2026-12-01T00:00:00Z");
  await store.write((doc) => {
    doc.audit = Array.from({ length: 1000 }, (_, i) => ({
      at: new Date(at + i * 1000).toISOString(),
      actor: "cli:bench@bench-host",
      action: i % 2 === 0 ? "disable" : "enable",
      flag: "billing",
      details: { users: [`earlier-user-${i >> 1}`], ...(i % 2 === 0 ? {} : { mode: "read-only" }) },
    }));
  });
  await store.close();
}

function once(argv) {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [ONCE, ...argv], { stdio: ["ignore", "pipe", "pipe"] });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (d) => (stdout += d));
    child.stderr.on("data", (d) => (stderr += d));
    child.once("exit", (code) => {
      if (code !== 0) return reject(new Error(`once.mjs ${argv.slice(0, 3).join(" ")} exited ${code}\n${stderr.slice(-2000)}`));
      resolve(JSON.parse(stdout.trim().split("\n").at(-1)));
    });
  });
}

const trueBin = execFileSync("sh", ["-c", "command -v true"], { encoding: "utf8" }).trim();

export async function main() {
  const m = machine();
  const t0 = Date.now();
  const rounds = Number(args.rounds);
  const bundle = await bundleCli();
  const lib = await loadDetour(["core", "redis"]);
  const redis = await startRedis();
  const work = mkdtempSync(join(tmpdir(), "detour-bench-guard-"));
  const lists = {};
  const listOf = (count) => {
    if (!lists[count]) {
      lists[count] = join(work, `users-${count}.txt`);
      writeFileSync(lists[count], `${Array.from({ length: count }, (_, i) => `user-${i + 1}`).join("\n")}\n`);
    }
    return lists[count];
  };
  const stores = ["file", ...(redis ? ["redis"] : [])];
  const cases = [];
  for (const store of stores) for (const concurrency of CONCURRENCY) cases.push({ store, concurrency, users: concurrency === 1 ? Number(args["serial-users"]) : Number(args.users), runs: [] });
  // What --journal adds (a JSON line per step, fdatasync'ed in groups), on the goal's case.
  cases.push({ store: stores.at(-1), concurrency: 64, users: Number(args.users), journal: true, runs: [] });
  const ceilings = CONCURRENCY.map((concurrency) => ({ concurrency, users: concurrency === 1 ? Number(args["serial-users"]) : Number(args.users), runs: [] }));
  let n = 0;
  try {
    for (let round = 0; round < rounds; round++) {
      const order = [...cases.map((c) => ({ kind: "guard", c })), ...ceilings.map((c) => ({ kind: "spawn", c }))];
      // Rotate, so that no case always runs first (or right after the same neighbour).
      for (let k = 0; k < order.length; k++) {
        const { kind, c } = order[(k + round) % order.length];
        if (kind === "spawn") {
          const r = await once(["spawn", String(c.concurrency), String(c.users), trueBin]);
          c.runs.push({ ...r, perSecond: (r.users * 1000) / r.loopMs });
          log(`  round ${round + 1}: spawn() alone, concurrency ${c.concurrency}: ${fmt.int(c.runs.at(-1).perSecond)} spawns/s`);
          continue;
        }
        const id = `r${round}-${++n}`;
        let store;
        if (c.store === "file") {
          const path = join(work, `${id}.json`);
          writeFileSync(path, `${JSON.stringify({ flags: {} })}\n`);
          await seed(lib, lib.fileStore(path));
          store = `file:${path}`;
        } else {
          const prefix = `bench-guard-${process.pid}-${id}`;
          await seed(lib, lib.redisStore({ url: redis.url, prefix, logger: null }));
          store = `${redis.url}?prefix=${encodeURIComponent(prefix)}`;
        }
        const journal = c.journal ? ["--journal", join(work, `${id}.journal`)] : [];
        const r = await once(["guard", bundle, "guard", "-f", "billing", "--users-from", listOf(c.users), "--concurrency", String(c.concurrency), ...journal, "--store", store, "--debug", "--", trueBin]);
        c.runs.push({ ...r, perSecond: (r.users * 1000) / r.loopMs });
        log(
          `  round ${round + 1}: ${c.store}, concurrency ${c.concurrency}${c.journal ? ", --journal" : ""}: ${fmt.int(c.runs.at(-1).perSecond)} users/s, ${(r.cpuMs / r.users).toFixed(2)} ms CPU/user, ${(r.changes / r.writes).toFixed(1)} changes/write, ${(r.writeMs / r.writes).toFixed(1)} ms/write`,
        );
      }
    }
  } finally {
    await redis?.proc.kill("SIGKILL");
    rmSync(work, { recursive: true, force: true });
  }
  const summary = (runs) => ({
    perSecond: median(runs.map((r) => r.perSecond)),
    cpuMsPerUser: median(runs.map((r) => r.cpuMs / r.users)),
    changesPerWrite: runs[0]?.writes === undefined ? null : median(runs.map((r) => r.changes / r.writes)),
    msPerWrite: runs[0]?.writes === undefined ? null : median(runs.map((r) => r.writeMs / r.writes)),
    writeShare: runs[0]?.writes === undefined ? null : median(runs.map((r) => r.writeMs / r.loopMs)),
    spawnShare: runs[0]?.spawnMs === undefined ? null : median(runs.map((r) => r.spawnMs / r.loopMs)),
    msPerSpawn: runs[0]?.spawnMs === undefined ? null : median(runs.map((r) => r.spawnMs / r.users)),
  });
  const out = {
    section: "guard",
    status: "done",
    machine: m,
    settings: { rounds, users: Number(args.users), serialUsers: Number(args["serial-users"]), command: trueBin },
    seconds: Math.round((Date.now() - t0) / 1000),
    cases: cases.map((c) => ({ store: c.store, concurrency: c.concurrency, journal: c.journal === true, users: c.users, ...summary(c.runs), runs: c.runs })),
    ceilings: ceilings.map((c) => ({ concurrency: c.concurrency, users: c.users, ...summary(c.runs), runs: c.runs })),
    redis: redis !== null,
  };
  return emit(out, renderGuard, args);
}

/**
 * What limits a case. Each user holds its slot while it waits for two store
 * writes (its "on", then its "off"), about 1.5 writes each (the one in
 * flight, then its own), so the writes allow at most
 * concurrency ÷ (3 × ms per write) users/s. The other bound is spawning:
 * one at a time detour spawns from its own thread; with --concurrency the
 * helper processes do (one per core), each held by spawn() until its child
 * has exec'd.
 */
function limit(c) {
  const writeBound = c.concurrency / ((3 * c.msPerWrite) / 1000);
  if (c.concurrency === 1) return `one user at a time: its 2 store writes (${fmt.ns(c.msPerWrite)} ms each, ${Math.round(c.writeShare * 100)} % of the loop), then its command`;
  const inSpawn = `the helper processes spend ${fmt.ns(c.msPerSpawn)} ms in spawn() per user (${Math.round(c.spawnShare * 100)} % of the loop, summed over helpers)`;
  if (writeBound < c.perSecond * 1.5) {
    return `the store's write latency: each user waits ~3 writes of ${fmt.ns(c.msPerWrite)} ms (${c.changesPerWrite.toFixed(0)} changes each) in its slot, ≤ ~${fmt.int(writeBound)} users/s at ${c.concurrency}; ${inSpawn}`;
  }
  return `spawning: ${inSpawn}; the writes (${c.changesPerWrite.toFixed(0)} changes each) would allow ~${fmt.int(writeBound)}/s`;
}

export function renderGuard(r) {
  if (r.status !== "done") return `_Not run: ${r.reason}_`;
  const lines = [];
  lines.push(
    `\`detour guard -f billing --users-from <list> --concurrency N -- ${r.settings.command}\`, ${fmt.int(r.settings.users)} users (${fmt.int(r.settings.serialUsers)} one at a time), fresh store (its audit log full, as in a long run) and process per run, median of ${r.settings.rounds} rounds with every case interleaved. *users/s*: over the loop (store connection included, process start-up not); *spawn() alone*: a bare node process spawning \`true\` as many times at the same concurrency, in the same rounds — what one node process spawning on its own does on this machine (with --concurrency above 1, detour spawns from helper processes, one per core, so it can pass it). *CPU/user*: the detour process's own CPU (not the commands'), start-up included.`,
    "",
  );
  const ceilingOf = (concurrency) => r.ceilings.find((c) => c.concurrency === concurrency);
  lines.push(
    table(
      ["store", "--concurrency", "users/s", "spawn() alone /s", "÷", "detour CPU / user", "changes / write", "ms / write", "what limits it"],
      r.cases.map((c) => {
        const ceiling = ceilingOf(c.concurrency);
        return [
          c.store,
          `${c.concurrency}${c.journal ? " + --journal" : ""}`,
          `**${fmt.int(c.perSecond)}**`,
          fmt.int(ceiling.perSecond),
          fmt.ratio(c.perSecond / ceiling.perSecond),
          `${c.cpuMsPerUser.toFixed(2)} ms`,
          c.changesPerWrite.toFixed(1),
          fmt.ns(c.msPerWrite),
          limit(c),
        ];
      }),
      "lrrrrrrrl",
    ),
  );
  if (!r.redis) lines.push("", "_Redis cases skipped: no redis-server._");
  return lines.join("\n");
}

/** The goal row for docs/benchmarks/README.md. */
export function guardGoal(r) {
  const c = r?.cases?.find((x) => x.store === GOAL.store && x.concurrency === GOAL.concurrency && !x.journal);
  if (r?.status !== "done" || !c) return ["`detour guard` ≥ 500 users/s at --concurrency 64 on Redis", r ? `${r.status}${r.reason ? `: ${r.reason}` : ""}` : "not run", "–"];
  const ceiling = r.ceilings.find((x) => x.concurrency === GOAL.concurrency);
  const met = c.perSecond >= GOAL.usersPerSecond;
  return [
    "`detour guard` ≥ 500 users/s at --concurrency 64 on Redis (`true` as the command)",
    `${fmt.int(c.perSecond)} users/s; spawn() alone ${fmt.int(ceiling.perSecond)}/s on this machine (${fmt.ratio(c.perSecond / ceiling.perSecond)})`,
    met ? "✅ met" : ceiling.perSecond < GOAL.usersPerSecond ? "❌ missed: one node process spawning alone is below 500/s here" : "❌ missed",
  ];
}

if (isMain) await main();
