#!/usr/bin/env node
// `npm run bench`: every benchmark, end to end, then docs/benchmarks/README.md
// (tables, with the machine each result was measured on) and the SVG plots.
//
//   npm run bench                                  # everything (~19 min on a 2-core machine)
//   npm run bench -- --only callgrind              # one section (or several: --only evaluation,scale)
//   npm run bench -- --skip callgrind,http
//   npm run bench -- --quick                       # a smoke test of every section (~3 min), not for publishing
//   npm run bench -- --only callgrind --set callgrind.runs=5 --set callgrind.frameworks=fastify
//   npm run bench -- --render                      # only rewrite the README and plots from the stored results
//
// Sections: evaluation (bench/evaluation-compare), callgrind (bench/callgrind),
// http (bench/http), scale (bench/scale), outage (bench/outage, which also runs
// bench/propagation), guard (bench/guard: detour guard --users-from users/s),
// migrate (bench/migrate: notes.read() over readOld, Detour and LaunchDarkly),
// users (bench/users: one per-user enable() and its propagation, 10 to 1,000,000 users targeted). Each writes docs/benchmarks/results/<section>.json; the
// README is rendered from all stored results, so running one section keeps the
// others' last figures. Sections run one after another, never in parallel, so
// that no timing bench shares the CPU with another.
import { spawn } from "node:child_process";
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { root } from "./lib/bundle.mjs";
import { machine, machineLine } from "./lib/machine.mjs";
import { renderReadme, plots } from "./lib/report.mjs";

export const SECTIONS = {
  evaluation: { script: "bench/evaluation-compare/run.mjs", node: [] },
  scale: { script: "bench/scale/run.mjs", node: ["--expose-gc"] },
  http: { script: "bench/http/run.mjs", node: [] },
  outage: { script: "bench/outage/run.mjs", node: [] },
  callgrind: { script: "bench/callgrind/run.mjs", node: [] },
  guard: { script: "bench/guard/run.mjs", node: [] },
  migrate: { script: "bench/migrate/run.mjs", node: [] },
  users: { script: "bench/users/run.mjs", node: ["--max-old-space-size=4096"] },
  // Diagnosis, only when asked for (--only callgrind-names): one run per Detour
  // variant with JIT code named (node --perf-basic-prof), for the per-function differences.
  "callgrind-names": {
    script: "bench/callgrind/run.mjs",
    node: [],
    args: ["--variants", "noop,detour-none,detour-user", "--runs", "1", "--names", "--no-alloc"],
    optional: true,
  },
};
const QUICK = {
  evaluation: ["--rounds", "3", "--ms", "15"],
  scale: ["--rounds", "3", "--ms", "10"],
  http: ["--rounds", "1", "--duration", "1", "--warmup", "0.3"],
  outage: ["--rounds", "1", "--duration", "3", "--propagation-n", "100"],
  callgrind: ["--runs", "1", "--frameworks", "fastify", "--variants", "noop,noop2,detour-none,detour-user,detour-tenant", "--warm", "3000", "--n", "500", "--windows", "4"],
  "callgrind-names": ["--frameworks", "fastify", "--warm", "3000", "--n", "500", "--windows", "4"],
  guard: ["--rounds", "1", "--users", "200", "--serial-users", "20"],
  migrate: ["--rounds", "2", "--ms", "10"],
  users: ["--rounds", "1", "--sizes", "10,10000"],
};

const { values: args } = parseArgs({
  options: {
    only: { type: "string" },
    skip: { type: "string" },
    quick: { type: "boolean", default: false },
    render: { type: "boolean", default: false },
    set: { type: "string", multiple: true, default: [] },
    out: { type: "string", default: join(root, "docs/benchmarks") },
  },
});

const outDir = args.out;
const resultsDir = join(outDir, "results");
mkdirSync(resultsDir, { recursive: true });

