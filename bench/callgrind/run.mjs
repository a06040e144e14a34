#!/usr/bin/env node
// Instructions per request, counted with callgrind (section 2 of the benchmarks).
//
// Each server variant (server.mjs) runs in a fresh process under
//   valgrind --tool=callgrind --smc-check=all-non-file --instr-atstart=no \
//     node --single-threaded --predictable <heap flags> server.mjs <framework> <variant>
// A separate client process (client.mjs: node:http, one keep-alive connection,
// the same request bytes for every variant) sends --warm sequential requests;
// then the runner turns instrumentation on (callgrind_control -i on) and counts
// windows: zero the counters (-z), send --n requests, dump (-d), and divide the
// dump's instruction total by --n. Instrumentation is off during start-up and
// warm-up only to save time: it changes valgrind's speed, not what the guest runs.
//
// Why windows, and which count: with --single-threaded, V8's garbage collector
// and compiler run on the main thread, in lumps (a scavenge is 14–50 M
// instructions, a TurboFan compile 2–20 M, a whole request 60–530 k), at points
// that depend on how much the variant allocated so far. Whether a window
// catches one lump more or less moves it by 1–30 %, far more than the 0.1–1 %
// to resolve. So the heap flags make most windows collection-free, the warm-up
// (8,000 requests) lets V8 finish tiering up, and a window counts as quiet when
// the self cost of V8's GC and compiler functions (lib/callgrind.mjs) stays
// within 100 Ir/request of its floor in that run. A run's figure is the mean of
// its last two quiet windows once they agree within --tolerance (else the
// median of its quiet windows, flagged); a variant's, the median of its runs.
// The plain recipe's figure (the first window, whatever ran in it) is kept too.
//
//   node bench/callgrind/run.mjs [--frameworks express,koa,fastify] [--variants noop,detour-none,...]
//        [--runs 3] [--warm 8000] [--n 1000] [--windows 6] [--tolerance 0.001] [--parallel 2]
//        [--no-alloc] [--names] [--keep] [--json out.json] [--node-flags="..."] [--bundle file.mjs]
//   node bench/callgrind/run.mjs --reaggregate results.json   # re-derive the figures from stored windows
//
// --names adds node --perf-basic-prof so JIT code gets names in the per-function
// differences (diagnosis only); --keep keeps the dump files for callgrind_annotate.
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { bundlePath } from "../lib/bundle.mjs";
import { FRAMEWORK_NAMES, cli, emit } from "../lib/common.mjs";
import { parseCallgrind, perfMapResolver, qualified } from "../lib/callgrind.mjs";
import { machine, valgrindVersion } from "../lib/machine.mjs";
import { pool, run, spawnLines } from "../lib/proc.mjs";
import { fmt, median, sleep, table } from "../lib/stats.mjs";

const here = fileURLToPath(new URL(".", import.meta.url));
const SERVER = join(here, "server.mjs");
const CLIENT = join(here, "client.mjs");

export const VARIANTS = {
  express: ["bare", "noop", "noop2", "detour-none", "detour-user", "detour-tenant", "peer"],
  koa: ["bare", "noop", "noop2", "detour-none", "detour-user", "detour-tenant"],
  fastify: ["bare", "noop", "noop2", "detour-none", "detour-user", "detour-tenant", "peer"],
};
export const LABELS = {
  "probe-req-prop": "probe: no-op that sets req.detour",
  "probe-res-locals": "probe: no-op that sets res.locals.detour",
  "probe-ip": "probe: no-op that reads req.ip",
  bare: "bare",
  noop: "no-op middleware/hook",
  noop2: "no-op, second copy (A/A)",
  "detour-none": "Detour, no flag in force",
  "detour-user": "Detour, read-only flag on 1,000 other users",
  "detour-tenant": "Detour, read-only flag on 1,000 other organizations",
  peer: "peer",
};
export const PEERS = { express: "`maintenance` 0.0.2", fastify: "`@fastify/under-pressure`" };

const { isMain, args, log } = cli(import.meta.url, {
  frameworks: { type: "string", default: "express,koa,fastify" },
  variants: { type: "string" },
  runs: { type: "string", default: "3" },
  warm: { type: "string", default: "8000" },
  n: { type: "string", default: "1000" },
  parallel: { type: "string", default: "2" },
  windows: { type: "string", default: "6" },
  tolerance: { type: "string", default: "0.001" },
  alloc: { type: "boolean", default: true },
  keep: { type: "boolean", default: false },
  names: { type: "boolean", default: false },
  reaggregate: { type: "string" },
  // A Detour bundle built before (bench/lib/bundle.mjs), for A/B runs against a frozen copy; default: build one from the sources.
  bundle: { type: "string" },
  // A young generation big enough that most windows see no scavenge, and an
  // old generation big enough that no mark-compact starts during the run.
  "node-flags": { type: "string", default: "--min-semi-space-size=512 --max-semi-space-size=512 --initial-old-space-size=1024" },
});

