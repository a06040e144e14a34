import { spawn, type ChildProcess } from "node:child_process";
import { constants } from "node:os";
import type { SignalSource } from "../context.js";

/** Signals the guard forwards to its commands (and that leave the flag on). */
export const FORWARDED_SIGNALS: readonly NodeJS.Signals[] = ["SIGINT", "SIGTERM", "SIGHUP"];

/** 128 + the signal's number, the shell's exit status for a process ended by it. */
export function signalExitCode(signal: NodeJS.Signals): number {
  return 128 + (constants.signals[signal] ?? 0);
}

/** A command the trap can pass signals to: a child process, or one a helper process runs (spawner.ts). */
export interface RunningCommand {
  kill(signal: NodeJS.Signals): void;
  /** Not ended yet. */
  readonly alive: boolean;
}

/**
 * Catches SIGINT/SIGTERM/SIGHUP for the whole guard run: the first one is
 * remembered (flags are then left on and the guard exits 128+signal), and
 * every one is forwarded to every command running at that moment.
 */
export class SignalTrap {
  received: NodeJS.Signals | undefined;
  readonly #source: SignalSource;
  readonly #notify: (signal: NodeJS.Signals, forwardedTo: number) => void;
  readonly #children = new Set<RunningCommand>();

  /** `notify` is told of each signal and of how many running commands it was passed to. */
  constructor(source: SignalSource, notify: (signal: NodeJS.Signals, forwardedTo: number) => void) {
    this.#source = source;
    this.#notify = notify;
    for (const signal of FORWARDED_SIGNALS) source.on(signal, this.#handle);
  }

  readonly #handle = (signal: NodeJS.Signals): void => {
    this.received ??= signal;
    const running = [...this.#children].filter((child) => child.alive);
    this.#notify(signal, running.length);
    for (const child of running) child.kill(signal);
  };

  /** Forwards signals to `child` until `detach(child)`. */
  attach(child: RunningCommand): void {
    this.#children.add(child);
  }

  detach(child: RunningCommand): void {
    this.#children.delete(child);
  }

  dispose(): void {
    for (const signal of FORWARDED_SIGNALS) this.#source.off(signal, this.#handle);
    this.#children.clear();
  }
}

/** How a command ended. */
export type Outcome =
  | { readonly kind: "exit"; readonly code: number }
  | { readonly kind: "signal"; readonly signal: NodeJS.Signals }
  | { readonly kind: "error"; readonly message: string; readonly code: number };

/** True for a command that exited 0. */
export function succeeded(outcome: Outcome): boolean {
  return outcome.kind === "exit" && outcome.code === 0;
}

/** Why the command did not succeed, for "left on" messages. */
export function why(outcome: Outcome): string {
  switch (outcome.kind) {
    case "exit":
      return `the command exited with status ${outcome.code}`;
    case "signal":
      return `the command was killed by ${outcome.signal}`;
    case "error":
      return outcome.message;
  }
}

/** The shell's status for an outcome: the exit code, 128+N for signal N, 126/127 when it could not start. */
export function statusOf(outcome: Outcome): number {
  return outcome.kind === "exit" ? outcome.code : outcome.kind === "signal" ? signalExitCode(outcome.signal) : outcome.code;
}

/** What `runCommand` needs besides the arguments. */
export interface RunOptions {
  env: NodeJS.ProcessEnv;
  cwd: string;
  trap: SignalTrap;
  /**
   * The program's path as `resolveCommand` found it: spawned directly, so
   * no `PATH` search per run; `argv[0]` is still passed to it as typed.
   */
  file?: string;
  /** Adds up how long `spawn()` held the event loop (it returns once the child has exec'd), for `--debug`. */
  stats?: SpawnStats;
}

/** Time spent inside `spawn()` itself. */
export interface SpawnStats {
  spawns: number;
  ms: number;
}

/**
 * Runs `argv` with inherited stdio and no shell, forwarding signals through
 * `trap`, and resolves with how it ended. A command that cannot be started
 * resolves with `kind: "error"` and the shell's status (127 not found, 126
 * not executable).
 */
export function runCommand(argv: readonly string[], options: RunOptions): Promise<Outcome> {
  return new Promise((resolve) => {
    let child: ChildProcess;
    const started = performance.now();
    try {
      child = spawn(options.file ?? argv[0]!, argv.slice(1), { stdio: "inherit", env: options.env, cwd: options.cwd, argv0: argv[0]! });
    } catch (error) {
      resolve({ kind: "error", message: (error as Error).message, code: 126 });
      return;
    } finally {
      if (options.stats !== undefined) {
        options.stats.spawns++;
        options.stats.ms += performance.now() - started;
      }
    }
    const running: RunningCommand = {
      kill: (signal) => void child.kill(signal),
      get alive() {
        return child.exitCode === null && child.signalCode === null;
      },
    };
    options.trap.attach(running);
    let settled = false;
    const settle = (outcome: Outcome) => {
      if (settled) return;
      settled = true;
      options.trap.detach(running);
      resolve(outcome);
    };
    child.on("error", (error: NodeJS.ErrnoException) => {
      // Only a failure to start lands here before "exit"; later errors (kill on a dead process) are ignored.
      if (child.pid !== undefined && child.exitCode === null && child.signalCode === null) return;
      settle(startFailure(argv[0]!, error.code, error.message));
    });
    child.once("exit", (code, signal) => {
      if (signal !== null) settle({ kind: "signal", signal });
      else settle({ kind: "exit", code: code ?? 1 });
    });
  });
}

/** The outcome of a command that could not be started (`code`: the errno name), with the shell's status. */
export function startFailure(argv0: string, code: string | undefined, message: string): Outcome {
  const reason = code === "ENOENT" ? "command not found" : code === "EACCES" ? "permission denied" : message;
  return { kind: "error", message: `cannot run ${JSON.stringify(argv0)}: ${reason}`, code: code === "ENOENT" ? 127 : 126 };
}
