#!/usr/bin/env node
// Two versions of core side by side against LaunchDarkly, on the cases of the evaluation section.
//
//   node bench/evaluation/ab.mjs [--base main] [--cases d-1000,d-131072] [--rounds 25] [--ms 15]
//
// `--base` is a git ref: its packages/core/src is taken out with `git archive`
// and bundled with esbuild, as the working tree's is; both run in one process
// with LaunchDarkly's `await variation()` (offline, file data source), on the
// flags, users and requests of bench/evaluation-compare (imported from it).
// Per case: decide() and variation() of each version and LaunchDarkly,
// interleaved, the order rotating every round, the first round discarded.
// The table shows medians in ns and LD ÷ each, per round then the median, with
// the lowest and highest per-round ratio (the machine is shared: compare ratios
// within one run, and runs with each other only by their spread).
import { mkdtempSync, rmSync } from "node:fs";
import { cpus, loadavg, tmpdir } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { pathToFileURL } from "node:url";
import { launchDarklyVersion } from "../lib/common.mjs";
import { bundleVersions } from "./versions.mjs";
import { fmt, median } from "../lib/stats.mjs";
import { cases as allCases, calibrate, launchDarkly, loopFor, time } from "../evaluation-compare/run.mjs";

const { values: args } = parseArgs({
  options: {
    base: { type: "string", default: "main" },
    cases: { type: "string", default: "d-1000,d-131072" },
    rounds: { type: "string", default: "25" },
    ms: { type: "string", default: "15" },
  },
});
const ROUNDS = Number(args.rounds);
const TARGET_MS = Number(args.ms);
const wanted = args.cases.split(",");
const cases = allCases.filter((c) => wanted.includes(c.id));
if (cases.length === 0) throw new Error(`no case among ${allCases.map((c) => c.id).join(", ")}`);

const work = mkdtempSync(join(tmpdir(), "detour-eval-ab-"));
process.on("exit", () => rmSync(work, { recursive: true, force: true }));

const built = await bundleVersions(args.base, work);
const baseCommit = built.commit;
const versions = { base: await import(pathToFileURL(built.base).href), head: await import(pathToFileURL(built.head).href) };

console.log(
  `\nbase ${args.base} (${baseCommit}) against the working tree; LaunchDarkly ${launchDarklyVersion()}.\n` +
    `${cpus()[0]?.model?.trim()}, ${cpus().length} cores, node ${process.version}; load average ${loadavg().map((x) => x.toFixed(2)).join(" / ")}; ` +
    `${ROUNDS} rounds (+1 warm-up) of ~${TARGET_MS} ms per implementation.\n`,
);
console.log("| case | implementation | ns (median) | LD ÷ it, median (min–max over rounds) |\n|---|---|---:|---:|");
for (const c of cases) {
  const document = { flags: { site: c.flag } };
  const n = c.users.length;
  const contexts = c.users.map((key) => ({ key }));
  const ldContexts = contexts.map((context) => ({ kind: "user", ...context }));
  const requests = c.users.map((key) => ({ method: "GET", path: "/", ip: "10.1.2.3", headers: {}, user: key }));
  const ld = await launchDarkly(document, join(work, `flags-${c.id}.json`));
  const at = (n & (n - 1)) === 0 ? (i) => i & (n - 1) : (i) => i % n;
  const impls = { "LaunchDarkly variation()": { sync: false, fn: (i) => ld.variation("site", ldContexts[at(i)], "available") } };
  const detours = [];
  for (const [name, { createDetour }] of Object.entries(versions)) {
    const detour = createDetour({ store: structuredClone(document), user: (req) => req.user });
    await detour.ready;
    detours.push(detour);
    for (let i = 0; i < n; i++) {
      const ours = detour.variation("site", contexts[i], "available");
      const theirs = await ld.variation("site", ldContexts[i], "available");
      if (ours !== theirs || detour.decide(requests[i]).mode !== ours) throw new Error(`${c.id} ${name}: ${c.users[i]} → ${ours}, LaunchDarkly ${theirs}`);
    }
    // Closures of their own (new Function): two closures of one literal share their type feedback,
    // which would make each call site polymorphic over the two versions' classes.
    impls[`${name} decide()`] = { sync: true, fn: new Function("detour", "requests", "at", "return (i) => detour.decide(requests[at(i)]);")(detour, requests, at) };
    impls[`${name} variation()`] = { sync: true, fn: new Function("detour", "contexts", "at", 'return (i) => detour.variation("site", contexts[at(i)], "available");')(detour, contexts, at) };
  }
  const names = Object.keys(impls);
  const loops = Object.fromEntries(names.map((name) => [name, loopFor(impls[name])]));
  const ops = {};
  for (const name of names) ops[name] = await calibrate(loops[name], impls[name].fn, TARGET_MS);
  const samples = Object.fromEntries(names.map((name) => [name, []]));
  for (let round = 0; round <= ROUNDS; round++) {
    for (let k = 0; k < names.length; k++) {
      const name = names[(k + round) % names.length];
      const ns = await time(loops[name], impls[name].fn, ops[name]);
      if (round > 0) samples[name].push(ns);
    }
  }
  const LD = "LaunchDarkly variation()";
  for (const name of names) {
    const ratios = samples[LD].map((ld, k) => ld / samples[name][k]);
    const cell = name === LD ? "" : `${fmt.ratio(median(ratios), 1)} (${fmt.ratio(Math.min(...ratios), 1)}–${fmt.ratio(Math.max(...ratios), 1)})`;
    console.log(`| ${c.name} | ${name} | ${fmt.ns(median(samples[name]))} | ${cell} |`);
  }
  ld.close();
  for (const detour of detours) await detour.close();
}
process.exit(0);