function sectionArgs(name) {
  const extra = args.quick ? [...QUICK[name]] : [];
  for (const s of args.set) {
    const m = /^(\w+)\.([\w-]+)=(.*)$/.exec(s);
    if (!m) throw new Error(`--set expects section.option=value, got ${s}`);
    if (m[1] === name) extra.push(`--${m[2]}`, m[3]);
  }
  return extra;
}

function runSection(name) {
  const { script, node, args: fixed = [] } = SECTIONS[name];
  const json = join(resultsDir, `${name}.json`);
  const started = Date.now();
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [...node, join(root, script), "--json", json, ...fixed, ...sectionArgs(name)], { cwd: root, stdio: ["ignore", "inherit", "inherit"] });
    // An interrupted run stops the section too (which then stops its servers).
    const stop = () => child.kill("SIGTERM");
    process.once("SIGINT", stop).once("SIGTERM", stop);
    child.on("exit", (code, signal) => {
      process.off("SIGINT", stop).off("SIGTERM", stop);
      // Interrupted: keep the section's previous result.
      if (signal || code === 129 || code === 130 || code === 143) process.exit(130);
      const seconds = Math.round((Date.now() - started) / 1000);
      if (code !== 0) {
        const failure = { section: name, status: "failed", reason: `bench/${script.split("/")[1]} exited with ${code ?? signal}`, machine: machine() };
        writeFileSync(json, JSON.stringify(failure, null, 2));
      }
      resolve({ name, code, seconds });
    });
  });
}

const names = Object.keys(SECTIONS);
const only = args.only ? args.only.split(",") : names.filter((n) => !SECTIONS[n].optional);
const skip = args.skip ? args.skip.split(",") : [];
for (const n of [...only, ...skip]) if (!SECTIONS[n]) throw new Error(`unknown section "${n}"; sections: ${names.join(", ")}`);
const selected = names.filter((n) => only.includes(n) && !skip.includes(n));

const t0 = Date.now();
const runs = [];
if (!args.render) {
  console.error(`Benchmarks on ${machineLine(machine())}`);
  console.error(`Sections: ${selected.join(", ")}${args.quick ? " (quick: smoke-test settings, not for publishing)" : ""}\n`);
  for (const name of selected) {
    console.error(`\n## ${name}`);
    const r = await runSection(name);
    runs.push(r);
    console.error(`(${name}: ${r.seconds} s${r.code === 0 ? "" : `, FAILED with ${r.code}`})`);
  }
}

// Render the README from every stored result.
const results = {};
for (const name of names) {
  const file = join(resultsDir, `${name}.json`);
  if (existsSync(file)) results[name] = JSON.parse(readFileSync(file, "utf8"));
}
if (args.quick) for (const r of Object.values(results)) r.quick ??= false;
const svgs = await plots(results);
for (const [file, svg] of Object.entries(svgs)) writeFileSync(join(outDir, file), svg);
const readme = renderReadme(results, Object.keys(svgs));
writeFileSync(join(outDir, "README.md"), readme.markdown);
console.log(`\n${readme.summary}`);
console.error(`\nWrote ${join(outDir, "README.md")} and ${Object.keys(svgs).length} plots${runs.length ? ` in ${Math.round((Date.now() - t0) / 1000)} s` : ""}.`);

// The root README links the results (added once, never rewritten).
const rootReadme = join(root, "README.md");
if (existsSync(rootReadme) && !readFileSync(rootReadme, "utf8").includes("docs/benchmarks")) {
  writeFileSync(
    rootReadme,
    `${readFileSync(rootReadme, "utf8").trimEnd()}\n\n## Benchmarks\n\n\`npm run bench\` measures evaluation cost against LaunchDarkly, GrowthBook and Unleash, instructions per request under callgrind in Express, Koa and Fastify, req/s, scale and a Redis outage; the figures, plots and method are in [docs/benchmarks](docs/benchmarks/README.md).\n`,
  );
}
if (runs.some((r) => r.code !== 0)) process.exitCode = 1;
