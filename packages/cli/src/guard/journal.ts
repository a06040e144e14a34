import { createReadStream } from "node:fs";
import { open, stat, truncate, type FileHandle } from "node:fs/promises";
import { dirname } from "node:path";
import { createInterface } from "node:readline";
import { UsageError, messageOf } from "../errors.js";

/**
 * The guard loop's journal (`--journal FILE`): JSON Lines, append-only, one
 * object per line, every line durable (written and fdatasync'ed, many lines
 * per sync) before what depends on it happens. The first line of each run:
 *
 *   {"journal":"detour-guard","version":1,"event":"run","at":"…","flag":"billing","noun":"user","list":"users.txt","command":["./fix.sh"],"concurrency":16,"pid":4242}
 *
 * then one line per step of each key (a user id):
 *
 *   {"event":"start","key":"u1","at":"…"}        the flag is on for u1; its command starts
 *   {"event":"ok","key":"u1","at":"…"}           its command exited 0 (synced before the flag is turned off)
 *   {"event":"off","key":"u1","at":"…"}          the flag is off for u1
 *   {"event":"fail","key":"u2","status":5,"why":"…","at":"…"}        its command failed; the flag stays on
 *   {"event":"interrupted","key":"u3","signal":"SIGTERM","at":"…"}   it was running when detour got a signal; the flag stays on
 *   {"event":"error","key":"u4","why":"…","at":"…"}                  the flag could not be turned on; the command was not run
 *
 * `--resume` skips the keys whose last event is `ok` or `off` (an `ok`
 * without `off` gets its flag turned off first) and runs every other key
 * of the list again: failed, interrupted, in flight when detour died (a
 * `start` and nothing after), or never reached. A crash can leave the last
 * line half written; it is dropped when the journal is resumed.
 */
export const JOURNAL_VERSION = 1;

/** The first line of each run. */
export interface JournalRun {
  readonly journal: "detour-guard";
  readonly version: number;
  readonly event: "run";
  readonly at: string;
  readonly flag: string;
  readonly noun: string;
  readonly list: string;
  readonly command: readonly string[];
  readonly concurrency: number;
  readonly pid: number;
}

export type JournalStep =
  | { readonly event: "start" | "ok" | "off"; readonly key: string }
  | { readonly event: "fail"; readonly key: string; readonly status: number; readonly why: string }
  | { readonly event: "interrupted"; readonly key: string; readonly signal: string }
  | { readonly event: "error"; readonly key: string; readonly why: string };

export type StepEvent = JournalStep["event"];

/** What a journal says about each key: the last event recorded for it. */
export interface JournalState {
  /** The first run's header. */
  readonly first: JournalRun;
  readonly runs: number;
  readonly last: ReadonlyMap<string, StepEvent>;
  /** Bytes up to the end of the last complete line (a torn last line is cut off on resume). */
  readonly validBytes: number;
  /** Whether the file ended in a half-written line. */
  readonly torn: boolean;
}

/** Keys whose command succeeded (they are skipped on resume). */
export function isDone(event: StepEvent | undefined): boolean {
  return event === "ok" || event === "off";
}

const STEP_EVENTS = new Set<string>(["start", "ok", "off", "fail", "interrupted", "error"]);

/**
 * Reads a journal line by line (a million users make a journal of a few
 * hundred MB: it is never held whole). Throws a `UsageError` naming the
 * file and line when it is not a guard journal or a line in the middle is
 * broken; a missing file throws with `code` ENOENT.
 */
