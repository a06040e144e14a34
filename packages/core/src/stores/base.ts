/**
 * Building blocks shared by store implementations (memory, file, and stores in
 * other packages such as `@detour/redis`): the snapshot in force, listeners,
 * health bookkeeping, and the mutator → validated snapshot step of a write.
 *
 * None of this does I/O; a store decides when to read, write and confirm.
 */
import type { FlagDocument } from "../document/types.js";
import { ArgumentError, StoreClosedError } from "../errors.js";
import { Snapshot } from "../snapshot.js";
import type { Mutator, StoreEvent, StoreHealth, StoreListener } from "./types.js";

/**
 * The state every store keeps: the snapshot in force, when it was last
 * confirmed current, the error that currently prevents reading the source,
 * and the subscribers to notify.
 *
 * A store calls {@link StoreState.accept} with each new snapshot,
 * {@link StoreState.confirm} when it checked that the snapshot in force is still
 * current, and {@link StoreState.fail} when the source cannot be read or holds
 * a bad document (the snapshot in force stays). {@link StoreState.health}
 * turns this into a `StoreHealth`.
 */
export class StoreState {
  /** The store kind reported by `health()` and in errors: `memory`, `file`, `redis`... */
  readonly kind: string;
  readonly #now: () => number;
  readonly #listeners = new Set<StoreListener>();
  #snapshot: Snapshot | undefined;
  #confirmedAt: number | undefined;
  #error: Error | undefined;
  #closed = false;

  /** `now` is injectable for tests; it defaults to `Date.now`. */
  constructor(kind: string, now: () => number = Date.now) {
    this.kind = kind;
    this.#now = now;
  }

  /** The snapshot in force, `undefined` until one is accepted. */
  get snapshot(): Snapshot | undefined {
    return this.#snapshot;
  }

  /** The error that currently keeps the store from reading its source, if any. */
  get error(): Error | undefined {
    return this.#error;
  }

  get closed(): boolean {
    return this.#closed;
  }

  /** Adds a listener; returns a function that removes it. A no-op once closed. */
  subscribe(listener: StoreListener): () => void {
    if (this.#closed) return () => {};
    this.#listeners.add(listener);
    return () => {
      this.#listeners.delete(listener);
    };
  }

  /**
   * Puts `snapshot` in force, marks it confirmed now, clears any error and
   * notifies subscribers with a `snapshot` event.
   */
  accept(snapshot: Snapshot): void {
    this.#snapshot = snapshot;
    this.#confirmedAt = this.#now();
    this.#error = undefined;
    this.emit({ type: "snapshot", snapshot });
  }

  /** Records that the snapshot in force was just checked and is still current. */
  confirm(): void {
    if (this.#snapshot !== undefined) this.#confirmedAt = this.#now();
  }

  /**
   * Records that the source cannot be read (or holds an invalid document). The
   * snapshot in force stays. Subscribers get an `error` event unless `emit` is false
   * (e.g. when the caller rejects a promise with the same error).
   */
  fail(error: Error, options: { emit?: boolean } = {}): void {
    this.#error = error;
    if (options.emit !== false) this.emit({ type: "error", error });
  }

  /** Clears the error without changing the snapshot (the source is readable again). */
  clearError(): void {
    this.#error = undefined;
  }

  /** Calls every listener; a listener that throws does not stop the others (it raises a process warning). */
  emit(event: StoreEvent): void {
    if (this.#closed) return;
    for (const listener of [...this.#listeners]) {
      try {
        listener(event);
      } catch (error) {
        process.emitWarning(`a ${this.kind} store listener threw: ${describeError(error)}`, "DetourWarning");
      }
    }
  }

  /**
   * Health as the `Store` interface reports it. `stale` is true when the
   * source cannot currently be read and an older snapshot is in force.
   */
  health(): StoreHealth {
    const snapshot = this.#snapshot;
    return {
      kind: this.kind,
      revision: snapshot?.revision ?? null,
      ageMs: this.#confirmedAt === undefined ? null : Math.max(0, this.#now() - this.#confirmedAt),
      stale: this.#error !== undefined && snapshot !== undefined,
      error: this.#error?.message ?? null,
    };
  }

  /** Throws `StoreClosedError` once {@link StoreState.close} was called. */
  assertOpen(): void {
    if (this.#closed) throw new StoreClosedError(this.kind);
  }

  /** Drops every listener; later events are not delivered. Idempotent. */
  close(): void {
    this.#closed = true;
    this.#listeners.clear();
  }
}

/**
 * The pure part of a write: runs `mutator` on a private copy of `current`,
 * sets `revision` to the current revision + 1 (whatever the mutator did with
 * it, so revisions only ever grow), validates and compiles the result.
 *
 * Throws what the mutator throws, an `ArgumentError` when the mutator returns
 * a promise (mutators are synchronous), or a `ValidationError` naming each
 * flag and field at fault. Nothing is changed when it throws.
 */
export function applyMutation(current: Snapshot, mutator: Mutator, source?: string): Snapshot {
  const draft = current.draft();
  const returned: unknown = mutator(draft);
  if (isPromiseLike(returned)) {
    throw new ArgumentError("mutator", "must be synchronous; it returned a promise (read what you need before calling write())");
  }
  const next = returned === undefined ? draft : returned;
  const revision = current.revision + 1;
  const document: unknown =
    next !== null && typeof next === "object" && !Array.isArray(next) ? { ...(next as FlagDocument), revision } : next;
  return Snapshot.from(document, source === undefined ? {} : { source });
}

/**
 * Runs async tasks one at a time, in call order; a failing task does not
 * stop the ones queued behind it. `idle()` resolves when the queue is empty.
 */
export class SerialQueue {
  #tail: Promise<unknown> = Promise.resolve();

  run<T>(task: () => Promise<T>): Promise<T> {
    const result = this.#tail.then(task, task);
    this.#tail = result.catch(() => undefined);
    return result;
  }

  /** Resolves once every task queued so far has settled. */
  idle(): Promise<void> {
    return this.#tail.then(() => undefined);
  }
}

/** The message of anything thrown. */
export function describeError(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

function isPromiseLike(value: unknown): value is PromiseLike<unknown> {
  return (
    value !== null &&
    (typeof value === "object" || typeof value === "function") &&
    typeof (value as { then?: unknown }).then === "function"
  );
}
