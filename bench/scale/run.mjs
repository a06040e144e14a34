#!/usr/bin/env node
// Scale (section 3 of the benchmarks): decide() cost as the document grows.
//
//   - flags: the site flag plus 1 → 10,000 feature flags of one shape (targets,
//     an inCidr rule, a message); decide() of a request under the site flag
//     (read-only for 1,000 other users), variation() of one feature flag, and
//     variation() of a feature flag picked at random among them (so larger
//     documents also miss the CPU caches more).
//   - targeted users: the site flag read-only for 1 → 1,000,000 users; decide()
//     for a user in the list and for one who is not.
//   - memory: heap growth (after a full GC) of a Detour instance whose site flag
//     targets K users, per 100,000 users.
// Needs --expose-gc (bench/run.mjs passes it). Medians of --rounds rounds.
//
//   node --expose-gc bench/scale/run.mjs [--rounds 9] [--ms 20] [--json out.json]
import { fileURLToPath } from "node:url";
import { loadDetour } from "../lib/bundle.mjs";
import { cli, emit } from "../lib/common.mjs";
import { machine } from "../lib/machine.mjs";
import { fmt, median, table } from "../lib/stats.mjs";

const { isMain, args, log } = cli(import.meta.url, {
  rounds: { type: "string", default: "9" },
  ms: { type: "string", default: "20" },
});
const ROUNDS = Number(args.rounds);
const TARGET_MS = Number(args.ms);

export const FLAG_COUNTS = [1, 10, 100, 1000, 10_000];
export const USER_COUNTS = [1, 10, 100, 1000, 10_000, 100_000, 1_000_000];
const MEMORY_COUNTS = [0, 100_000, 1_000_000];

const MODES = ["available", "read-only", "maintenance"];
const modeFlag = (key, fields) => ({ key, on: true, version: 1, variations: MODES, offVariation: 0, fallthrough: { variation: 0 }, salt: key, ...fields });
const others = (n, prefix = "other") => Array.from({ length: n }, (_, i) => `${prefix}-${i}`);

function featureFlag(i) {
  return modeFlag(`feature-${i}`, {
    targets: [{ variation: 1, values: [`user-${i}`, `user-${i + 1}`] }],
    rules: [{ id: `r${i}`, clauses: [{ attribute: "ip", op: "inCidr", values: ["10.0.0.0/8"] }], variation: 0 }],
    detour: { message: `Feature ${i} is being upgraded`, retryAfter: 600 },
  });
}

function measure(fn, n) {
  let sink = 0;
  const t0 = process.hrtime.bigint();
  for (let i = 0; i < n; i++) if (fn(i) === undefined) sink++;
  const ns = Number(process.hrtime.bigint() - t0) / n;
  if (sink === -1) console.log(sink);
  return ns;
}

function calibrate(fn) {
  let n = 1000;
  for (;;) {
    const ns = measure(fn, n);
    if (ns * n > 3e6 || n >= 4e6) return Math.max(1000, Math.round((TARGET_MS * 1e6) / ns));
    n *= 4;
  }
}

/** Times every series, interleaved per round (the order rotating), the first round discarded; returns medians. */
function timeAll(series) {
  const ops = series.map((s) => calibrate(s.fn));
  const samples = series.map(() => []);
  for (let round = 0; round <= ROUNDS; round++) {
    for (let k = 0; k < series.length; k++) {
      const j = (k + round) % series.length;
      const ns = measure(series[j].fn, ops[j]);
      if (round > 0) samples[j].push(ns);
    }
  }
  return samples.map((xs) => median(xs));
}

function heapUsed() {
  for (let i = 0; i < 3; i++) globalThis.gc();
  return process.memoryUsage().heapUsed;
}

