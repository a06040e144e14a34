/**
 * Writing the file store's document: every write takes the lock file shared
 * with other processes, re-reads the document under it, and replaces the
 * file atomically (temporary file, fsync, rename, directory fsync).
 */
import { stat } from "node:fs/promises";
import { StoreUnavailableError } from "../../errors.js";
import type { Snapshot } from "../../snapshot.js";
import { hasCode } from "../spi/errors.js";
import { applyMutation } from "../spi/mutation.js";
import type { Mutator } from "../types.js";
import { writeAtomically } from "../spi/atomic.js";
import { EMPTY_DOCUMENT, missingFileError, parseDocumentFile, readDocumentFile } from "./document-file.js";
import { acquireFileLock, type FileLockOptions } from "../spi/lock.js";

/** The file a store writes and how. */
export interface WriteTarget {
  readonly path: string;
  readonly lockPath: string;
  /** Start from `{ "flags": {} }` when the file does not exist (else a write rejects). */
  readonly create: boolean;
  readonly lock: FileLockOptions;
}

/**
 * What the writing process learns while it replaces the file, so that its
 * own write is announced once, by the writer, whoever reads the file first.
 */
export interface WriteHooks {
  /** `text` is about to be renamed over the file: a read that sees these bytes from now on is this write. */
  renaming(text: string): void;
  /** The new file is in place: called synchronously after the rename, while the lock is still held. */
  renamed(text: string, next: Snapshot): void;
  /** The write failed (before or after the rename). */
  failed(text: string): void;
}

/** Read-modify-write under the lock. */
export async function writeLocked(target: WriteTarget, mutator: Mutator, now: () => number, hooks: WriteHooks): Promise<Snapshot> {
  const lock = await acquireFileLock(target.lockPath, target.lock);
  try {
    // Never trust the in-memory snapshot: another process may have written since.
    const current = await readForWrite(target, now);
    const next = applyMutation(current.snapshot, mutator, { source: target.path, now: now() });
    const text = `${JSON.stringify(next.document, null, 2)}\n`;
    try {
      await writeAtomically(target.path, text, {
        ...(current.mode === undefined ? {} : { mode: current.mode }),
        beforeRename: async () => {
          if (!(await lock.stillHeld())) {
            throw new StoreUnavailableError(
              `${target.lockPath} was broken as stale while this write held it (it took longer than lock.staleMs); nothing was written`,
            );
          }
          hooks.renaming(text);
        },
        onRenamed: () => hooks.renamed(text, next),
      });
    } catch (error) {
      hooks.failed(text);
      throw error;
    }
    return next;
  } finally {
    await lock.release();
  }
}

/** Creates the file with `{ "flags": {} }` under the lock unless it exists by then. */
export async function createIfMissing(target: WriteTarget): Promise<void> {
  const lock = await acquireFileLock(target.lockPath, target.lock);
  try {
    const exists = await stat(target.path).then(
      () => true,
      (error: unknown) => {
        if (hasCode(error, "ENOENT")) return false;
        throw error;
      },
    );
    if (!exists) await writeAtomically(target.path, EMPTY_DOCUMENT);
  } finally {
    await lock.release();
  }
}

async function readForWrite(target: WriteTarget, now: () => number): Promise<{ snapshot: Snapshot; mode: number | undefined }> {
  const read = await readDocumentFile(target.path);
  if (read === undefined && !target.create) throw missingFileError(target.path);
  // A file that cannot be read as a valid document is never overwritten by a read-modify-write.
  return { snapshot: parseDocumentFile(target.path, read?.text ?? EMPTY_DOCUMENT, now()), mode: read?.mode };
}
