import { spawn, type ChildProcess } from "node:child_process";
import { constants } from "node:os";
import type { SignalSource } from "../context.js";

/** Signals the guard forwards to its command (and that leave the flag on). */
export const FORWARDED_SIGNALS: readonly NodeJS.Signals[] = ["SIGINT", "SIGTERM", "SIGHUP"];

/** 128 + the signal's number, the shell's exit status for a process ended by it. */
export function signalExitCode(signal: NodeJS.Signals): number {
  return 128 + (constants.signals[signal] ?? 0);
}

/**
 * Catches SIGINT/SIGTERM/SIGHUP for the whole guard run: the first one is
 * remembered (the flag is then left on and the guard exits 128+signal), and
 * every one is forwarded to the command running at that moment.
 */
export class SignalTrap {
  received: NodeJS.Signals | undefined;
  readonly #source: SignalSource;
  readonly #notify: (signal: NodeJS.Signals, forwarded: boolean) => void;
  #child: ChildProcess | undefined;

  constructor(source: SignalSource, notify: (signal: NodeJS.Signals, forwarded: boolean) => void) {
    this.#source = source;
    this.#notify = notify;
    for (const signal of FORWARDED_SIGNALS) source.on(signal, this.#handle);
  }

  readonly #handle = (signal: NodeJS.Signals): void => {
    this.received ??= signal;
    const child = this.#child;
    const running = child !== undefined && child.exitCode === null && child.signalCode === null;
    this.#notify(signal, running);
    if (running) child.kill(signal);
  };

  attach(child: ChildProcess | undefined): void {
    this.#child = child;
  }

  dispose(): void {
    for (const signal of FORWARDED_SIGNALS) this.#source.off(signal, this.#handle);
    this.#child = undefined;
  }
}

/** How a command ended. */
export type Outcome =
  | { readonly kind: "exit"; readonly code: number }
  | { readonly kind: "signal"; readonly signal: NodeJS.Signals }
  | { readonly kind: "error"; readonly message: string; readonly code: number };

/**
 * Runs `argv` with inherited stdio, forwarding signals through `trap`, and
 * resolves with how it ended. A command that cannot be started resolves with
 * `kind: "error"` and the shell's status (127 not found, 126 not executable).
 */
export function runCommand(argv: readonly string[], options: { env: NodeJS.ProcessEnv; cwd: string; trap: SignalTrap }): Promise<Outcome> {
  return new Promise((resolve) => {
    let child: ChildProcess;
    try {
      child = spawn(argv[0]!, argv.slice(1), { stdio: "inherit", env: options.env, cwd: options.cwd });
    } catch (error) {
      resolve({ kind: "error", message: (error as Error).message, code: 126 });
      return;
    }
    options.trap.attach(child);
    let settled = false;
    const settle = (outcome: Outcome) => {
      if (settled) return;
      settled = true;
      options.trap.attach(undefined);
      resolve(outcome);
    };
    child.on("error", (error: NodeJS.ErrnoException) => {
      // Only a failure to start lands here before "exit"; later errors (kill on a dead process) are ignored.
      if (child.pid !== undefined && child.exitCode === null && child.signalCode === null) return;
      const code = error.code === "ENOENT" ? 127 : 126;
      const why = error.code === "ENOENT" ? "command not found" : error.code === "EACCES" ? "permission denied" : error.message;
      settle({ kind: "error", message: `cannot run ${JSON.stringify(argv[0])}: ${why}`, code });
    });
    child.once("exit", (code, signal) => {
      if (signal !== null) settle({ kind: "signal", signal });
      else settle({ kind: "exit", code: code ?? 1 });
    });
  });
}