function nodeVersionOf(cmd) {
  return run(cmd, ["--version"]).then((s) => s.trim(), () => null);
}

/** How far above its floor (per request) a window's GC or JIT self cost may be and still count as quiet. */
const QUIET_MARGIN = 100;

/**
 * The windows in which V8 neither collected garbage nor compiled: their self
 * cost in GC and JIT functions stays within QUIET_MARGIN Ir/request of the
 * run's floor (the floor is not 0: allocation slow paths and write barriers
 * are GC functions, and Express re-optimizes a little on every request).
 */
export function quietWindows(samples) {
  const gcFloor = Math.min(...samples.map((s) => s.gc));
  const jitFloor = Math.min(...samples.map((s) => s.jit));
  return samples.filter((s) => s.gc <= gcFloor + QUIET_MARGIN && s.jit <= jitFloor + QUIET_MARGIN);
}

/**
 * A run's figure: the mean of its last two quiet windows when they agree within
 * `tolerance` (settled); else the median of its quiet windows; else its cheapest window.
 */
export function settle(samples, tolerance) {
  const quiet = quietWindows(samples);
  if (quiet.length >= 2) {
    const [a, b] = quiet.slice(-2);
    if (Math.abs(a.total - b.total) / b.total <= tolerance) return { value: (a.total + b.total) / 2, settled: true, quiet };
  }
  if (quiet.length > 0) return { value: median(quiet.map((s) => s.total)), settled: false, quiet };
  return { value: Math.min(...samples.map((s) => s.total)), settled: false, quiet };
}

/** What V8-generated code is called in the per-function differences when it has no name. */
export const UNNAMED = "(V8-generated code without a name: JS functions and stubs; run with --names)";

/**
 * Self cost per request by qualified function name (callgrind's recursion
 * levels merged). JIT code that `resolve` cannot name (a bare address, which
 * differs from one process to the next) is pooled in one UNNAMED entry.
 */
function perRequest(self, n, resolve = (name) => name) {
  const out = new Map();
  for (const [name, ir] of self) {
    let key = resolve(qualified(name));
    if (/^0x[0-9a-f]+$/.test(key)) key = UNNAMED;
    out.set(key, (out.get(key) ?? 0) + ir / n);
  }
  return out;
}

/** Functions whose self cost per request differs most between two windows. */
export function selfDiff(a, b, count = 12) {
  const names = new Set([...a.keys(), ...b.keys()]);
  const rows = [];
  for (const name of names) {
    const delta = (a.get(name) ?? 0) - (b.get(name) ?? 0);
    if (Math.abs(delta) >= 1) rows.push({ fn: name, delta: Math.round(delta), ir: Math.round(a.get(name) ?? 0) });
  }
  rows.sort((x, y) => Math.abs(y.delta) - Math.abs(x.delta));
  return rows.slice(0, count);
}

function cpuSeconds(pid) {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    return (Number(fields[11]) + Number(fields[12])) / 100; // utime + stime, in clock ticks (100/s)
  } catch {
    return null;
  }
}

/**
 * One server process under callgrind: warm up, then count windows of N
 * requests (zero, send N, dump) until `options.clean` windows without GC or JIT
 * work are found, or `options.windows` windows were counted.
 */
