// @ts-check
/** The users file shared by `detour guard --users-from`, the load and the checker. */
import { readFileSync } from "node:fs";

/**
 * User ids, one per line; blank lines and `#` comments are skipped and repeats
 * kept once, as `detour guard --users-from` reads them.
 * @param {string} text
 */
export function parseUsers(text) {
  const users = new Set();
  for (const line of text.split("\n")) {
    const user = line.trim();
    if (user !== "" && !user.startsWith("#")) users.add(user);
  }
  return [...users];
}

/** @param {string} path */
export function readUsers(path) {
  return parseUsers(readFileSync(path, "utf8"));
}

/**
 * `u001`, `u002`, ... `u<count>` (zero-padded to the width of `count`).
 * @param {number} count
 */
export function userIds(count) {
  const width = Math.max(3, String(count).length);
  return Array.from({ length: count }, (_, i) => `u${String(i + 1).padStart(width, "0")}`);
}
