// @ts-check
/**
 * Copies one user's notes from one cluster to the other, then proves the two
 * hold the same notes for that user.
 *
 * It runs under `detour guard -f notes-backfill --users-from users.txt`, which
 * puts the user read-only for the copy: the app refuses their writes, so the
 * comparison at the end sees a user nobody is writing to. Before copying it
 * waits `settleMs`, for every app instance to see the flag (a file store's
 * watcher, Redis pub/sub) and for writes already past Detour to finish.
 *
 * The copy is an idempotent upsert guarded by the note version
 * (`Cluster.put`): running it again copies nothing, and a copy can never
 * replace a newer note, even one written by a request that slipped through
 * before the flag reached it. When the comparison still finds a difference
 * (such a late write), it copies again, up to `attempts` times, and then
 * fails: the guard leaves the user read-only and prints how to resume.
 */
import { describeDiff, diffNotes, isEmptyDiff } from "./compare.js";

/** @typedef {import("./cluster.js").Cluster} Cluster */

/**
 * @typedef {object} BackfillResult
 * @property {string} user
 * @property {boolean} identical whether both clusters hold the same notes for the user at the end
 * @property {number} notes the user's notes in the source cluster
 * @property {number} written notes that the copy created or brought up to date (0 on a re-run)
 * @property {number} attempts copy-and-compare rounds
 * @property {string} difference "identical", or what still differs
 * @property {number} ms
 */

/** @param {number} ms */
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * @param {{ from: Cluster, to: Cluster, user: string, settleMs?: number, attempts?: number }} options
 * @returns {Promise<BackfillResult>}
 */
export async function backfillUser({ from, to, user, settleMs = 100, attempts = 3 }) {
  const started = performance.now();
  let written = 0;
  let notes = 0;
  let difference = "";
  if (settleMs > 0) await sleep(settleMs);
  for (let attempt = 1; attempt <= attempts; attempt += 1) {
    const source = await from.list(user);
    notes = source.length;
    for (const note of source) if (await to.put(note)) written += 1;
    const diff = diffNotes(await from.list(user), await to.list(user));
    difference = describeDiff(diff, from.name, to.name);
    if (isEmptyDiff(diff)) return { user, identical: true, notes, written, attempts: attempt, difference, ms: Math.round(performance.now() - started) };
    if (attempt < attempts) await sleep(Math.max(settleMs, 20));
  }
  return { user, identical: false, notes, written, attempts, difference, ms: Math.round(performance.now() - started) };
}