async function callgrindRun(framework, variant, options) {
  const dir = mkdtempSync(join(tmpdir(), "detour-callgrind-"));
  const started = Date.now();
  const server = spawnLines(
    "valgrind",
    [
      "--tool=callgrind",
      "--smc-check=all-non-file",
      "--instr-atstart=no",
      `--callgrind-out-file=${join(dir, "cg.%p")}`,
      `--log-file=${join(dir, "vg.%p")}`,
      process.execPath,
      "--single-threaded",
      "--predictable",
      ...options.nodeFlags,
      ...(options.names ? ["--perf-basic-prof"] : []),
      SERVER,
      framework,
      variant,
    ],
    { env: { ...process.env, DETOUR_BENCH_BUNDLE: options.bundle } },
  );
  const pid = String(server.child.pid);
  let client;
  try {
    const [, port] = await server.waitFor(/^LISTENING (\d+)/, 300_000);
    client = spawnLines(process.execPath, [CLIENT, port]);
    const send = async (n) => {
      const [, , ms, bad] = await client.ask(String(n), /^done (\d+) (\d+) (\d+)/, 1_800_000);
      if (Number(bad) !== 0) throw new Error(`${framework}/${variant}: ${bad} of ${n} responses were not 200 "hello world"`);
      return Number(ms);
    };
    await send(options.warm);
    await run("callgrind_control", ["-i", "on", pid]);
    const samples = [];
    for (let w = 1; w <= options.windows; w++) {
      await run("callgrind_control", ["-z", pid]);
      const ms = await send(options.n);
      await run("callgrind_control", ["-d", pid]);
      const file = join(dir, `cg.${pid}.${w}`);
      for (let i = 0; i < 100 && !existsSync(file); i++) await sleep(100);
      const dump = parseCallgrind(file);
      const { gc, jit } = dump.classify();
      const resolve = options.names ? perfMapResolver(`/tmp/perf-${pid}.map`) : (name) => name;
      samples.push({
        window: w,
        total: dump.totals / options.n,
        gc: gc / options.n,
        jit: jit / options.n,
        windowMs: ms,
        top: options.keepTop ? dump.top(30).map(([name, ir]) => [resolve(qualified(name)), Math.round(ir / options.n)]) : undefined,
        self: perRequest(dump.self, options.n, resolve),
      });
      if (settle(samples, options.tolerance).settled) break;
    }
    const cpu = cpuSeconds(pid);
    return { samples, ...settle(samples, options.tolerance), seconds: (Date.now() - started) / 1000, cpu, dir: options.keep ? dir : undefined };
  } finally {
    client?.child.stdin.end();
    await client?.kill();
    await server.kill("SIGKILL");
    if (!options.keep) rmSync(dir, { recursive: true, force: true });
    if (options.names) rmSync(`/tmp/perf-${pid}.map`, { force: true });
  }
}

/** Bytes allocated per request (native run, no valgrind): young-generation growth over windows without a collection. */
async function allocationRun(framework, variant, bundle) {
  const server = spawnLines(
    process.execPath,
    ["--single-threaded", "--predictable", "--min-semi-space-size=64", "--max-semi-space-size=64", SERVER, framework, variant],
    { env: { ...process.env, DETOUR_BENCH_BUNDLE: bundle, DETOUR_BENCH_ALLOC: "1" } },
  );
  const [, port] = await server.waitFor(/^LISTENING (\d+)/, 60_000);
  const client = spawnLines(process.execPath, [CLIENT, port]);
  const probe = async () => {
    const from = server.lines.length;
    server.child.kill("SIGUSR2");
    const [, used, collections] = await server.waitFor(/^HEAP (\d+) (\d+)/, 10_000, from);
    return { used: Number(used), collections: Number(collections) };
  };
  try {
    await client.ask("5000", /^done/);
    const n = 1000;
    const values = [];
    for (let attempt = 0; attempt < 12 && values.length < 3; attempt++) {
      const a = await probe();
      await client.ask(String(n), /^done/);
      const b = await probe();
      if (b.collections === a.collections && b.used > a.used) values.push((b.used - a.used) / n);
    }
    return values.length ? median(values) : null;
  } finally {
    client.child.stdin.end();
    await client.kill();
    await server.kill();
  }
}

/** Per variant: each run's figure (see settle), their median, the plain first-window figure, and where the extra instructions go. */
function aggregate(cells, results, allocation) {
  const variants = cells.map((cell) => {
    const mine = results.filter((x) => x.framework === cell.framework && x.variant === cell.variant);
    const perRun = mine.map((x) => {
      const { value, settled, quiet } = settle(x.samples, Number(args.tolerance));
      const shown = quiet.at(-1) ?? x.samples.at(-1);
      return {
        run: x.run,
        quiet: value,
        settled,
        quietWindows: quiet.length,
        first: x.samples[0].total,
        windows: x.samples.map((s) => ({ total: Math.round(s.total), gc: Math.round(s.gc), jit: Math.round(s.jit), quiet: quiet.includes(s) })),
        seconds: x.seconds === undefined ? undefined : Math.round(x.seconds),
        cpu: x.cpu,
        top: shown.top,
        self: shown.self,
      };
    });
    const sorted = [...perRun].sort((a, b) => a.quiet - b.quiet);
    const middle = sorted[Math.floor(sorted.length / 2)];
    return {
      ...cell,
      quiet: median(perRun.map((r) => r.quiet)),
      first: median(perRun.map((r) => r.first)),
      unsettled: perRun.filter((r) => !r.settled).length,
      runs: perRun.map(({ top, self, ...rest }) => rest),
      allocation: allocation[`${cell.framework}/${cell.variant}`],
      top: middle.top,
      self: middle.self,
    };
  });
  // Where the extra instructions go: self cost per function, each variant's median run against the no-op's.
  for (const v of variants) {
    const base = variants.find((x) => x.framework === v.framework && x.variant === "noop");
    if (base && base !== v && v.self && base.self) v.diff = selfDiff(v.self, base.self, 15);
  }
  for (const v of variants) delete v.self;
  return variants;
}

