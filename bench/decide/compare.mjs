// decide() of two versions of core side by side, in one process: the working tree's sources
// against a git ref's (default main), on the cases of ./sides.mjs. Rounds are interleaved (the
// order alternates), the first is a warm-up; per case it prints the median ns of each side and
// the median of the per-round ratios base ÷ tree with their spread, so that a busy machine
// moves both sides alike. Run it with the base equal to the tree (an A/A) to see the noise.
//
//   node bench/decide/compare.mjs [--base main] [--rounds 21] [--ops 200000] [--only b,e]
import { cpus, loadavg } from "node:os";
import { parseArgs } from "node:util";
import { pathToFileURL } from "node:url";
import { median } from "../lib/stats.mjs";
import { bundleSides, cases, detourFor, loopFor, MASK } from "./sides.mjs";

const { values: args } = parseArgs({
  options: {
    base: { type: "string", default: "main" },
    rounds: { type: "string", default: "21" },
    ops: { type: "string", default: "200000" },
    only: { type: "string" },
  },
});
const ROUNDS = Number(args.rounds);
const OPS = Number(args.ops);
const bundles = await bundleSides(args.base);
const cores = { base: await import(pathToFileURL(bundles.base).href), tree: await import(pathToFileURL(bundles.tree).href) };

console.log(`node ${process.version}, ${cpus()[0].model}, load ${loadavg().map((l) => l.toFixed(2)).join(" ")}`);
console.log(`base ${args.base} (${bundles.commit}) against the working tree; ${ROUNDS} rounds of ${OPS} calls, first discarded\n`);
console.log("| case | base ns | tree ns | base ÷ tree (median) | per-round ratios |\n|---|---:|---:|---:|---:|");
for (const id of args.only ? args.only.split(",") : Object.keys(cases)) {
  const c = cases[id];
  const runs = {};
  for (const side of ["base", "tree"]) runs[side] = { detour: await detourFor(cores[side], c), loop: loopFor() };
  const shown = (side) => JSON.stringify(c.requests.slice(0, MASK + 1).map((r) => runs[side].detour.decide(r)));
  if (shown("base") !== shown("tree")) console.log(`  (${id}: the two sides decide differently)`);
  const ns = { base: [], tree: [] };
  for (let round = 0; round <= ROUNDS; round++) {
    for (const side of round % 2 === 0 ? ["base", "tree"] : ["tree", "base"]) {
      const t0 = process.hrtime.bigint();
      runs[side].loop(runs[side].detour, c.requests, OPS);
      if (round > 0) ns[side].push(Number(process.hrtime.bigint() - t0) / OPS);
    }
  }
  const ratios = ns.base.map((b, i) => b / ns.tree[i]).sort((x, y) => x - y);
  console.log(`| ${c.name} | ${median(ns.base).toFixed(0)} | ${median(ns.tree).toFixed(0)} | ${median(ratios).toFixed(2)}× | ${ratios[0].toFixed(2)}–${ratios.at(-1).toFixed(2)}× |`);
  for (const side of ["base", "tree"]) await runs[side].detour.close();
}
