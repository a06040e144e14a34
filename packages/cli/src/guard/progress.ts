import { clearLine, cursorTo } from "node:readline";
import cliProgress from "cli-progress";
import type { OutputStream } from "../context.js";
import { duration } from "../format.js";

/** Reports a per-user guard loop: one step per user. */
export interface Progress {
  /** Before running the command for `user`, the `index`-th (0-based) of `total`. */
  before(index: number, user: string): void;
  /** After the command for `user` succeeded and the flag was turned off for them. */
  after(index: number, user: string, elapsedMs: number): void;
  /** Ends the report (always called, also after a failure). */
  stop(): void;
}

/**
 * A progress bar (cli-progress) on a terminal, plain lines otherwise. The
 * bar is drawn between commands only: while a command runs it owns the
 * terminal, and the bar's periodic redraw is paused so it never writes over
 * the command's output.
 */
export function createProgress(stream: OutputStream, options: { flag: string; total: number; first: number }): Progress {
  return stream.isTTY === true ? new BarProgress(stream, options) : new PlainProgress(stream, options);
}

class PlainProgress implements Progress {
  readonly #stream: OutputStream;
  readonly #total: number;
  readonly #first: number;
  readonly #started = Date.now();

  constructor(stream: OutputStream, options: { total: number; first: number }) {
    this.#stream = stream;
    this.#total = options.total;
    this.#first = options.first;
  }

  before(index: number, user: string): void {
    this.#stream.write(`detour: [${index + 1}/${this.#total}] ${user}: running\n`);
  }

  after(index: number, user: string, elapsedMs: number): void {
    const done = index + 1 - this.#first;
    const left = this.#total - index - 1;
    const eta = left > 0 && done > 0 ? `, ETA ${duration(((Date.now() - this.#started) / done) * left)}` : "";
    this.#stream.write(`detour: [${index + 1}/${this.#total}] ${user}: ok in ${duration(elapsedMs)}${eta}\n`);
  }

  stop(): void {}
}

/** The terminal cli-progress draws on, muted while a command runs. */
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

class BarProgress implements Progress {
  readonly #terminal: PausableTerminal;
  readonly #bar: cliProgress.SingleBar;
  #stopped = false;

  constructor(stream: OutputStream, options: { flag: string; total: number; first: number }) {
    this.#terminal = new PausableTerminal(stream);
    this.#bar = new cliProgress.SingleBar({
      format: `guard ${options.flag} [{bar}] {value}/{total} users | ETA {eta_formatted} | {user}`,
      barCompleteChar: "\u2588",
      barIncompleteChar: "\u2591",
      barsize: 24,
      fps: 4,
      forceRedraw: true,
      etaBuffer: 20,
      etaAsynchronousUpdate: true,
      formatTime: (seconds: number) => (Number.isFinite(seconds) && seconds >= 0 ? duration(seconds * 1000) : "--"),
      linewrap: true,
      hideCursor: false,
      clearOnComplete: false,
      gracefulExit: false,
      terminal: this.#terminal,
    } as cliProgress.Options);
    this.#bar.start(options.total, options.first, { user: "" });
  }

  before(index: number, user: string): void {
    this.#terminal.paused = false;
    this.#bar.update(index, { user: `running for ${user}` });
    this.#bar.render();
    // The command's output starts on its own line; the bar stays quiet until it exits.
    this.#terminal.newline();
    this.#terminal.paused = true;
  }

  after(index: number, user: string): void {
    this.#terminal.paused = false;
    this.#bar.update(index + 1, { user: `${user} done` });
    this.#bar.render();
  }

  stop(): void {
    if (this.#stopped) return;
    this.#stopped = true;
    this.#terminal.paused = false;
    this.#bar.stop();
  }
}
