#!/usr/bin/env node
// @ts-check
/**
 * The consistency check: every write the load saw acknowledged is in both
 * clusters, and every user's notes are identical in both.
 *
 *   node scripts/check.js --journal acked.jsonl --users users.txt [--only old|new]
 *
 * --only CLUSTER checks the acknowledged writes in that cluster alone and
 * skips the comparison (for a look in the middle of the move).
 * Exit 0 when consistent, 1 when not.
 */
import { readFileSync } from "node:fs";
import { parseArgs } from "node:util";
import { checkConsistency } from "../src/check.js";
import { clustersFromEnv } from "../src/cluster.js";
import { readUsers } from "../src/users.js";

const { values } = parseArgs({ options: { journal: { type: "string", default: "acked.jsonl" }, users: { type: "string", default: "users.txt" }, only: { type: "string" } } });
if (values.only !== undefined && values.only !== "old" && values.only !== "new") throw new Error(`--only: expected old or new, got ${JSON.stringify(values.only)}`);
const journal = readFileSync(values.journal, "utf8")
  .split("\n")
  .filter((line) => line.trim() !== "")
  .map((line) => JSON.parse(line));
const clusters = clustersFromEnv();
try {
  const report = await checkConsistency({ clusters, users: readUsers(values.users), journal, only: values.only });
  console.log(
    `${report.users} users; ${report.ackedWrites} acknowledged writes on ${report.ackedNotes} notes; ` +
      `old holds ${report.notes.old} notes, new ${report.notes.new}`,
  );
  console.log(`lost writes: ${report.lost.length}`);
  for (const lost of report.lost.slice(0, 20)) console.log(`  ${lost.user} ${lost.id} v${lost.version}: ${lost.cluster} has ${lost.found}`);
  if (!values.only) {
    console.log(`users whose notes differ between old and new: ${report.differing.length}`);
    for (const { user, difference } of report.differing.slice(0, 20)) console.log(`  ${user}: ${difference}`);
  }
  console.log(report.ok ? "consistent" : "NOT consistent");
  process.exitCode = report.ok ? 0 : 1;
} finally {
  await Promise.all([clusters.old.close(), clusters.new.close()]);
}