export async function main() {
  if (typeof globalThis.gc !== "function") throw new Error("run with node --expose-gc");
  const m = machine();
  const { createDetour } = await loadDetour(["core"]);
  const users = Array.from({ length: 1024 }, (_, i) => `user-${i}`);
  const request = (user) => ({ method: "GET", path: "/", ip: "203.0.113.9", headers: {}, user });
  const requests = users.map(request);
  const t0 = Date.now();

  // ---- memory
  const memory = [];
  // First, in a fresh heap: each instance measured against a baseline taken just before it.
  for (const count of MEMORY_COUNTS) {
    const before = heapUsed();
    let detour = createDetour({ store: { flags: { site: modeFlag("site", { targets: [{ variation: 1, values: others(count, "target") }] }) } }, user: (req) => req.user });
    await detour.ready;
    const after = heapUsed();
    if (count > 0 && detour.decide(request("target-0")).mode !== "read-only") throw new Error("unexpected decision");
    memory.push({ users: count, bytes: after - before });
    log(`  memory, ${fmt.int(count)} targeted users: ${fmt.bytes(after - before)}`);
    await detour.close();
    detour = null;
  }
  const base = memory[0].bytes;
  for (const row of memory) row.per100k = row.users > 0 ? ((row.bytes - base) / row.users) * 100_000 : null;


  // Every size is built first, then all are timed together, round after round
  // (order rotating), so that a slow period on a shared machine hits every size
  // alike instead of bending the curve.

  // ---- number of flags: the site flag plus N feature flags of the same shape
  const flagSeries = [];
  const instances = [];
  for (const count of FLAG_COUNTS) {
    const flags = { site: modeFlag("site", { targets: [{ variation: 1, values: others(1000) }] }) };
    for (let i = 0; i < count; i++) flags[`feature-${i}`] = featureFlag(i);
    const detour = createDetour({ store: { flags }, user: (req) => req.user });
    await detour.ready;
    instances.push(detour);
    const picks = Array.from({ length: 1024 }, (_, i) => `feature-${(i * 2654435761) % count}`);
    const contexts = users.map((key) => ({ key, ip: "203.0.113.9" }));
    flagSeries.push(
      { count, kind: "decide", fn: (i) => detour.decide(requests[i & 1023]) },
      { count, kind: "variation", fn: (i) => detour.variation(picks[i & 1023], contexts[(i >> 3) & 1023], "available") },
      { count, kind: "variationOne", fn: (i) => detour.variation("feature-0", contexts[(i >> 3) & 1023], "available") },
    );
  }
  heapUsed(); // settle the heap the documents were built in before timing
  const flagTimes = timeAll(flagSeries);
  const byFlags = FLAG_COUNTS.map((count) => {
    const at = (kind) => flagTimes[flagSeries.findIndex((x) => x.count === count && x.kind === kind)];
    const row = { flags: count, decide: at("decide"), variation: at("variation"), variationOne: at("variationOne") };
    log(`  ${fmt.int(count)} feature flags: decide() ${fmt.ns(row.decide)} ns, variation(random feature flag) ${fmt.ns(row.variation)} ns, variation(one flag) ${fmt.ns(row.variationOne)} ns`);
    return row;
  });
  for (const detour of instances.splice(0)) await detour.close();

  // ---- number of targeted users
  const userSeries = [];
  for (const count of USER_COUNTS) {
    const targeted = others(count, "target");
    const detour = createDetour({ store: { flags: { site: modeFlag("site", { targets: [{ variation: 1, values: targeted }] }) } }, user: (req) => req.user });
    await detour.ready;
    instances.push(detour);
    const inList = Array.from({ length: 1024 }, (_, i) => request(targeted[(i * 7919) % count]));
    const check = detour.decide(inList[0]).mode === "read-only" && detour.decide(requests[0]).mode === "available";
    if (!check) throw new Error(`targets of ${count}: unexpected decision`);
    userSeries.push({ count, kind: "targeted", fn: (i) => detour.decide(inList[i & 1023]) }, { count, kind: "notTargeted", fn: (i) => detour.decide(requests[i & 1023]) });
  }
  heapUsed();
  const userTimes = timeAll(userSeries);
  const byUsers = USER_COUNTS.map((count) => {
    const at = (kind) => userTimes[userSeries.findIndex((x) => x.count === count && x.kind === kind)];
    const row = { users: count, targeted: at("targeted"), notTargeted: at("notTargeted") };
    log(`  ${fmt.int(count)} targeted users: decide() targeted ${fmt.ns(row.targeted)} ns, not targeted ${fmt.ns(row.notTargeted)} ns`);
    return row;
  });
  for (const detour of instances.splice(0)) await detour.close();

  const out = {
    section: "scale",
    status: "done",
    machine: m,
    settings: { rounds: ROUNDS, targetMs: TARGET_MS },
    seconds: Math.round((Date.now() - t0) / 1000),
    byFlags,
    byUsers,
    memory,
  };
  return emit(out, renderScale, args);
}