export async function readJournal(path: string): Promise<JournalState> {
  const size = (await stat(path)).size;
  const last = new Map<string, StepEvent>();
  let first: JournalRun | undefined;
  let runs = 0;
  let offset = 0;
  let lineNo = 0;
  const lines = createInterface({ input: createReadStream(path, { encoding: "utf8" }), crlfDelay: Infinity });
  for await (const line of lines) {
    lineNo++;
    const bytes = Buffer.byteLength(line, "utf8") + 1;
    // The last line without its newline was torn by a crash: it is ignored (and cut off on resume).
    if (offset + bytes > size) break;
    offset += bytes;
    const bad = (what: string) => new UsageError(`--journal: ${path} line ${lineNo} ${what}; nothing was run`);
    let entry: { event?: unknown; key?: unknown; journal?: unknown; version?: unknown };
    try {
      entry = JSON.parse(line) as typeof entry;
    } catch (error) {
      if (lineNo === 1) throw new UsageError(`--journal: ${path} is not a detour guard journal (its first line is not JSON); nothing was run`);
      throw bad(`is not valid JSON (${messageOf(error)})`);
    }
    if (lineNo === 1) {
      if (entry === null || typeof entry !== "object" || entry.journal !== "detour-guard" || entry.event !== "run") {
        throw new UsageError(`--journal: ${path} is not a detour guard journal (its first line is not a "run" line); nothing was run`);
      }
      if (entry.version !== JOURNAL_VERSION) {
        throw new UsageError(`--journal: ${path} is a version ${String(entry.version)} journal; this detour reads version ${JOURNAL_VERSION}; nothing was run`);
      }
      first = entry as unknown as JournalRun;
    }
    if (entry !== null && typeof entry === "object" && entry.event === "run") runs++;
    else if (entry !== null && typeof entry === "object" && typeof entry.event === "string" && STEP_EVENTS.has(entry.event) && typeof entry.key === "string") {
      last.set(entry.key, entry.event as StepEvent);
    } else throw bad(`is not a journal entry (${line.slice(0, 80)})`);
  }
  if (first === undefined) throw new UsageError(`--journal: ${path} holds no complete line; nothing to resume`);
  return { first, runs, last, validBytes: offset, torn: offset < size };
}

/**
 * Appends journal lines with group commit: lines recorded while a write
 * and fdatasync are in flight go out together in the next one. `record()`
 * resolves once its line is durable.
 */
export class JournalWriter {
  readonly path: string;
  readonly #handle: FileHandle;
  #pending: string[] = [];
  #waiters: { resolve(): void; reject(error: unknown): void }[] = [];
  #flushing: Promise<void> | undefined;
  #failure: Error | undefined;

  private constructor(path: string, handle: FileHandle) {
    this.path = path;
    this.#handle = handle;
  }

  /**
   * Opens `path` for appending; `truncateTo` first cuts a torn last line
   * off. A new file's directory entry is synced too, so a crash right after
   * cannot lose the file itself.
   */
  static async open(path: string, options: { truncateTo?: number } = {}): Promise<JournalWriter> {
    try {
      const existed = await stat(path).then(
        () => true,
        () => false,
      );
      if (options.truncateTo !== undefined) await truncate(path, options.truncateTo);
      const handle = await open(path, "a", 0o644);
      if (!existed) await syncDirectory(dirname(path));
      return new JournalWriter(path, handle);
    } catch (error) {
      throw new UsageError(`--journal: cannot open ${path}: ${messageOf(error)}`, { cause: error });
    }
  }

  /** Appends a run's first line. */
  run(header: Omit<JournalRun, "journal" | "version" | "event" | "at">): Promise<void> {
    return this.#append({ journal: "detour-guard", version: JOURNAL_VERSION, event: "run", at: new Date().toISOString(), ...header });
  }

  /** Appends one step; resolves once it is durable, rejects when the journal cannot be written. */
  record(step: JournalStep): Promise<void> {
    return this.#append({ ...step, at: new Date().toISOString() });
  }

  #append(entry: object): Promise<void> {
    if (this.#failure !== undefined) return Promise.reject(this.#failure);
    this.#pending.push(`${JSON.stringify(entry)}\n`);
    return new Promise((resolve, reject) => {
      this.#waiters.push({ resolve, reject });
      this.#flushing ??= this.#flush();
    });
  }

  async #flush(): Promise<void> {
    // Let the lines of this turn of the event loop join the first write.
    await new Promise((resolve) => setImmediate(resolve));
    while (this.#pending.length > 0) {
      const text = this.#pending.join("");
      const waiters = this.#waiters;
      this.#pending = [];
      this.#waiters = [];
      try {
        await this.#handle.write(text);
        await this.#handle.datasync();
        for (const waiter of waiters) waiter.resolve();
      } catch (error) {
        this.#failure = new UsageError(`--journal: cannot write ${this.path}: ${messageOf(error)}`, { cause: error });
        for (const waiter of [...waiters, ...this.#waiters]) waiter.reject(this.#failure);
        this.#pending = [];
        this.#waiters = [];
      }
    }
    this.#flushing = undefined;
  }

  /** Waits for every line recorded so far, then closes the file. */
  async close(): Promise<void> {
    while (this.#flushing !== undefined) await this.#flushing;
    await this.#handle.close().catch(() => undefined);
  }
}

async function syncDirectory(directory: string): Promise<void> {
  let handle: FileHandle | undefined;
  try {
    handle = await open(directory, "r");
    await handle.sync();
  } catch {
    // Not every platform can open or sync a directory; the file's own data is synced either way.
  } finally {
    await handle?.close().catch(() => undefined);
  }
}
