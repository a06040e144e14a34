import { randomBytes } from "node:crypto";
import { open, rename, unlink } from "node:fs/promises";
import { basename, dirname, join } from "node:path";
import { hasCode } from "./errors.js";

/** Options of {@link writeAtomically}. */
export interface AtomicWriteOptions {
  /** Permissions of the new file, exactly (no umask). Default: `0o666` less the umask, as for any new file. */
  readonly mode?: number;
  /** Runs after the data is on disk, before the rename; throw to abort (the temporary file is removed, `path` is untouched). */
  readonly beforeRename?: () => Promise<void>;
  /**
   * Runs synchronously the moment the rename is done (before the directory is
   * fsynced): from here on every reader of `path` sees `text`.
   */
  readonly onRenamed?: () => void;
}

/**
 * Replaces `path` with `text` so that readers see the old or the new file,
 * never a mix, and the new one survives a crash: writes a temporary file in
 * the same directory, fsyncs it, renames it over `path`, fsyncs the directory.
 *
 * Rejects with the file system's error (the temporary file is removed).
 * Concurrent writers of one path need a lock around this (see
 * `acquireFileLock`): each rename is atomic, but the last one wins.
 */
export async function writeAtomically(path: string, text: string, options: AtomicWriteOptions = {}): Promise<void> {
  const { mode } = options;
  const directory = dirname(path);
  const temporary = join(directory, `.${basename(path)}.${process.pid}.${randomBytes(6).toString("hex")}.tmp`);
  const handle = await open(temporary, "wx", mode ?? 0o666);
  let renamed = false;
  try {
    try {
      // Keep the permissions exactly (open() applies the umask).
      if (mode !== undefined) await handle.chmod(mode);
      await handle.writeFile(text, "utf8");
      await handle.sync();
    } finally {
      await handle.close();
    }
    await options.beforeRename?.();
    await rename(temporary, path);
    renamed = true;
    options.onRenamed?.();
  } finally {
    if (!renamed) await unlink(temporary).catch(() => undefined);
  }
  await syncDirectory(directory);
}

/** Makes a rename in `directory` durable. Not every platform can open a directory (Windows): skipped there. */
async function syncDirectory(directory: string): Promise<void> {
  let handle;
  try {
    handle = await open(directory, "r");
  } catch {
    return;
  }
  try {
    await handle.sync();
  } catch (error) {
    if (!hasCode(error, "EINVAL") && !hasCode(error, "EPERM") && !hasCode(error, "EISDIR")) throw error;
  } finally {
    await handle.close();
  }
}
