#!/usr/bin/env node
// Evaluation cost, side by side (section 1 of the benchmarks).
//
// The same mode flag, evaluated per user by:
//   - Detour decide()      detour.decide(request): the whole per-request decision
//                          (context from the request, site flag, mode, scope)
//   - Detour variation()   detour.variation("site", context, "available")
//   - LaunchDarkly         await client.variation("site", context, "available"),
//                          @launchdarkly/node-server-sdk offline on its file data
//                          source fed the same flag JSON, sendEvents: false
//   - GrowthBook           GrowthBookClient.getFeatureValue("site", "available", { attributes })
//                          (the multi-user server client), payload given with initSync
//   - Unleash              unleash.isEnabled("site", context), unleash-client
//                          offline from a bootstrap (refreshInterval 0, no metrics)
// Each case expresses the flag in each tool's own format (see `cases` below).
// Implementations are interleaved in one process (the order rotates every
// round), the first round is a discarded warm-up, the table shows medians in
// ns per evaluation and LaunchDarkly ÷ Detour (per round, then the median). Every context of every case is
// first checked to give the same answer in Detour and LaunchDarkly.
//
//   node bench/evaluation-compare/run.mjs [--rounds 25] [--ms 15] [--json out.json]
import { writeFileSync, mkdtempSync, rmSync, readFileSync, existsSync } from "node:fs";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { loadDetour } from "../lib/bundle.mjs";
import { cli, emit } from "../lib/common.mjs";
import { machine } from "../lib/machine.mjs";
import { fmt, median, table } from "../lib/stats.mjs";

const { isMain, args, log } = cli(import.meta.url, {
  rounds: { type: "string", default: "25" },
  ms: { type: "string", default: "15" },
});
const ROUNDS = Number(args.rounds);
const TARGET_MS = Number(args.ms);
const require = createRequire(import.meta.url);

function versionOf(name) {
  let dir = dirname(require.resolve(name));
  while (dir !== dirname(dir)) {
    const file = join(dir, "package.json");
    if (existsSync(file)) {
      const pkg = JSON.parse(readFileSync(file, "utf8"));
      if (pkg.name === name) return pkg.version;
    }
    dir = dirname(dir);
  }
  return "?";
}

// ------------------------------------------------------------------ the cases

const MODES = ["available", "read-only", "maintenance"];
const modeFlag = (fields) => ({
  key: "site",
  on: true,
  version: 1,
  variations: MODES,
  offVariation: 0,
  fallthrough: { variation: 0 },
  salt: "site",
  ...fields,
});
const user = (i) => `user-${i}`;
const pool = (n, f = user) => Array.from({ length: n }, (_, i) => f(i));
const targets10k = pool(10_000, (i) => `target-${i}`);
const COUNTRIES = ["DE", "FR", "NL", "BE", "AT", "CH", "IT", "ES", "PT", "PL"];

