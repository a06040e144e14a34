#!/usr/bin/env node
// @ts-check
/**
 * Drives the notes API while you move the rollout, and writes every
 * acknowledged write to a journal for `scripts/check.js`.
 *
 *   node scripts/load.js --url http://localhost:3000 --users users.txt --journal acked.jsonl \
 *     [--concurrency 8] [--rate 50] [--writes N] [--duration 10m]
 *
 * Runs until --writes acknowledged writes, --duration (default 10m; `90s`,
 * `5m`, `1h`) or Ctrl-C, printing its counters every 2 seconds. Exit 0 when
 * no read was stale and no request failed or conflicted, 1 otherwise.
 */
import { appendFileSync, writeFileSync } from "node:fs";
import { parseArgs } from "node:util";
import { startLoad } from "../src/load.js";
import { readUsers } from "../src/users.js";

/** @param {string} text */
function duration(text) {
  const match = /^(\d+(?:\.\d+)?)(ms|s|m|h)?$/.exec(text.trim());
  if (!match) throw new Error(`--duration: expected e.g. 90s, 5m or 1h, got ${JSON.stringify(text)}`);
  return Number(match[1]) * { ms: 1, s: 1000, m: 60_000, h: 3_600_000 }[/** @type {"ms"|"s"|"m"|"h"} */ (match[2] ?? "s")];
}

/** @param {string} name @param {string | undefined} value */
function positive(name, value) {
  const n = Number(value);
  if (!(n > 0)) throw new Error(`--${name}: expected a positive number, got ${JSON.stringify(value)}`);
  return n;
}

const { values } = parseArgs({
  options: {
    url: { type: "string", default: "http://localhost:3000" },
    users: { type: "string", default: "users.txt" },
    journal: { type: "string", default: "acked.jsonl" },
    concurrency: { type: "string", default: "8" },
    rate: { type: "string", default: "50" },
    writes: { type: "string" },
    duration: { type: "string", default: "10m" },
  },
});
writeFileSync(values.journal, "");
const load = startLoad({
  url: values.url,
  users: readUsers(values.users),
  concurrency: positive("concurrency", values.concurrency),
  rate: positive("rate", values.rate),
  writes: values.writes === undefined ? Infinity : positive("writes", values.writes),
  durationMs: duration(values.duration),
  onAck: (write) => appendFileSync(values.journal, `${JSON.stringify(write)}\n`),
});

const line = () => {
  const r = load.report;
  const by = Object.entries(r.ackedBy).map(([stage, n]) => `${stage} ${n}`).join(", ");
  return `${r.acked} writes acknowledged (${by}), ${r.refused} refused (read-only), ${r.reads} reads, ${r.staleReads} stale, ${r.conflicts} conflicts, ${r.errors} errors`;
};
const ticker = setInterval(() => console.log(line()), 2000);
process.once("SIGINT", () => {
  console.log("\nstopping after the requests in flight...");
  void load.stop();
});
const report = await load.done;
clearInterval(ticker);
console.log(`done in ${(report.ms / 1000).toFixed(1)} s: ${line()}`);
for (const problem of report.problems) console.log(`  ${problem}`);
console.log(`journal: ${values.journal}`);
process.exitCode = report.staleReads === 0 && report.errors === 0 && report.conflicts === 0 ? 0 : 1;
