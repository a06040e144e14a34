/**
 * Reading the file store's document and keeping it current: the first load,
 * a watch on the file's directory (writers and editors replace the file by
 * rename), a poll that stats the file (fs.watch can miss events), and
 * re-reads that put a changed, valid document in force and report a bad one.
 */
import { watch, type FSWatcher } from "node:fs";
import { basename, dirname } from "node:path";
import { StoreUnavailableError } from "../../errors.js";
import type { Snapshot } from "../../snapshot.js";
import { ReadOrder } from "../spi/read-order.js";
import type { StoreState } from "../spi/state.js";
import { currentSignature, missingFileError, parseDocumentFile, readDocumentFile, type FileRead } from "./document-file.js";
import { createIfMissing, type WriteTarget } from "./write.js";

/** How the file is watched. */
export interface WatchOptions {
  /** Watch the directory with fs.watch. */
  readonly watch: boolean;
  /** Wait this long after a change notification before reading. */
  readonly debounceMs: number;
  /** Stat the file this often; 0 turns polling off. */
  readonly pollIntervalMs: number;
}

/** Keeps a store's snapshot in step with its file. */
export class FileWatch {
  readonly #target: WriteTarget;
  readonly #options: WatchOptions;
  readonly #state: StoreState;
  /** A read finishing after a newer read or write was applied is dropped, so an old file never replaces a newer one. */
  readonly #order = new ReadOrder();

  #watcher: FSWatcher | undefined;
  #poller: NodeJS.Timeout | undefined;
  #debounce: NodeJS.Timeout | undefined;
  #watching = false;
  #refreshing: Promise<void> | undefined;
  #refreshAgain = false;

  // What was last read, to skip work when nothing changed.
  /** Text of the file as last read or written (valid or not); `undefined` when unknown or missing. */
  #text: string | undefined;
  /** Identity of the file as last read. */
  #signature: string | undefined;
  /** Text a write of this process is renaming over the file right now. */
  #renaming: string | undefined;

  constructor(target: WriteTarget, options: WatchOptions, state: StoreState) {
    this.#target = target;
    this.#options = options;
    this.#state = state;
  }

  /**
   * Reads and validates the file (creating it first when missing and asked
   * to) and puts it in force. Rejects naming the path; `health()` then reports
   * the error until a read succeeds.
   */
  async load(): Promise<Snapshot> {
    const { path } = this.#target;
    const ticket = this.#order.next();
    try {
      let read = await readDocumentFile(path);
      if (read === undefined) {
        if (!this.#target.create) throw missingFileError(path);
        await createIfMissing(this.#target);
        read = await readDocumentFile(path);
        if (read === undefined) throw new StoreUnavailableError(`${path} was removed right after it was created`);
      }
      let snapshot: Snapshot;
      try {
        snapshot = parseDocumentFile(path, read.text, this.#state.now(), this.#state.snapshot);
      } catch (error) {
        // Remember the bad bytes: polling reports nothing new until they change.
        this.#remember(read);
        throw error;
      }
      this.#apply(ticket, read, snapshot);
      return this.#state.snapshot ?? snapshot;
    } catch (error) {
      // load() rejects with the error; health() reports it until a read succeeds.
      this.#state.fail(error, { emit: false });
      throw error;
    }
  }

  /** Starts watching and polling (once). */
  start(): void {
    if (this.#watching) return;
    this.#watching = true;
    if (this.#options.watch) this.#watchDirectory(basename(this.#target.path));
    if (this.#options.pollIntervalMs > 0) {
      this.#poller = setInterval(() => void this.#poll(), this.#options.pollIntervalMs);
      this.#poller.unref();
    }
  }

  /**
   * A write of this process is about to rename `text` over the file. Until
   * {@link FileWatch.renamed}, a read that finds these bytes is dropped: on a
   * busy machine a read can see the new file before this process hears that
   * its rename is done, and the writer announces its snapshot itself.
   */
  renaming(text: string): void {
    this.#renaming = text;
  }

  /**
   * A write of this process has just renamed `text` over the file. Called
   * synchronously after the rename, so a read that started earlier is dropped
   * when it finishes and a read that starts later finds these bytes already
   * in force: the write is announced once, by the writer.
   */
  renamed(text: string): void {
    this.#order.claim(this.#order.next());
    this.#text = text;
    this.#renaming = undefined;
  }

  /** The write of `text` failed: its bytes are nobody's write in flight any more. */
  abandoned(text: string): void {
    if (this.#renaming === text) this.#renaming = undefined;
  }

  /** Stops the watcher and timers; resolves when a read in progress is done. */
  async stop(): Promise<void> {
    this.#watching = false;
    this.#watcher?.close();
    this.#watcher = undefined;
    clearInterval(this.#poller);
    clearTimeout(this.#debounce);
    await this.#refreshing;
  }

  #watchDirectory(name: string): void {
    try {
      this.#watcher = watch(dirname(this.#target.path), { persistent: false }, (_event, filename) => {
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
    const signature = await currentSignature(this.#target.path);
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
    const { path } = this.#target;
    const ticket = this.#order.next();
    let read: FileRead | undefined;
    try {
      read = await readDocumentFile(path);
      if (read === undefined) throw new StoreUnavailableError(`${path} does not exist (removed?); keeping the last snapshot`);
    } catch (error) {
      if (this.#state.closed || !this.#order.claim(ticket)) return;
      this.#text = undefined;
      this.#signature = undefined;
      this.#state.fail(error);
      return;
    }
    if (this.#state.closed || this.#order.isStale(ticket)) return;
    if (read.text === this.#renaming) return; // our own write, landing: the writer puts it in force
    if (read.text === this.#text) {
      // Same bytes as last time: valid and in force (confirm), or still the same bad file (already reported).
      this.#order.claim(ticket);
      this.#signature = read.signature;
      if (this.#state.error === undefined) this.#state.confirm();
      return;
    }
    let snapshot: Snapshot;
    try {
      snapshot = parseDocumentFile(path, read.text, this.#state.now(), this.#state.snapshot);
    } catch (error) {
      this.#order.claim(ticket);
      this.#remember(read);
      this.#state.fail(error);
      return;
    }
    this.#apply(ticket, read, snapshot);
  }

  /** Puts a snapshot read with `ticket` in force unless something newer already is. */
  #apply(ticket: number, read: FileRead, snapshot: Snapshot): void {
    if (!this.#order.claim(ticket)) return;
    this.#signature = read.signature;
    const unchanged = read.text === this.#text && this.#state.error === undefined && this.#state.snapshot !== undefined;
    this.#text = read.text;
    if (unchanged) this.#state.confirm();
    else this.#state.accept(snapshot);
  }

  #remember(read: FileRead): void {
    this.#text = read.text;
    this.#signature = read.signature;
  }
}
