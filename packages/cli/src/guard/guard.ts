import type { Context } from "../context.js";
import { CliError, exitCodeOf, messageOf } from "../errors.js";
import { checkNewFlag } from "../flags.js";
import { describeFlag } from "../format.js";
import { runCommand, signalExitCode, SignalTrap, statusOf, succeeded, why, type Outcome, type SpawnStats } from "./child.js";
import { GuardLoop } from "./guard-loop.js";
import { GuardLines } from "./lines.js";
import { Spawner } from "./spawner.js";

export interface GuardOptions {
  flag: string;
  user?: string;
  mode?: "read-only" | "maintenance";
  message?: string;
  retryAfter?: number;
  usersFrom?: string;
  /** The context kind of the `usersFrom` list (`--contexts-from F --kind K`); default `user`. */
  kind?: string;
  resumeFrom?: string;
  /** Users whose commands run at once (`--concurrency`, default 1). */
  concurrency?: number;
  /** `--journal FILE`: each user's outcome, durably. */
  journal?: string;
  /** `--resume`: continue the run `journal` records. */
  resume?: boolean;
  /** Make the flag even when its name is close to one that exists. */
  create?: boolean;
}

/**
 * Runs guarded commands: turns the flag on (for a user, or for everyone),
 * runs the command, and turns the flag off only when it exits 0; with
 * `--users-from`, a loop over users (guard-loop.ts).
 */
export class Guard {
  readonly #context: Context;
  readonly #options: GuardOptions;
  readonly #command: readonly string[];
  /** The program as `resolveCommand` found it. */
  readonly #file: string | undefined;
  readonly #trap: SignalTrap;
  readonly #lines: GuardLines;
  readonly #spawns: SpawnStats = { spawns: 0, ms: 0 };
  /** With several commands at once, the processes that start them (spawner.ts). */
  #spawner: Spawner | undefined;

  constructor(context: Context, options: GuardOptions, command: readonly string[], file?: string) {
    this.#context = context;
    this.#options = options;
    this.#command = command;
    this.#file = file;
    this.#lines = new GuardLines(context.storeArgs, { ...options, concurrency: options.concurrency ?? 1 }, command);
    this.#trap = new SignalTrap(context.io.signals, (signal, count) => {
      const to = count === 0 ? "" : count === 1 ? "; passed it to the command" : `; passed it to the ${count} running commands`;
      context.say(`received ${signal}${to}`);
    });
  }

  /** Turns the flag on; a failure is reported and becomes a `CliError` with the store's exit code. */
  async #enable(user: string | undefined): Promise<void> {
    const { flag, mode, message, retryAfter } = this.#options;
    try {
      const status = await this.#context.write(async (detour) => {
        checkNewFlag(detour.document(), flag, this.#options.create);
        return detour.enable(
          flag,
          {
            ...(mode !== undefined ? { mode } : {}),
            ...(user !== undefined ? { users: [user] } : {}),
            ...(message !== undefined ? { message } : {}),
            ...(retryAfter !== undefined ? { retryAfter } : {}),
          },
          { actor: this.#context.actor },
        );
      }, { create: this.#options.create === true });
      const now = status.flags.find((f) => f.key === flag);
      this.#context.say(now ? describeFlag(now) : `"${flag}" is on`);
    } catch (error) {
      const whom = user === undefined ? "" : ` for user "${user}"`;
      throw new CliError(`could not turn "${flag}" on${whom}: ${messageOf(error)}; the command was not run`, exitCodeOf(error), { cause: error });
    }
  }

  /** Turns the flag off after a success; a failure is reported and becomes a `CliError`. */
  async #disable(user: string | undefined): Promise<void> {
    const { flag } = this.#options;
    try {
      await this.#context.write((detour) => detour.disable(flag, user === undefined ? {} : { users: [user] }, { actor: this.#context.actor }));
    } catch (error) {
      const whom = user === undefined ? "" : ` for user "${user}"`;
      throw new CliError(
        `the command succeeded but "${flag}" could not be turned off${whom}: ${messageOf(error)}; it is still on (turn it off with: ${this.#lines.off(user)})`,
        exitCodeOf(error),
        { cause: error },
      );
    }
  }

  /** Runs the command, with `key` appended as its last argument when given. */
  #run(key: string | undefined): Promise<Outcome> {
    const argv = key === undefined ? this.#command : [...this.#command, key];
    const options = { env: this.#env(), cwd: this.#context.io.cwd, trap: this.#trap, stats: this.#spawns, ...(this.#file !== undefined ? { file: this.#file } : {}) };
    if ((this.#options.concurrency ?? 1) === 1 || this.#options.usersFrom === undefined) return runCommand(argv, options);
    // Started with the first command, so that a loop that runs nothing starts no helper.
    this.#spawner ??= new Spawner(this.#env(), this.#context.io.cwd, this.#options.concurrency!);
    return this.#spawner.run(argv, options);
  }

  #env(): NodeJS.ProcessEnv {
    return this.#context.io.env as NodeJS.ProcessEnv;
  }

  /** `guard -f FLAG [-u USER] -- COMMAND...` */
  async single(): Promise<number> {
    try {
      const user = this.#options.user;
      const whom = user === undefined ? "" : ` for user "${user}"`;
      const interrupted = (): number | undefined => {
        const signal = this.#trap.received;
        if (signal === undefined) return undefined;
        this.#context.say(`interrupted by ${signal}; "${this.#options.flag}" left on${whom} (turn it off with: ${this.#lines.off(user)})`);
        return signalExitCode(signal);
      };
      await this.#enable(user);
      const early = interrupted();
      if (early !== undefined) return early;
      const outcome = await this.#run(user);
      const late = interrupted();
      if (late !== undefined) return late;
      if (succeeded(outcome)) {
        await this.#disable(user);
        this.#context.say(`command succeeded; "${this.#options.flag}" turned off${whom}`);
        return 0;
      }
      this.#context.say(`${why(outcome)}; "${this.#options.flag}" left on${whom} (turn it off with: ${this.#lines.off(user)})`);
      return statusOf(outcome);
    } finally {
      this.#trap.dispose();
    }
  }

  /** `guard -f FLAG --users-from FILE|- [--concurrency N] [--journal FILE [--resume]] [--resume-from ID] -- COMMAND...` */
  async loop(): Promise<number> {
    const concurrency = this.#options.concurrency ?? 1;
    try {
      const loop = new GuardLoop(this.#context, { ...this.#options, usersFrom: this.#options.usersFrom!, concurrency }, this.#command, {
        lines: this.#lines,
        trap: this.#trap,
        run: (key) => this.#run(key),
        spawns: this.#spawns,
      });
      return await loop.run();
    } finally {
      this.#spawner?.close();
      this.#trap.dispose();
    }
  }
}
