// @ts-check
/**
 * Creating the two clusters' databases and tables, and the data that exists
 * before the move: a few notes per user, in the old cluster only.
 */
import { randomUUID } from "node:crypto";
import pg from "pg";

/** @typedef {import("./cluster.js").Cluster} Cluster */

/**
 * The server's maintenance connection for a database URL: the same server, database `postgres`.
 * @param {string} url
 */
function serverOf(url) {
  const parsed = new URL(url);
  const name = decodeURIComponent(parsed.pathname.replace(/^\//, ""));
  if (!/^[a-z_][a-z0-9_]*$/.test(name)) throw new Error(`${url}: expected a database name of lower-case letters, digits and _, got ${JSON.stringify(name)}`);
  parsed.pathname = "/postgres";
  return { name, server: parsed.toString() };
}

/**
 * `CREATE DATABASE` for the URL's database when it does not exist yet (needs the CREATEDB right).
 * @param {string} url
 * @returns {Promise<boolean>} true when it was created
 */
export async function createDatabase(url) {
  const { name, server } = serverOf(url);
  const client = new pg.Client({ connectionString: server });
  await client.connect();
  try {
    const { rowCount } = await client.query("SELECT 1 FROM pg_database WHERE datname = $1", [name]);
    if (rowCount) return false;
    // template0: never busy, unlike template1, which another session may be connected to.
    await client.query(`CREATE DATABASE "${name}" TEMPLATE template0`);
    return true;
  } finally {
    await client.end();
  }
}

/**
 * `DROP DATABASE ... WITH (FORCE)` (closes what is still connected to it).
 * @param {string} url
 */
export async function dropDatabase(url) {
  const { name, server } = serverOf(url);
  const client = new pg.Client({ connectionString: server });
  await client.connect();
  try {
    await client.query(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`);
  } finally {
    await client.end();
  }
}

/**
 * Creates the table in both clusters and gives every user without notes in
 * the old cluster `notesPerUser` notes there (the new cluster stays empty:
 * that is what the backfill is for).
 * @param {{ clusters: { old: Cluster, new: Cluster }, users: readonly string[], notesPerUser?: number, now?: () => Date }} options
 * @returns {Promise<number>} the notes written
 */
export async function seed({ clusters, users, notesPerUser = 3, now = () => new Date() }) {
  await clusters.old.migrate();
  await clusters.new.migrate();
  let written = 0;
  for (const user of users) {
    if ((await clusters.old.list(user)).length > 0) continue;
    for (let i = 1; i <= notesPerUser; i += 1) {
      const at = new Date(now().getTime() - (notesPerUser - i) * 60_000).toISOString();
      await clusters.old.put({ id: randomUUID(), user, text: `${user}'s note ${i}, from before the move`, version: 1, createdAt: at, updatedAt: at });
      written += 1;
    }
  }
  return written;
}
