import { DetourError } from "@detour/core";
import { messageOf } from "../errors.js";
import type { LoopTarget } from "./targets.js";

type Kind = "enable" | "disable";

interface Request {
  readonly kind: Kind;
  readonly key: string;
  resolve(): void;
  reject(error: unknown): void;
}

/** What the writes cost, for `--debug` and the benchmark. */
export interface WriteStats {
  /** Store writes made. */
  writes: number;
  /** Keys turned on or off by them. */
  keys: number;
  /** Milliseconds spent waiting for them (wall clock; one write at a time). */
  ms: number;
}

/** Attempts of one batch when the store fails after it loaded (every change here is idempotent). */
const ATTEMPTS = 3;

/**
 * The most keys one write carries. Each running command has at most one
 * request queued, so with `--concurrency` up to 1,024 a write rarely waits
 * for this; it keeps one write's document change (and its audit entry) of a
 * bounded size whatever happens.
 */
export const MAX_BATCH = 256;

/**
 * Group commit of per-key "turn on" and "turn off" requests, one store
 * write in flight at a time: the requests made while a write is in flight
 * queue, and the next write carries the oldest `MAX_BATCH` of them, both
 * kinds together (`retarget`: the keys whose commands are done go out, the
 * keys whose commands start come in). With N commands running, a write
 * carries up to N keys, so the store's per-write cost is shared by them.
 * Each request resolves once the write that carries it is committed, or
 * rejects with its error; a write that fails fails only its own requests.
 */
export class BatchedWrites {
  readonly stats: WriteStats = { writes: 0, keys: 0, ms: 0 };
  readonly #target: LoopTarget;
  readonly #trace: (message: string) => void;
  readonly #max: number;
  #queue: Request[] = [];
  #scheduled = false;
  #busy = false;

  constructor(target: LoopTarget, trace: (message: string) => void = () => {}, max = MAX_BATCH) {
    this.#target = target;
    this.#trace = trace;
    this.#max = max;
  }

  /** Turns the flag on for `key`; resolves once that is written. */
  enable(key: string): Promise<void> {
    return this.#submit("enable", key);
  }

  /** Turns the flag off for `key`; resolves once that is written. */
  disable(key: string): Promise<void> {
    return this.#submit("disable", key);
  }

  #submit(kind: Kind, key: string): Promise<void> {
    return new Promise((resolve, reject) => {
      this.#queue.push({ kind, key, resolve, reject });
      // Requests made in the same turn of the event loop (commands that exited together) share a write.
      if (!this.#scheduled && !this.#busy) {
        this.#scheduled = true;
        setImmediate(() => void this.#drain());
      }
    });
  }

  async #drain(): Promise<void> {
    this.#scheduled = false;
    this.#busy = true;
    try {
      while (this.#queue.length > 0) {
        const batch = this.#queue.splice(0, this.#max);
        const keys = (kind: Kind) => batch.filter((request) => request.kind === kind).map((request) => request.key);
        try {
          await this.#write(keys("enable"), keys("disable"));
          for (const request of batch) request.resolve();
        } catch (error) {
          for (const request of batch) request.reject(error);
        }
      }
    } finally {
      this.#busy = false;
    }
  }

  async #write(on: string[], off: string[]): Promise<void> {
    const started = performance.now();
    try {
      for (let attempt = 1; ; attempt++) {
        try {
          await this.#target.retarget(on, off);
          this.stats.writes++;
          this.stats.keys += on.length + off.length;
          return;
        } catch (error) {
          if (!(error instanceof DetourError && error.code === "DETOUR_STORE_UNAVAILABLE") || attempt >= ATTEMPTS) throw error;
          this.#trace(`store write failed (${messageOf(error)}); retrying`);
          await new Promise((resolve) => setTimeout(resolve, 50 * attempt + Math.random() * 100));
        }
      }
    } finally {
      this.stats.ms += performance.now() - started;
    }
  }
}
