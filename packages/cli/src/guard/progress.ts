import { clearLine, cursorTo } from "node:readline";
import cliProgress from "cli-progress";
import type { OutputStream } from "../context.js";
import { duration } from "../format.js";
import { formatRate, RateMeter } from "./rate.js";

/** Reports a guard loop: one step per key (user). */
export interface Progress {
  /** The command for `key`, the `index`-th (0-based) of the list, starts. */
  started(index: number, key: string): void;
  /** The command for `key` ended: `ok` when it succeeded and the flag was turned off for it. */
  finished(index: number, key: string, ok: boolean, elapsedMs: number): void;
  /** Ends the report (always called, also after a failure). */
  stop(): void;
}

export interface ProgressOptions {
  flag: string;
  /** What a key is: `user`. */
  noun: string;
  /** Keys in the list. */
  total: number;
  /** Keys already done before this run (`--resume-from`, `--resume`). */
  skipped: number;
  concurrency: number;
  /** How often plain progress lines are printed when several commands run at once. Default 10 s. */
  intervalMs?: number;
  now?: () => number;
}

/**
 * On a terminal, a progress bar (cli-progress) with the rate and the ETA.
 * Otherwise plain lines on stderr: one per key when the commands run one at
 * a time (their output comes in between), and with `--concurrency` above 1
 * a summary line every 10 seconds (a line per key would interleave with the
 * commands' output and cost as much as the work at a few hundred keys/s).
 */
export function createProgress(stream: OutputStream, options: ProgressOptions): Progress {
  if (stream.isTTY === true) return new BarProgress(stream, options);
  return options.concurrency === 1 ? new LineProgress(stream, options) : new PeriodicProgress(stream, options);
}

/** What every report counts: done, running, failed, and the rate. */
class Tally {
  done = 0;
  failed = 0;
  running = 0;
  readonly meter: RateMeter;
  readonly options: ProgressOptions;

  constructor(options: ProgressOptions) {
    this.options = options;
    this.meter = new RateMeter(options.now);
  }

  started(): void {
    this.running++;
  }

  finished(ok: boolean): void {
    this.running--;
    if (ok) this.done++;
    else this.failed++;
    this.meter.update(this.done);
  }

  get remaining(): number {
    return this.options.total - this.options.skipped - this.done;
  }

  rate(): string {
    return formatRate(this.meter.perSecond(this.done), this.options.noun);
  }

  eta(): string {
    const ms = this.meter.etaMs(this.done, this.remaining);
    return ms === undefined ? "--" : duration(ms);
  }
}

class LineProgress implements Progress {
  readonly #stream: OutputStream;
  readonly #tally: Tally;

  constructor(stream: OutputStream, options: ProgressOptions) {
    this.#stream = stream;
    this.#tally = new Tally(options);
  }

  started(index: number, key: string): void {
    this.#tally.started();
    this.#stream.write(`detour: [${index + 1}/${this.#tally.options.total}] ${key}: running\n`);
  }

  finished(index: number, key: string, ok: boolean, elapsedMs: number): void {
    this.#tally.finished(ok);
    if (!ok) return;
    const eta = this.#tally.remaining > 0 ? `, ETA ${this.#tally.eta()}` : "";
    this.#stream.write(`detour: [${index + 1}/${this.#tally.options.total}] ${key}: ok in ${duration(elapsedMs)}, ${this.#tally.rate()}${eta}\n`);
  }

  stop(): void {}
}

class PeriodicProgress implements Progress {
  readonly #stream: OutputStream;
  readonly #tally: Tally;
  readonly #timer: NodeJS.Timeout;

  constructor(stream: OutputStream, options: ProgressOptions) {
    this.#stream = stream;
    this.#tally = new Tally(options);
    this.#timer = setInterval(() => this.#line(), options.intervalMs ?? 10_000);
    this.#timer.unref();
  }

  #line(): void {
    const t = this.#tally;
    const { total, skipped, noun } = t.options;
    const failed = t.failed > 0 ? `, ${t.failed} failed` : "";
    this.#stream.write(`detour: [${skipped + t.done}/${total}] ${noun}s done, ${t.running} running${failed}, ${t.rate()}, ETA ${t.eta()}\n`);
  }

  started(): void {
    this.#tally.started();
  }

  finished(_index: number, _key: string, ok: boolean): void {
    this.#tally.finished(ok);
  }

  stop(): void {
    clearInterval(this.#timer);
  }
}

