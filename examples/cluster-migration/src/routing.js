// @ts-check
/** Which cluster serves each user, read from the flag store as the app reads it. */
import { CLUSTER_FLAG, stageOf } from "./storage.js";

/**
 * Each user's stage under the current `storage-cluster` flag. The rollout
 * buckets by user id (the context `key`), so `{ key: user }` is all it takes.
 * @param {import("@detour/core").Detour<any>} detour
 * @param {readonly string[]} users
 * @returns {Map<string, import("./storage.js").Stage>}
 */
export function routingOf(detour, users) {
  return new Map(users.map((user) => [user, stageOf(detour.variation(CLUSTER_FLAG, { key: user }, "off"))]));
}
