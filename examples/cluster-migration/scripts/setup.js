#!/usr/bin/env node
// @ts-check
/**
 * Prepares the move: creates the old and new clusters' databases and tables
 * (OLD_DATABASE_URL / NEW_DATABASE_URL, default notes_old and notes_new on the
 * local PostgreSQL), seeds the old cluster with a few notes per user, and
 * writes the users file.
 *
 *   node scripts/setup.js [--users 200] [--notes 3] [--users-file users.txt]
 */
import { writeFileSync } from "node:fs";
import { parseArgs } from "node:util";
import { clustersFromEnv } from "../src/cluster.js";
import { createDatabase, seed } from "../src/setup.js";
import { userIds } from "../src/users.js";

const { values } = parseArgs({
  options: { users: { type: "string", default: "200" }, notes: { type: "string", default: "3" }, "users-file": { type: "string", default: "users.txt" } },
});
const count = Number(values.users);
const notesPerUser = Number(values.notes);
if (!Number.isInteger(count) || count < 1) throw new Error(`--users: expected a positive whole number, got ${values.users}`);
if (!Number.isInteger(notesPerUser) || notesPerUser < 0) throw new Error(`--notes: expected a whole number, got ${values.notes}`);

const clusters = clustersFromEnv();
try {
  for (const cluster of [clusters.old, clusters.new]) {
    const url = /** @type {string} */ (cluster.pool.options.connectionString);
    console.log(`${cluster.name} cluster: ${url}${(await createDatabase(url)) ? " (created)" : ""}`);
  }
  const users = userIds(count);
  const written = await seed({ clusters, users, notesPerUser });
  writeFileSync(values["users-file"], `${users.join("\n")}\n`);
  console.log(`${users.length} users in ${values["users-file"]}; ${written} notes written to the old cluster`);
} finally {
  await Promise.all([clusters.old.close(), clusters.new.close()]);
}
