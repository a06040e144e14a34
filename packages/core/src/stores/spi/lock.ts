/**
 * An exclusive lock across processes, held as a lock file created with
 * `O_CREAT | O_EXCL` (`wx`) that records who holds it (pid, host, time, a
 * random token).
 *
 * A lock whose holder is gone (same host, pid no longer running) or that is
 * older than `staleMs` is broken. Breakers take a second, short-lived lock
 * (`<lock>.break`) and re-check that the lock they judged stale is still the
 * same file before removing it, so two breakers never remove a lock that a
 * third process has just taken.
 */
import { randomBytes } from "node:crypto";
import { readFile, stat, unlink, writeFile } from "node:fs/promises";
import { hostname } from "node:os";
import { StoreUnavailableError, WriteConflictError } from "../../errors.js";
import { hasCode } from "./errors.js";

/** How a file lock is acquired and when an existing one counts as abandoned. */
export interface FileLockOptions {
  /** Give up (reject with `WriteConflictError`) after this long. Default 15000 ms. */
  timeoutMs?: number;
  /** A lock older than this is broken even when its holder still runs (or runs on another host). Default 10000 ms. */
  staleMs?: number;
  /** First retry delay; later ones grow exponentially up to `retryMaxMs`, with full jitter. Default 2 ms. */
  retryMinMs?: number;
  /** Largest retry delay. Default 20 ms. */
  retryMaxMs?: number;
}

/** What a lock file holds. */
export interface LockOwner {
  readonly pid: number;
  readonly hostname: string;
  /** Epoch milliseconds when the lock was taken. */
  readonly acquiredAt: number;
  readonly token: string;
}

/** A lock this process holds. */
export interface FileLock {
  readonly path: string;
  readonly owner: LockOwner;
  /** True while the lock file on disk is still ours (nobody broke it). */
  stillHeld(): Promise<boolean>;
  /** Removes the lock file if it is still ours. Idempotent, never throws. */
  release(): Promise<void>;
}

const DEFAULTS = { timeoutMs: 15_000, staleMs: 10_000, retryMinMs: 2, retryMaxMs: 20 } as const;
/** The break lock guards a few milliseconds of work; one older than this belongs to a crashed breaker. */
const BREAK_LOCK_STALE_MS = 2_000;
const HOST = hostname();

/**
 * Takes the lock at `lockPath`, waiting with jittered exponential backoff
 * while another live process holds it and breaking abandoned locks. Rejects
 * with a `WriteConflictError` naming the lock and its holder after `timeoutMs`,
 * or a `StoreUnavailableError` when the lock file cannot be created at all
 * (missing directory, no permission).
 */
export async function acquireFileLock(lockPath: string, options: FileLockOptions = {}): Promise<FileLock> {
  const { timeoutMs, staleMs, retryMinMs, retryMaxMs } = { ...DEFAULTS, ...definedOnly(options) };
  const deadline = Date.now() + timeoutMs;
  let attempt = 0;
  let holder: LockOwner | undefined;
  for (;;) {
    const owner: LockOwner = { pid: process.pid, hostname: HOST, acquiredAt: Date.now(), token: randomBytes(12).toString("hex") };
    const text = JSON.stringify(owner);
    try {
      await writeFile(lockPath, text, { flag: "wx" });
      return heldLock(lockPath, owner, text);
    } catch (error) {
      if (!hasCode(error, "EEXIST")) {
        throw new StoreUnavailableError(`cannot create lock file ${lockPath}: ${(error as Error).message}`, { cause: error });
      }
    }
    const existing = await inspect(lockPath);
    if (existing !== undefined) {
      holder = existing.owner ?? holder;
      if (isAbandoned(existing, staleMs) && (await breakLock(lockPath, existing.raw))) continue;
    } else if (Date.now() < deadline) {
      continue; // released between our attempt and our look: try again at once
    }
    if (Date.now() >= deadline) {
      const by = holder ? ` (held by pid ${holder.pid} on ${holder.hostname} since ${new Date(holder.acquiredAt).toISOString()})` : "";
      throw new WriteConflictError(`could not lock ${lockPath} within ${timeoutMs} ms${by}; another writer holds it`);
    }
    const ceiling = Math.min(retryMaxMs, retryMinMs * 2 ** Math.min(attempt, 16));
    attempt += 1;
    await sleep(Math.min(Math.max(1, Math.random() * ceiling), Math.max(1, deadline - Date.now())));
  }
}

