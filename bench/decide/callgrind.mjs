// Instructions per decide() call, counted with callgrind, for the working tree's core and a
// git ref's (default main), on the cases of ./sides.mjs. Each side and case runs in its own
// process under `valgrind --tool=callgrind --instr-atstart=no` with
// `node --single-threaded --predictable` and a young generation big enough that no scavenge
// falls in a window: --warm calls uncounted, then windows of --n calls (zero, run, dump); a
// window is kept when V8's GC and compiler functions cost under 1 Ir per call in it, and the
// figure is the median of the kept windows. With --names, JIT code gets its names
// (--perf-basic-prof) and the biggest per-function differences tree − base are printed.
//
//   node bench/decide/callgrind.mjs [--base main] [--only b,e] [--warm 60000] [--n 20000] [--windows 4] [--names]
import { spawn, execFileSync } from "node:child_process";
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { cpus, loadavg, tmpdir } from "node:os";
import { join } from "node:path";
import { createInterface } from "node:readline";
import { fileURLToPath, pathToFileURL } from "node:url";
import { parseArgs } from "node:util";
import { parseCallgrind, perfMapResolver, qualified } from "../lib/callgrind.mjs";
import { median } from "../lib/stats.mjs";
import { bundleSides, cases, detourFor, loopFor } from "./sides.mjs";

const SELF = fileURLToPath(import.meta.url);

if (process.argv[2] === "--child") {
  // The counted process: warm up, then one window of `n` calls per line read.
  const [, , , bundle, id, warm, n] = process.argv;
  const c = cases[id];
  const detour = await detourFor(await import(pathToFileURL(bundle).href), c);
  const loop = loopFor();
  loop(detour, c.requests, Number(warm));
  console.log("WARM");
  for await (const _ of createInterface({ input: process.stdin })) {
    loop(detour, c.requests, Number(n));
    console.log("DONE");
  }
  process.exit(0);
}

const { values: args } = parseArgs({
  options: {
    base: { type: "string", default: "main" },
    only: { type: "string" },
    warm: { type: "string", default: "60000" },
    n: { type: "string", default: "20000" },
    windows: { type: "string", default: "4" },
    names: { type: "boolean", default: false },
  },
});
const N = Number(args.n);

async function count(bundle, id) {
  const dir = mkdtempSync(join(tmpdir(), "detour-decide-cg-"));
  const child = spawn(
    "valgrind",
    [
      "--tool=callgrind", "--smc-check=all-non-file", "--instr-atstart=no",
      `--callgrind-out-file=${join(dir, "cg.%p")}`, `--log-file=${join(dir, "vg.%p")}`,
      process.execPath, "--single-threaded", "--predictable", "--max-semi-space-size=256", "--min-semi-space-size=256",
      ...(args.names ? ["--perf-basic-prof"] : []),
      SELF, "--child", bundle, id, args.warm, args.n,
    ],
    { stdio: ["pipe", "pipe", "inherit"] },
  );
  const lines = createInterface({ input: child.stdout })[Symbol.asyncIterator]();
  const expect = async (word) => {
    const { value, done } = await lines.next();
    if (done || value !== word) throw new Error(`${id}: expected ${word}, got ${value}`);
  };
  const pid = String(child.pid);
  try {
    await expect("WARM");
    execFileSync("callgrind_control", ["-i", "on", pid], { stdio: "ignore" });
    const windows = [];
    for (let w = 1; w <= Number(args.windows); w++) {
      execFileSync("callgrind_control", ["-z", pid], { stdio: "ignore" });
      child.stdin.write("go\n");
      await expect("DONE");
      execFileSync("callgrind_control", ["-d", pid], { stdio: "ignore" });
      const file = join(dir, `cg.${pid}.${w}`);
      for (let i = 0; i < 100 && !existsSync(file); i++) await new Promise((r) => setTimeout(r, 100));
      const dump = parseCallgrind(file);
      const { gc, jit } = dump.classify();
      const resolve = args.names ? perfMapResolver(`/tmp/perf-${pid}.map`) : (name) => name;
      const self = new Map();
      for (const [name, ir] of dump.self) {
        const key = resolve(qualified(name)).replace(/^(JS|Builtin|Function|LazyCompile):/, "").replace(/ \S+\.mjs:\d+:\d+$/, "");
        self.set(key, (self.get(key) ?? 0) + ir / N);
      }
      windows.push({ ir: dump.totals / N, quiet: (gc + jit) / N < 1, self });
    }
    const kept = windows.filter((w) => w.quiet);
    const use = kept.length > 0 ? kept : windows;
    return { ir: median(use.map((w) => w.ir)), windows: windows.map((w) => Math.round(w.ir)), kept: kept.length, self: use.at(-1).self };
  } finally {
    child.stdin.end();
    child.kill("SIGKILL");
    rmSync(dir, { recursive: true, force: true });
    rmSync(`/tmp/perf-${pid}.map`, { force: true });
  }
}

const bundles = await bundleSides(args.base);
console.log(`node ${process.version}, ${cpus()[0].model}, load ${loadavg().map((l) => l.toFixed(2)).join(" ")}`);
console.log(`base ${args.base} (${bundles.commit}) against the working tree; Ir per decide() call, ${args.warm} warm-up calls, windows of ${N}\n`);
console.log("| case | base Ir/call | tree Ir/call | tree − base | windows (base; tree) |\n|---|---:|---:|---:|---|");
const diffs = [];
for (const id of args.only ? args.only.split(",") : Object.keys(cases)) {
  const base = await count(bundles.base, id);
  const tree = await count(bundles.tree, id);
  const mark = (r) => `${r.windows.join(" ")}${r.kept < r.windows.length ? ` (${r.kept} quiet)` : ""}`;
  console.log(`| ${cases[id].name} | ${base.ir.toFixed(0)} | ${tree.ir.toFixed(0)} | ${(tree.ir - base.ir).toFixed(0)} | ${mark(base)}; ${mark(tree)} |`);
  if (args.names) diffs.push([id, base, tree]);
}
for (const [id, base, tree] of diffs) {
  const names = new Set([...base.self.keys(), ...tree.self.keys()]);
  const rows = [...names].map((name) => [name, base.self.get(name) ?? 0, tree.self.get(name) ?? 0]).filter(([, b, t]) => Math.abs(b) >= 3 || Math.abs(t) >= 3);
  rows.sort((x, y) => Math.max(y[1], y[2]) - Math.max(x[1], x[2]));
  console.log(`\n${id}: self Ir per call (base → tree), functions ≥ 3 Ir`);
  for (const [name, b, t] of rows.slice(0, 30)) console.log(`  ${b.toFixed(0).padStart(5)} → ${t.toFixed(0).padStart(5)}  ${name}`);
}
