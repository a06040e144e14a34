#!/usr/bin/env node
// Outage (section 4 of the benchmarks): requests answered per second while
// Redis is killed mid-run, against the same run with Redis up; plus the
// propagation table of bench/propagation/run.mjs (another engineer's bench,
// run as a subprocess against the same Redis) when it is present.
//
// Starts its own redis-server on a free port (--save "" --appendonly no),
// seeds a document (site flag read-only for 1,000 other users), and per round
// starts a fresh app (bench/outage/server.mjs: Fastify 5 + Detour on
// redisStore) and runs autocannon -c 100 -p 10 for --duration seconds. In the
// "killed" rounds Redis gets SIGKILL halfway through (and is restarted empty
// before the next round). Rounds alternate up / killed; medians.
// Goal: req/s killed ≥ 0.95 × up, and no 5xx (no flag blocks these requests,
// so any 5xx would be the outage's fault).
//
//   node bench/outage/run.mjs [--rounds 5] [--duration 6] [--no-propagation] [--propagation-n 500] [--json out.json]
import { spawn } from "node:child_process";
import { existsSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { bundlePath, root } from "../lib/bundle.mjs";
import { machine } from "../lib/machine.mjs";
import { freePort, run, spawnLines } from "../lib/proc.mjs";
import { fmt, median, sleep, table } from "../lib/stats.mjs";
import { HEADERS, cli, emit } from "../lib/common.mjs";

const here = fileURLToPath(new URL(".", import.meta.url));
const PROPAGATION = join(root, "bench/propagation/run.mjs");

const { isMain, args, log } = cli(import.meta.url, {
  rounds: { type: "string", default: "5" },
  duration: { type: "string", default: "6" },
  propagation: { type: "boolean", default: true },
  "propagation-n": { type: "string", default: "500" },
});

async function startRedis(port) {
  const proc = spawnLines("redis-server", ["--port", String(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no", "--protected-mode", "no"]);
  await proc.waitFor(/Ready to accept connections/, 15_000);
  return proc;
}

function modeFlag(fields) {
  return { key: "site", on: true, version: 1, variations: ["available", "read-only", "maintenance"], offVariation: 0, fallthrough: { variation: 0 }, salt: "site", ...fields };
}

export async function main() {
  const m = machine();
  const redisVersion = await run("redis-server", ["--version"]).then((s) => s.trim(), () => null);
  if (!redisVersion) {
    const reason = "redis-server is not installed (apt-get install -y redis-server); the outage and propagation benches need it.";
    return emit({ section: "outage", status: "skipped", reason, machine: m }, renderOutage, args);
  }
  let bundle;
  try {
    bundle = await bundlePath(["core", "fastify", "redis"]);
  } catch (error) {
    const reason = `pending: @detour/redis does not build yet (${String(error.message).split("\n")[0]})`;
    return emit({ section: "outage", status: "pending", reason, machine: m }, renderOutage, args);
  }
  const { redisStore } = await import(`${new URL(`file://${bundle}`).href}`);
  const { default: autocannon } = await import("autocannon");

  const port = await freePort();
  const url = `redis://127.0.0.1:${port}`;
  const prefix = `detour-bench-outage-${process.pid}`;
  const document = { flags: { site: modeFlag({ targets: [{ variation: 1, values: Array.from({ length: 1000 }, (_, i) => `other-${i}`) }] }) } };
  let redis = await startRedis(port);
  const seed = async () => {
    const store = redisStore({ url, prefix, logger: null });
    await store.load().catch(() => {});
    await store.write((draft) => {
      for (const k of Object.keys(draft)) if (k !== "audit") delete draft[k];
      Object.assign(draft, structuredClone(document));
    });
    await store.close();
  };
  const duration = Number(args.duration);
  const rounds = [];
  const t0 = Date.now();
  try {
    for (let r = 0; r < Number(args.rounds) * 2; r++) {
      const mode = r % 2 === 0 ? "up" : "killed";
      if (redis.exited !== null) redis = await startRedis(port);
      await seed();
      const app = spawnLines(process.execPath, [join(here, "server.mjs"), url, prefix], { env: { ...process.env, DETOUR_BENCH_BUNDLE: bundle } });
      try {
        const [, appPort] = await app.waitFor(/^LISTENING (\d+)/, 30_000);
        let killedAt = null;
        const warmup = 0.5;
        const started = Date.now();
        // Killed halfway through the counted part (after the warm-up).
        const timer =
          mode === "killed"
            ? setTimeout(() => {
                killedAt = Date.now();
                redis.child.kill("SIGKILL");
              }, (warmup + duration / 2) * 1000)
            : null;
        const ticks = [];
        const tracker = autocannon({
          url: `http://127.0.0.1:${appPort}/`,
          connections: 100,
          pipelining: 10,
          duration,
          warmup: { connections: 100, duration: warmup },
          headers: HEADERS,
        });
        tracker.on("tick", ({ counter }) => ticks.push({ at: Date.now() - started, requests: counter }));
        const result = await tracker;
        // Per-second counts of the counted part (autocannon ends with an empty tick).
        while (ticks.length > 0 && ticks.at(-1).requests === 0) ticks.pop();
        const half = Math.floor(ticks.length / 2);
        const mean = (xs) => xs.reduce((a, t) => a + t.requests, 0) / Math.max(1, xs.length);
        const halves = mean(ticks.slice(ticks.length - half)) / mean(ticks.slice(0, half));
        clearTimeout(timer);
        const from = app.lines.length;
        app.child.kill("SIGUSR2");
        const [, health] = await app.waitFor(/^HEALTH (.*)$/, 5_000, from);
        const h = JSON.parse(health);
        const statusCodes = result.statusCodeStats ?? {};
        const fivexx = Object.entries(statusCodes)
          .filter(([code]) => code.startsWith("5"))
          .reduce((a, [, v]) => a + v.count, 0);
        const row = {
          mode,
          rps: result.requests.average,
          total: result.requests.total,
          minPerSecond: result.requests.min,
          non2xx: result.non2xx,
          fivexx,
          errors: result.errors + result.timeouts,
          killedAfterMs: killedAt ? killedAt - started : null,
          perSecond: ticks,
          halves,
          storeErrors: h.storeErrors,
          health: h.health,
        };
        rounds.push(row);
        log(
          `  outage round ${r + 1} (${mode}): ${fmt.int(row.rps)} req/s, ${row.non2xx} non-2xx, ${row.errors} errors, store errors ${row.storeErrors}; per second: ${ticks.map((t) => `${killedAt && t.at >= row.killedAfterMs && t.at - 1000 < row.killedAfterMs ? "†" : ""}${fmt.int(t.requests)}`).join(" ")}`,
        );
      } finally {
        await app.kill();
      }
    }
  } finally {
    if (redis.exited === null) {
      const cleanup = redisStore({ url, prefix, logger: null });
      await cleanup.close().catch(() => {});
    }
  }

  // The propagation bench (another engineer's), against the same Redis.
  let propagation;
  if (!args.propagation) propagation = { status: "skipped", text: "skipped (--no-propagation)" };
  else if (!existsSync(PROPAGATION)) propagation = { status: "absent", text: "bench/propagation/run.mjs is not in this tree yet: no propagation figures." };
  else {
    if (redis.exited !== null) redis = await startRedis(port);
    const p0 = Date.now();
    try {
      const stdout = await run(process.execPath, [PROPAGATION, "--url", url, "--n", args["propagation-n"]], { cwd: root, timeout: 600_000 });
      // A fleet: 20 receiving processes, a small and a large document (fewer samples: 21 processes share the machine).
      const fleetN = String(Math.max(20, Math.round(Number(args["propagation-n"]) / 5)));
      const fleet = await run(process.execPath, [PROPAGATION, "--url", url, "--n", fleetN, "--warmup", "20", "--readers", "20", "--flags", "20,1000"], {
        cwd: root,
        timeout: 1_200_000,
      });
      const text = `${stdout.trim()}\n\n${fleet.trim().replace(/^#+ (.*)$/m, "Twenty receiving processes (n = " + fleetN + " per path):")}`;
      propagation = { status: "done", text, seconds: Math.round((Date.now() - p0) / 1000), n: Number(args["propagation-n"]) };
    } catch (error) {
      propagation = { status: "failed", text: `bench/propagation/run.mjs failed: ${String(error.stderr || error.message).trim().split("\n").slice(-5).join(" / ")}` };
    }
    log(`  propagation: ${propagation.status}`);
  }
  await redis.kill("SIGKILL");

  const up = rounds.filter((x) => x.mode === "up");
  const killed = rounds.filter((x) => x.mode === "killed");
  const out = {
    section: "outage",
    status: "done",
    machine: m,
    redis: redisVersion,
    settings: { rounds: Number(args.rounds), duration },
    seconds: Math.round((Date.now() - t0) / 1000),
    rounds,
    up: median(up.map((x) => x.rps)),
    killed: median(killed.map((x) => x.rps)),
    // Paired within each run: req/s of the second half ÷ the first half (Redis killed
    // at the boundary in the killed rounds), killed rounds against up rounds.
    halves: { up: median(up.map((x) => x.halves)), killed: median(killed.map((x) => x.halves)) },
    fivexx: rounds.reduce((a, x) => a + x.fivexx, 0),
    non2xx: rounds.reduce((a, x) => a + x.non2xx, 0),
    errors: rounds.reduce((a, x) => a + x.errors, 0),
    propagation,
  };
  return emit(out, renderOutage, args);
}

export function renderOutage(r) {
  if (r.status !== "done") return `_${r.status === "pending" ? "Pending" : "Not run"}: ${r.reason}_`;
  const ratio = r.killed / r.up;
  const lines = [
    `Fastify 5 + Detour on \`redisStore\` (site flag read-only for 1,000 other users, so every request is evaluated), autocannon -c 100 -p 10 for ${r.settings.duration} s per round after 0.5 s of warm-up, a fresh app per round, ${r.settings.rounds} rounds each, alternating up / killed; median req/s. In the **killed** rounds redis-server (${r.redis.split(" ").slice(0, 3).join(" ")}, \`--save "" --appendonly no\`) gets SIGKILL halfway through.`,
    "",
    table(
      ["Redis", "req/s (median)", "× up", "2nd half ÷ 1st half of the same run", "lowest 1-s rate", "5xx", "other non-2xx", "socket errors"],
      ["up", "killed"].map((mode) => {
        const rows = r.rounds.filter((x) => x.mode === mode);
        const rps = mode === "up" ? r.up : r.killed;
        const fivexx = rows.reduce((a, x) => a + x.fivexx, 0);
        const non2xx = rows.reduce((a, x) => a + x.non2xx, 0) - fivexx;
        return [
          mode === "up" ? "up the whole run" : "killed mid-run",
          fmt.int(rps),
          mode === "up" ? "1.000×" : `${fmt.ratio(ratio, 3)} ${ratio >= 0.95 ? "✅ ≥ 0.95" : "❌ < 0.95"}`,
          r.halves ? fmt.ratio(r.halves[mode], 3) : "–",
          fmt.int(median(rows.map((x) => x.minPerSecond))),
          `${fivexx}${mode === "killed" ? (fivexx === 0 ? " ✅" : " ❌") : ""}`,
          String(non2xx),
          String(rows.reduce((a, x) => a + x.errors, 0)),
        ];
      }),
      "lrrrrrrr",
    ),
    "",
    r.halves
      ? `Whole runs differ by a few percent from run to run on a shared 2-core machine (autocannon and the server share it), so the table also compares each run with itself: the second half's req/s ÷ the first half's, Redis being killed at the boundary in the killed runs. Killed ÷ up on that measure: **${fmt.ratio(r.halves.killed / r.halves.up, 3)}**. Per-second counts of every run are in results/outage.json.`
      : "",
    "",
    "#### Propagation (bench/propagation/run.mjs)",
    "",
    r.propagation.status === "done" ? `Run by \`npm run bench\` against the same redis-server, n = ${r.propagation.n} per path:\n\n${r.propagation.text.replace(/^#+ .*\n+/m, "")}` : `_${r.propagation.text}_`,
  ];
  return lines.join("\n");
}

if (isMain) {
  await main();
  process.exit(0);
}
