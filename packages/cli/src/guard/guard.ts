import type { Context } from "../context.js";
import { CliError, exitCodeOf, messageOf } from "../errors.js";
import { checkNewFlag } from "../flags.js";
import { describeFlag } from "../format.js";
import { commandLine } from "./shell.js";
import { runCommand, signalExitCode, SignalTrap, type Outcome } from "./child.js";
import { createProgress } from "./progress.js";
import { loadUsers } from "./users.js";

export interface GuardOptions {
  flag: string;
  user?: string;
  mode?: "read-only" | "maintenance";
  message?: string;
  retryAfter?: number;
  usersFrom?: string;
  resumeFrom?: string;
  /** Make the flag even when its name is close to one that exists. */
  create?: boolean;
}

/** Why the command did not succeed, for "left on" messages. */
function why(outcome: Outcome): string {
  switch (outcome.kind) {
    case "exit":
      return `the command exited with status ${outcome.code}`;
    case "signal":
      return `the command was killed by ${outcome.signal}`;
    case "error":
      return outcome.message;
  }
}

function statusOf(outcome: Outcome): number {
  return outcome.kind === "exit" ? outcome.code : outcome.kind === "signal" ? signalExitCode(outcome.signal) : outcome.code;
}

/**
 * Runs guarded commands: turns the flag on (for a user, or for everyone),
 * runs the command, and turns the flag off only when it exits 0.
 */
export class Guard {
  readonly #context: Context;
  readonly #options: GuardOptions;
  readonly #command: readonly string[];
  readonly #trap: SignalTrap;

