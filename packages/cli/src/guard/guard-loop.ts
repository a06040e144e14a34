import { stat } from "node:fs/promises";
import { resolve } from "node:path";
import type { Detour } from "@detour/core";
import type { Context } from "../context.js";
import { CliError, StoreError, UsageError, exitCodeOf, messageOf } from "../errors.js";
import { checkNewFlag } from "../flags.js";
import { BatchedWrites } from "./batch.js";
import type { Outcome, SignalTrap, SpawnStats } from "./child.js";
import { JournalWriter, readJournal, type JournalState } from "./journal.js";
import type { GuardLines } from "./lines.js";
import { runLoop } from "./loop.js";
import { planFrom, planFromJournal, type LoopPlan } from "./plan.js";
import { createProgress } from "./progress.js";
import { plural, reportLoop, sayResume, stopReason, type ReportContext } from "./report.js";
import { contextNames, contextTarget, type LoopTarget, type TargetNames } from "./targets.js";
import { keyList } from "./unfinished.js";
import { loadUsers } from "./users.js";

/** The options of `guard --users-from` (and `--contexts-from F --kind K`). */
export interface GuardLoopOptions {
  flag: string;
  /** The context kind of the list's keys; default `user`. */
  kind?: string;
  mode?: "read-only" | "maintenance";
  message?: string;
  retryAfter?: number;
  usersFrom: string;
  resumeFrom?: string;
  concurrency: number;
  journal?: string;
  resume?: boolean;
  create?: boolean;
}

/**
 * `guard -f FLAG --users-from FILE|- [--concurrency N] [--journal FILE
 * [--resume]] [--resume-from ID] -- COMMAND...`: reads the list (and the
 * journal), opens the store once for the whole run, runs the loop and
 * reports how it ended.
 */
export class GuardLoop {
  readonly #context: Context;
  readonly #options: GuardLoopOptions;
  readonly #command: readonly string[];
  readonly #lines: GuardLines;
  readonly #trap: SignalTrap;
  readonly #run: (key: string) => Promise<Outcome>;
  readonly #spawns: SpawnStats;

  constructor(
    context: Context,
    options: GuardLoopOptions,
    command: readonly string[],
    parts: { lines: GuardLines; trap: SignalTrap; run: (key: string) => Promise<Outcome>; spawns: SpawnStats },
  ) {
    this.#context = context;
    this.#options = options;
    this.#command = command;
    this.#lines = parts.lines;
    this.#trap = parts.trap;
    this.#run = parts.run;
    this.#spawns = parts.spawns;
  }