/** Re-derives the figures of a stored result from its windows (after a change of the quiet-window rule). */
function reaggregate(file) {
  const stored = JSON.parse(readFileSync(file, "utf8"));
  for (const v of stored.variants) {
    for (const r of v.runs) {
      const samples = r.windows.map((w) => ({ total: w.total, gc: w.gc, jit: w.jit }));
      const { value, settled, quiet } = settle(samples, stored.settings.tolerance);
      r.quiet = value;
      r.settled = settled;
      r.quietWindows = quiet.length;
      r.windows = samples.map((s) => ({ ...s, quiet: quiet.includes(s) }));
      delete r.firstGc;
      delete r.firstJit;
    }
    v.quiet = median(v.runs.map((r) => r.quiet));
    v.unsettled = v.runs.filter((r) => !r.settled).length;
    delete v.noQuietWindow;
  }
  stored.settings.quietMargin = QUIET_MARGIN;
  stored.reaggregated = new Date().toISOString();
  writeFileSync(file, JSON.stringify(stored, null, 2));
  console.log(renderCallgrind(stored));
  return stored;
}

export async function main() {
  if (args.reaggregate) return reaggregate(args.reaggregate);
  const frameworks = args.frameworks.split(",").filter(Boolean);
  const runs = Number(args.runs);
  const options = {
    warm: Number(args.warm),
    n: Number(args.n),
    windows: Number(args.windows),
    tolerance: Number(args.tolerance),
    keep: args.keep,
    keepTop: true,
    names: args.names,
    nodeFlags: args["node-flags"].split(" ").filter(Boolean),
  };
  const m = machine();
  const valgrind = valgrindVersion();
  if (!valgrind) {
    const message =
      "valgrind is not installed, so instructions per request cannot be counted. Install it with `sudo apt-get install -y valgrind` (Debian/Ubuntu; `dnf install valgrind` on Fedora, `brew install valgrind` is not available on Apple silicon), then run `npm run bench -- --only callgrind`.";
    return emit({ section: "callgrind", status: "skipped", reason: message, machine: m }, renderCallgrind, args);
  }
  options.bundle = args.bundle ?? (await bundlePath(["core", "express", "koa", "fastify"]));

  const wanted = args.variants?.split(",");
  const cells = [];
  for (const framework of frameworks) {
    for (const variant of wanted ?? VARIANTS[framework]) {
      const known = VARIANTS[framework].includes(variant) || (framework === "express" && variant.startsWith("probe-"));
      if (known) cells.push({ framework, variant });
    }
  }

  // Runs interleaved: every variant's run 1, then every variant's run 2, ...
  // (in reverse order on even rounds), so that slow periods spread evenly.
  const jobs = [];
  for (let r = 0; r < runs; r++) {
    const order = r % 2 ? [...cells].reverse() : cells;
    for (const cell of order) {
      jobs.push(async () => {
        const result = await callgrindRun(cell.framework, cell.variant, options);
        const windows = result.samples.map((s) => `${fmt.int(s.total)}${result.quiet.includes(s) ? "" : ` (GC ${fmt.int(s.gc)}, JIT ${fmt.int(s.jit)})`}`).join(", ");
        log(
          `  callgrind ${cell.framework}/${cell.variant} run ${r + 1}: ${windows} Ir/request; ${result.seconds.toFixed(0)} s, ${result.cpu ?? "?"} CPU s${result.dir ? ` ${result.dir}` : ""}`,
        );
        return { ...cell, run: r + 1, ...result };
      });
    }
  }
  const t0 = Date.now();
  log(`callgrind: ${jobs.length} runs (${cells.length} variants × ${runs}), ${options.parallel ?? args.parallel} at a time, warm ${options.warm}, N ${options.n}`);
  const results = await pool(jobs, Number(args.parallel));

  const allocation = {};
  if (args.alloc) {
    for (const cell of cells) {
      allocation[`${cell.framework}/${cell.variant}`] = await allocationRun(cell.framework, cell.variant, options.bundle);
    }
  }

  const variants = aggregate(cells, results, allocation);
  const result = {
    section: "callgrind",
    status: "done",
    machine: m,
    valgrind,
    node: await nodeVersionOf(process.execPath),
    settings: { runs, warm: options.warm, n: options.n, windows: options.windows, tolerance: options.tolerance, quietMargin: QUIET_MARGIN, parallel: Number(args.parallel), nodeFlags: ["--single-threaded", "--predictable", ...options.nodeFlags] },
    seconds: Math.round((Date.now() - t0) / 1000),
    variants,
  };
  return emit(result, renderCallgrind, args);
}

