import { StoreClosedError } from "../../errors.js";
import type { Snapshot } from "../../snapshot.js";
import type { Mutator, Store, StoreHealth, StoreListener } from "../types.js";
import { StoreState } from "./state.js";

/** Options of {@link StoreBase}. */
export interface StoreBaseOptions {
  /** The store kind reported by `health()` and in errors: `file`, `redis`, `postgres`... */
  readonly kind: string;
  /** The store's clock (health ages, snapshot timestamps), epoch milliseconds. Default `Date.now`. */
  readonly now?: () => number;
}

/**
 * The `Store` interface, implemented once: extend it and supply the I/O.
 *
 * A store supplies three methods:
 * - {@link StoreBase.open}: read the source for the first time, put the
 *   snapshot in force with `this.state.accept()`, start watching the source
 *   (each change read is `accept`ed, `refuse`d or makes the store `fail`), and
 *   resolve with the snapshot in force.
 * - {@link StoreBase.commit}: one read-modify-write: read the newest document,
 *   run `applyMutation()` on it, write the result with a compare-and-set or
 *   under a lock (retrying when another writer won), `accept` it, resolve with it.
 * - {@link StoreBase.shutdown} (optional): stop watching, release connections.
 *
 * The base holds what every store would otherwise repeat: the snapshot in
 * force, listeners (none are added after `close()`), health, the refusal of
 * a closed store, one `open()` at a time however many `load()` calls wait on
 * it, and the error a failed `open()` leaves in `health()`.
 */
export abstract class StoreBase implements Store {
  readonly kind: string;
  /** The snapshot in force, health and listeners; hand it to the modules that do the store's I/O. */
  protected readonly state: StoreState;
  #opening: Promise<Snapshot> | undefined;

  constructor(options: StoreBaseOptions) {
    this.kind = options.kind;
    this.state = new StoreState(options.kind, options.now);
  }

  /**
   * Reads the source the first time it is called (concurrent calls share that
   * read) and resolves with the snapshot in force from then on. Rejects with
   * `StoreClosedError` once closed, or with what `open()` rejects with.
   */
  load(): Promise<Snapshot> {
    if (this.state.closed) return Promise.reject(new StoreClosedError(this.kind));
    const current = this.state.snapshot;
    if (current !== undefined) return Promise.resolve(current);
    this.#opening ??= this.#open().finally(() => {
      this.#opening = undefined;
    });
    return this.#opening;
  }

  snapshot(): Snapshot | undefined {
    return this.state.snapshot;
  }

  subscribe(listener: StoreListener): () => void {
    return this.state.subscribe(listener);
  }

  write(mutator: Mutator): Promise<Snapshot> {
    if (this.state.closed) return Promise.reject(new StoreClosedError(this.kind));
    try {
      return this.commit(mutator);
    } catch (error) {
      return Promise.reject(error);
    }
  }

  health(): StoreHealth {
    return this.state.health();
  }

  /**
   * Stops delivering events, waits for `shutdown()`, then for a first load
   * still in progress to settle, so the store touches its source no more
   * once `close()` resolves. Idempotent.
   */
  async close(): Promise<void> {
    if (this.state.closed) return;
    this.state.close();
    await this.shutdown();
    await this.#opening?.catch(() => undefined);
  }

  /**
   * Reads the source for the first time and starts watching it; resolves with
   * the snapshot in force (put there with `this.state.accept()`). When it
   * rejects, `load()` rejects with the same error, and unless `open()`
   * recorded why with `this.state.fail()` or `refuse()`, `health()` reports
   * that error until the source is read successfully.
   */
  protected abstract open(): Promise<Snapshot>;

  /**
   * One atomic read-modify-write (see `Store.write`): never trusts the
   * snapshot in force when another writer may have written since. Only called
   * while the store is open.
   */
  protected abstract commit(mutator: Mutator): Promise<Snapshot>;

  /** Stops watching and releases what the store holds; called once, by `close()`. */
  protected shutdown(): Promise<void> {
    return Promise.resolve();
  }

  async #open(): Promise<Snapshot> {
    const { failure, refusal } = this.state;
    try {
      return await this.open();
    } catch (error) {
      const recorded = this.state.failure !== failure || this.state.refusal !== refusal;
      if (!recorded && !this.state.closed) this.state.fail(error, { emit: false });
      throw error;
    }
  }
}
