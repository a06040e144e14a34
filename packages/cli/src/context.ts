import { stat } from "node:fs/promises";
import { hostname, userInfo } from "node:os";
import { DetourError, createDetour, type Detour, type DetourStatus, type FlagDocument } from "@detour/core";
import { StoreError, messageOf } from "./errors.js";
import { commandLine } from "./guard/shell.js";
import { DEFAULT_STORE, openStore, parseStoreUrl, type StoreLocation } from "./store-url.js";

/** Something `detour` writes to. */
export interface OutputStream {
  write(chunk: string): unknown;
  readonly isTTY?: boolean | undefined;
  readonly columns?: number | undefined;
}

/** Where signals come from (the process, or a test double). */
export interface SignalSource {
  on(signal: NodeJS.Signals, listener: (signal: NodeJS.Signals) => void): unknown;
  off(signal: NodeJS.Signals, listener: (signal: NodeJS.Signals) => void): unknown;
}

/** Everything the CLI touches outside itself; `run()` defaults each to the process's own. */
export interface CliIO {
  stdout: OutputStream;
  stderr: OutputStream;
  stdin: NodeJS.ReadableStream;
  env: Readonly<Record<string, string | undefined>>;
  cwd: string;
  signals: SignalSource;
}

/** Options every command accepts. */
export interface StoreOptions {
  store?: string;
  prefix?: string;
  debug?: boolean;
}

/** What a command runs with: the I/O, the store location and the audit actor. */
export class Context {
  readonly io: CliIO;
  readonly debug: boolean;
  readonly location: StoreLocation;
  /** The `--store`/`--prefix` arguments as given on the command line (for printed commands). */
  readonly storeArgs: readonly string[];
  readonly actor: string;

  constructor(io: CliIO, options: StoreOptions) {
    this.io = io;
    this.debug = options.debug === true || isTruthy(io.env.DETOUR_DEBUG);
    const spec = options.store ?? nonEmpty(io.env.DETOUR_STORE) ?? DEFAULT_STORE;
    this.location = parseStoreUrl(spec, { prefix: options.prefix, cwd: io.cwd });
    const args: string[] = [];
    if (options.store !== undefined) args.push("--store", options.store);
    if (options.prefix !== undefined) args.push("--prefix", options.prefix);
    this.storeArgs = args;
    this.actor = cliActor(io.env);
  }

  /** `detour: <message>` on stderr. */
  say(message: string): void {
    this.io.stderr.write(`detour: ${message}\n`);
  }

  /** A line on stdout. */
  print(line: string): void {
    this.io.stdout.write(`${line}\n`);
  }

  /** Only with `--debug`. */
  trace(message: string): void {
    if (this.debug) this.io.stderr.write(`detour: [debug] ${message}\n`);
  }

  /**
   * Opens the store read-only, waits for it to load, runs `task` and closes
   * it. A file store whose file does not exist is a `StoreError` (exit 2): a
   * mistyped `--store` must not read as "nothing in force". So is a store
   * that cannot be loaded.
   */
  async read<T>(task: (view: ReadView) => Promise<T> | T): Promise<T> {
    await this.#mustExist();
    return this.#open(false, task);
  }

  /**
   * Opens the store for writing, runs `task`, and closes it. A missing file
   * store is created only with `create` (`on --create`, `import`); otherwise
   * it is a `StoreError`. A store that loaded but then failed the write
   * (e.g. a Redis connection dropped in between) is reopened and the task
   * retried, twice at most: every CLI change is idempotent. A store that
   * cannot be loaded at all fails at once.
   */
  async write<T>(task: (detour: Detour) => Promise<T>, options: { create?: boolean } = {}): Promise<T> {
    if (options.create !== true) await this.#mustExist();
    for (let attempt = 1; ; attempt++) {
      try {
        return await this.#open(true, task);
      } catch (error) {
        if (!(error instanceof WriteInterrupted)) throw error;
        if (attempt >= WRITE_ATTEMPTS) throw error.cause;
        this.trace(`write failed after the store loaded (${messageOf(error.cause)}); retrying`);
        await new Promise((resolve) => setTimeout(resolve, 50 * attempt + Math.random() * 100));
      }
    }
  }

  /** Whether the store is a file that does not exist yet (`on --create` and `import` create it). */
  async missingFile(): Promise<boolean> {
    return this.location.kind === "file" && !(await exists(this.location.path));
  }

  async #mustExist(): Promise<void> {
    if (this.location.kind !== "file" || (await exists(this.location.path))) return;
    const store = this.storeArgs.length > 0 ? ` ${commandLine(this.storeArgs)}` : "";
    throw new StoreError(
      `no flag store at ${this.location.path}: the file does not exist. Check --store (or DETOUR_STORE); ` +
        `the app creates its store when it starts, or create it here with: detour on <flag> --create${store}`,
    );
  }

  async #open<T>(create: boolean, task: (detour: Detour) => Promise<T> | T): Promise<T> {
    const store = openStore(this.location, { create, log: (level, message) => this.trace(`store ${level}: ${message}`) });
    let failure: Error | undefined;
    const detour = createDetour({
      store,
      onStoreError: (error) => {
        failure ??= error;
        this.trace(`store error: ${error.message}`);
      },
    });
    try {
      await detour.ready;
      if (!detour.isReady) {
        const reason = failure?.message ?? store.health().error ?? "it did not load";
        throw new StoreError(`cannot read the store ${this.location.display}: ${reason}`, { cause: failure });
      }
      try {
        return await task(detour);
      } catch (error) {
        // Store trouble after a successful load is worth another try (see write()).
        if (create && error instanceof DetourError && error.code === "DETOUR_STORE_UNAVAILABLE") throw new WriteInterrupted(error);
        throw error;
      }
    } finally {
      await detour.close().catch((error: unknown) => this.trace(`closing the store: ${messageOf(error)}`));
    }
  }
}

const WRITE_ATTEMPTS = 3;

/** A write that failed on store trouble after the store had loaded: `write()` retries it. */
class WriteInterrupted extends Error {
  override readonly cause: unknown;
  constructor(cause: unknown) {
    super(messageOf(cause));
    this.cause = cause;
  }
}

/** What read-only commands see of the store. */
export interface ReadView {
  status(): DetourStatus;
  document(): Readonly<FlagDocument> | undefined;
}

/** `cli:<os user>@<hostname>`, the audit actor of every change made by the CLI. */
export function cliActor(env: Readonly<Record<string, string | undefined>> = process.env): string {
  let user: string | undefined;
  try {
    user = userInfo().username;
  } catch {
    // No passwd entry (some containers): fall back to the environment.
  }
  user ||= env.USER || env.LOGNAME || env.USERNAME || (typeof process.getuid === "function" ? `uid${process.getuid()}` : "unknown");
  return `cli:${user}@${hostname()}`;
}

async function exists(path: string): Promise<boolean> {
  try {
    await stat(path);
    return true;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ENOENT") return false;
    throw new StoreError(`cannot read ${path}: ${messageOf(error)}`, { cause: error });
  }
}

function nonEmpty(value: string | undefined): string | undefined {
  return value === undefined || value.trim() === "" ? undefined : value;
}

function isTruthy(value: string | undefined): boolean {
  return value !== undefined && value !== "" && value !== "0" && value.toLowerCase() !== "false";
}
