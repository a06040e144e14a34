import { resolve } from "node:path";
import { OptionsError } from "../../errors.js";
import type { Snapshot } from "../../snapshot.js";
import { StoreBase } from "../spi/base.js";
import { SerialQueue } from "../spi/serial-queue.js";
import type { Mutator, Store } from "../types.js";
import type { FileLockOptions } from "../spi/lock.js";
import { FileWatch, type WatchOptions } from "./watch.js";
import { writeLocked, type WriteTarget } from "./write.js";

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
 * `close()` stops watchers and timers and waits for writes and a first load
 * in progress.
 */
export function fileStore(path: string, options: FileStoreOptions = {}): FileStore {
  const absolute = resolve(path);
  const { watch, ...target } = checkOptions(absolute, options);
  return new FileBackedStore(target, watch);
}

class FileBackedStore extends StoreBase implements FileStore {
  declare readonly kind: "file";
  readonly path: string;
  readonly lockPath: string;
  readonly #target: WriteTarget;
  readonly #watch: FileWatch;
  readonly #writes = new SerialQueue();

  constructor(target: WriteTarget, watch: WatchOptions) {
    super({ kind: "file" });
    this.path = target.path;
    this.lockPath = target.lockPath;
    this.#target = target;
    this.#watch = new FileWatch(target, watch, this.state);
  }

  protected override open(): Promise<Snapshot> {
    this.#watch.start();
    return this.#watch.load();
  }

  protected override commit(mutator: Mutator): Promise<Snapshot> {
    // Writers of one process queue here rather than fight over the lock file.
    return this.#writes.run(() =>
      writeLocked(this.#target, mutator, () => this.state.now(), {
        renaming: (text) => this.#watch.renaming(text),
        renamed: (text, next) => {
          // Our rename is the newest state of the file: in force before the lock is released.
          this.#watch.renamed(text);
          if (!this.state.closed) this.state.accept(next);
        },
        failed: (text) => this.#watch.abandoned(text),
      }),
    );
  }

  protected override async shutdown(): Promise<void> {
    await Promise.all([this.#watch.stop(), this.#writes.idle()]);
  }
}

function checkOptions(path: string, options: FileStoreOptions): WriteTarget & { watch: WatchOptions } {
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
    path,
    lockPath: `${path}.lock`,
    create: options.create === true,
    lock,
    watch: {
      watch: options.watch !== false,
      debounceMs: ms("debounceMs", options.debounceMs, 50),
      pollIntervalMs: ms("pollIntervalMs", options.pollIntervalMs, 2_000),
    },
  };
}