export const cases = [
  {
    id: "a",
    name: "(a) no flag in force (site flag off)",
    flag: modeFlag({ on: false }),
    users: pool(1000),
    growthbook: { defaultValue: "available", rules: [] },
    unleash: { enabled: false, strategies: [{ name: "default", parameters: {}, constraints: [] }] },
  },
  {
    id: "b",
    name: "(b) site flag on (maintenance for everyone)",
    flag: modeFlag({ fallthrough: { variation: 2 } }),
    users: pool(1000),
    growthbook: { defaultValue: "available", rules: [{ force: "maintenance" }] },
    unleash: { enabled: true, strategies: [{ name: "default", parameters: {}, constraints: [] }] },
  },
  {
    id: "c-in",
    name: "(c) targets: 10,000 users, user in the list",
    flag: modeFlag({ targets: [{ variation: 1, values: targets10k }] }),
    users: pool(1000, (i) => targets10k[(i * 7919) % targets10k.length]),
    growthbook: { defaultValue: "available", rules: [{ condition: { id: { $in: targets10k } }, force: "read-only" }] },
    unleash: { enabled: true, strategies: [{ name: "default", parameters: {}, constraints: [{ contextName: "userId", operator: "IN", values: targets10k }] }] },
  },
  {
    id: "c-out",
    name: "(c) targets: 10,000 users, user not in the list",
    flag: modeFlag({ targets: [{ variation: 1, values: targets10k }] }),
    users: pool(1000),
    growthbook: { defaultValue: "available", rules: [{ condition: { id: { $in: targets10k } }, force: "read-only" }] },
    unleash: { enabled: true, strategies: [{ name: "default", parameters: {}, constraints: [{ contextName: "userId", operator: "IN", values: targets10k }] }] },
  },
  ...[1000, 131_072].map((n) => ({
    id: `d-${n}`,
    name: `(d) 75/25 rollout, ${fmt.int(n)} distinct users`,
    flag: modeFlag({
      fallthrough: { rollout: { variations: [{ variation: 0, weight: 75000 }, { variation: 1, weight: 25000 }], bucketBy: "key" } },
    }),
    users: pool(n),
    growthbook: { defaultValue: "available", rules: [{ force: "read-only", coverage: 0.25, hashAttribute: "id", seed: "site" }] },
    unleash: {
      enabled: true,
      strategies: [{ name: "flexibleRollout", parameters: { rollout: "25", stickiness: "userId", groupId: "site" }, constraints: [] }],
    },
  })),
  {
    id: "e",
    name: "(e) rule with an `in` clause (country in 10 values, half match)",
    flag: modeFlag({ rules: [{ id: "eu", clauses: [{ attribute: "country", op: "in", values: COUNTRIES }], variation: 1 }] }),
    users: pool(1000),
    country: (i) => (i % 2 === 0 ? COUNTRIES[i % COUNTRIES.length] : ["US", "BR", "JP", "IN", "CA"][i % 5]),
    growthbook: { defaultValue: "available", rules: [{ condition: { country: { $in: COUNTRIES } }, force: "read-only" }] },
    unleash: { enabled: true, strategies: [{ name: "default", parameters: {}, constraints: [{ contextName: "country", operator: "IN", values: COUNTRIES }] }] },
  },
  {
    // (c-out) for tenants: the same 10,000 keys as LaunchDarkly context targets of kind organization;
    // every request has a user and an organization (a multi-kind context), its organization not in the list.
    id: "f",
    name: "(f) tenant targets: 10,000 organizations, organization not in the list (multi-kind context)",
    flag: modeFlag({ contextTargets: [{ contextKind: "organization", variation: 1, values: targets10k }] }),
    users: pool(1000),
    org: (i) => `org-${i}`,
    growthbook: { defaultValue: "available", rules: [{ condition: { org: { $in: targets10k } }, force: "read-only" }] },
    unleash: { enabled: true, strategies: [{ name: "default", parameters: {}, constraints: [{ contextName: "org", operator: "IN", values: targets10k }] }] },
  },
];

// ------------------------------------------------------------------ matches on a long attribute

// The `matches` operator runs in linear time (RE2 via re2js): what it costs on a
// 4 KiB attribute, next to a plain `startsWith` rule on the same attribute.
// The worst accepted pattern is the one whose lazy DFA keeps building new
// states on random input at the largest program Detour accepts (100 RE2
// instructions); `^/(a+)+$` is the classic ReDoS pattern, which JavaScript's
// engine (LaunchDarkly's) takes longer than the age of the universe on this
// input, so LaunchDarkly is not timed here.
const KIB4 = 4096;
function randomAb(n, seed) {
  let x = seed;
  let out = "/";
  for (let i = 1; i < n; i++) {
    x = (x * 1103515245 + 12345) & 0x7fffffff;
    out += x & 0x10000 ? "a" : "b";
  }
  return out;
}
export const matchesCases = [
  { id: "startsWith", name: "`startsWith \"/billing\"` (plain string rule)", op: "startsWith", pattern: "/billing", inputs: (k) => randomAb(KIB4, k + 1) },
  { id: "redos", name: "`matches \"^/(a+)+$\"` (the classic ReDoS pattern), input `/aaa…a!`", op: "matches", pattern: "^/(a+)+$", inputs: () => `/${"a".repeat(KIB4 - 2)}!` },
  { id: "worst", name: "`matches \"[ab]*a[ab]{94}$\"` (worst accepted: 100 RE2 instructions, new DFA states on every input)", op: "matches", pattern: "[ab]*a[ab]{94}$", inputs: (k) => randomAb(KIB4, k + 1) },
];

