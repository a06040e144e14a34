#!/usr/bin/env node
// Migration reads (section 6 of the benchmarks): what `notes.read()` of
// @detour/migrate costs over calling `readOld` directly, next to LaunchDarkly's
// `createMigration` (@launchdarkly/node-server-sdk, offline on its file data
// source, sendEvents: false) on the same flag data, in the same process and rounds.
//
// Cases: the `off` stage (one read, the common case during a rollout) and the
// `shadow` stage (both reads, concurrently, and the consistency check on every
// read). The methods are async functions returning a value at once, so the
// figures are the migration machinery itself. Contexts cycle through 1,000 users.
// Rounds interleave every implementation (alternating which goes first); the
// first round is a discarded warm-up; medians of ns per operation. *overhead*:
// the median of (read − direct) per round.
//
//   node bench/migrate/run.mjs [--rounds 15] [--ms 40] [--json out.json]
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createMigration as ldCreateMigration, init, integrations, LDMigrationSuccess } from "@launchdarkly/node-server-sdk";
import { loadDetour } from "../lib/bundle.mjs";
import { cli, emit, launchDarklyVersion } from "../lib/common.mjs";
import { machine } from "../lib/machine.mjs";
import { fmt, median, table } from "../lib/stats.mjs";

const { isMain, args, log } = cli(import.meta.url, {
  rounds: { type: "string", default: "15" },
  ms: { type: "string", default: "40" },
});

const STAGES = ["off", "dualwrite", "shadow", "live", "rampdown", "complete"];
const USERS = Array.from({ length: 1000 }, (_, i) => ({ kind: "user", key: `user-${i}` }));
const flag = (key, stage) => ({ key, on: true, version: 1, salt: key, variations: STAGES, offVariation: 0, fallthrough: { variation: STAGES.indexOf(stage) } });
const DOCUMENT = { flags: { "storage-off": flag("storage-off", "off"), "storage-shadow": { ...flag("storage-shadow", "shadow"), migration: { checkRatio: 1 } } } };
const CASES = [
  { name: "off (old read only)", flag: "storage-off" },
  { name: "shadow (both reads + check)", flag: "storage-shadow" },
];


/** ns per call of `op(i)` over about `ms` milliseconds (calibrated from a first batch). */
async function time(op, ms) {
  let n = 64;
  for (;;) {
    const start = process.hrtime.bigint();
    for (let i = 0; i < n; i++) await op(i);
    const elapsed = Number(process.hrtime.bigint() - start);
    if (elapsed >= ms * 1e6 || n >= 1 << 24) return elapsed / n;
    n = Math.min(1 << 24, Math.ceil(n * Math.max(2, (ms * 1e6) / Math.max(elapsed, 1)) * 1.1));
  }
}

async function main() {
  const rounds = Number(args.rounds);
  const ms = Number(args.ms);
  const { createDetour, memoryStore, createMigration, migrationSuccess } = await loadDetour(["core", "migrate"]);
  const detour = createDetour({ store: memoryStore(DOCUMENT) });
  await detour.ready;

  const work = mkdtempSync(join(tmpdir(), "detour-bench-migrate-"));
  const path = join(work, "flags.json");
  writeFileSync(path, JSON.stringify(DOCUMENT));
  const silent = { error() {}, warn() {}, info() {}, debug() {} };
  const ld = init("bench-migrate", { updateProcessor: new integrations.FileDataSourceFactory({ paths: [path] }).getFactory(), sendEvents: false, diagnosticOptOut: true, logger: silent });
  await ld.waitForInitialization({ timeout: 10 });

  const row = { id: "r1", version: 3, body: "hello" };
  const readOld = async () => row;
  const readNew = async () => row;
  const write = async () => row;
  const check = (a, b) => a.version === b.version;
  const notes = createMigration(detour, { readOld: async () => migrationSuccess(row), readNew: async () => migrationSuccess(row), writeOld: write, writeNew: write, check });
  const ldNotes = ldCreateMigration(ld, { readOld: async () => LDMigrationSuccess(row), readNew: async () => LDMigrationSuccess(row), writeOld: write, writeNew: write, check });

  // Same answers before timing.
  for (const c of CASES) {
    for (const user of USERS.slice(0, 50)) {
      const a = await notes.read(c.flag, user, "off", row.id);
      const b = await ldNotes.read(c.flag, user, "off", row.id);
      if (JSON.stringify({ ...a }) !== JSON.stringify({ success: b.success, origin: b.origin, result: b.result })) throw new Error(`${c.name}: Detour and LaunchDarkly differ for ${user.key}`);
    }
  }

  const impls = {
    "readOld() directly": (c) => (i) => readOld(row.id, USERS[i % 1000]),
    "Detour notes.read()": (c) => (i) => notes.read(c.flag, USERS[i % 1000], "off", row.id),
    "LaunchDarkly migration.read()": (c) => (i) => ldNotes.read(c.flag, USERS[i % 1000], "off", row.id),
  };
  const names = Object.keys(impls);
  const samples = CASES.map(() => Object.fromEntries(names.map((n) => [n, []])));
  for (let round = 0; round < rounds + 1; round++) {
    const order = round % 2 ? [...names].reverse() : names;
    for (const [ci, c] of CASES.entries()) {
      for (const name of order) {
        const ns = await time(impls[name](c), name.startsWith("LaunchDarkly") ? ms / 2 : ms);
        if (round > 0) samples[ci][name].push(ns);
      }
    }
    log(`  round ${round}/${rounds}${round === 0 ? " (warm-up)" : ""}`);
  }
  ld.close();
  await detour.store.close();
  rmSync(work, { recursive: true, force: true });

  const cases = CASES.map((c, ci) => {
    const s = samples[ci];
    const direct = s["readOld() directly"];
    const overhead = (name) => median(s[name].map((x, i) => x - direct[i]));
    return {
      name: c.name,
      ns: Object.fromEntries(names.map((n) => [n, { median: median(s[n]), samples: s[n] }])),
      overhead: { detour: overhead("Detour notes.read()"), launchDarkly: overhead("LaunchDarkly migration.read()") },
    };
  });
  return emit({ section: "migrate", status: "done", machine: machine(), launchDarkly: launchDarklyVersion(), settings: { rounds, ms }, cases }, renderMigrate, args);
}

export function renderMigrate(r) {
  if (r.status !== "done") return `_Not run: ${r.reason}_`;
  return [
    `\`notes.read()\` against calling \`readOld\` directly, Detour's @detour/migrate and LaunchDarkly's \`createMigration\` (node-server-sdk ${r.launchDarkly}, file data source, no events) on the same flag data, same process; methods are async functions answering at once, so this is the migration machinery alone. Median of ${r.settings.rounds} interleaved rounds of ~${r.settings.ms} ms, ns per operation; *overhead* = read − direct, per round.`,
    "",
    table(
      ["stage", "readOld() directly", "Detour notes.read()", "LaunchDarkly migration.read()", "Detour overhead", "LaunchDarkly overhead", "LD ÷ Detour (overhead)"],
      r.cases.map((c) => [
        c.name,
        fmt.ns(c.ns["readOld() directly"].median),
        `**${fmt.ns(c.ns["Detour notes.read()"].median)}**`,
        fmt.ns(c.ns["LaunchDarkly migration.read()"].median),
        `**${fmt.ns(c.overhead.detour)}**`,
        fmt.ns(c.overhead.launchDarkly),
        fmt.ratio(c.overhead.launchDarkly / c.overhead.detour, 1),
      ]),
      "lrrrrrr",
    ),
  ].join("\n");
}

if (isMain) await main();
