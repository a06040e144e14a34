import { spawn, type ChildProcess } from "node:child_process";
import { availableParallelism } from "node:os";
import { startFailure, type Outcome, type RunOptions } from "./child.js";

/**
 * The helper process's program (plain JavaScript, run with `node -e`, so it
 * is the same file whether the CLI is installed or bundled). It spawns what
 * it is told to, with its own stdio, environment and directory (detour's),
 * and reports each command's end. It ignores the signals a terminal sends
 * the whole process group (detour forwards them, through `kill` messages)
 * and exits when detour disconnects, or dies: commands then run on, as
 * they would have without it.
 */
const HELPER = String.raw`
const { spawn } = require("node:child_process");
const children = new Map();
for (const signal of ["SIGINT", "SIGTERM", "SIGHUP"]) process.on(signal, () => {});
process.on("disconnect", () => process.exit(0));
process.on("message", (m) => {
  if (m.t === "kill") {
    const child = children.get(m.id);
    if (child && child.exitCode === null && child.signalCode === null) {
      try { child.kill(m.signal); } catch {}
    }
    return;
  }
  const started = performance.now();
  let child;
  try {
    child = spawn(m.file, m.args, { stdio: "inherit", argv0: m.argv0 });
  } catch (error) {
    process.send({ t: "thrown", id: m.id, message: error.message, ms: performance.now() - started });
    return;
  }
  const ms = performance.now() - started;
  children.set(m.id, child);
  let settled = false;
  const settle = (message) => {
    if (settled) return;
    settled = true;
    children.delete(m.id);
    process.send(message);
  };
  child.on("error", (error) => {
    if (child.pid !== undefined && child.exitCode === null && child.signalCode === null) return;
    settle({ t: "error", id: m.id, code: error.code, message: error.message, ms });
  });
  child.once("exit", (code, signal) => settle({ t: "exit", id: m.id, code, signal, ms }));
});
`;

type Reply =
  | { t: "exit"; id: number; code: number | null; signal: NodeJS.Signals | null; ms: number }
  | { t: "error"; id: number; code?: string; message: string; ms: number }
  | { t: "thrown"; id: number; message: string; ms: number };

interface Pending {
  readonly argv0: string;
  readonly options: RunOptions;
  readonly handle: { kill(signal: NodeJS.Signals): void; readonly alive: boolean };
  resolve(outcome: Outcome): void;
}

/**
 * Runs commands through a small helper process instead of forking detour
 * itself. `fork()` copies the parent's page tables and the parent waits
 * until the child has exec'd, so each spawn costs in proportion to the
 * parent's memory: detour, with its store client, documents and garbage
 * (~120 MB resident in a long loop) paid ~1 ms more per command than a bare
 * node process (~50 MB), and on its own main thread, which the store writes
 * need too. The helper stays small, and forks on its own thread while
 * detour's runs the loop.
 */
class Helper {
  readonly #helper: ChildProcess;
  readonly #pending = new Map<number, Pending>();
  #next = 0;
  #ended: string | undefined;

  constructor(env: NodeJS.ProcessEnv, cwd: string) {
    this.#helper = spawn(process.execPath, ["-e", HELPER], { stdio: ["inherit", "inherit", "inherit", "ipc"], env, cwd });
    this.#helper.on("message", (reply: Reply) => this.#reply(reply));
    this.#helper.on("error", (error) => this.#end(`the helper process that starts the commands failed: ${error.message}`));
    this.#helper.once("exit", (code, signal) => this.#end(`the helper process that starts the commands ended (${signal ?? `status ${code}`})`));
  }

  /** Commands started and not yet ended. */
  get running(): number {
    return this.#pending.size;
  }

  /** Runs `argv` as `runCommand` does (same outcomes), through the helper. */
  run(argv: readonly string[], options: RunOptions): Promise<Outcome> {
    return new Promise((resolve) => {
      const argv0 = argv[0]!;
      if (this.#ended !== undefined) {
        resolve({ kind: "error", message: `cannot run ${JSON.stringify(argv0)}: ${this.#ended}`, code: 126 });
        return;
      }
      const id = ++this.#next;
      const helper = this.#helper;
      const pending = this.#pending;
      const handle = {
        kill(signal: NodeJS.Signals) {
          if (pending.has(id)) helper.send({ t: "kill", id, signal });
        },
        get alive() {
          return pending.has(id);
        },
      };
      pending.set(id, { argv0, options, handle, resolve });
      options.trap.attach(handle);
      helper.send({ t: "run", id, file: options.file ?? argv0, args: argv.slice(1), argv0 });
    });
  }

  #reply(reply: Reply): void {
    const pending = this.#pending.get(reply.id);
    if (pending === undefined) return;
    this.#pending.delete(reply.id);
    pending.options.trap.detach(pending.handle);
    const stats = pending.options.stats;
    if (stats !== undefined) {
      stats.spawns++;
      stats.ms += reply.ms;
    }
    if (reply.t === "exit") pending.resolve(reply.signal !== null ? { kind: "signal", signal: reply.signal } : { kind: "exit", code: reply.code ?? 1 });
    else if (reply.t === "error") pending.resolve(startFailure(pending.argv0, reply.code, reply.message));
    else pending.resolve({ kind: "error", message: reply.message, code: 126 });
  }

  /** The helper is gone: every command it was running ends as a failure (their outcome is not known). */
  #end(why: string): void {
    this.#ended ??= why;
    for (const [id, pending] of this.#pending) {
      this.#pending.delete(id);
      pending.options.trap.detach(pending.handle);
      pending.resolve({ kind: "error", message: `the outcome of ${JSON.stringify(pending.argv0)} is not known: ${why}`, code: 1 });
    }
  }

  /** Lets the helper exit (once the loop is done: nothing is running). */
  close(): void {
    this.#ended ??= "the loop is over";
    if (this.#helper.connected) this.#helper.disconnect();
  }
}

/** At most this many helpers, however many cores. */
const MAX_HELPERS = 4;

/**
 * Several helpers, one per core (up to 4): a spawn holds its helper until
 * the child has exec'd, mostly waiting rather than computing, so two
 * helpers on two cores start ~1.3× as many commands per second as one.
 * Each command goes to the helper running the fewest.
 */
export class Spawner {
  readonly #helpers: Helper[];

  constructor(env: NodeJS.ProcessEnv, cwd: string, concurrency: number) {
    const count = Math.max(1, Math.min(concurrency, availableParallelism(), MAX_HELPERS));
    this.#helpers = Array.from({ length: count }, () => new Helper(env, cwd));
  }

  run(argv: readonly string[], options: RunOptions): Promise<Outcome> {
    let least = this.#helpers[0]!;
    for (const helper of this.#helpers) if (helper.running < least.running) least = helper;
    return least.run(argv, options);
  }

  close(): void {
    for (const helper of this.#helpers) helper.close();
  }
}