export async function matchesBench(createDetour) {
  const rows = [];
  for (const c of matchesCases) {
    const flag = modeFlag({ rules: [{ id: "r", clauses: [{ attribute: "attr", op: c.op, values: [c.pattern] }], variation: 2 }] });
    const detour = createDetour({ store: { flags: { site: flag } } });
    await detour.ready;
    const contexts = Array.from({ length: 64 }, (_, k) => ({ key: "u", attr: c.inputs(k) }));
    if (contexts.some((context) => context.attr.length !== KIB4)) throw new Error(`${c.id}: inputs must be 4 KiB`);
    let next = 0; // the inputs in turn across calls and rounds: the DFA never finds only inputs it has cached
    const fn = () => detour.variation("site", contexts[next++ & 63], "available");
    const loop = loopFor({ sync: true });
    // Calibrated from one call up: the worst case takes tens of ms a call.
    let ops = 1;
    while (ops < 1e6 && (await time(loop, fn, ops)) * ops < TARGET_MS * 1e6) ops *= 4;
    const samples = [];
    for (let round = 0; round <= ROUNDS; round++) {
      const ns = await time(loop, fn, ops);
      if (round > 0) samples.push(ns);
    }
    rows.push({ id: c.id, name: c.name, bytes: KIB4, us: Number((median(samples) / 1000).toFixed(3)), samples: samples.map((ns) => Number((ns / 1000).toFixed(3))) });
    log(`  matches on 4 KiB: ${c.name}: ${(median(samples) / 1000).toFixed(2)} µs`);
    await detour.close();
  }
  return rows;
}

// ------------------------------------------------------------------ set up every implementation

async function setUp(c, tools) {
  const { createDetour, ldInit, ldFile, GrowthBookClient, Unleash, InMemStorageProvider } = tools;
  const withCountry = Boolean(c.country);
  const n = c.users.length;
  const country = c.country ?? (() => undefined);
  const org = c.org;
  const requests = c.users.map((key, i) => {
    const request = { method: "GET", path: "/", ip: "10.1.2.3", headers: {}, user: key };
    if (withCountry) request.country = country(i);
    if (org) request.org = org(i);
    return request;
  });
  const userPart = (key, i) => (withCountry ? { key, country: country(i) } : { key });
  const contexts = c.users.map((key, i) => (org ? { kind: "multi", user: userPart(key, i), organization: { key: org(i) } } : userPart(key, i)));
  const ldContexts = contexts.map((context) => (org ? context : { kind: "user", ...context }));
  const gbContexts = c.users.map((key, i) => ({ attributes: { id: key, ...(withCountry ? { country: country(i) } : {}), ...(org ? { org: org(i) } : {}) } }));
  const unleashContexts = c.users.map((key, i) => {
    const properties = { ...(withCountry ? { country: country(i) } : {}), ...(org ? { org: org(i) } : {}) };
    return Object.keys(properties).length > 0 ? { userId: key, properties } : { userId: key };
  });

  const document = { flags: { site: c.flag } };
  const detour = createDetour({
    store: structuredClone(document),
    user: (req) => req.user,
    ...(withCountry ? { context: (req) => ({ country: req.country }) } : {}),
    ...(org ? { contexts: (req) => ({ organization: req.org }) } : {}),
  });
  await detour.ready;

  const ld = await ldInit(document, ldFile(c.id));
  const gb = new GrowthBookClient({}).initSync({ payload: { features: { site: c.growthbook } } });
  const unleash = new Unleash({
    appName: "detour-bench",
    url: "http://127.0.0.1:9/api/",
    refreshInterval: 0,
    disableMetrics: true,
    storageProvider: new InMemStorageProvider(),
    bootstrap: { data: [{ name: "site", ...c.unleash }] },
  });
  unleash.on("error", () => {});
  await new Promise((resolve) => (unleash.isSynchronized() ? resolve() : unleash.once("synchronized", resolve)));

  const mask = n - 1;
  const pow2 = (n & mask) === 0;
  const at = pow2 ? (i) => i & mask : (i) => i % n;
  return {
    n,
    close: async () => {
      ld.close();
      unleash.destroy();
      await detour.close();
    },
    impls: {
      "Detour decide()": { sync: true, fn: (i) => detour.decide(requests[at(i)]) },
      "Detour variation()": { sync: true, fn: (i) => detour.variation("site", contexts[at(i)], "available") },
      "LaunchDarkly await variation()": { sync: false, fn: (i) => ld.variation("site", ldContexts[at(i)], "available") },
      "GrowthBook getFeatureValue()": { sync: true, fn: (i) => gb.getFeatureValue("site", "available", gbContexts[at(i)]) },
      "Unleash isEnabled()": { sync: true, fn: (i) => unleash.isEnabled("site", unleashContexts[at(i)]) },
    },
    // for the checks
    detour,
    ld,
    gb,
    unleash,
    contexts,
    ldContexts,
    gbContexts,
    unleashContexts,
    requests,
  };
}

