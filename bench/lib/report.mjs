// Renders docs/benchmarks/README.md and the SVG plots from the stored results.
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { renderCallgrind } from "../callgrind/run.mjs";
import { renderEvaluation } from "../evaluation-compare/run.mjs";
import { guardGoal, renderGuard } from "../guard/run.mjs";
import { renderUsers, usersGoal } from "../users/run.mjs";
import { renderHttp } from "../http/run.mjs";
import { renderMigrate } from "../migrate/run.mjs";
import { renderOutage } from "../outage/run.mjs";
import { plotScale, renderScale } from "../scale/run.mjs";
import { root } from "./bundle.mjs";
import { machineLine } from "./machine.mjs";
import { fmt, table } from "./stats.mjs";


const FRAMEWORK_NAMES = { express: "Express 5", koa: "Koa 3", fastify: "Fastify 5" };

function machineOf(r) {
  if (!r?.machine) return "";
  const took = r.seconds ? `; this section took ${r.seconds} s` : "";
  return `_Measured on ${machineLine(r.machine)}${took}._`;
}

function notRun(name) {
  return `_No result yet: run \`npm run bench -- --only ${name}\`._`;
}

/** Goals at a glance: [goal, result, verdict] rows. */
function goals(results) {
  const rows = [];
  const e = results.evaluation;
  if (e?.status === "done") {
    for (const impl of ["Detour decide()", "Detour variation()"]) {
      const key = impl === "Detour decide()" ? "decide" : "variation";
      const ratios = e.cases.map((c) => ({ name: c.name, x: c.ratios?.[key] ?? c.ns["LaunchDarkly await variation()"].median / c.ns[impl].median }));
      const worst = ratios.reduce((a, b) => (b.x < a.x ? b : a));
      const missed = ratios.filter((r) => r.x < 10);
      rows.push([
        `${impl} ≥ 10× faster than LaunchDarkly \`variation()\`, every case`,
        `lowest ${fmt.ratio(worst.x, 1)} (${worst.name})`,
        missed.length === 0 ? "✅ met" : `❌ missed in ${missed.length} of ${ratios.length} cases`,
      ]);
    }
  } else rows.push(["Evaluation ≥ 10× LaunchDarkly", e ? e.status : "not run", "–"]);
  const c = results.callgrind;
  if (c?.status === "done") {
    for (const [variant, goal, label] of [
      ["detour-none", 1.005, "Detour, no flag in force ≤ 1.005× no-op (instructions/request)"],
      ["detour-user", 1.01, "Detour, per-user read-only flag ≤ 1.01× no-op (instructions/request)"],
      ["detour-tenant", 1.01, "Detour, per-tenant read-only flag (tenant not targeted) ≤ 1.01× no-op (instructions/request)"],
    ]) {
      const parts = [];
      let ok = true;
      for (const fw of ["express", "koa", "fastify"]) {
        const v = c.variants.find((x) => x.framework === fw && x.variant === variant);
        const base = c.variants.find((x) => x.framework === fw && x.variant === "noop");
        if (!v || !base) continue;
        const ratio = v.quiet / base.quiet;
        ok &&= ratio <= goal;
        parts.push(`${FRAMEWORK_NAMES[fw]} ${fmt.ratio(ratio, 4)}${ratio <= goal ? "" : " ✗"}`);
      }
      if (parts.length) rows.push([label, parts.join(", "), ok ? "✅ met" : "❌ missed"]);
    }
    const aa = [];
    let aaOk = true;
    for (const fw of ["express", "koa", "fastify"]) {
      const a = c.variants.find((x) => x.framework === fw && x.variant === "noop");
      const b = c.variants.find((x) => x.framework === fw && x.variant === "noop2");
      if (!a || !b) continue;
      const d = Math.abs(b.quiet / a.quiet - 1);
      aaOk &&= d <= 0.001;
      aa.push(`${FRAMEWORK_NAMES[fw]} ${(d * 100).toFixed(3)} %`);
    }
    if (aa.length) rows.push(["A/A: two identical no-op servers agree within 0.1 % (instructions)", aa.join(", "), aaOk ? "✅ met" : "❌ missed"]);
  } else rows.push(["Instructions per request (callgrind)", c ? `${c.status}: ${c.reason ?? ""}` : "not run", "–"]);
  const s = results.scale;
  if (s?.status === "done") {
    const flat = (xs) => Math.max(...xs) / Math.min(...xs);
    const f = flat(s.byFlags.map((x) => x.decide));
    rows.push(["decide() flat from 1 to 10,000 flags (slowest ÷ fastest)", fmt.ratio(f), f <= 2 ? "✅ flat (≤ 2×)" : "❌ not flat"]);
    const upTo = (limit) => s.byUsers.filter((x) => x.users <= limit);
    const small = Math.max(flat(upTo(10_000).map((x) => x.targeted)), flat(upTo(10_000).map((x) => x.notTargeted)));
    const all = Math.max(flat(s.byUsers.map((x) => x.targeted)), flat(s.byUsers.map((x) => x.notTargeted)));
    const big = s.byUsers.at(-1);
    rows.push([
      "decide() flat from 1 to 1,000,000 targeted users (slowest ÷ fastest)",
      `${fmt.ratio(small)} up to 10,000 users; ${fmt.ratio(all)} up to ${fmt.int(big.users)} (${fmt.ns(big.targeted)} ns at ${fmt.int(big.users)})`,
      all <= 2 ? "✅ flat (≤ 2×)" : small <= 2 ? "⚠︎ flat up to 10,000; slower past 100,000 from cache misses, not a scan (§3)" : "❌ not flat",
    ]);
    const m = s.memory.filter((x) => x.per100k !== null);
    rows.push(["Memory per 100,000 targeted users", m.map((x) => `${fmt.bytes(x.per100k)} (measured at ${fmt.int(x.users)})`).join(", "), "(reported)"]);
  }
  const o = results.outage;
  if (o?.status === "done") {
    const ratio = o.killed / o.up;
    rows.push(["Requests/s with Redis killed mid-run ≥ 0.95× Redis up", fmt.ratio(ratio, 3), ratio >= 0.95 ? "✅ met" : "❌ missed"]);
    rows.push(["Zero 5xx not caused by a flag during the outage", `${o.fivexx} 5xx, ${o.non2xx - o.fivexx} other non-2xx, ${o.errors} socket errors`, o.fivexx === 0 ? "✅ met" : "❌ missed"]);
    if (o.propagation?.status === "done") {
      const verdicts = [...o.propagation.text.matchAll(/Goal p99 ≤ 2× raw pub\/sub, (.*?): (met|NOT met) \(([\d.]+)×\)/g)];
      if (verdicts.length) {
        const ok = verdicts.every((v) => v[2] === "met");
        rows.push(["Propagation p99 ≤ 2× raw Redis pub/sub (bench/propagation)", verdicts.map((v) => `${v[1]}: ${v[3]}×`).join(", "), ok ? "✅ met" : "❌ missed"]);
      }
    } else rows.push(["Propagation p99 ≤ 2× raw pub/sub", o.propagation?.text ?? "not run", "–"]);
  } else if (o) rows.push(["Outage: req/s with Redis killed ≥ 0.95× up", `${o.status}: ${o.reason ?? ""}`, "–"]);
  rows.push(guardGoal(results.guard));
  const u = usersGoal(results.users);
  rows.push([u.name, u.ratio === undefined ? u.status : fmt.ratio(u.ratio, 1), u.ratio === undefined ? "–" : u.met ? "✅ met" : "❌ missed"]);
  return rows;
}

