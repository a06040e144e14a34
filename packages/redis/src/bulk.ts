/**
 * Sets too large for one command within the command timeout: written into a
 * staged set piece by piece before the compare-and-set (which then only
 * renames it), and read from a copy piece by piece after the read script.
 */
import { randomUUID } from "node:crypto";
import type { RedisClient } from "./connection.js";
import type { SetOp } from "./layout.js";
import { targetSetKey } from "./targets.js";

/** Sets up to this many members travel inside the scripts; larger ones are staged, scanned or copied. */
export const INLINE_MEMBERS = 10_000;
/** Scans of large sets that may find the revision moved before a read copies them instead. */
export const SCAN_ATTEMPTS = 2;
/** The command timeout of a read that copies large sets (Redis copies a million members in about a second). */
export const COPY_TIMEOUT_MS = 60_000;
const PIECE = 10_000;
/** Staged sets and read copies left behind by a process that died expire after this long. */
const LEFTOVER_SECONDS = 600;

/**
 * Stages the members of every large `r` operation in a set of its own and
 * returns the operations with those turned into `s` (rename the staged set),
 * and a function deleting what a failed write left staged.
 */
export async function stageLarge(redis: RedisClient, index: string, ops: readonly SetOp[]): Promise<{ ops: SetOp[]; discard: () => Promise<void> }> {
  const staged: string[] = [];
  const out: SetOp[] = [];
  for (const op of ops) {
    if (op.op !== "r" || op.added.length <= INLINE_MEMBERS) {
      out.push(op);
      continue;
    }
    const key = `${targetSetKey(index, op.id)}:staged:${randomUUID()}`;
    staged.push(key);
    for (let i = 0; i < op.added.length; i += PIECE) await redis.sadd(key, op.added.slice(i, i + PIECE));
    await redis.expire(key, LEFTOVER_SECONDS);
    out.push({ id: op.id, op: "s", added: [key], removed: [] });
  }
  const discard = async () => {
    if (staged.length > 0) await Promise.all(staged.map((key) => redis.unlink(key))).catch(() => {});
  };
  return { ops: out, discard };
}

/** The members of a set, fetched in pieces (a scan may return a member twice; the result has it once). */
export async function scanSet(redis: RedisClient, key: string): Promise<string[]> {
  const members = new Set<string>();
  let cursor = "0";
  do {
    const [next, items] = await redis.sscan(key, cursor, "COUNT", PIECE);
    for (const item of items) members.add(item);
    cursor = next;
  } while (cursor !== "0");
  return [...members];
}

/** The members of a read copy, fetched in pieces; the copy is deleted after. */
export async function readCopy(redis: RedisClient, copy: string): Promise<string[]> {
  try {
    return await scanSet(redis, copy);
  } finally {
    await redis.unlink(copy).catch(() => {});
  }
}