const GOALS = { "detour-none": 1.005, "detour-user": 1.01, "detour-tenant": 1.01 };

/** The Markdown for a callgrind result (also used by bench/run.mjs). */
export function renderCallgrind(result) {
  if (result.status !== "done") return `_Not run: ${result.reason}_`;
  const out = [];
  const s = result.settings;
  out.push(
    `Instructions (Ir) per request. Each variant ran ${s.runs} times, each in a fresh server process under \`valgrind --tool=callgrind --smc-check=all-non-file\` with \`node ${s.nodeFlags.join(" ")}\`: ${fmt.int(s.warm)} warm-up requests, then windows of N = ${fmt.int(s.n)} requests (\`callgrind_control -z\`, N requests, \`callgrind_control -d\`, Ir total ÷ N), at most ${s.windows}. A window is *quiet* when V8's garbage-collector and compiler functions cost no more than ${s.quietMargin ?? 100} Ir/request above their floor in that run. **Ir/req** is the median over runs of each run's last two quiet windows (they must agree within ${(s.tolerance * 100).toFixed(2)} %; ⚠︎ marks a variant where a run never got there and the median of its quiet windows was used); **first window** is the plain recipe, whatever ran in it. Ratios are against the no-op variant of the same framework. ${result.valgrind}, node ${result.node}.`,
  );
  out.push("");
  const rows = [];
  const byFw = {};
  for (const v of result.variants) (byFw[v.framework] ??= {})[v.variant] = v;
  for (const [fw, vs] of Object.entries(byFw)) {
    const base = vs.noop;
    for (const [name, v] of Object.entries(vs)) {
      const label = name === "peer" ? `peer: ${PEERS[fw]}` : LABELS[name];
      const ratio = base ? v.quiet / base.quiet : NaN;
      const firstRatio = base ? v.first / base.first : NaN;
      const goal = GOALS[name];
      let verdict = "";
      if (goal) verdict = ratio <= goal ? ` ✅ ≤ ${goal}` : ` ❌ > ${goal}`;
      if (name === "noop2") verdict = Math.abs(ratio - 1) <= 0.001 ? " ✅ A/A within 0.1 %" : " ❌ A/A beyond 0.1 %";
      const values = v.runs.map((r) => r.quiet);
      const spread = values.length > 1 ? (Math.max(...values) - Math.min(...values)) / v.quiet : 0;
      rows.push([
        FRAMEWORK_NAMES[fw],
        label,
        `${fmt.int(v.quiet)}${v.unsettled ? " ⚠︎" : ""}`,
        base ? `${fmt.ratio(ratio, 4)}${verdict}` : "–",
        base ? `${ratio >= 1 ? "+" : "−"}${fmt.int(Math.abs(v.quiet - base.quiet))}` : "–",
        `${(spread * 100).toFixed(3)} %`,
        fmt.int(v.first),
        base ? fmt.ratio(firstRatio, 3) : "–",
        v.allocation == null ? "–" : fmt.int(v.allocation),
      ]);
    }
  }
  out.push(
    table(
      ["framework", "variant", "Ir/req", "× no-op", "Δ Ir/req", "spread of runs", "first window Ir/req", "first window × no-op", "bytes allocated/req"],
      rows,
      "llrrrrrrr",
    ),
  );
  if (result.variants.some((v) => v.unsettled)) out.push("", "⚠︎ in at least one of its runs, the last two quiet windows never agreed within the tolerance; the median of that run's quiet windows was used.");
  return out.join("\n");
}

if (isMain) {
  await main();
}
