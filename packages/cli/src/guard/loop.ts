import { type BatchedWrites } from "./batch.js";
import { messageOf } from "../errors.js";
import { statusOf, succeeded, why, type Outcome, type SignalTrap } from "./child.js";
import type { JournalStep, JournalWriter } from "./journal.js";
import type { Progress } from "./progress.js";

/** One key of the list: its position (0-based) and the key (a user id). */
export interface LoopItem {
  readonly index: number;
  readonly key: string;
}

/** How one key ended. */
export type ItemEnd =
  /** The command exited 0 and the flag is off for the key. */
  | { readonly kind: "succeeded" }
  /** The command failed; the flag stays on. */
  | { readonly kind: "failed"; readonly outcome: Outcome }
  /** The command was running when detour got a signal; the flag stays on. */
  | { readonly kind: "interrupted"; readonly outcome: Outcome }
  /** The flag could not be turned on; the command was not run. */
  | { readonly kind: "not-enabled"; readonly error: unknown }
  /** The command exited 0 but the flag could not be turned off again. */
  | { readonly kind: "still-on"; readonly error: unknown }
  /**
   * The loop was stopping by the time the flag was on: the command was not
   * run and the flag was turned off again (`error` when that failed too).
   */
  | { readonly kind: "not-started"; readonly error?: unknown };

/** What stopped the loop first. */
export type Stop =
  | { readonly kind: "signal"; readonly signal: NodeJS.Signals }
  | { readonly kind: "item"; readonly item: LoopItem; readonly end: ItemEnd }
  | { readonly kind: "error"; readonly error: unknown };

export interface LoopResult {
  /** How each key that was reached ended, by list index (the others were never reached: the loop stopped first). */
  readonly ends: ReadonlyMap<number, ItemEnd>;
  readonly stop: Stop | undefined;
}

export interface LoopOptions {
  readonly items: readonly LoopItem[];
  readonly concurrency: number;
  readonly writes: BatchedWrites;
  /** Runs the command for one key (the key appended as its last argument). */
  run(key: string): Promise<Outcome>;
  readonly trap: SignalTrap;
  readonly journal: JournalWriter | undefined;
  readonly progress: Progress;
  /** Called once, when the loop starts stopping (first failure, a signal, the journal failing). */
  onStop(stop: Stop, running: number): void;
}

/**
 * Runs the command for each key, at most `concurrency` at a time: the flag
 * on for the key just before its command starts, off right after it exits
 * 0. On the first failure (or a signal) no new key starts; the commands
 * running finish; the flags of failed and interrupted keys stay on.
 */
export async function runLoop(options: LoopOptions): Promise<LoopResult> {
  const { items, concurrency, writes, trap, journal, progress } = options;
  const ends = new Map<number, ItemEnd>();
  let stop: Stop | undefined;
  /** Keys not ended yet. */
  let active = 0;
  /** Keys holding one of the `concurrency` slots: from their "on" until their "off" is queued. */
  let holding = 0;
  let next = 0;
  let wake: (() => void) | undefined;

  const stopWith = (reason: Stop) => {
    if (stop !== undefined) return;
    stop = reason;
    options.onStop(reason, active);
  };
  const stopping = () => {
    if (stop === undefined && trap.received !== undefined) stopWith({ kind: "signal", signal: trap.received });
    return stop !== undefined;
  };
  /** Journal lines; a journal that cannot be written stops the loop (the outcomes would no longer be known on resume). */
  const record = (step: JournalStep): Promise<void> =>
    journal === undefined ? Promise.resolve() : journal.record(step).catch((error: unknown) => stopWith({ kind: "error", error }));

  /** A key that did not succeed stops the loop at once, before anything else is awaited. */
  const fail = (item: LoopItem, end: ItemEnd): ItemEnd => {
    stopWith({ kind: "item", item, end });
    return end;
  };

  /** `release()`: the key no longer needs its slot (its "off" is queued, or it ended). */
  const one = async (item: LoopItem, release: () => void): Promise<ItemEnd> => {
    const { key } = item;
    try {
      await writes.enable(key);
    } catch (error) {
      const end = fail(item, { kind: "not-enabled", error });
      await record({ event: "error", key, why: messageOf(error) });
      return end;
    }
    if (stopping()) {
      try {
        await writes.disable(key);
        return { kind: "not-started" };
      } catch (error) {
        return { kind: "not-started", error };
      }
    }
    void record({ event: "start", key });
    const started = performance.now();
    progress.started(item.index, key);
    const outcome = await options.run(key);
    const elapsed = performance.now() - started;
    if (trap.received !== undefined) {
      stopping();
      progress.finished(item.index, key, false, elapsed);
      await record({ event: "interrupted", key, signal: trap.received });
      return { kind: "interrupted", outcome };
    }
    if (!succeeded(outcome)) {
      const end = fail(item, { kind: "failed", outcome });
      progress.finished(item.index, key, false, elapsed);
      await record({ event: "fail", key, status: statusOf(outcome), why: why(outcome) });
      return end;
    }
    // Durable before the flag goes off: a crash in between re-runs nothing that succeeded.
    await record({ event: "ok", key });
    // With several at once, the next key may start now: its "on" is queued after this "off", so
    // the same write or a later one carries it, and the mode never holds more than `concurrency`
    // keys (unless this write fails: the loop stops, and a key turned on meanwhile is turned off
    // unrun). One at a time, the next key waits for this one's "off".
    const off = writes.disable(key);
    if (concurrency > 1) release();
    try {
      await off;
    } catch (error) {
      const end = fail(item, { kind: "still-on", error });
      progress.finished(item.index, key, false, elapsed);
      return end;
    }
    void record({ event: "off", key });
    progress.finished(item.index, key, true, elapsed);
    return { kind: "succeeded" };
  };

  let unexpected: { error: unknown } | undefined;
  const launch = (item: LoopItem) => {
    active++;
    holding++;
    let held = true;
    const release = () => {
      if (!held) return;
      held = false;
      holding--;
      wake?.();
    };
    void one(item, release)
      .then(
        (end) => void ends.set(item.index, end),
        (error: unknown) => {
          // A bug, not a command's failure: stop starting keys, let the others finish, then throw it.
          unexpected ??= { error };
          stopWith({ kind: "error", error });
        },
      )
      .finally(() => {
        release();
        active--;
        wake?.();
      });
  };

  for (;;) {
    while (!stopping() && holding < concurrency && next < items.length) launch(items[next++]!);
    if (active === 0) break;
    await new Promise<void>((resolve) => (wake = resolve));
    wake = undefined;
  }
  if (unexpected !== undefined) throw unexpected.error;
  return { ends, stop };
}
