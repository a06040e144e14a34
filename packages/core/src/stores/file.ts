import { randomBytes } from "node:crypto";
import { watch, type FSWatcher, type Stats } from "node:fs";
import { open, readFile, rename, stat, unlink } from "node:fs/promises";
import { basename, dirname, join, resolve } from "node:path";
import { OptionsError, StoreClosedError, StoreUnavailableError } from "../errors.js";
import { Snapshot } from "../snapshot.js";
import { SerialQueue, StoreState, applyMutation, describeError } from "./base.js";
import { acquireFileLock, type FileLockOptions } from "./lock.js";
import type { Mutator, Store, StoreHealth, StoreListener } from "./types.js";

/** Options of {@link fileStore}. */
export interface FileStoreOptions {
  /** Create the file with `{ "flags": {} }` when it does not exist (on load, and on write). Default false. */
  create?: boolean;
  /** Watch the file's directory with fs.watch after `load()` (polling runs either way unless `pollIntervalMs` is 0). Default true. */
  watch?: boolean;
  /** Wait this long after a change notification before reading, so a burst of events costs one read. Default 50 ms. */
  debounceMs?: number;
  /** Also stat the file this often (fs.watch can miss events, e.g. on network file systems); 0 turns it off. Default 2000 ms. */
  pollIntervalMs?: number;
  /** How writers lock the file against each other. */
  lock?: FileLockOptions;
}

/** A store backed by one JSON file. */
export interface FileStore extends Store {
  readonly kind: "file";
  /** Absolute path of the document. */
  readonly path: string;
  /** Absolute path of the lock file writers take (`<path>.lock`). */
  readonly lockPath: string;
}

const EMPTY_DOCUMENT = `${JSON.stringify({ flags: {} }, null, 2)}\n`;

/**
 * Creates a store backed by the JSON file at `path`.
 *
 * `load()` reads and validates the file and starts watching it: the
 * directory is watched (editors and writers replace the file by rename), and
 * the file is also stat'ed every `pollIntervalMs`. A changed file is read and
 * its snapshot put in force; a half-written, unparsable or invalid file keeps
 * the last good snapshot, emits an `error` event and makes `health()` report
 * the error (`stale: true`) until the file is valid again.
 *
 * `write(mutator)` takes `<path>.lock` (shared with other processes), re-reads
 * the file, applies the mutator, validates, increments `revision`, writes a
 * temporary file in the same directory, fsyncs it, renames it over the
 * document, fsyncs the directory and releases the lock: concurrent writers,
 * in any process, never lose an update and readers never see half a file.
 * `write()` does not need `load()` first (one-shot writers such as the CLI
 * need no watcher).
 *
 * `close()` stops watchers and timers and waits for writes in progress.
 */
export function fileStore(path: string, options: FileStoreOptions = {}): FileStore {
  return new FileBackedStore(resolve(path), checkOptions(options));
}

interface ResolvedOptions {
  create: boolean;
  watch: boolean;
  debounceMs: number;
  pollIntervalMs: number;
  lock: FileLockOptions;
}

function checkOptions(options: FileStoreOptions): ResolvedOptions {
  const ms = (name: string, value: number | undefined, fallback: number): number => {
    if (value === undefined) return fallback;
    if (typeof value !== "number" || !Number.isFinite(value) || value < 0) {
      throw new OptionsError(name, `expected a number of milliseconds >= 0, got ${String(value)}`);
    }
    return value;
  };
  const lock = options.lock ?? {};
  for (const key of ["timeoutMs", "staleMs", "retryMinMs", "retryMaxMs"] as const) ms(`lock.${key}`, lock[key], 0);
  return {
    create: options.create === true,
    watch: options.watch !== false,
    debounceMs: ms("debounceMs", options.debounceMs, 50),
    pollIntervalMs: ms("pollIntervalMs", options.pollIntervalMs, 2_000),
    lock,
  };
}

class FileBackedStore implements FileStore {
  readonly kind = "file" as const;
  readonly path: string;
  readonly lockPath: string;
  readonly #options: ResolvedOptions;
  readonly #state = new StoreState("file");
  readonly #writes = new SerialQueue();
  #loading: Promise<Snapshot> | undefined;