function callgrindDiffs(c, named) {
  const source = named?.status === "done" ? named : c;
  const out = [];
  if (source === named) {
    out.push(
      `From a separate diagnostic run (\`npm run bench -- --only callgrind-names\`: one run per variant, \`node --perf-basic-prof\` so that JIT code has names; ${machineLine(named.machine)}). Self cost per request of each function, Detour variant minus the no-op variant of the same framework; the largest differences.`,
      "",
    );
  } else {
    out.push("Self cost per request of each function, Detour variant minus the no-op variant (median runs). V8-generated code has no name in this run (`npm run bench -- --only callgrind-names` names it) and is left out.", "");
  }
  for (const fw of ["express", "koa", "fastify"]) {
    for (const variant of ["detour-none", "detour-user"]) {
      const v = source.variants.find((x) => x.framework === fw && x.variant === variant);
      const base = source.variants.find((x) => x.framework === fw && x.variant === "noop");
      if (!v?.diff || !base) continue;
      const delta = v.quiet - base.quiet;
      const rows = v.diff.filter((d) => !/^0x[0-9a-f]+$/.test(d.fn)).slice(0, 10);
      out.push(
        `**${FRAMEWORK_NAMES[fw]}, ${variant === "detour-none" ? "no flag in force" : "per-user read-only flag"}** (${delta >= 0 ? "+" : "−"}${fmt.int(Math.abs(delta))} Ir/request in this run)`,
        "",
        table(
          ["function", "Δ Ir/request", "Ir/request with Detour"],
          rows.map((d) => [`\`${d.fn.length > 110 ? `${d.fn.slice(0, 107)}…` : d.fn}\``, `${d.delta > 0 ? "+" : "−"}${fmt.int(Math.abs(d.delta))}`, fmt.int(d.ir)]),
          "lrr",
        ),
        "",
      );
    }
  }
  return out.join("\n");
}

