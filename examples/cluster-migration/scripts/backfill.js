#!/usr/bin/env node
// @ts-check
/**
 * Copies ONE user's notes between the clusters, idempotently, and checks
 * that both then hold the same notes for that user. Meant to run under
 * `detour guard`, which appends the user id as the last argument:
 *
 *   detour guard -f notes-backfill --users-from users.txt -- node scripts/backfill.js
 *   detour guard -f notes-backfill --users-from users-on-new.txt -- node scripts/backfill.js --reverse
 *
 * Options: --reverse (copy new → old, to roll back users who were on `new`),
 * --settle MS (wait before copying for the app to see the user read-only;
 * default 100), --attempts N (copy-and-compare rounds; default 3).
 * OLD_DATABASE_URL / NEW_DATABASE_URL as for the app.
 * Exit 0 when both clusters match for the user, 1 when they still differ, 2 on a usage or database error.
 */
import { parseArgs } from "node:util";
import { backfillUser } from "../src/backfill.js";
import { clustersFromEnv } from "../src/cluster.js";

/** @param {string} name @param {string | undefined} value @param {number} fallback */
function count(name, value, fallback) {
  if (value === undefined) return fallback;
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0) throw new Error(`--${name}: expected a whole number, got ${JSON.stringify(value)}`);
  return n;
}

let code = 2;
try {
  const { values, positionals } = parseArgs({
    options: { reverse: { type: "boolean", default: false }, settle: { type: "string" }, attempts: { type: "string" } },
    allowPositionals: true,
  });
  const user = positionals.at(-1);
  if (!user || positionals.length !== 1) throw new Error("expected one user id (detour guard appends it), e.g. node scripts/backfill.js u001");
  const settleMs = count("settle", values.settle, 100);
  const attempts = Math.max(1, count("attempts", values.attempts, 3));
  const clusters = clustersFromEnv();
  const [from, to] = values.reverse ? [clusters.new, clusters.old] : [clusters.old, clusters.new];
  try {
    const result = await backfillUser({ from, to, user, settleMs, attempts });
    const what = `${user} ${from.name}→${to.name}: ${result.notes} notes, ${result.written} written`;
    if (result.identical) {
      console.log(`backfill ${what}, identical (${result.ms} ms${result.attempts > 1 ? `, ${result.attempts} rounds` : ""})`);
      code = 0;
    } else {
      console.error(`backfill ${what}, still different after ${result.attempts} rounds: ${result.difference}`);
      code = 1;
    }
  } finally {
    await Promise.all([clusters.old.close(), clusters.new.close()]);
  }
} catch (error) {
  console.error(`backfill: ${error instanceof Error ? error.message : error}`);
}
process.exitCode = code;