function heldLock(path: string, owner: LockOwner, text: string): FileLock {
  let released = false;
  const stillHeld = async (): Promise<boolean> => {
    try {
      return (await readFile(path, "utf8")) === text;
    } catch {
      return false;
    }
  };
  return {
    path,
    owner,
    stillHeld,
    async release(): Promise<void> {
      if (released) return;
      released = true;
      // Only remove the file when it is still ours: if our lock was broken as
      // stale, the file now belongs to someone else.
      if (await stillHeld()) await unlink(path).catch(() => undefined);
    },
  };
}

interface ExistingLock {
  /** The file's content exactly as read, to recognise the same lock later. */
  readonly raw: string;
  readonly owner: LockOwner | undefined;
  readonly mtimeMs: number;
}

async function inspect(lockPath: string): Promise<ExistingLock | undefined> {
  try {
    const [raw, info] = await Promise.all([readFile(lockPath, "utf8"), stat(lockPath)]);
    return { raw, owner: parseOwner(raw), mtimeMs: info.mtimeMs };
  } catch (error) {
    if (hasCode(error, "ENOENT")) return undefined; // released meanwhile
    throw error;
  }
}

/**
 * A lock is abandoned when its holder ran on this host and is gone, or when
 * it is older than `staleMs`. A lock file that cannot be parsed (its holder is
 * between creating and writing it, or died there) is judged by its mtime.
 */
function isAbandoned(lock: ExistingLock, staleMs: number): boolean {
  const { owner } = lock;
  const takenAt = owner?.acquiredAt ?? lock.mtimeMs;
  if (Date.now() - takenAt > staleMs) return true;
  return owner !== undefined && owner.hostname === HOST && !processRuns(owner.pid);
}

/**
 * Removes the lock file if it still holds `raw`. Returns true when the caller
 * should retry acquiring at once (the lock was broken or is already gone).
 */
async function breakLock(lockPath: string, raw: string): Promise<boolean> {
  const breakPath = `${lockPath}.break`;
  try {
    await writeFile(breakPath, String(process.pid), { flag: "wx" });
  } catch (error) {
    if (!hasCode(error, "EEXIST")) throw error;
    // Another process is breaking it right now, or died doing so.
    const info = await stat(breakPath).catch(() => undefined);
    if (info !== undefined && Date.now() - info.mtimeMs > BREAK_LOCK_STALE_MS) await unlink(breakPath).catch(() => undefined);
    return false;
  }
  try {
    const now = await readFile(lockPath, "utf8").catch((error: unknown) => {
      if (hasCode(error, "ENOENT")) return undefined;
      throw error;
    });
    if (now === undefined) return true;
    if (now !== raw) return false; // someone else broke it and took a new lock
    await unlink(lockPath).catch((error: unknown) => {
      if (!hasCode(error, "ENOENT")) throw error;
    });
    return true;
  } finally {
    await unlink(breakPath).catch(() => undefined);
  }
}

function parseOwner(raw: string): LockOwner | undefined {
  try {
    const value: unknown = JSON.parse(raw);
    if (value === null || typeof value !== "object") return undefined;
    const { pid, hostname: host, acquiredAt, token } = value as Record<string, unknown>;
    if (!Number.isInteger(pid) || typeof host !== "string" || typeof acquiredAt !== "number" || typeof token !== "string") return undefined;
    return { pid: pid as number, hostname: host, acquiredAt, token };
  } catch {
    return undefined;
  }
}

/** Whether a process with this pid runs on this host (EPERM: it runs, as another user). */
function processRuns(pid: number): boolean {
  if (pid === process.pid) return true;
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return !hasCode(error, "ESRCH");
  }
}

function definedOnly<T extends object>(options: T): Partial<T> {
  return Object.fromEntries(Object.entries(options).filter(([, v]) => v !== undefined)) as Partial<T>;
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