  // Watching.
  #watcher: FSWatcher | undefined;
  #poller: NodeJS.Timeout | undefined;
  #debounce: NodeJS.Timeout | undefined;
  #watching = false;
  #refreshing: Promise<void> | undefined;
  #refreshAgain = false;

  // What was last read, to skip work when nothing changed.
  /** Text of the file as last read (valid or not); `undefined` when unknown or missing. */
  #text: string | undefined;
  /** Identity of the file (inode, size, times) as last read. */
  #signature: string | undefined;
  /**
   * Reads are numbered when they start; a read finishing after a newer read
   * or write was applied is dropped, so an old file never replaces a newer one.
   */
  #sequence = 0;
  #applied = 0;

  constructor(path: string, options: ResolvedOptions) {
    this.path = path;
    this.lockPath = `${path}.lock`;
    this.#options = options;
  }

  load(): Promise<Snapshot> {
    if (this.#state.closed) return Promise.reject(this.#closedError());
    const current = this.#state.snapshot;
    if (current !== undefined) return Promise.resolve(current);
    this.#startWatching();
    this.#loading ??= this.#firstLoad().finally(() => {
      this.#loading = undefined;
    });
    return this.#loading;
  }

  snapshot(): Snapshot | undefined {
    return this.#state.snapshot;
  }

  subscribe(listener: StoreListener): () => void {
    return this.#state.subscribe(listener);
  }

  write(mutator: Mutator): Promise<Snapshot> {
    if (this.#state.closed) return Promise.reject(this.#closedError());
    // Writers of one process queue here rather than fight over the lock file.
    return this.#writes.run(() => this.#lockedWrite(mutator));
  }

  health(): StoreHealth {
    return this.#state.health();
  }

  async close(): Promise<void> {
    if (this.#state.closed) return;
    this.#state.close();
    this.#watching = false;
    this.#watcher?.close();
    this.#watcher = undefined;
    clearInterval(this.#poller);
    clearTimeout(this.#debounce);
    await Promise.all([this.#writes.idle(), this.#refreshing]);
  }

  // ---- reading ----

  async #firstLoad(): Promise<Snapshot> {
    const sequence = ++this.#sequence;
    try {
      let read = await this.#read();
      if (read === undefined) {
        if (!this.#options.create) {
          throw new StoreUnavailableError(`${this.path} does not exist; create it or pass { create: true } to fileStore()`);
        }
        await this.#createIfMissing();
        read = await this.#read();
        if (read === undefined) throw new StoreUnavailableError(`${this.path} was removed right after it was created`);
      }
      let snapshot: Snapshot;
      try {
        snapshot = this.#parse(read.text);
      } catch (error) {
        // Remember the bad bytes: polling reports nothing new until they change.
        this.#text = read.text;
        this.#signature = read.signature;
        throw error;
      }
      this.#applyRead(sequence, read, snapshot);
      return this.#state.snapshot ?? snapshot;
    } catch (error) {
      // load() rejects with the error; health() reports it until a read succeeds.
      this.#state.fail(asError(error), { emit: false });
      throw error;
    }
  }

  /** Reads the file; `undefined` when it does not exist. Other errors reject. */
  async #read(): Promise<{ text: string; signature: string } | undefined> {
    try {
      // stat before reading: if the file changes in between, the next poll sees a new signature.
      const info = await stat(this.path);
      const text = await readFile(this.path, "utf8");
      return { text, signature: signatureOf(info) };
    } catch (error) {
      if (hasCode(error, "ENOENT")) return undefined;
      throw new StoreUnavailableError(`cannot read ${this.path}: ${describeError(error)}`, { cause: error });
    }
  }

  /**
   * Validates and compiles the file's text; throws naming the path. Errors
   * never quote the file: it may have been swapped for another (a symlink),
   * and the message ends up in `health().error`, the admin API and logs.
   */
  #parse(text: string): Snapshot {
    let json: unknown;
    try {
      json = JSON.parse(text);
    } catch (error) {
      const what = text.trim() === "" ? "is empty" : `is not valid JSON (${syntaxErrorPlace(text, error)})`;
      throw new StoreUnavailableError(`${this.path} ${what}`);
    }
    return Snapshot.from(json, { source: this.path, quoteValues: false });
  }

  /** Puts a snapshot read at `sequence` in force unless something newer already is. */
  #applyRead(sequence: number, read: { text: string; signature: string }, snapshot: Snapshot): void {
    if (sequence < this.#applied) return;
    this.#applied = sequence;
    this.#signature = read.signature;
    const unchanged = read.text === this.#text && this.#state.error === undefined && this.#state.snapshot !== undefined;
    this.#text = read.text;
    if (unchanged) this.#state.confirm();
    else this.#state.accept(snapshot);
  }

  async #createIfMissing(): Promise<void> {
    const lock = await acquireFileLock(this.lockPath, this.#options.lock);
    try {
      const exists = await stat(this.path).then(
        () => true,
        (error: unknown) => {
          if (hasCode(error, "ENOENT")) return false;
          throw error;
        },
      );
      if (!exists) await writeAtomically(this.path, EMPTY_DOCUMENT, undefined);
    } finally {
      await lock.release();
    }
  }

  // ---- watching ----

  #startWatching(): void {
    if (this.#watching) return;
    this.#watching = true;
    const name = basename(this.path);
    if (this.#options.watch) this.#watchDirectory(name);
    if (this.#options.pollIntervalMs > 0) {
      this.#poller = setInterval(() => void this.#poll(), this.#options.pollIntervalMs);
      this.#poller.unref();
    }
  }

  #watchDirectory(name: string): void {
    try {
      this.#watcher = watch(dirname(this.path), { persistent: false }, (_event, filename) => {
        // Some platforms do not report the name: then any change may be ours.
        if (filename === null || filename.toString() === name) this.#scheduleRefresh();
      });
      this.#watcher.on("error", () => {
        // The directory went away or the platform gave up: polling still runs.
        this.#watcher?.close();
        this.#watcher = undefined;
      });
    } catch {
      this.#watcher = undefined; // e.g. the directory does not exist yet; polling covers it.
    }
  }

  #scheduleRefresh(): void {
    if (this.#debounce !== undefined || this.#state.closed) return;
    this.#debounce = setTimeout(() => {
      this.#debounce = undefined;
      void this.#refresh();
    }, this.#options.debounceMs);
    this.#debounce.unref();
  }

  /** Cheap check: stat the file and read it only when it looks different. */
  async #poll(): Promise<void> {
    if (this.#state.closed || this.#refreshing) return;
    let signature: string | undefined;
    try {
      signature = signatureOf(await stat(this.path));
    } catch {
      signature = undefined;
    }
    if (this.#state.closed) return;
    if (signature !== undefined && signature === this.#signature) {
      if (this.#state.error === undefined) this.#state.confirm();
      return;
    }
    if (signature === undefined && this.#text === undefined && this.#state.error !== undefined) return; // still missing, already reported
    await this.#refresh();
  }

  /** Re-reads the file, one read at a time; a change seen during a read triggers one more. */
  #refresh(): Promise<void> {
    if (this.#refreshing) {
      this.#refreshAgain = true;
      return this.#refreshing;
    }
    const run = async (): Promise<void> => {
      do {
        this.#refreshAgain = false;
        await this.#refreshOnce();
      } while (this.#refreshAgain && !this.#state.closed);
    };
    this.#refreshing = run().finally(() => {
      this.#refreshing = undefined;
    });
    return this.#refreshing;
  }

  async #refreshOnce(): Promise<void> {
    if (this.#state.closed) return;
    const sequence = ++this.#sequence;
    let read: { text: string; signature: string } | undefined;
    try {
      read = await this.#read();
      if (read === undefined) throw new StoreUnavailableError(`${this.path} does not exist (removed?); keeping the last snapshot`);
    } catch (error) {
      if (this.#state.closed || sequence < this.#applied) return;
      this.#applied = sequence;
      this.#text = undefined;
      this.#signature = undefined;
      this.#state.fail(asError(error));
      return;
    }
    if (this.#state.closed || sequence < this.#applied) return;
    if (read.text === this.#text) {
      // Same bytes as last time: valid and in force (confirm), or still the same bad file (already reported).
      this.#applied = sequence;
      this.#signature = read.signature;
      if (this.#state.error === undefined) this.#state.confirm();
      return;
    }
    let snapshot: Snapshot;
    try {
      snapshot = this.#parse(read.text);
    } catch (error) {
      this.#applied = sequence;
      this.#text = read.text;
      this.#signature = read.signature;
      this.#state.fail(asError(error));
      return;
    }
    this.#applyRead(sequence, read, snapshot);
  }

  // ---- writing ----

  async #lockedWrite(mutator: Mutator): Promise<Snapshot> {
    const lock = await acquireFileLock(this.lockPath, this.#options.lock);
    let next: Snapshot;
    let text: string;
    try {
      // Never trust the in-memory snapshot: another process may have written since.
      const current = await this.#readForWrite();
      next = applyMutation(current.snapshot, mutator, this.path);
      text = `${JSON.stringify(next.document, null, 2)}\n`;
      await writeAtomically(this.path, text, current.mode, async () => {
        if (!(await lock.stillHeld())) {
          throw new StoreUnavailableError(
            `${this.lockPath} was broken as stale while this write held it (it took longer than lock.staleMs); nothing was written`,
          );
        }
      });
    } finally {
      await lock.release();
    }
    // Our rename is the newest state of the file at this point: any read that started earlier is dropped.
    const sequence = ++this.#sequence;
    this.#applied = sequence;
    this.#text = text;
    if (!this.#state.closed) this.#state.accept(next);
    return next;
  }

  async #readForWrite(): Promise<{ snapshot: Snapshot; mode: number | undefined }> {
    let text: string;
    let mode: number | undefined;
    try {
      const info = await stat(this.path);
      mode = info.mode & 0o7777;
      text = await readFile(this.path, "utf8");
    } catch (error) {
      if (!hasCode(error, "ENOENT")) throw new StoreUnavailableError(`cannot read ${this.path}: ${describeError(error)}`, { cause: error });
      if (!this.#options.create) {
        throw new StoreUnavailableError(`${this.path} does not exist; create it or pass { create: true } to fileStore()`);
      }
      text = EMPTY_DOCUMENT;
    }
    // A file that cannot be read as a valid document is never overwritten by a read-modify-write.
    return { snapshot: this.#parse(text), mode };
  }

  #closedError(): Error {
    return new StoreClosedError(this.kind);
  }
}

/**
 * Replaces `path` with `text` so that readers see the old or the new file,
 * never a mix, and the new one survives a crash: write a temporary file in the
 * same directory, fsync it, rename it over `path`, fsync the directory.
 * `beforeRename` may throw to abort (the temporary file is removed).
 */
async function writeAtomically(
  path: string,
  text: string,
  mode: number | undefined,
  beforeRename?: () => Promise<void>,
): Promise<void> {
  const directory = dirname(path);
  const temporary = join(directory, `.${basename(path)}.${process.pid}.${randomBytes(6).toString("hex")}.tmp`);
  const handle = await open(temporary, "wx", mode ?? 0o666);
  let renamed = false;
  try {
    try {
      // Keep the document's permissions exactly (open() applies the umask).
      if (mode !== undefined) await handle.chmod(mode);
      await handle.writeFile(text, "utf8");
      await handle.sync();
    } finally {
      await handle.close();
    }
    await beforeRename?.();
    await rename(temporary, path);
    renamed = true;
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

/** Where JSON.parse gave up, as line and column, without any of the text (V8's messages quote it). */
function syntaxErrorPlace(text: string, error: unknown): string {
  const message = describeError(error);
  const position = /at position (\d+)/.exec(message);
  if (position === null) return /Unexpected end/i.test(message) ? "the text ends before the document does" : "syntax error";
  const offset = Math.min(Number(position[1]), text.length);
  const before = text.slice(0, offset);
  const line = before.split("\n").length;
  const column = offset - before.lastIndexOf("\n");
  return `syntax error at line ${line}, column ${column}`;
}

function signatureOf(info: Stats): string {
  return `${info.ino}:${info.size}:${info.mtimeMs}:${info.ctimeMs}`;
}

function hasCode(error: unknown, code: string): boolean {
  return error instanceof Error && (error as NodeJS.ErrnoException).code === code;
}

function asError(error: unknown): Error {
  return error instanceof Error ? error : new Error(String(error));
}