/** Detour and LaunchDarkly must agree on every context; GrowthBook and Unleash must give the expected share. */
async function check(c, s) {
  let mismatches = 0;
  const share = { detour: 0, ld: 0, gb: 0, unleash: 0, decide: 0 };
  for (let i = 0; i < s.n; i++) {
    const d = s.detour.variation("site", s.contexts[i], "available");
    const l = await s.ld.variation("site", s.ldContexts[i], "available");
    if (d !== l) mismatches++;
    if (d !== "available") share.detour++;
    if (l !== "available") share.ld++;
    if (s.gb.getFeatureValue("site", "available", s.gbContexts[i]) !== "available") share.gb++;
    if (s.unleash.isEnabled("site", s.unleashContexts[i])) share.unleash++;
    if (s.detour.decide(s.requests[i]).mode !== "available") share.decide++;
  }
  for (const k of Object.keys(share)) share[k] = share[k] / s.n;
  return { mismatches, share };
}

// ------------------------------------------------------------------ timing

// A fresh loop function per implementation, so every call site keeps its own type feedback.
export function loopFor(impl) {
  return impl.sync
    ? new Function("fn", "n", "let s = 0; for (let i = 0; i < n; i++) { if (fn(i) === undefined) s++; } return s;")
    : new Function("fn", "n", "return (async () => { let s = 0; for (let i = 0; i < n; i++) { if ((await fn(i)) === undefined) s++; } return s; })();");
}

export async function time(loop, fn, n) {
  const t0 = process.hrtime.bigint();
  await loop(fn, n);
  return Number(process.hrtime.bigint() - t0) / n;
}

/** Calls per sample for ~`targetMs` ms. */
export async function calibrate(loop, fn, targetMs = TARGET_MS) {
  let n = 1000;
  for (;;) {
    const ns = await time(loop, fn, n);
    if (ns * n > 5e6 || n >= 5e6) return Math.max(1000, Math.round((targetMs * 1e6) / ns));
    n *= 4;
  }
}

/** LaunchDarkly's SDK offline on its file data source, fed `document` through a file at `path`, no events. */
export async function launchDarkly(document, path) {
  const { init, integrations } = await import("@launchdarkly/node-server-sdk");
  writeFileSync(path, JSON.stringify(document));
  const silent = { error() {}, warn() {}, info() {}, debug() {} };
  const client = init("sdk-bench-offline", {
    updateProcessor: new integrations.FileDataSourceFactory({ paths: [path] }).getFactory(),
    sendEvents: false,
    diagnosticOptOut: true,
    logger: silent,
  });
  await client.waitForInitialization({ timeout: 10 });
  return client;
}

