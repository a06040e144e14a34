import { StoreClosedError } from "../../errors.js";
import type { Snapshot } from "../../snapshot.js";
import type { StoreEvent, StoreHealth, StoreListener } from "../types.js";
import { asError, describeError } from "./errors.js";

/**
 * What every store keeps, apart from its I/O: the snapshot in force, when it
 * was last confirmed current, why the source cannot be used right now, the
 * subscribers, and whether the store is closed. `health()` is derived from it.
 *
 * Two conditions make a snapshot stale, and they are kept apart because they
 * end differently:
 * - a **failure** ({@link StoreState.fail}): the source cannot be read
 *   (unreachable, missing, no permission). Any successful read ends it.
 * - a **refusal** ({@link StoreState.refuse}): the source was read, but holds
 *   a document that is refused (not JSON, invalid). Only a good document ends
 *   it; while it lasts, reading the same bad document again confirms nothing.
 *
 * {@link StoreBase} keeps one of these for every store; a store that cannot
 * extend a class can use it directly.
 */
export class StoreState {
  /** The store kind reported by `health()` and in errors: `memory`, `file`, `redis`... */
  readonly kind: string;
  readonly #now: () => number;
  readonly #listeners = new Set<StoreListener>();
  #snapshot: Snapshot | undefined;
  #confirmedAt: number | undefined;
  #failure: Error | undefined;
  #refusal: Error | undefined;
  #closed = false;

  /** `now` is the store's clock (health ages, snapshot timestamps); it defaults to `Date.now`. */
  constructor(kind: string, now: () => number = Date.now) {
    this.kind = kind;
    this.#now = now;
  }

  /** The store's clock, in epoch milliseconds. */
  now(): number {
    return this.#now();
  }

  /** The snapshot in force, `undefined` until one is accepted. */
  get snapshot(): Snapshot | undefined {
    return this.#snapshot;
  }

  /** What `health().error` reports: the refusal if there is one, else the failure. */
  get error(): Error | undefined {
    return this.#refusal ?? this.#failure;
  }

  /** Why the source cannot be read right now, if it cannot. */
  get failure(): Error | undefined {
    return this.#failure;
  }

  /** Why the document the source holds was refused, while it still holds it. */
  get refusal(): Error | undefined {
    return this.#refusal;
  }

  get closed(): boolean {
    return this.#closed;
  }

  /** Adds a listener; returns a function that removes it. Adds nothing once closed. */
  subscribe(listener: StoreListener): () => void {
    if (this.#closed) return () => {};
    this.#listeners.add(listener);
    return () => {
      this.#listeners.delete(listener);
    };
  }

  /**
   * Puts `snapshot` in force and ends any refusal; subscribers get a
   * `snapshot` event unless it is the snapshot already in force.
   *
   * By default the snapshot came from the source: it counts as confirmed now
   * and ends any failure. Pass `confirmed: false` for a snapshot from
   * elsewhere (a bootstrap document used while the source is unreachable):
   * the failure and the age of the last confirmation stay.
   */
  accept(snapshot: Snapshot, options: { confirmed?: boolean } = {}): void {
    const changed = snapshot !== this.#snapshot;
    this.#snapshot = snapshot;
    this.#refusal = undefined;
    if (options.confirmed !== false) {
      this.#confirmedAt = this.#now();
      this.#failure = undefined;
    }
    if (changed) this.emit({ type: "snapshot", snapshot });
  }

  /**
   * Records that the source was just read and the snapshot in force is still
   * current: ends any failure and, unless a refused document is there instead,
   * resets the age of the last confirmation.
   */
  confirm(): void {
    this.#failure = undefined;
    if (this.#snapshot !== undefined && this.#refusal === undefined) this.#confirmedAt = this.#now();
  }

  /**
   * Records that the source cannot be read; the snapshot in force stays.
   * Subscribers get an `error` event with `error` unless `emit` is false
   * (e.g. when the caller rejects a promise with the same error, or reports
   * a more telling error of its own).
   */
  fail(error: unknown, options: { emit?: boolean } = {}): void {
    const failure = asError(error);
    this.#failure = failure;
    if (options.emit !== false) this.emit({ type: "error", error: failure });
  }

  /**
   * Records that the source was read (so any failure ends) but holds a
   * document that was refused; the snapshot in force stays until a good
   * document arrives. Subscribers get an `error` event unless `emit` is false.
   */
  refuse(error: unknown, options: { emit?: boolean } = {}): void {
    const refusal = asError(error);
    this.#failure = undefined;
    this.#refusal = refusal;
    if (options.emit !== false) this.emit({ type: "error", error: refusal });
  }

  /** Ends a failure without confirming anything (the source answers again). A refusal stays. */
  clearError(): void {
    this.#failure = undefined;
  }

  /** Calls every listener; a listener that throws does not stop the others (it raises a process warning). Nothing once closed. */
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

  /** Health as the `Store` interface reports it: `stale` while a failure or refusal keeps an older snapshot in force. */
  health(): StoreHealth {
    const snapshot = this.#snapshot;
    const error = this.error;
    return {
      kind: this.kind,
      revision: snapshot?.revision ?? null,
      ageMs: this.#confirmedAt === undefined ? null : Math.max(0, this.#now() - this.#confirmedAt),
      stale: error !== undefined && snapshot !== undefined,
      error: error?.message ?? null,
    };
  }

  /** Throws `StoreClosedError` once {@link StoreState.close} was called. */
  assertOpen(): void {
    if (this.#closed) throw new StoreClosedError(this.kind);
  }

  /** Drops every listener; later events are not delivered and later subscriptions add nothing. Idempotent. */
  close(): void {
    this.#closed = true;
    this.#listeners.clear();
  }
}