  async run(): Promise<number> {
    const o = this.#options;
    const { users, first } = await loadUsers(o.usersFrom, o.resumeFrom, this.#context.io);
    const state = await this.#readJournal();
    const plan = state === undefined ? planFrom(users, first) : this.#planResume(users, state);
    if (state === undefined && first > 0) this.#context.say(`resuming from "${users[first]}" (${first} of ${users.length} users skipped)`);
    let detour: Detour;
    try {
      detour = await this.#context.connect({ create: o.create === true });
    } catch (error) {
      if (!(error instanceof StoreError)) throw error;
      const firstUser = plan.todo[0]?.key;
      this.#context.say(`could not turn "${o.flag}" on${firstUser === undefined ? "" : ` for ${o.kind ?? "user"} "${firstUser}"`}: ${messageOf(error)}; the command was not run`);
      if (firstUser !== undefined) await sayResume(this.#reportContext(contextNames(o.flag, o.kind)), plan, plan.todo);
      return error.exitCode;
    }
    let journal: JournalWriter | undefined;
    try {
      checkNewFlag(detour.document(), o.flag, o.create);
      const target = contextTarget(detour, { ...o, actor: this.#context.actor });
      if (o.journal !== undefined) {
        journal = await JournalWriter.open(resolve(this.#context.io.cwd, o.journal), state?.torn === true ? { truncateTo: state.validBytes } : {});
        await journal.run({ flag: o.flag, noun: target.noun, list: o.usersFrom, command: this.#command, concurrency: o.concurrency, pid: process.pid });
      }
      if (plan.stillOn.length > 0) await this.#finishStillOn(target, plan.stillOn, journal);
      if (plan.todo.length === 0) {
        this.#context.say(`nothing to do: the command succeeded for every ${o.kind ?? "user"} of ${o.usersFrom === "-" ? "stdin" : o.usersFrom} before`);
        return 0;
      }
      return await this.#loop(plan, target, journal);
    } finally {
      await journal?.close();
      await detour.close().catch((error: unknown) => this.#context.trace(`closing the store: ${messageOf(error)}`));
    }
  }

  /** With `--resume`: the journal of the run to continue; with `--journal` alone: checks that it records nothing yet. */
  async #readJournal(): Promise<JournalState | undefined> {
    const { journal, resume, flag } = this.#options;
    if (journal === undefined) return undefined;
    const path = resolve(this.#context.io.cwd, journal);
    if (resume !== true) {
      const size = await stat(path).then(
        (info) => info.size,
        () => 0,
      );
      if (size > 0) throw new UsageError(`--journal: ${journal} already records a guard run; add --resume to continue it, or choose a new file`);
      return undefined;
    }
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
    if (state.first.flag !== flag) throw new UsageError(`--journal: ${journal} records a guard of "${state.first.flag}", not "${flag}"; nothing was run`);
    const noun = this.#options.kind ?? "user";
    if (state.first.noun !== noun) throw new UsageError(`--journal: ${journal} records ${state.first.noun}s, not ${noun}s; nothing was run`);
    return state;
  }

  #planResume(users: readonly string[], state: JournalState): LoopPlan {
    const plan = planFromJournal(users, state);
    const again = [plan.failed > 0 ? `${plan.failed} failed` : "", plan.inFlight > 0 ? `${plan.inFlight} were running when detour stopped` : ""].filter(Boolean).join(", ");
    this.#context.say(
      `resuming ${this.#options.journal}: ${plan.skipped} of ${users.length} users succeeded before (skipped)` +
        (plan.todo.length > 0 ? `; running the other ${plan.todo.length}${again ? ` (${again})` : ""}` : ""),
    );
    if (state.torn) this.#context.trace("the journal's last line was half written (a crash); it is cut off");
    return plan;
  }

  /** `--resume`: users whose command succeeded but whose "off" the journal does not record are turned off first. */
  async #finishStillOn(target: LoopTarget, keys: readonly string[], journal: JournalWriter | undefined): Promise<void> {
    try {
      await target.retarget([], keys);
    } catch (error) {
      throw new CliError(`could not turn "${target.flag}" off for ${keyList(keys)}, whose command succeeded before: ${messageOf(error)}; nothing was run`, exitCodeOf(error), {
        cause: error,
      });
    }
    this.#context.say(`turned "${target.flag}" off for ${plural(keys.length, target.noun)} whose command had succeeded but whose flag was still on: ${keyList(keys)}`);
    await Promise.all(keys.map((key) => journal?.record({ event: "off", key })));
  }

  #reportContext(target: TargetNames): ReportContext {
    const o = this.#options;
    return { say: (m) => this.#context.say(m), lines: this.#lines, target, usersFrom: o.usersFrom, journal: o.journal, concurrency: o.concurrency, cwd: this.#context.io.cwd };
  }

  async #loop(plan: LoopPlan, target: LoopTarget, journal: JournalWriter | undefined): Promise<number> {
    const { concurrency } = this.#options;
    const writes = new BatchedWrites(target, (message) => this.#context.trace(message));
    const tty = this.#context.io.stderr.isTTY === true;
    const progress = createProgress(this.#context.io.stderr, { flag: target.flag, noun: target.noun, total: plan.keys.length, skipped: plan.skipped, concurrency });
    const started = performance.now();
    let result;
    try {
      result = await runLoop({
        items: plan.todo,
        concurrency,
        writes,
        run: this.#run,
        trap: this.#trap,
        journal,
        progress,
        onStop: (stop) => {
          // One at a time there is nothing to wait for; on a terminal the bar is in the way until it stops.
          if (tty || concurrency === 1) return;
          this.#context.say(`stopping (${stopReason(stop, target.noun)}): no new ${target.noun}s start; the commands running finish`);
        },
      });
    } finally {
      progress.stop();
    }
    const w = writes.stats;
    this.#context.trace(
      `guard loop: ${result.ends.size} users in ${Math.round(performance.now() - started)} ms; ${w.writes} store writes for ${w.keys} changes (${w.writes === 0 ? 0 : (w.keys / w.writes).toFixed(1)} per write), ${Math.round(w.ms)} ms waiting for them; ${this.#spawns.spawns} spawns, ${Math.round(this.#spawns.ms)} ms inside spawn()`,
    );
    return reportLoop(this.#reportContext(target), plan, result);
  }
}