export async function main() {
  const m = machine();
  const { createDetour } = await loadDetour(["core"]);
  const { GrowthBookClient } = await import("@growthbook/growthbook");
  const { Unleash, InMemStorageProvider } = await import("unleash-client");
  const work = mkdtempSync(join(tmpdir(), "detour-eval-compare-"));
  const tools = {
    createDetour,
    GrowthBookClient,
    Unleash,
    InMemStorageProvider,
    ldFile: (id) => join(work, `flags-${id}.json`),
    ldInit: launchDarkly,
  };

  const rows = [];
  const t0 = Date.now();
  try {
    for (const c of cases) {
      const s = await setUp(c, tools);
      const verified = await check(c, s);
      const names = Object.keys(s.impls);
      const loops = Object.fromEntries(names.map((name) => [name, loopFor(s.impls[name])]));
      const ops = {};
      for (const name of names) ops[name] = await calibrate(loops[name], s.impls[name].fn);
      const samples = Object.fromEntries(names.map((name) => [name, []]));
      for (let round = 0; round <= ROUNDS; round++) {
        const order = names.map((_, k) => names[(k + round) % names.length]);
        for (const name of order) {
          const ns = await time(loops[name], s.impls[name].fn, ops[name]);
          if (round > 0) samples[name].push(ns);
        }
      }
      const result = Object.fromEntries(names.map((name) => [name, { median: median(samples[name]), samples: samples[name].map((x) => Number(x.toFixed(2))) }]));
      // LaunchDarkly ÷ Detour per round (both measured within the same round), then the median:
      // pairing keeps a slow period on a shared machine from landing on one side only.
      const LD = "LaunchDarkly await variation()";
      const perRound = (name) => samples[LD].map((ld, k) => ld / samples[name][k]);
      const ratios = { decide: median(perRound("Detour decide()")), variation: median(perRound("Detour variation()")) };
      rows.push({ id: c.id, name: c.name, users: s.n, verified, ns: result, ratios });
      log(`  ${c.name}: ${names.map((name) => `${name} ${fmt.ns(result[name].median)} ns`).join(", ")}`);
      await s.close();
    }
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
  const matches = await matchesBench(createDetour);
  const out = {
    section: "evaluation",
    status: "done",
    machine: m,
    versions: {
      "@launchdarkly/node-server-sdk": versionOf("@launchdarkly/node-server-sdk"),
      "@growthbook/growthbook": versionOf("@growthbook/growthbook"),
      "unleash-client": versionOf("unleash-client"),
    },
    settings: { rounds: ROUNDS, targetMs: TARGET_MS },
    seconds: Math.round((Date.now() - t0) / 1000),
    cases: rows,
    matches,
  };
  return emit(out, renderEvaluation, args);
}

/** Markdown for the evaluation result. */
export function renderEvaluation(r) {
  if (r.status !== "done") return `_Not run: ${r.reason}_`;
  const v = r.versions;
  const lines = [];
  lines.push(
    `ns per evaluation, median of ${r.settings.rounds} rounds (~${r.settings.targetMs} ms each, implementations interleaved in one process, order rotating, first round discarded). LaunchDarkly \`@launchdarkly/node-server-sdk\` ${v["@launchdarkly/node-server-sdk"]} (offline, file data source, \`await\` per call), GrowthBook \`@growthbook/growthbook\` ${v["@growthbook/growthbook"]} (\`GrowthBookClient\`), Unleash \`unleash-client\` ${v["unleash-client"]} (bootstrap, \`isEnabled\`). **LD ÷** columns: LaunchDarkly's time divided by Detour's, per round (both measured in the same round), median over rounds (goal ≥ 10×).`,
    "",
  );
  const header = ["case", "Detour decide()", "Detour variation()", "LaunchDarkly", "GrowthBook", "Unleash", "LD ÷ decide()", "LD ÷ variation()", "same answers as LD"];
  const body = r.cases.map((c) => {
    const ns = (k) => c.ns[k].median;
    const ld = ns("LaunchDarkly await variation()");
    const rd = c.ratios?.decide ?? ld / ns("Detour decide()");
    const rv = c.ratios?.variation ?? ld / ns("Detour variation()");
    const mark = (x) => `${x >= 10 ? "**" : ""}${fmt.ratio(x, 1)}${x >= 10 ? "** ✅" : " ❌"}`;
    const share = c.verified.share;
    const agree = c.verified.mismatches === 0 ? `✅ ${c.users.toLocaleString("en-US")} / ${c.users.toLocaleString("en-US")}` : `❌ ${c.verified.mismatches} differ`;
    return [
      c.name,
      fmt.ns(ns("Detour decide()")),
      fmt.ns(ns("Detour variation()")),
      fmt.ns(ld),
      fmt.ns(ns("GrowthBook getFeatureValue()")),
      fmt.ns(ns("Unleash isEnabled()")),
      mark(rd),
      mark(rv),
      `${agree}; in force for ${(share.detour * 100).toFixed(1)} % (GB ${(share.gb * 100).toFixed(1)} %, Unleash ${(share.unleash * 100).toFixed(1)} %)`,
    ];
  });
  lines.push(table(header, body, "lrrrrrrrl"));
  if (r.matches) {
    lines.push(
      "",
      `**\`matches\` on a 4 KiB attribute** (µs per \`variation()\` of a flag with one rule on that attribute, 64 different inputs in turn, median of ${r.settings.rounds} rounds). Detour runs \`matches\` with RE2 (re2js), linear in the input; the plain \`startsWith\` rule is the reference.`,
      "",
      table(["rule", "µs per evaluation"], r.matches.map((m) => [m.name, m.us.toFixed(2)]), "lr"),
    );
  }
  return lines.join("\n");
}

if (isMain) {
  await main();
  process.exit(0);
}
