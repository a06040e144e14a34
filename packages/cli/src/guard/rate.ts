/** How far back the rate looks: long enough to be steady, short enough to follow a slowdown. */
const WINDOW_MS = 20_000;
const SAMPLE_MS = 500;

/**
 * Completions per second over the last ~20 seconds, and the time left at
 * that rate. `now` is injectable for tests.
 */
export class RateMeter {
  readonly #now: () => number;
  readonly #samples: { at: number; done: number }[];

  constructor(now: () => number = Date.now) {
    this.#now = now;
    this.#samples = [{ at: now(), done: 0 }];
  }

  /** Records that `done` keys have completed so far. */
  update(done: number): void {
    const at = this.#now();
    if (at - this.#samples.at(-1)!.at >= SAMPLE_MS) this.#samples.push({ at, done });
    while (this.#samples.length > 2 && this.#samples[1]!.at <= at - WINDOW_MS) this.#samples.shift();
  }

  /** Completions per second, or `undefined` before there is anything to go on. */
  perSecond(done: number): number | undefined {
    const oldest = this.#samples[0]!;
    const elapsed = this.#now() - oldest.at;
    if (elapsed <= 0 || done === 0) return undefined;
    return (Math.max(0, done - oldest.done) * 1000) / elapsed;
  }

  /** Milliseconds until `remaining` more complete at the current rate, or `undefined` when unknown. */
  etaMs(done: number, remaining: number): number | undefined {
    if (remaining <= 0) return 0;
    const rate = this.perSecond(done);
    return rate === undefined || rate === 0 ? undefined : (remaining / rate) * 1000;
  }
}

/** `0.8 users/s`, `52 users/s`. */
export function formatRate(perSecond: number | undefined, noun: string): string {
  if (perSecond === undefined) return `-- ${noun}s/s`;
  return `${perSecond < 10 ? perSecond.toFixed(1) : Math.round(perSecond).toString()} ${noun}s/s`;
}