export function renderReadme(results, svgFiles) {
  const md = [];
  /** A section that is its results' machine line and one rendered table, or a "not run" line. */
  const simpleSection = (title, name, render) => {
    md.push(title, "");
    const r = results[name];
    if (r) md.push(machineOf(r), "", render(r), "");
    else md.push(notRun(name), "");
  };
  md.push("# Benchmarks", "");
  md.push(
    "> Generated by `npm run bench` ([bench/run.mjs](../../bench/run.mjs)) from [results/](results/) — each section's JSON keeps every sample and the machine it ran on. Re-run one section with `npm run bench -- --only evaluation|callgrind|http|scale|outage|guard|migrate|users`; hand edits to this file are overwritten ([findings.md](findings.md) is the hand-written part).",
    "",
  );
  md.push("## Goals at a glance", "");
  md.push(table(["goal", "result", ""], goals(results), "lll"), "");
  const findings = join(root, "docs/benchmarks/findings.md");
  if (existsSync(findings)) md.push(readFileSync(findings, "utf8").trim(), "");

  md.push("## 1. Evaluation cost, side by side", "");
  const e = results.evaluation;
  if (e) {
    md.push(machineOf(e), "", renderEvaluation(e), "");
    md.push(
      "How each tool expresses the cases: **LaunchDarkly** gets Detour's flag JSON unchanged. **GrowthBook**: (a) a feature with only a default value, (b) a `force` rule, (c) a `force` rule with condition `{ id: { $in: [10,000 ids] } }`, (d) a `force` rule with `coverage: 0.25` hashed on `id`, (e) a condition `{ country: { $in: [...] } }`. **Unleash**: (a) a disabled toggle, (b) the `default` strategy, (c) `default` with a constraint `userId IN [10,000 ids]`, (d) `flexibleRollout` 25 % on `userId`, (e) a constraint `country IN [...]`; `isEnabled()` answers a boolean, not the mode. Detour's `decide()` does more than the others: it builds the context from a request, applies the mode rules and returns the decision object.",
      "",
    );
  } else md.push(notRun("evaluation"), "");

  md.push("## 2. Cost per request, counted with callgrind", "");
  const c = results.callgrind;
  if (c) {
    md.push(machineOf(c), "", renderCallgrind(c), "");
    if (c.status === "done") {
      md.push(
        "**Variants.** Hello-world `GET /` servers ([bench/callgrind/server.mjs](../../bench/callgrind/server.mjs)): *bare*; a *no-op* middleware (Express, Koa) or `onRequest` hook (Fastify); Detour with its site flag off (*no flag in force*); Detour with a read-only site flag targeting 1,000 other users (the request's user comes from the `x-user` header and is not targeted, so the flag is evaluated on every request and the request passes); the *peers*: [`maintenance`](https://www.npmjs.com/package/maintenance) 0.0.2 on Express (it patches `app.routes`, an Express 3 structure, so on Express 5 it installs nothing and its row is the bare server) and `@fastify/under-pressure` with all four thresholds set (its per-request `onRequest` check, plus its 1 s sampling timer, which runs more often per request under valgrind's slowdown).",
        "",
        "**Why GC- and JIT-free windows.** With `node --single-threaded`, V8's garbage collector and optimizing compiler run on the main thread, inside the counted window, in lumps: one scavenge costs 14–50 M instructions, one TurboFan compile 2–20 M, against 60 k (Fastify) to 530 k (Express) instructions for a whole request. Whether a 1,000-request window catches one lump more or less depends on how much the variant allocated before it, so with V8's default heap sizes the plain recipe (one window per run) moved by 1–30 % between variants in the first version of this bench, while the effects to resolve are 0.1–1 %. So the young generation is made big enough (`--min-semi-space-size=512 --max-semi-space-size=512`, `--initial-old-space-size=1024`) that no collection falls in the windows, each server is warmed with 8,000 requests (V8 stops tiering up between 5,000 and 8,000 requests in all three frameworks), and windows whose self cost in V8's GC or compiler functions rises above its floor are set aside; two consecutive quiet windows must agree within 0.1 %. The *first window* columns show what is left of the plain recipe with the big heap: Koa's first window still catches its last compilations (+3–4 %). Garbage-collection cost is then a function of allocation, reported separately as bytes allocated per request (a native run: young-generation growth over 1,000 requests without a collection).",
        "",
      );
      const diffs = callgrindDiffs(c, results["callgrind-names"]);
      if (diffs) md.push("### Where the extra instructions go", "", diffs);
    }
  } else md.push(notRun("callgrind"), "");

  simpleSection("## 2b. Requests per second (autocannon)", "http", renderHttp);

  md.push("## 3. Scale", "");
  const s = results.scale;
  if (s) {
    md.push(machineOf(s), "", renderScale(s), "");
    for (const f of svgFiles.filter((x) => x.startsWith("scale-"))) md.push(`![${f.replace(/\.svg$/, "")}](${f})`, "");
  } else md.push(notRun("scale"), "");

  simpleSection("## 4. Outage and propagation (Redis store)", "outage", renderOutage);

  simpleSection("## 5. The guard loop (`detour guard --users-from`)", "guard", renderGuard);

  simpleSection("## 6. Migration reads (`@detour/migrate`)", "migrate", renderMigrate);

  simpleSection("## 7. Per-user changes at scale (`enable(flag, { users: [id] })`)", "users", renderUsers);

  md.push(
    "## Reproduce",
    "",
    "```sh",
    "npm install",
    "npm run bench                        # every section, then this file and the plots (~19 min on 2 cores)",
    "npm run bench -- --only callgrind     # one section; the others keep their stored results",
    "npm run bench -- --quick             # smoke test of every section with tiny settings (not for publishing)",
    "```",
    "",
    "Everything runs from the TypeScript sources (esbuild bundles them into `node_modules/.cache/detour-bench/`), so no build is needed. The callgrind section needs valgrind (`apt-get install -y valgrind`), the outage section redis-server. See [bench/README.md](../../bench/README.md) for each script's options.",
    "",
  );
  return { markdown: `${md.join("\n").replace(/\n{3,}/g, "\n\n").trim()}\n`, summary: table(["goal", "result", ""], goals(results), "lll") };
}

export async function plots(results) {
  const out = {};
  const s = results.scale;
  if (s?.status === "done") Object.assign(out, await plotScale(s, `${s.machine.cpu}, ${s.machine.cores} cores, node ${s.machine.node}; ${s.machine.date.slice(0, 10)}`));
  return out;
}