export function renderScale(r) {
  if (r.status !== "done") return `_Not run: ${r.reason}_`;
  const lines = [];
  const f0 = r.byFlags[0];
  lines.push(`ns per call, median of ${r.settings.rounds} rounds; every size of a table is built first and all are timed together, round after round, so a slow period on the machine hits them alike. × = ratio to the smallest document.`, "");
  lines.push(
    table(
      ["feature flags in the document (+ the site flag)", "decide(), site flag read-only for 1,000 others", "×", "variation() of one feature flag", "×", "variation() of a random feature flag", "×"],
      r.byFlags.map((x) => [
        fmt.int(x.flags),
        fmt.ns(x.decide),
        fmt.ratio(x.decide / f0.decide),
        x.variationOne === undefined ? "–" : fmt.ns(x.variationOne),
        x.variationOne === undefined ? "–" : fmt.ratio(x.variationOne / f0.variationOne),
        fmt.ns(x.variation),
        fmt.ratio(x.variation / f0.variation),
      ]),
    ),
  );
  lines.push("");
  const u0 = r.byUsers[0];
  lines.push(
    table(
      ["users targeted by the site flag", "decide(), user in the list", "×", "decide(), user not in the list", "×"],
      r.byUsers.map((x) => [fmt.int(x.users), fmt.ns(x.targeted), fmt.ratio(x.targeted / u0.targeted), fmt.ns(x.notTargeted), fmt.ratio(x.notTargeted / u0.notTargeted)]),
    ),
  );
  lines.push("");
  lines.push(
    table(
      ["users targeted", "heap held by the Detour instance (after GC)", "per 100,000 targeted users"],
      r.memory.map((x) => [fmt.int(x.users), fmt.bytes(x.bytes), x.per100k === null ? "–" : `**${fmt.bytes(x.per100k)}**`]),
    ),
  );
  return lines.join("\n");
}

/** SVG plots for the scale result. */
export async function plotScale(r, note) {
  const { lineChart } = await import("../lib/svg.mjs");
  return {
    "scale-flags.svg": lineChart({
      title: "decide() / variation() cost vs number of flags",
      xLabel: "feature flags in the document (plus the site flag)",
      yLabel: "ns per call (median)",
      logX: true,
      note,
      series: [
        { name: "decide(): site flag read-only for 1,000 other users", points: r.byFlags.map((x) => ({ x: x.flags, y: x.decide })) },
        ...(r.byFlags[0].variationOne === undefined ? [] : [{ name: "variation() of one feature flag", points: r.byFlags.map((x) => ({ x: x.flags, y: x.variationOne })) }]),
        { name: "variation() of a random feature flag (cache misses grow with the document)", points: r.byFlags.map((x) => ({ x: x.flags, y: x.variation })), dashed: true },
      ],
    }),
    "scale-users.svg": lineChart({
      title: "decide() cost vs number of targeted users",
      xLabel: "users targeted by the site flag",
      yLabel: "ns per decide() (median)",
      logX: true,
      note,
      series: [
        { name: "user in the list (read-only)", points: r.byUsers.map((x) => ({ x: x.users, y: x.targeted })) },
        { name: "user not in the list", points: r.byUsers.map((x) => ({ x: x.users, y: x.notTargeted })) },
      ],
    }),
    "scale-memory.svg": lineChart({
      title: "Heap held vs number of targeted users",
      xLabel: "users targeted",
      yLabel: "MiB (heap after GC)",
      logX: false,
      note,
      series: [{ name: "Detour instance, site flag targeting N users", points: r.memory.map((x) => ({ x: x.users, y: x.bytes / 2 ** 20 })) }],
    }),
  };
}

if (isMain) {
  await main();
  process.exit(0);
}
