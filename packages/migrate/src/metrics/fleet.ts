import { OptionsError, type Detour, type JsonValue, type Store } from "@detour/core";
import { randomUUID } from "node:crypto";
import { hostname } from "node:os";
import { recorderOf, WINDOW_SLOTS, type MigrationRecorder, type RecorderListener, type WindowSlot } from "./recorder.js";
import { summarize, type MigrationSummary } from "./summary.js";

/** Entries of the figures document: `flagValues["migrations:<instance>"]`. */
export const FIGURES_PREFIX = "migrations:";

/** What one instance publishes. */
export interface PublishedFigures {
  instance: string;
  /** Epoch ms of the publication. */
  at: number;
  slots: WindowSlot[];
}

export interface FleetOptions {
  /**
   * Where the instances meet: a store of its own (a file next to the flags,
   * or the Redis store with another prefix), never the flag store itself.
   */
  store: Store;
  /** This instance's name; default `<hostname>:<pid>:<random>`. */
  instance?: string;
  /** How often this instance publishes its figures; default 10 000 ms. */
  intervalMs?: number;
  /** An instance that has not published for this long is left out (and removed); default 2 minutes. */
  staleMs?: number;
  /** Publication failures (the store unreachable); default: ignored until the next interval. */
  onError?: (error: Error) => void;
}

/**
 * The migration figures of many instances, added together through a store:
 * every instance publishes its one-minute slots of the last minutes
 * (counters and mergeable latency histograms) under its own key of the
 * figures document, and anyone reading that document (another instance, the
 * admin's panel, `detour migrate status --figures`) adds them up: p50/p99 of
 * the fleet are those of all its operations together.
 */
export class MigrationFleet {
  readonly instance: string;
  readonly #recorder: MigrationRecorder;
  readonly #store: Store;
  readonly #staleMs: number;
  readonly #timer: ReturnType<typeof setInterval>;
  readonly #onError: (error: Error) => void;
  #publishing: Promise<void> | undefined;

  constructor(detour: Detour<never> | Detour<any>, options: FleetOptions) {
    if (typeof options?.store?.write !== "function") throw new OptionsError("store", "expected a store (fileStore, redisStore...) for the migration figures");
    const intervalMs = options.intervalMs ?? 10_000;
    if (!Number.isInteger(intervalMs) || intervalMs < 100) throw new OptionsError("intervalMs", "expected a whole number of milliseconds >= 100");
    this.instance = options.instance ?? `${hostname()}:${process.pid}:${randomUUID().slice(0, 8)}`;
    this.#recorder = recorderOf(detour);
    this.#store = options.store;
    this.#staleMs = options.staleMs ?? 120_000;
    this.#onError = options.onError ?? (() => undefined);
    this.#timer = setInterval(() => void this.publish(), intervalMs);
    this.#timer.unref?.();
  }

  /** Publishes this instance's figures now (the timer does it every interval). Never rejects. */
  publish(): Promise<void> {
    this.#publishing ??= this.#store
      .write((doc) => {
        const values = (doc.flagValues ??= {});
        const now = Date.now();
        for (const [key, value] of Object.entries(values)) {
          if (key.startsWith(FIGURES_PREFIX) && now - ((value as { at?: number } | null)?.at ?? 0) > this.#staleMs) delete values[key];
        }
        const figures: PublishedFigures = { instance: this.instance, at: now, slots: this.#recorder.window(WINDOW_SLOTS) };
        values[`${FIGURES_PREFIX}${this.instance}`] = figures as unknown as JsonValue;
      })
      .then(
        () => undefined,
        (error: unknown) => this.#onError(error instanceof Error ? error : new Error(String(error))),
      )
      .finally(() => {
        this.#publishing = undefined;
      });
    return this.#publishing;
  }

  /** The fleet's figures of the last `minutes` minutes: this instance live, the others as last published. */
  summary(minutes = 5): MigrationSummary {
    const others = publishedFigures(this.#store, this.#staleMs).filter((f) => f.instance !== this.instance);
    const since = Date.now() - minutes * 60_000;
    const slots = [...this.#recorder.window(minutes), ...others.flatMap((f) => f.slots.filter((s) => s.start + 60_000 > since))];
    return summarize(slots, minutes, others.length + 1);
  }

  /** This instance's operations (the admin pushes new figures on them). */
  subscribe(listener: RecorderListener): () => void {
    return this.#recorder.subscribe(listener);
  }

  /** Stops publishing and removes this instance's entry. */
  async close(): Promise<void> {
    clearInterval(this.#timer);
    await this.#publishing;
    await this.#store
      .write((doc) => {
        if (doc.flagValues) delete doc.flagValues[`${FIGURES_PREFIX}${this.instance}`];
      })
      .catch((error: unknown) => this.#onError(error instanceof Error ? error : new Error(String(error))));
  }
}

/** The figures every instance published to `store` (not older than `staleMs`). */
export function publishedFigures(store: Store, staleMs = 120_000): PublishedFigures[] {
  const values = store.snapshot()?.document.flagValues ?? {};
  const now = Date.now();
  return Object.entries(values)
    .filter(([key, value]) => key.startsWith(FIGURES_PREFIX) && typeof value === "object" && value !== null && now - ((value as { at?: number }).at ?? 0) <= staleMs)
    .map(([, value]) => value as unknown as PublishedFigures);
}

/** The figures of every instance that published to `store`, added together (what `detour migrate status --figures` prints). */
export function fleetSummary(store: Store, minutes = 5, staleMs = 120_000): MigrationSummary {
  const figures = publishedFigures(store, staleMs);
  const since = Date.now() - minutes * 60_000;
  return summarize(figures.flatMap((f) => f.slots.filter((s) => s.start + 60_000 > since)), minutes, figures.length);
}

/** Shares this instance's migration figures through `options.store` and reads the fleet's (see `MigrationFleet`). */
export function shareMigrationFigures(detour: Detour<never> | Detour<any>, options: FleetOptions): MigrationFleet {
  return new MigrationFleet(detour, options);
}
