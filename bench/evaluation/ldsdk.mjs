#!/usr/bin/env node
// Detour's evaluator against the LaunchDarkly Node server SDK on the same flag JSON.
//
//   node bench/evaluation/ldsdk.mjs [--rounds 15] [--quick]
//
// Runs from the TypeScript sources, no build needed: esbuild bundles
// packages/core/src/evaluation/evaluate.ts (and src/snapshot.ts when it builds) into
// a temp file. LaunchDarkly runs offline on its file data source, fed the same
// document, with sendEvents: false. Both see pre-built contexts (LaunchDarkly's
// with kind: "user"), cycled through in order.
//
// Cases: (a) a boolean flag that is on, (b) a 75/25 percentage rollout over 1,000
// and over 131,072 distinct user keys, (c) a rule with an `in` clause (half the
// users match). Implementations are interleaved (alternating which goes first),
// several rounds, the first round is a discarded warm-up; the table shows
// medians in ns per evaluation and the ratio to LaunchDarkly's `await variation()`.
// Before timing, every context of every case is checked to evaluate the same in both.
import { build } from "esbuild";
import { mkdtempSync, rmSync } from "node:fs";
import { cpus, loadavg, tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { launchDarklyVersion } from "../lib/common.mjs";
import { launchDarkly } from "../evaluation-compare/run.mjs";

const root = fileURLToPath(new URL("../..", import.meta.url));
const ldVersion = launchDarklyVersion();
const args = process.argv.slice(2);
const quick = args.includes("--quick");
const roundsArg = args.indexOf("--rounds");
const ROUNDS = roundsArg >= 0 ? Number(args[roundsArg + 1]) : quick ? 4 : 15;
const DETOUR_OPS = quick ? 100_000 : 200_000;
const LD_OPS = quick ? 10_000 : 20_000;

const work = mkdtempSync(join(tmpdir(), "detour-bench-ld-"));
process.on("exit", () => rmSync(work, { recursive: true, force: true }));


// ------------------------------------------------------------ Detour from sources

async function bundle(withSnapshot) {
  const lines = [`export { evaluate } from "./packages/core/src/evaluation/evaluate.ts";`];
  if (withSnapshot) lines.push(`export { Snapshot } from "./packages/core/src/snapshot.ts";`);
  const outfile = join(work, withSnapshot ? "detour-snapshot.mjs" : "detour.mjs");
  await build({
    stdin: { contents: lines.join("\n"), resolveDir: root, sourcefile: "bench-entry.ts", loader: "ts" },
    bundle: true,
    format: "esm",
    platform: "node",
    target: "node20",
    outfile,
    logLevel: "silent",
  });
  return import(pathToFileURL(outfile).href);
}

let detour;
try {
  detour = await bundle(true);
} catch {
  // The snapshot module (or something it imports) may be mid-change: time evaluate() alone.
  detour = await bundle(false);
}
const { evaluate, Snapshot } = detour;

// ------------------------------------------------------------ the flags

const emails = Array.from({ length: 20 }, (_, i) => `staff-${i}@example.com`);
const flags = {
  boolean: {
    key: "boolean",
    on: true,
    version: 1,
    variations: [true, false],
    offVariation: 1,
    fallthrough: { variation: 0 },
    salt: "boolean",
  },
  rollout: {
    key: "rollout",
    on: true,
    version: 1,
    variations: [true, false],
    offVariation: 1,
    fallthrough: {
      rollout: {
        variations: [
          { variation: 0, weight: 75000 },
          { variation: 1, weight: 25000 },
        ],
      },
    },
    salt: "rollout",
  },
  rule: {
    key: "rule",
    on: true,
    version: 1,
    variations: [false, true],
    offVariation: 0,
    rules: [{ id: "staff", clauses: [{ attribute: "email", op: "in", values: emails }], variation: 1 }],
    fallthrough: { variation: 0 },
    salt: "rule",
  },
};
const document = { flags };

const users = (n, withEmail = false) =>
  Array.from({ length: n }, (_, i) => {
    const context = { key: `user-${i.toString(36)}-${(i * 2654435761) >>> 0}` };
    if (withEmail) context.email = i % 2 === 0 ? emails[i % emails.length] : `someone-${i}@example.org`;
    return context;
  });

const cases = [
  { name: "(a) boolean flag, on", flag: "boolean", contexts: users(1000) },
  { name: "(b) 75/25 rollout, 1,000 users", flag: "rollout", contexts: users(1000) },
  { name: "(b) 75/25 rollout, 131,072 users", flag: "rollout", contexts: users(131072) },
  { name: "(c) rule with an `in` clause (20 values)", flag: "rule", contexts: users(1000, true) },
];
for (const c of cases) c.ldContexts = c.contexts.map((context) => ({ kind: "user", ...context }));

// ------------------------------------------------------------ LaunchDarkly, offline

const client = await launchDarkly(document, join(work, "flags.json"));

const snapshot = Snapshot ? Snapshot.from(structuredClone(document)) : null;

// Same answers first, so the timings compare like with like.
for (const c of cases) {
  let trues = 0;
  for (let i = 0; i < c.contexts.length; i++) {
    const ours = evaluate(flags[c.flag], c.contexts[i], document);
    const theirs = await client.variationDetail(c.flag, c.ldContexts[i], null);
    if (ours.value !== theirs.value || ours.variationIndex !== theirs.variationIndex) {
      throw new Error(`${c.name}: ${JSON.stringify(c.contexts[i])} → Detour ${JSON.stringify(ours)}, LaunchDarkly ${JSON.stringify(theirs)}`);
    }
    if (snapshot && snapshot.evaluate(c.flag, c.contexts[i]).value !== ours.value) throw new Error(`${c.name}: snapshot differs`);
    if (ours.value === true) trues++;
  }
  c.share = trues / c.contexts.length;
}

// ------------------------------------------------------------ timing

let sink = 0;

function timeDetour(c) {
  const flag = flags[c.flag];
  const contexts = c.contexts;
  const n = contexts.length;
  const start = process.hrtime.bigint();
  for (let i = 0, j = 0; i < DETOUR_OPS; i++) {
    if (evaluate(flag, contexts[j], document).value === true) sink++;
    if (++j === n) j = 0;
  }
  return Number(process.hrtime.bigint() - start) / DETOUR_OPS;
}

function timeSnapshot(c) {
  const key = c.flag;
  const contexts = c.contexts;
  const n = contexts.length;
  const start = process.hrtime.bigint();
  for (let i = 0, j = 0; i < DETOUR_OPS; i++) {
    if (snapshot.evaluate(key, contexts[j]).value === true) sink++;
    if (++j === n) j = 0;
  }
  return Number(process.hrtime.bigint() - start) / DETOUR_OPS;
}

async function timeLaunchDarkly(c) {
  const key = c.flag;
  const contexts = c.ldContexts;
  const n = contexts.length;
  const start = process.hrtime.bigint();
  for (let i = 0, j = 0; i < LD_OPS; i++) {
    if ((await client.variation(key, contexts[j], false)) === true) sink++;
    if (++j === n) j = 0;
  }
  return Number(process.hrtime.bigint() - start) / LD_OPS;
}

const implementations = [
  { name: "detour", run: async (c) => timeDetour(c) },
  ...(snapshot ? [{ name: "snapshot", run: async (c) => timeSnapshot(c) }] : []),
  { name: "launchdarkly", run: timeLaunchDarkly },
];

const samples = new Map(cases.map((c) => [c, Object.fromEntries(implementations.map((impl) => [impl.name, []]))]));
for (let round = 0; round < ROUNDS + 1; round++) {
  for (const c of cases) {
    const order = round % 2 === 0 ? implementations : [...implementations].reverse();
    for (const impl of order) {
      const ns = await impl.run(c);
      if (round > 0) samples.get(c)[impl.name].push(ns); // round 0 warms up
    }
  }
  process.stderr.write(`round ${round}/${ROUNDS}${round === 0 ? " (warm-up)" : ""}\n`);
}
client.close();

function median(xs) {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
}
const spread = (xs) => (Math.max(...xs) - Math.min(...xs)) / median(xs);
const fmt = (ns) => (ns >= 1000 ? Math.round(ns).toLocaleString("en-US") : ns.toFixed(0));

// ------------------------------------------------------------ report

const cpu = cpus()[0]?.model?.trim() ?? "unknown CPU";
console.log(
  `\nDetour evaluate() vs LaunchDarkly Node server SDK ${ldVersion} await variation(), same flag JSON.\n` +
    `${cpu}, ${cpus().length} cores, node ${process.version}; load average ${loadavg().map((x) => x.toFixed(2)).join(" / ")}; ` +
    `${ROUNDS} rounds (+1 warm-up), ${DETOUR_OPS.toLocaleString("en-US")} Detour / ${LD_OPS.toLocaleString("en-US")} LaunchDarkly evaluations per sample; medians.\n`,
);
const header = ["case", "true share", "Detour evaluate() ns/op"];
if (snapshot) header.push("Detour snapshot.evaluate() ns/op");
header.push("LD await variation() ns/op", "LD ÷ evaluate()");
if (snapshot) header.push("LD ÷ snapshot");
header.push("spread (max−min)/median");
console.log(`| ${header.join(" | ")} |`);
console.log(`|${header.map((_, i) => (i < 2 ? "---" : "---:")).join("|")}|`);
for (const c of cases) {
  const s = samples.get(c);
  const d = median(s.detour);
  const l = median(s.launchdarkly);
  const row = [c.name, `${Math.round(c.share * 100)}%`, fmt(d)];
  if (snapshot) row.push(fmt(median(s.snapshot)));
  row.push(fmt(l), `${(l / d).toFixed(1)}×`);
  if (snapshot) row.push(`${(l / median(s.snapshot)).toFixed(1)}×`);
  const spreads = [spread(s.detour), ...(snapshot ? [spread(s.snapshot)] : []), spread(s.launchdarkly)];
  row.push(spreads.map((x) => `${Math.round(x * 100)}%`).join(" / "));
  console.log(`| ${row.join(" | ")} |`);
}
if (sink === -1) console.log(sink); // keep the results alive
