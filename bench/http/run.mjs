#!/usr/bin/env node
// Requests per second with autocannon (section 2b of the benchmarks).
//
// The same server variants as the callgrind bench (bench/callgrind/server.mjs),
// each round a fresh server process per variant, variants in alternating order
// (forward, then reversed, rotating the start), autocannon -c 100 -p 10 with a
// short warm-up, the same request headers for all. Medians over --rounds
// rounds; ratios to the no-op variant; the A/A pair (two identical no-op
// servers) is the noise floor: differences smaller than its gap mean nothing.
//
//   node bench/http/run.mjs [--frameworks express,koa,fastify] [--rounds 5] [--duration 1.5] [--warmup 0.3] [--json out.json]
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { bundlePath } from "../lib/bundle.mjs";
import { machine } from "../lib/machine.mjs";
import { spawnLines } from "../lib/proc.mjs";
import { FRAMEWORK_NAMES, HEADERS, cli, emit } from "../lib/common.mjs";
import { fmt, median, table } from "../lib/stats.mjs";
import { LABELS, PEERS, VARIANTS } from "../callgrind/run.mjs";

const here = fileURLToPath(new URL(".", import.meta.url));
const SERVER = join(here, "../callgrind/server.mjs");
const { isMain, args, log } = cli(import.meta.url, {
  frameworks: { type: "string", default: "express,koa,fastify" },
  // The bare servers are left out by default to keep the full run short; their
  // cost is in the callgrind table (--variants bare,noop,... brings them back).
  variants: { type: "string", default: "noop,noop2,detour-none,detour-user,peer" },
  rounds: { type: "string", default: "5" },
  duration: { type: "string", default: "1.5" },
  warmup: { type: "string", default: "0.3" },
  connections: { type: "string", default: "100" },
  pipelining: { type: "string", default: "10" },
});

async function round(autocannon, framework, variant, bundle) {
  const server = spawnLines(process.execPath, [SERVER, framework, variant], { env: { ...process.env, DETOUR_BENCH_BUNDLE: bundle } });
  try {
    const [, port] = await server.waitFor(/^LISTENING (\d+)/, 30_000);
    const result = await autocannon({
      url: `http://127.0.0.1:${port}/`,
      connections: Number(args.connections),
      pipelining: Number(args.pipelining),
      duration: Number(args.duration),
      warmup: { connections: Number(args.connections), duration: Number(args.warmup) },
      headers: HEADERS,
    });
    return {
      rps: result.requests.average,
      total: result.requests.total,
      non2xx: result.non2xx,
      errors: result.errors + result.timeouts,
      latencyP99: result.latency.p99,
    };
  } finally {
    await server.kill();
  }
}

export async function main() {
  const m = machine();
  const { default: autocannon } = await import("autocannon");
  const bundle = await bundlePath(["core", "express", "koa", "fastify"]);
  const wanted = args.variants.split(",");
  const cells = [];
  for (const framework of args.frameworks.split(",")) for (const variant of VARIANTS[framework]) if (wanted.includes(variant)) cells.push({ framework, variant });
  const rounds = Number(args.rounds);
  const samples = new Map(cells.map((c) => [`${c.framework}/${c.variant}`, []]));
  const t0 = Date.now();
  for (let r = 0; r < rounds; r++) {
    const rotated = cells.map((_, k) => cells[(k + r) % cells.length]);
    const order = r % 2 ? rotated.reverse() : rotated;
    for (const cell of order) {
      const s = await round(autocannon, cell.framework, cell.variant, bundle);
      samples.get(`${cell.framework}/${cell.variant}`).push(s);
      log(`  autocannon ${cell.framework}/${cell.variant} round ${r + 1}: ${fmt.int(s.rps)} req/s${s.non2xx || s.errors ? `, ${s.non2xx} non-2xx, ${s.errors} errors` : ""}`);
    }
  }
  const variants = cells.map((c) => {
    const xs = samples.get(`${c.framework}/${c.variant}`);
    return {
      ...c,
      rps: median(xs.map((x) => x.rps)),
      rounds: xs.map((x) => Math.round(x.rps)),
      non2xx: xs.reduce((a, x) => a + x.non2xx, 0),
      errors: xs.reduce((a, x) => a + x.errors, 0),
      p99: median(xs.map((x) => x.latencyP99)),
    };
  });
  const out = {
    section: "http",
    status: "done",
    machine: m,
    settings: { rounds, duration: Number(args.duration), warmup: Number(args.warmup), connections: Number(args.connections), pipelining: Number(args.pipelining) },
    seconds: Math.round((Date.now() - t0) / 1000),
    variants,
  };
  return emit(out, renderHttp, args);
}

export function renderHttp(r) {
  if (r.status !== "done") return `_Not run: ${r.reason}_`;
  const s = r.settings;
  const lines = [
    `autocannon -c ${s.connections} -p ${s.pipelining}, ${s.warmup} s warm-up + ${s.duration} s counted, a fresh server process per variant and round, ${s.rounds} rounds in alternating order; median req/s. The **A/A** row is a second, identical no-op server: its gap to the no-op row is one sample of this table's noise, and the *spread of rounds* (slowest to fastest round of the same server, ÷ median) shows the rest; differences within them say nothing. The client shares the machine's two cores with the server.`,
    "",
  ];
  const rows = [];
  const byFw = {};
  for (const v of r.variants) (byFw[v.framework] ??= {})[v.variant] = v;
  for (const [fw, vs] of Object.entries(byFw)) {
    const base = vs.noop;
    const floor = vs.noop2 && base ? Math.abs(vs.noop2.rps / base.rps - 1) : null;
    for (const [name, v] of Object.entries(vs)) {
      const ratio = base ? v.rps / base.rps : NaN;
      const spread = (Math.max(...v.rounds) - Math.min(...v.rounds)) / v.rps;
      rows.push([
        FRAMEWORK_NAMES[fw],
        name === "peer" ? `peer: ${PEERS[fw]}` : LABELS[name],
        fmt.int(v.rps),
        base ? fmt.ratio(ratio, 3) : "–",
        floor === null ? "–" : `±${(floor * 100).toFixed(1)} %`,
        `${(spread * 100).toFixed(0)} %`,
        `${v.p99} ms`,
        v.non2xx + v.errors === 0 ? "0" : `${v.non2xx} non-2xx, ${v.errors} errors`,
      ]);
    }
  }
  lines.push(table(["framework", "variant", "req/s (median)", "× no-op", "A/A gap", "spread of rounds", "p99 latency", "non-2xx / errors"], rows, "llrrrrrr"));
  return lines.join("\n");
}

if (isMain) {
  await main();
  process.exit(0);
}
