// @ts-check
/**
 * The data layer the API talks to, on `@detour/migrate`: each request's reads
 * and writes go to the old cluster, the new one, or both, as the request's
 * stage of the `storage-cluster` migration flag says (LaunchDarkly's six
 * stages; the same flag data routes the same way in LaunchDarkly's SDK).
 *
 * | stage       | reads                          | writes                 |
 * |-------------|--------------------------------|------------------------|
 * | `off`       | old                            | old                    |
 * | `dualwrite` | old                            | old, then new          |
 * | `shadow`    | old, compared with new         | old, then new          |
 * | `live`      | new, compared with old         | new, then old          |
 * | `rampdown`  | new                            | new, then old          |
 * | `complete`  | new                            | new                    |
 *
 * The first (authoritative) write of an operation decides it: a create puts
 * the note, an update is a compare-and-set there (404, 409 or success). The
 * second write copies the note the first one decided, with a versioned upsert
 * (see `Cluster.put`), so it can be replayed and a late copy never undoes a
 * newer one. A copy that fails does not fail the request (the authority has
 * the write); it is counted, and the backfill repairs it.
 */
import { randomUUID } from "node:crypto";
import { createMigration, isMigrationStage, MIGRATION_STAGES } from "@detour/migrate";
import { diffNotes, isEmptyDiff } from "./compare.js";

/** @typedef {import("./cluster.js").Cluster} Cluster */
/** @typedef {import("./cluster.js").Note} Note */
/** @typedef {import("@detour/migrate").MigrationStage} Stage */

export const CLUSTER_FLAG = "storage-cluster";

/** The stages, in the order users move through them. */
export const STAGES = MIGRATION_STAGES;

/**
 * A flag value as a stage; anything else (a flag that is missing, broken or
 * holds a value this code does not know) is `off`, the old cluster that has
 * always had everything until the move started.
 * @param {unknown} value
 * @returns {Stage}
 */
export function stageOf(value) {
  return isMigrationStage(value) ? value : "off";
}

/**
 * What the data layer has done since the app started (`GET /migration/stats`).
 * @typedef {object} StorageStats
 * @property {Record<Stage, number>} reads
 * @property {Record<Stage, number>} writes
 * @property {number} verified reads compared between the clusters (`shadow`, `live`)
 * @property {number} mismatches compared reads whose two answers differed
 * @property {string[]} mismatchedUsers the last users whose reads differed (at most 20)
 * @property {number} copyErrors writes that reached the authority but not the second cluster
 */

/** @returns {StorageStats} */
function emptyStats() {
  const counts = () => /** @type {Record<Stage, number>} */ (Object.fromEntries(STAGES.map((stage) => [stage, 0])));
  return { reads: counts(), writes: counts(), verified: 0, mismatches: 0, mismatchedUsers: [], copyErrors: 0 };
}

/**
 * One write, as both clusters see it: the first to run decides (`decided`), the second copies that.
 * @typedef {{ kind: "create", note: Note } | { kind: "update", user: string, id: string, version: number, text: string, at: Date }} WriteRequest
 * @typedef {WriteRequest & { outcome?: Note | "missing" | { conflict: number } }} Write
 */

/**
 * @typedef {object} RoutedNotes
 * @property {Stage} stage
 * @property {(user: string) => Promise<Note[]>} list
 * @property {(user: string, text: string) => Promise<Note>} create
 * @property {(user: string, id: string, version: number, text: string) => Promise<Note | "missing" | { conflict: number }>} update
 */

/**
 * @param {import("@detour/core").Detour<any>} detour
 * @param {{ old: Cluster, new: Cluster }} clusters
 * @param {{ log?: (message: string) => void, now?: () => Date }} [options]
 */
export function createStorage(detour, clusters, { log = (message) => console.warn(message), now = () => new Date() } = {}) {
  const stats = emptyStats();

  /** @param {Cluster} cluster @param {Write} write */
  async function apply(cluster, write) {
    if (write.outcome !== undefined) {
      // The second write: copy what the first decided (nothing to copy after a 404 or a 409).
      if (typeof write.outcome === "object" && "id" in write.outcome) await cluster.put(write.outcome);
      return write.outcome;
    }
    write.outcome = write.kind === "create" ? (await cluster.put(write.note), write.note) : await cluster.update(write.user, write.id, write.version, write.text, write.at);
    return write.outcome;
  }

  const notes = createMigration(detour, {
    readOld: (/** @type {string} */ user) => clusters.old.list(user),
    readNew: (/** @type {string} */ user) => clusters.new.list(user),
    writeOld: (/** @type {Write} */ write) => apply(clusters.old, write),
    writeNew: (/** @type {Write} */ write) => apply(clusters.new, write),
    check: (/** @type {Note[]} */ a, /** @type {Note[]} */ b) => isEmptyDiff(diffNotes(a, b)),
    onMigrationOp(event) {
      const consistent = event.measurements.find((m) => m.key === "consistent");
      if (!consistent || !("value" in consistent)) return;
      stats.verified += 1;
      if (consistent.value) return;
      const user = event.contextKeys.user ?? "?";
      stats.mismatches += 1;
      stats.mismatchedUsers = [...stats.mismatchedUsers.filter((u) => u !== user), user].slice(-20);
      log(`[storage] ${user}: old and new differ (${event.evaluation.value})`);
    },
  });

  /**
   * @template T
   * @param {import("@detour/migrate").MigrationWriteResult<T>} result
   * @param {string} user
   */
  function authoritative(result, user) {
    const { authoritative: first, nonAuthoritative: second } = result;
    if (!first.success) throw first.error;
    if (second && !second.success) {
      stats.copyErrors += 1;
      log(`[storage] copy to ${second.origin} for ${user} failed: ${second.error instanceof Error ? second.error.message : second.error}`);
    }
    return first.result;
  }

  /**
   * The notes API for one request: its stage, from the decision Detour made for it (same snapshot, no I/O).
   * @param {import("@detour/core").Decision} decision
   * @returns {RoutedNotes}
   */
  function route(decision) {
    const stage = stageOf(decision.variation(CLUSTER_FLAG, "off"));
    return {
      stage,
      async list(user) {
        stats.reads[stage] += 1;
        const read = await notes.read(CLUSTER_FLAG, decision, "off", user);
        if (!read.success) throw read.error;
        return /** @type {Note[]} */ (read.result);
      },
      async create(user, text) {
        const at = now().toISOString();
        /** @type {Note} */
        const note = { id: randomUUID(), user, text, version: 1, createdAt: at, updatedAt: at };
        const created = authoritative(await notes.write(CLUSTER_FLAG, decision, "off", { kind: "create", note }), user);
        stats.writes[stage] += 1;
        return /** @type {Note} */ (created);
      },
      async update(user, id, version, text) {
        const result = /** @type {Note | "missing" | { conflict: number }} */ (
          authoritative(await notes.write(CLUSTER_FLAG, decision, "off", { kind: "update", user, id, version, text, at: now() }), user)
        );
        if (typeof result === "object" && "id" in result) stats.writes[stage] += 1;
        return result;
      },
    };
  }

  return { route, stats };
}

/** @typedef {ReturnType<typeof createStorage>} Storage */