  constructor(context: Context, options: GuardOptions, command: readonly string[]) {
    this.#context = context;
    this.#options = options;
    this.#command = command;
    this.#trap = new SignalTrap(context.io.signals, (signal, forwarded) => {
      context.say(`received ${signal}${forwarded ? "; passed it to the command" : ""}`);
    });
  }

  /** `detour off ...` for the flag (and user), as the operator would type it. */
  #offCommand(user?: string): string {
    return commandLine(["detour", "off", this.#options.flag, ...(user === undefined ? [] : ["--user", user]), ...this.#context.storeArgs]);
  }

  /** Turns the flag on; a failure is reported and becomes a `CliError` with the store's exit code. */
  async #enable(user: string | undefined, quiet = false): Promise<void> {
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
      if (!quiet) this.#context.say(now ? describeFlag(now) : `"${flag}" is on`);
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
        `the command succeeded but "${flag}" could not be turned off${whom}: ${messageOf(error)}; it is still on (turn it off with: ${this.#offCommand(user)})`,
        exitCodeOf(error),
        { cause: error },
      );
    }
  }

  async #run(user: string | undefined): Promise<Outcome> {
    const argv = user === undefined ? this.#command : [...this.#command, user];
    return runCommand(argv, { env: this.#context.io.env as NodeJS.ProcessEnv, cwd: this.#context.io.cwd, trap: this.#trap });
  }

  /** The exit status after a signal; `undefined` when none arrived. */
  #interrupted(user: string | undefined, loop = false): number | undefined {
    const signal = this.#trap.received;
    if (signal === undefined) return undefined;
    const whom = user === undefined ? "" : ` for user "${user}"`;
    this.#context.say(`interrupted by ${signal}; "${this.#options.flag}" left on${whom} (turn it off with: ${this.#offCommand(user)})`);
    if (loop && user !== undefined) this.#sayResume(user);
    return signalExitCode(signal);
  }

  /** `guard -f FLAG [-u USER] -- COMMAND...` */
  async single(): Promise<number> {
    try {
      const user = this.#options.user;
      await this.#enable(user);
      const early = this.#interrupted(user);
      if (early !== undefined) return early;
      const outcome = await this.#run(user);
      const interrupted = this.#interrupted(user);
      if (interrupted !== undefined) return interrupted;
      if (outcome.kind === "exit" && outcome.code === 0) {
        await this.#disable(user);
        this.#context.say(`command succeeded; "${this.#options.flag}" turned off${user === undefined ? "" : ` for user "${user}"`}`);
        return 0;
      }
      const whom = user === undefined ? "" : ` for user "${user}"`;
      this.#context.say(`${why(outcome)}; "${this.#options.flag}" left on${whom} (turn it off with: ${this.#offCommand(user)})`);
      return statusOf(outcome);
    } finally {
      this.#trap.dispose();
    }
  }

  /** The command that resumes the loop from `user`. */
  resumeCommand(user: string): string {
    const o = this.#options;
    const args = ["detour", "guard", ...this.#context.storeArgs, "-f", o.flag];
    if (o.mode !== undefined) args.push("--mode", o.mode);
    if (o.message !== undefined) args.push("--message", o.message);
    if (o.retryAfter !== undefined) args.push("--retry-after", String(o.retryAfter));
    args.push("--users-from", o.usersFrom!, "--resume-from", user, "--", ...this.#command);
    const stdin = o.usersFrom === "-" ? "   (feed it the same user list on stdin)" : "";
    return `${commandLine(args)}${stdin}`;
  }

  #sayResume(user: string, label = `to resume from "${user}"`): void {
    this.#context.say(`${label}: ${this.resumeCommand(user)}`);
  }

  /** `guard -f FLAG --users-from FILE|- [--resume-from ID] -- COMMAND...`: one user at a time. */
  async loop(): Promise<number> {
    const flag = this.#options.flag;
    try {
      const { users, first } = await loadUsers(this.#options.usersFrom!, this.#options.resumeFrom, this.#context.io);
      if (first > 0) this.#context.say(`resuming from "${users[first]}" (${first} of ${users.length} users skipped)`);
      const progress = createProgress(this.#context.io.stderr, { flag, total: users.length, first });
      /** Stops the bar, then prints the lines: the bar must not be redrawn after them. */
      const stop = (code: number, report: () => void): number => {
        progress.stop();
        report();
        return code;
      };
      try {
        for (let index = first; index < users.length; index++) {
          const user = users[index]!;
          const signal = this.#trap.received;
          if (signal !== undefined) {
            return stop(signalExitCode(signal), () => {
              this.#context.say(`interrupted by ${signal} before user "${user}"; "${flag}" was not turned on for them`);
              this.#sayResume(user);
            });
          }
          const started = Date.now();
          progress.before(index, user);
          try {
            await this.#enable(user, true);
          } catch (error) {
            if (!(error instanceof CliError)) throw error;
            return stop(error.exitCode, () => {
              this.#context.say(error.message);
              this.#sayResume(user);
            });
          }
          if (this.#trap.received !== undefined) {
            progress.stop();
            return this.#interrupted(user, true)!;
          }
          const outcome = await this.#run(user);
          if (this.#trap.received !== undefined) {
            progress.stop();
            return this.#interrupted(user, true)!;
          }
          if (outcome.kind !== "exit" || outcome.code !== 0) {
            return stop(statusOf(outcome), () => {
              this.#context.say(`failed for user "${user}" (${index + 1} of ${users.length}): ${why(outcome)}; "${flag}" left on for "${user}"`);
              this.#sayResume(user);
            });
          }
          try {
            await this.#disable(user);
          } catch (error) {
            if (!(error instanceof CliError)) throw error;
            return stop(error.exitCode, () => {
              this.#context.say(error.message);
              const next = users[index + 1];
              if (next !== undefined) this.#sayResume(next, `to resume from the next user "${next}"`);
            });
          }
          progress.after(index, user, Date.now() - started);
        }
      } finally {
        progress.stop();
      }
      const count = users.length - first;
      this.#context.say(`done: the command succeeded for ${count} user${count === 1 ? "" : "s"}; "${flag}" is off for each`);
      return 0;
    } finally {
      this.#trap.dispose();
    }
  }
}
