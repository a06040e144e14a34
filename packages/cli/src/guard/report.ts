import { resolve } from "node:path";
import { exitCodeOf, messageOf } from "../errors.js";
import { writeFileAtomically } from "../io-files.js";
import { signalExitCode, statusOf, why } from "./child.js";
import type { GuardLines } from "./lines.js";
import type { ItemEnd, LoopItem, LoopResult, Stop } from "./loop.js";
import type { LoopPlan } from "./plan.js";
import type { TargetNames } from "./targets.js";
import { isSuffix, keyList, unfinishedItems, unfinishedPath } from "./unfinished.js";

/** What the end-of-loop report needs to know of the run. */
export interface ReportContext {
  say(message: string): void;
  lines: GuardLines;
  target: TargetNames;
  /** `--users-from` as given. */
  usersFrom: string;
  /** `--journal` as given. */
  journal: string | undefined;
  concurrency: number;
  cwd: string;
}

/** `1 user`, `3 users`. */
export function plural(count: number, noun: string): string {
  return `${count} ${noun}${count === 1 ? "" : "s"}`;
}

/** Why the loop is stopping, for the "stopping (...)" line. */
export function stopReason(stop: Stop, noun: string): string {
  if (stop.kind === "signal") return `interrupted by ${stop.signal}`;
  if (stop.kind === "error") return messageOf(stop.error);
  return stop.end.kind === "failed" ? `the command failed for ${noun} "${stop.item.key}"` : `a store write failed for ${noun} "${stop.item.key}"`;
}

/**
 * Prints how the loop ended: every failure, what is left on and how to
 * turn it off, what is not done, and the command that runs exactly that;
 * returns the exit status (the first failure's, 128+N after signal N).
 */
export async function reportLoop(r: ReportContext, plan: LoopPlan, result: LoopResult): Promise<number> {
  const { say, lines, target } = r;
  const { flag, noun } = target;
  const total = plan.keys.length;
  if (result.stop === undefined) {
    say(`done: the command succeeded for ${plural(plan.todo.length, noun)}; "${flag}" is off for each`);
    return 0;
  }
  const byKind = (kind: ItemEnd["kind"]) => plan.todo.filter((item) => result.ends.get(item.index)?.kind === kind);
  const endOf = <K extends ItemEnd["kind"]>(item: LoopItem) => result.ends.get(item.index) as Extract<ItemEnd, { kind: K }>;
  const whom = (items: readonly LoopItem[]) => (items.length === 1 ? `${noun} "${items[0]!.key}"` : `${items.length} ${noun}s (${keyList(items.map((i) => i.key))})`);
  const offLine = (items: readonly LoopItem[]) => lines.detour(target.offArgs(items.map((i) => i.key)));

  for (const item of byKind("failed")) {
    say(`failed for ${noun} "${item.key}" (${item.index + 1} of ${total}): ${why(endOf<"failed">(item).outcome)}; "${flag}" left on for "${item.key}"`);
  }
  for (const [message, items] of groupByError(byKind("not-enabled"), (item) => endOf<"not-enabled">(item).error)) {
    say(`could not turn "${flag}" on for ${whom(items)}: ${message}; ${items.length === 1 ? "the command was" : "their commands were"} not run`);
  }
  for (const [message, items] of groupByError(byKind("still-on"), (item) => endOf<"still-on">(item).error)) {
    say(`the command succeeded for ${whom(items)} but "${flag}" could not be turned off: ${message}; it is still on (turn it off with: ${offLine(items)})`);
  }
  const revertFailed = byKind("not-started").filter((item) => endOf<"not-started">(item).error !== undefined);
  for (const [message, items] of groupByError(revertFailed, (item) => endOf<"not-started">(item).error)) {
    say(`"${flag}" was turned on for ${whom(items)} but the loop stopped before their commands started, and it could not be turned off again: ${message} (turn it off with: ${offLine(items)})`);
  }
  const stop = result.stop;
  if (stop.kind === "signal") {
    const interrupted = byKind("interrupted");
    if (interrupted.length === 0) say(`interrupted by ${stop.signal} between ${noun}s; no command was running`);
    else {
      const who = interrupted.length === 1 ? `${noun} "${interrupted[0]!.key}"` : `${interrupted.length} ${noun}s: ${keyList(interrupted.map((i) => i.key))}`;
      say(`interrupted by ${stop.signal}; "${flag}" left on for ${who} (turn it off with: ${offLine(interrupted)})`);
    }
  }
  if (stop.kind === "error") say(messageOf(stop.error));

  const unfinished = unfinishedItems(plan, result);
  if (r.concurrency > 1 && unfinished.length > 0) {
    const kindOf = (item: LoopItem) => result.ends.get(item.index)?.kind;
    const keys = (kind: "failed" | "interrupted" | "never") =>
      unfinished.filter((item) => (kind === "never" ? kindOf(item) !== "failed" && kindOf(item) !== "interrupted" : kindOf(item) === kind)).map((item) => item.key);
    const [failed, interrupted, never] = [keys("failed"), keys("interrupted"), keys("never")];
    const parts = [
      failed.length > 0 ? `${failed.length} failed (${keyList(failed)})` : "",
      interrupted.length > 0 ? `${interrupted.length} interrupted (${keyList(interrupted)})` : "",
      never.length > 0 ? `${never.length} never started (${keyList(never, 3)})` : "",
    ];
    say(`not done: ${unfinished.length} of ${plural(total, noun)}: ${parts.filter(Boolean).join("; ")}`);
  }
  if (unfinished.length > 0) await sayResume(r, plan, unfinished);
  if (stop.kind === "signal") return signalExitCode(stop.signal);
  if (stop.kind === "error") return exitCodeOf(stop.error);
  const end = stop.end;
  if (end.kind === "failed" || end.kind === "interrupted") return statusOf(end.outcome);
  return end.kind === "not-enabled" || end.kind === "still-on" ? exitCodeOf(end.error) : 1;
}

/**
 * Prints the command that runs exactly the `unfinished` keys again: the
 * journal's `--resume`; `--resume-from` when they are the rest of the list;
 * else a list of them written next to the user list (`--users-from` it).
 */
export async function sayResume(r: ReportContext, plan: LoopPlan, unfinished: readonly LoopItem[]): Promise<void> {
  if (r.journal !== undefined) {
    r.say(`to resume: ${r.lines.loop(r.usersFrom, ["--journal", r.journal, "--resume"])}`);
    return;
  }
  const from = unfinished[0]!.key;
  const resumeFrom = r.lines.loop(r.usersFrom, ["--resume-from", from]);
  if (isSuffix(plan, unfinished)) {
    r.say(`to resume from "${from}": ${resumeFrom}`);
    return;
  }
  const path = unfinishedPath(r.usersFrom, r.target.flag);
  try {
    await writeFileAtomically(resolve(r.cwd, path), `${unfinished.map((item) => item.key).join("\n")}\n`);
  } catch (error) {
    const again = plan.todo.filter((item) => item.index > unfinished[0]!.index && !unfinished.includes(item)).map((item) => item.key);
    r.say(`could not write the ${r.target.noun}s not done to ${path} (${messageOf(error)}); to resume from "${from}", which runs ${keyList(again)} again too: ${resumeFrom}`);
    return;
  }
  r.say(`to resume with exactly the ${plural(unfinished.length, r.target.noun)} not done (written to ${path}): ${r.lines.loop(path)}`);
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
