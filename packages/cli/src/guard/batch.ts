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
 * Coalesces per-key "turn on" and "turn off" requests into batched store
 * writes, one write in flight at a time: while a write is in flight, new
 * requests queue, and the next write takes every queued request of the
 * oldest request's kind. With N commands running, a write carries up to N
 * keys, so the store's per-write cost (a whole-document rewrite on the file
 * and Redis stores today) is shared by them. Each request resolves once the
 * write that carries it is committed, or rejects with its error.
 */
export class BatchedWrites {
  readonly stats: WriteStats = { writes: 0, keys: 0, ms: 0 };
  readonly #target: LoopTarget;
  readonly #trace: (message: string) => void;
  #queue: Request[] = [];
  #scheduled = false;
  #busy = false;

  constructor(target: LoopTarget, trace: (message: string) => void = () => {}) {
    this.#target = target;
    this.#trace = trace;
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
        const kind = this.#queue[0]!.kind;
        const batch = this.#queue.filter((request) => request.kind === kind);
        this.#queue = this.#queue.filter((request) => request.kind !== kind);
        try {
          await this.#write(kind, batch.map((request) => request.key));
          for (const request of batch) request.resolve();
        } catch (error) {
          for (const request of batch) request.reject(error);
        }
      }
    } finally {
      this.#busy = false;
    }
  }

  async #write(kind: Kind, keys: string[]): Promise<void> {
    const started = performance.now();
    try {
      for (let attempt = 1; ; attempt++) {
        try {
          await (kind === "enable" ? this.#target.enable(keys) : this.#target.disable(keys));
          this.stats.writes++;
          this.stats.keys += keys.length;
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
