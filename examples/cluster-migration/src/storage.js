// @ts-check
/**
 * The data layer the API talks to: it routes each request's reads and
 * writes to the old cluster, the new one, or both, as the request's value of
 * the `storage-cluster` flag says.
 *
 * | value        | writes                    | reads                              |
 * |--------------|---------------------------|------------------------------------|
 * | `old`        | old                       | old                                |
 * | `dual`       | old, then a copy to new   | old                                |
 * | `new-verify` | new, then a copy to old   | new, compared with old             |
 * | `new`        | new                       | new                                |
 *
 * The first store of a write is the authority: a compare-and-set there
 * decides the write (404, 409 or success). The copy to the second store is a
 * versioned upsert (see `Cluster.put`), so it can be replayed and a late copy
 * never undoes a newer one. A copy that fails does not fail the request (the
 * authority has the write); it is counted, and the backfill repairs it.
 */
import { randomUUID } from "node:crypto";
import { diffNotes, isEmptyDiff } from "./compare.js";

/** @typedef {import("./cluster.js").Cluster} Cluster */
/** @typedef {import("./cluster.js").Note} Note */

export const CLUSTER_FLAG = "storage-cluster";

/** The flag's variations, in the order users move through them. */
export const STAGES = /** @type {const} */ (["old", "dual", "new-verify", "new"]);

/** @typedef {typeof STAGES[number]} Stage */

/**
 * @typedef {object} Route
 * @property {"old" | "new"} primary where reads come from and writes are decided
 * @property {"old" | "new" | null} copy the other store that every write is copied to, or none
 * @property {boolean} verify whether reads are compared with the other store
 */

/** @type {Readonly<Record<Stage, Route>>} */
export const ROUTES = Object.freeze({
  old: { primary: "old", copy: null, verify: false },
  dual: { primary: "old", copy: "new", verify: false },
  "new-verify": { primary: "new", copy: "old", verify: true },
  new: { primary: "new", copy: null, verify: false },
});

/**
 * A flag value as a stage; anything else (a flag that is missing, broken or
 * holds a value this code does not know) is `old`, the store that has always
 * had everything until the move started.
 * @param {unknown} value
 * @returns {Stage}
 */
export function stageOf(value) {
  return typeof value === "string" && Object.prototype.hasOwnProperty.call(ROUTES, value) ? /** @type {Stage} */ (value) : "old";
}

/**
 * What the data layer has done since the app started (`GET /migration/stats`).
 * @typedef {object} StorageStats
 * @property {Record<Stage, number>} reads
 * @property {Record<Stage, number>} writes
 * @property {number} verified reads compared between the clusters (`new-verify`)
 * @property {number} mismatches compared reads whose two answers differed
 * @property {string[]} mismatchedUsers the last users whose reads differed (at most 20)
 * @property {number} copyErrors writes that reached the authority but not the second store
 */

/** @returns {StorageStats} */
function emptyStats() {
  const counts = () => ({ old: 0, dual: 0, "new-verify": 0, new: 0 });
  return { reads: counts(), writes: counts(), verified: 0, mismatches: 0, mismatchedUsers: [], copyErrors: 0 };
}

/**
 * @typedef {object} RoutedNotes
 * @property {(user: string) => Promise<Note[]>} list
 * @property {(user: string, text: string) => Promise<Note>} create
 * @property {(user: string, id: string, version: number, text: string) => Promise<Note | "missing" | { conflict: number }>} update
 */

/**
 * @param {{ old: Cluster, new: Cluster }} clusters
 * @param {{ log?: (message: string) => void, now?: () => Date }} [options]
 */
export function createStorage(clusters, { log = (message) => console.warn(message), now = () => new Date() } = {}) {
  const stats = emptyStats();

  /** @param {Note} note @param {"old" | "new" | null} target */
  async function copy(note, target) {
    if (target === null) return;
    try {
      await clusters[target].put(note);
    } catch (error) {
      stats.copyErrors += 1;
      log(`[storage] copy of note ${note.id} (${note.user}) to ${target} failed: ${error instanceof Error ? error.message : error}`);
    }
  }

  /**
   * The notes API for one request, on the route of `stage`.
   * @param {Stage} stage
   * @returns {RoutedNotes}
   */
  function route(stage) {
    const { primary, copy: second, verify } = ROUTES[stage];
    return {
      async list(user) {
        stats.reads[stage] += 1;
        if (!verify || second === null) return clusters[primary].list(user);
        const [answer, other] = await Promise.all([clusters[primary].list(user), clusters[second].list(user)]);
        stats.verified += 1;
        if (!isEmptyDiff(diffNotes(answer, other))) {
          stats.mismatches += 1;
          stats.mismatchedUsers = [...stats.mismatchedUsers.filter((u) => u !== user), user].slice(-20);
          log(`[storage] ${user}: ${primary} and ${second} differ (${answer.length} vs ${other.length} notes)`);
        }
        return answer;
      },
      async create(user, text) {
        const at = now().toISOString();
        /** @type {Note} */
        const note = { id: randomUUID(), user, text, version: 1, createdAt: at, updatedAt: at };
        await clusters[primary].put(note);
        stats.writes[stage] += 1;
        await copy(note, second);
        return note;
      },
      async update(user, id, version, text) {
        const result = await clusters[primary].update(user, id, version, text, now());
        if (typeof result === "object" && "id" in result) {
          stats.writes[stage] += 1;
          await copy(result, second);
        }
        return result;
      },
    };
  }

  return { route, stats };
}

/** @typedef {ReturnType<typeof createStorage>} Storage */