/** The terminal cli-progress draws on, muted while a command that owns it runs. */
class PausableTerminal {
  paused = false;
  readonly #stream: OutputStream & NodeJS.WritableStream;

  constructor(stream: OutputStream) {
    this.#stream = stream as OutputStream & NodeJS.WritableStream;
  }

  isTTY(): boolean {
    return true;
  }
  getWidth(): number {
    return this.#stream.columns || 80;
  }
  write(text: string): void {
    if (!this.paused) this.#stream.write(text.slice(0, this.getWidth()));
  }
  newline(): void {
    if (!this.paused) this.#stream.write("\n");
  }
  cursorTo(x: number | null = null): void {
    if (!this.paused && x !== null) cursorTo(this.#stream, x);
  }
  clearRight(): void {
    if (!this.paused) clearLine(this.#stream, 1);
  }
  clearLine(): void {
    if (!this.paused) clearLine(this.#stream, 0);
  }
  // Cursor save/restore, visibility and line wrapping are left to the commands that run in between.
  cursorSave(): void {}
  cursorRestore(): void {}
  cursor(): void {}
  lineWrapping(): void {}
  cursorRelative(): void {}
  cursorRelativeReset(): void {}
  clearBottom(): void {}
}

/**
 * The bar. One command at a time: drawn between commands only (while a
 * command runs it owns the terminal, and the bar's redraw is paused so it
 * never writes over the command's output). Several at a time: commands run
 * all the time, so the bar is redrawn when a command ends, at most twice a
 * second, on its own line.
 */
class BarProgress implements Progress {
  readonly #terminal: PausableTerminal;
  readonly #bar: cliProgress.SingleBar;
  readonly #tally: Tally;
  readonly #serial: boolean;
  #stopped = false;

  constructor(stream: OutputStream, options: ProgressOptions) {
    this.#terminal = new PausableTerminal(stream);
    this.#tally = new Tally(options);
    this.#serial = options.concurrency === 1;
    this.#bar = new cliProgress.SingleBar({
      // {eta} is cli-progress's own token: ours are {rate} and {left}.
      format: `guard ${options.flag} [{bar}] {value}/{total} ${options.noun}s | {rate} | ETA {left} | {status}`,
      barCompleteChar: "\u2588",
      barIncompleteChar: "\u2591",
      barsize: 16,
      fps: this.#serial ? 4 : 2,
      forceRedraw: this.#serial,
      linewrap: true,
      hideCursor: false,
      clearOnComplete: false,
      gracefulExit: false,
      terminal: this.#terminal,
    } as cliProgress.Options);
    this.#bar.start(options.total, options.skipped, this.#payload(""));
  }

  #payload(status: string): Record<string, string> {
    return { rate: this.#tally.rate(), left: this.#tally.eta(), status };
  }

  #value(): number {
    return this.#tally.options.skipped + this.#tally.done;
  }

  started(_index: number, key: string): void {
    this.#tally.started();
    if (!this.#serial) {
      this.#bar.update(this.#value(), this.#payload(`${this.#tally.running} running`));
      return;
    }
    this.#terminal.paused = false;
    this.#bar.update(this.#value(), this.#payload(`running ${key}`));
    this.#bar.render();
    // The command's output starts on its own line; the bar stays quiet until it exits.
    this.#terminal.newline();
    this.#terminal.paused = true;
  }

  finished(_index: number, key: string, ok: boolean): void {
    this.#tally.finished(ok);
    if (!this.#serial) {
      this.#bar.update(this.#value(), this.#payload(`${this.#tally.running} running`));
      return;
    }
    this.#terminal.paused = false;
    this.#bar.update(this.#value(), this.#payload(ok ? `${key} done` : `${key} failed`));
    this.#bar.render();
  }

  stop(): void {
    if (this.#stopped) return;
    this.#stopped = true;
    this.#terminal.paused = false;
    this.#bar.stop();
  }
}
