import type { Detour } from "@detour/core";
import type { Context } from "../context.js";
import { CliError, StoreError, UsageError, exitCodeOf, messageOf } from "../errors.js";
import { checkNewFlag } from "../flags.js";
import { describeFlag } from "../format.js";
import { writeFileAtomically } from "../io-files.js";
import { BatchedWrites } from "./batch.js";
import { runCommand, signalExitCode, SignalTrap, statusOf, succeeded, why, type Outcome } from "./child.js";
import { JournalWriter, readJournal, type JournalState } from "./journal.js";
import { runLoop, type ItemEnd, type LoopItem, type LoopResult, type Stop } from "./loop.js";
import { planFrom, planFromJournal, type LoopPlan } from "./plan.js";
import { createProgress } from "./progress.js";
import { commandLine } from "./shell.js";
import { userTarget, type LoopTarget } from "./targets.js";
import { isSuffix, keyList, unfinishedItems, unfinishedPath } from "./unfinished.js";
import { loadUsers } from "./users.js";
import { resolve } from "node:path";
import { stat } from "node:fs/promises";

export interface GuardOptions {
  flag: string;
  user?: string;
  mode?: "read-only" | "maintenance";
  message?: string;
  retryAfter?: number;
  usersFrom?: string;
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
 * runs the command, and turns the flag off only when it exits 0.
 */
export class Guard {
  readonly #context: Context;
  readonly #options: GuardOptions;
  readonly #command: readonly string[];
  /** The program as `resolveCommand` found it. */
  readonly #file: string | undefined;
  readonly #trap: SignalTrap;

