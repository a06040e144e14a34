// @ts-check
/**
 * The consistency check: replays the journal of acknowledged writes against
 * the clusters and compares them user by user.
 *
 * - lost: an acknowledged write that a cluster does not have: the note is
 *   missing, at an older version, or at the same version with other text.
 *   (A newer version is fine: a later write of the same note.)
 * - differing: a user whose notes are not the same in both clusters. Under
 *   load a write can sit between its two stores for a moment, so a user who
 *   differs is read again (`recheck` times, `recheckMs` apart) and reported
 *   only when the difference stays.
 */
import { describeDiff, diffNotes, isEmptyDiff } from "./compare.js";

/** @typedef {import("./cluster.js").Cluster} Cluster */
/** @typedef {import("./load.js").AckedWrite} AckedWrite */

/**
 * @typedef {object} ConsistencyReport
 * @property {number} users
 * @property {{ old: number, new: number }} notes notes in each cluster, over these users
 * @property {number} ackedWrites journal entries
 * @property {number} ackedNotes distinct notes in the journal
 * @property {{ user: string, id: string, version: number, cluster: string, found: string }[]} lost
 * @property {{ user: string, difference: string }[]} differing
 * @property {boolean} ok no lost write and (unless `only` was given) no difference
 */

/**
 * @param {{ clusters: { old: Cluster, new: Cluster }, users: readonly string[], journal: readonly AckedWrite[], only?: "old" | "new", recheck?: number, recheckMs?: number }} options
 *   `only`: check acknowledged writes in that cluster alone and skip the comparison (mid-rollout, when one cluster is behind by design)
 * @returns {Promise<ConsistencyReport>}
 */
export async function checkConsistency({ clusters, users, journal, only, recheck = 3, recheckMs = 200 }) {
  /** The newest acknowledged state of each note. @type {Map<string, AckedWrite>} */
  const newest = new Map();
  for (const write of journal) {
    const before = newest.get(write.id);
    if (!before || before.version < write.version) newest.set(write.id, write);
  }
  /** @type {Map<string, AckedWrite[]>} */
  const byUser = new Map();
  for (const write of newest.values()) byUser.set(write.user, [...(byUser.get(write.user) ?? []), write]);

  /** @type {ConsistencyReport} */
  const report = { users: users.length, notes: { old: 0, new: 0 }, ackedWrites: journal.length, ackedNotes: newest.size, lost: [], differing: [], ok: false };
  const checked = only ? [only] : /** @type {const} */ (["old", "new"]);
  for (const user of new Set([...users, ...byUser.keys()])) {
    const [oldNotes, newNotes] = await Promise.all([clusters.old.list(user), clusters.new.list(user)]);
    report.notes.old += oldNotes.length;
    report.notes.new += newNotes.length;
    const held = { old: new Map(oldNotes.map((n) => [n.id, n])), new: new Map(newNotes.map((n) => [n.id, n])) };
    for (const write of byUser.get(user) ?? []) {
      for (const cluster of checked) {
        const note = held[cluster].get(write.id);
        if (!note || note.version < write.version || (note.version === write.version && note.text !== write.text)) {
          report.lost.push({ user, id: write.id, version: write.version, cluster, found: note ? `v${note.version} ${JSON.stringify(note.text)}` : "nothing" });
        }
      }
    }
    if (!only) {
      let diff = diffNotes(oldNotes, newNotes);
      for (let round = 0; round < recheck && !isEmptyDiff(diff); round += 1) {
        await new Promise((resolve) => setTimeout(resolve, recheckMs));
        const [oldAgain, newAgain] = await Promise.all([clusters.old.list(user), clusters.new.list(user)]);
        diff = diffNotes(oldAgain, newAgain);
      }
      if (!isEmptyDiff(diff)) report.differing.push({ user, difference: describeDiff(diff, "old", "new") });
    }
  }
  report.ok = report.lost.length === 0 && report.differing.length === 0;
  return report;
}