  constructor(context: Context, options: GuardOptions, command: readonly string[], file?: string) {
    this.#context = context;
    this.#options = options;
    this.#command = command;
    this.#file = file;
    this.#trap = new SignalTrap(context.io.signals, (signal, count) => {
      const to = count === 0 ? "" : count === 1 ? "; passed it to the command" : `; passed it to the ${count} running commands`;
      context.say(`received ${signal}${to}`);
    });
  }

  get #concurrency(): number {
    return this.#options.concurrency ?? 1;
  }

  /** `detour <args> --store ...`, as the operator would type it. */
  #detourLine(args: readonly string[]): string {
    return commandLine(["detour", ...args, ...this.#context.storeArgs]);
  }

  /** `detour off ...` for the flag (and user), as the operator would type it. */
  #offCommand(user?: string): string {
    return this.#detourLine(["off", this.#options.flag, ...(user === undefined ? [] : ["--user", user])]);
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
        `the command succeeded but "${flag}" could not be turned off${whom}: ${messageOf(error)}; it is still on (turn it off with: ${this.#offCommand(user)})`,
        exitCodeOf(error),
        { cause: error },
      );
    }
  }

  #run(key: string | undefined): Promise<Outcome> {
    const argv = key === undefined ? this.#command : [...this.#command, key];
    return runCommand(argv, { env: this.#context.io.env as NodeJS.ProcessEnv, cwd: this.#context.io.cwd, trap: this.#trap, ...(this.#file !== undefined ? { file: this.#file } : {}) });
  }

  /** `guard -f FLAG [-u USER] -- COMMAND...` */
  async single(): Promise<number> {
    try {
      const user = this.#options.user;
      const whom = user === undefined ? "" : ` for user "${user}"`;
      const interrupted = (): number | undefined => {
        const signal = this.#trap.received;
        if (signal === undefined) return undefined;
        this.#context.say(`interrupted by ${signal}; "${this.#options.flag}" left on${whom} (turn it off with: ${this.#offCommand(user)})`);
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
      this.#context.say(`${why(outcome)}; "${this.#options.flag}" left on${whom} (turn it off with: ${this.#offCommand(user)})`);
      return statusOf(outcome);
    } finally {
      this.#trap.dispose();
    }
  }

  /** The `detour guard` command line that runs the loop again with `extra` options (`--resume-from ID`, `--journal F --resume`...). */
  #loopCommand(usersFrom: string, extra: readonly string[]): string {
    const o = this.#options;
    const args = ["detour", "guard", ...this.#context.storeArgs, "-f", o.flag];
    if (o.mode !== undefined) args.push("--mode", o.mode);
    if (o.message !== undefined) args.push("--message", o.message);
    if (o.retryAfter !== undefined) args.push("--retry-after", String(o.retryAfter));
    args.push("--users-from", usersFrom);
    if (this.#concurrency > 1) args.push("--concurrency", String(this.#concurrency));
    args.push(...extra, "--", ...this.#command);
    const stdin = usersFrom === "-" ? "   (feed it the same user list on stdin)" : "";
    return `${commandLine(args)}${stdin}`;
  }

  /** The command that resumes the loop from `user` (`--resume-from`). */
  resumeCommand(user: string): string {
    return this.#loopCommand(this.#options.usersFrom!, ["--resume-from", user]);
  }

  /** Reads the journal of a `--resume`, or checks that a new `--journal` file records nothing yet. */
  async #openJournal(): Promise<JournalState | undefined> {
    const { journal, resume } = this.#options;
    if (journal === undefined) return undefined;
    const path = resolve(this.#context.io.cwd, journal);
    if (resume === true) {
      let state: JournalState;
      try {
        state = await readJournal(path);
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code === "ENOENT") {
          throw new UsageError(`--resume: there is no journal at ${journal} (nothing to resume); run without --resume to start`);
        }
        if (error instanceof CliError) throw error;
        throw new UsageError(`--journal: cannot read ${journal}: ${messageOf(error)}`, { cause: error });
      }
      if (state.first.flag !== this.#options.flag) {
        throw new UsageError(`--journal: ${journal} records a guard of "${state.first.flag}", not "${this.#options.flag}"; nothing was run`);
      }
      if (state.first.noun !== "user") throw new UsageError(`--journal: ${journal} records ${state.first.noun}s, not users; nothing was run`);
      return state;
    }
    const size = await stat(path).then(
      (info) => info.size,
      () => 0,
    );
    if (size > 0) throw new UsageError(`--journal: ${journal} already records a guard run; add --resume to continue it, or choose a new file`);
    return undefined;
  }

  /** `guard -f FLAG --users-from FILE|- [--concurrency N] [--journal FILE [--resume]] [--resume-from ID] -- COMMAND...` */
  async loop(): Promise<number> {
    try {
      const o = this.#options;
      const { users, first } = await loadUsers(o.usersFrom!, o.resumeFrom, this.#context.io);
      const state = await this.#openJournal();
      const resumed = state === undefined ? undefined : planFromJournal(users, state);
      const plan = resumed ?? planFrom(users, first);
      if (resumed !== undefined) {
        const p = resumed;
        const again = [p.failed > 0 ? `${p.failed} failed` : "", p.inFlight > 0 ? `${p.inFlight} were running when detour stopped` : ""].filter(Boolean).join(", ");
        this.#context.say(
          `resuming ${o.journal}: ${p.skipped} of ${users.length} users succeeded before (skipped)` +
            (p.todo.length > 0 ? `; running the other ${p.todo.length}${again ? ` (${again})` : ""}` : ""),
        );
        if (state!.torn) this.#context.trace(`the journal's last line was half written (a crash); it is cut off`);
      } else if (first > 0) {
        this.#context.say(`resuming from "${users[first]}" (${first} of ${users.length} users skipped)`);
      }
      let detour: Detour;
      try {
        detour = await this.#context.connect({ create: o.create === true });
      } catch (error) {
        if (!(error instanceof StoreError)) throw error;
        const firstUser = plan.todo[0]?.key;
        this.#context.say(`could not turn "${o.flag}" on${firstUser === undefined ? "" : ` for user "${firstUser}"`}: ${messageOf(error)}; the command was not run`);
        if (firstUser !== undefined) await this.#sayHint(plan, plan.todo);
        return error.exitCode;
      }
      let journal: JournalWriter | undefined;
      try {
        checkNewFlag(detour.document(), o.flag, o.create);
        const target = userTarget(detour, { flag: o.flag, mode: o.mode, message: o.message, retryAfter: o.retryAfter, actor: this.#context.actor });
        if (o.journal !== undefined) {
          journal = await JournalWriter.open(resolve(this.#context.io.cwd, o.journal), state?.torn === true ? { truncateTo: state.validBytes } : {});
          await journal.run({ flag: o.flag, noun: target.noun, list: o.usersFrom!, command: this.#command, concurrency: this.#concurrency, pid: process.pid });
        }
        if (plan.stillOn.length > 0) await this.#finishStillOn(target, plan.stillOn, journal);
        if (plan.todo.length === 0) {
          this.#context.say(`nothing to do: the command succeeded for every user of ${o.usersFrom === "-" ? "stdin" : o.usersFrom} before`);
          return 0;
        }
        return await this.#runLoop(plan, target, journal);
      } finally {
        await journal?.close();
        await detour.close().catch((error: unknown) => this.#context.trace(`closing the store: ${messageOf(error)}`));
      }
    } finally {
      this.#trap.dispose();
    }
  }

  /** `--resume`: users whose command succeeded but whose "off" the journal does not record get it now. */
  async #finishStillOn(target: LoopTarget, keys: readonly string[], journal: JournalWriter | undefined): Promise<void> {
    try {
      await target.disable(keys);
    } catch (error) {
      throw new CliError(
        `could not turn "${target.flag}" off for ${keyList(keys)}, whose command succeeded before: ${messageOf(error)}; nothing was run`,
        exitCodeOf(error),
        { cause: error },
      );
    }
    this.#context.say(`turned "${target.flag}" off for ${keys.length} user${keys.length === 1 ? "" : "s"} whose command had succeeded but whose flag was still on: ${keyList(keys)}`);
    await Promise.all(keys.map((key) => journal?.record({ event: "off", key })));
  }

  async #runLoop(plan: LoopPlan, target: LoopTarget, journal: JournalWriter | undefined): Promise<number> {
    const o = this.#options;
    const writes = new BatchedWrites(target, (message) => this.#context.trace(message));
    const tty = this.#context.io.stderr.isTTY === true;
    const progress = createProgress(this.#context.io.stderr, {
      flag: o.flag,
      noun: target.noun,
      total: plan.keys.length,
      skipped: plan.skipped,
      concurrency: this.#concurrency,
    });
    let result: LoopResult;
    const started = performance.now();
    try {
      result = await runLoop({
        items: plan.todo,
        concurrency: this.#concurrency,
        writes,
        run: (key) => this.#run(key),
        trap: this.#trap,
        journal,
        progress,
        onStop: (stop) => {
          // One at a time there is nothing to wait for; on a terminal the bar is in the way until it stops.
          if (tty || this.#concurrency === 1) return;
          this.#context.say(`stopping (${this.#stopReason(stop)}): no new ${target.noun}s start; the commands running finish`);
        },
      });
    } finally {
      progress.stop();
    }
    const ms = performance.now() - started;
    const w = writes.stats;
    this.#context.trace(
      `guard loop: ${result.ends.size} users in ${Math.round(ms)} ms; ${w.writes} store writes for ${w.keys} changes (${w.writes === 0 ? 0 : (w.keys / w.writes).toFixed(1)} per write), ${Math.round(w.ms)} ms waiting for them`,
    );
    return this.#report(plan, result, target);
  }

  #stopReason(stop: Stop): string {
    if (stop.kind === "signal") return `interrupted by ${stop.signal}`;
    if (stop.kind === "error") return messageOf(stop.error);
    return stop.end.kind === "failed" ? `the command failed for user "${stop.item.key}"` : `a store write failed for user "${stop.item.key}"`;
  }

  /** Prints how the loop ended (what failed, what is left on, how to resume) and returns the exit status. */
  async #report(plan: LoopPlan, result: LoopResult, target: LoopTarget): Promise<number> {
    const { flag } = target;
    const say = (message: string) => this.#context.say(message);
    const total = plan.keys.length;
    if (result.stop === undefined) {
      const count = plan.todo.length;
      say(`done: the command succeeded for ${count} user${count === 1 ? "" : "s"}; "${flag}" is off for each`);
      return 0;
    }
    const byKind = (kind: ItemEnd["kind"]) => plan.todo.filter((item) => result.ends.get(item.index)?.kind === kind);
    const endOf = <K extends ItemEnd["kind"]>(item: LoopItem) => result.ends.get(item.index) as Extract<ItemEnd, { kind: K }>;

    for (const item of byKind("failed")) {
      say(`failed for user "${item.key}" (${item.index + 1} of ${total}): ${why(endOf<"failed">(item).outcome)}; "${flag}" left on for "${item.key}"`);
    }
    for (const [message, items] of groupByError(byKind("not-enabled"), (item) => endOf<"not-enabled">(item).error)) {
      const whom = items.length === 1 ? `user "${items[0]!.key}"` : `${items.length} users (${keyList(items.map((i) => i.key))})`;
      say(`could not turn "${flag}" on for ${whom}: ${message}; ${items.length === 1 ? "the command was" : "their commands were"} not run`);
    }
    for (const [message, items] of groupByError(byKind("still-on"), (item) => endOf<"still-on">(item).error)) {
      const keys = items.map((i) => i.key);
      const whom = items.length === 1 ? `user "${keys[0]}"` : `${items.length} users (${keyList(keys)})`;
      say(`the command succeeded for ${whom} but "${flag}" could not be turned off: ${message}; it is still on (turn it off with: ${this.#detourLine(target.offArgs(keys))})`);
    }
    const revertFailed = byKind("not-started").filter((item) => endOf<"not-started">(item).error !== undefined);
    for (const [message, items] of groupByError(revertFailed, (item) => endOf<"not-started">(item).error)) {
      const keys = items.map((i) => i.key);
      say(`"${flag}" was turned on for ${keyList(keys)} but their commands never started, and it could not be turned off again: ${message} (turn it off with: ${this.#detourLine(target.offArgs(keys))})`);
    }
    const stop = result.stop;
    if (stop.kind === "signal") {
      const keys = byKind("interrupted").map((item) => item.key);
      if (keys.length === 0) say(`interrupted by ${stop.signal} between users; no command was running`);
      else {
        const whom = keys.length === 1 ? `user "${keys[0]}"` : `${keys.length} users: ${keyList(keys)}`;
        say(`interrupted by ${stop.signal}; "${flag}" left on for ${whom} (turn it off with: ${this.#detourLine(target.offArgs(keys))})`);
      }
    }
    if (stop.kind === "error") say(messageOf(stop.error));

    const unfinished = unfinishedItems(plan, result);
    if (this.#concurrency > 1 && unfinished.length > 0) {
      const kindOf = (item: LoopItem) => result.ends.get(item.index)?.kind;
      const failed = unfinished.filter((item) => kindOf(item) === "failed").map((item) => item.key);
      const interrupted = unfinished.filter((item) => kindOf(item) === "interrupted").map((item) => item.key);
      const never = unfinished.filter((item) => kindOf(item) !== "failed" && kindOf(item) !== "interrupted").map((item) => item.key);
      const parts = [
        failed.length > 0 ? `${failed.length} failed (${keyList(failed)})` : "",
        interrupted.length > 0 ? `${interrupted.length} interrupted (${keyList(interrupted)})` : "",
        never.length > 0 ? `${never.length} never started (${keyList(never, 3)})` : "",
      ];
      say(`not done: ${unfinished.length} of ${total} users: ${parts.filter(Boolean).join("; ")}`);
    }
    if (unfinished.length > 0) await this.#sayHint(plan, unfinished);
    return stop.kind === "signal" ? signalExitCode(stop.signal) : this.#statusOfStop(stop);
  }

  #statusOfStop(stop: Exclude<Stop, { kind: "signal" }>): number {
    if (stop.kind === "error") return exitCodeOf(stop.error);
    const end = stop.end;
    if (end.kind === "failed" || end.kind === "interrupted") return statusOf(end.outcome);
    if (end.kind === "not-enabled" || end.kind === "still-on") return exitCodeOf(end.error);
    return 1;
  }

  /**
   * Prints the command that runs exactly the `unfinished` users again: the
   * journal's `--resume`; `--resume-from` when they are the rest of the
   * list; else a list of them written next to the user list.
   */
  async #sayHint(plan: LoopPlan, unfinished: readonly LoopItem[]): Promise<void> {
    const o = this.#options;
    if (o.journal !== undefined) {
      this.#context.say(`to resume: ${this.#loopCommand(o.usersFrom!, ["--journal", o.journal, "--resume"])}`);
      return;
    }
    const from = unfinished[0]!.key;
    if (isSuffix(plan, unfinished)) {
      this.#context.say(`to resume from "${from}": ${this.resumeCommand(from)}`);
      return;
    }
    const shown = unfinishedPath(o.usersFrom!, o.flag);
    try {
      await writeFileAtomically(resolve(this.#context.io.cwd, shown), `${unfinished.map((item) => item.key).join("\n")}\n`);
    } catch (error) {
      const again = plan.todo.filter((item) => item.index > unfinished[0]!.index && !unfinished.includes(item)).map((item) => item.key);
      this.#context.say(
        `could not write the users not done to ${shown} (${messageOf(error)}); to resume from "${from}", which also runs ${keyList(again)} again: ${this.resumeCommand(from)}`,
      );
      return;
    }
    this.#context.say(`to resume with exactly the ${plural(unfinished.length, "user")} not done (written to ${shown}): ${this.#loopCommand(shown, [])}`);
  }
}

/** `1 user`, `3 users`. */
function plural(count: number, noun: string): string {
  return `${count} ${noun}${count === 1 ? "" : "s"}`;
}

/** Items grouped by their error's message (one batch, one error). */
function groupByError(items: readonly LoopItem[], errorOf: (item: LoopItem) => unknown): Map<string, LoopItem[]> {
  const groups = new Map<string, LoopItem[]>();
  for (const item of items) {
    const message = messageOf(errorOf(item));
    const group = groups.get(message);
    if (group) group.push(item);
    else groups.set(message, [item]);
  }
  return groups;
}
