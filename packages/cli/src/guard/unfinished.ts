import { basename, dirname, extname, join } from "node:path";
import type { ItemEnd, LoopItem, LoopResult } from "./loop.js";
import type { LoopPlan } from "./plan.js";

/** Whether a key needs its command run again: anything but a success (a success whose flag could not be turned off included). */
function needsRun(end: ItemEnd | undefined): boolean {
  return end === undefined || (end.kind !== "succeeded" && end.kind !== "still-on");
}

/** The keys of this run whose command did not succeed (failed, interrupted, never started), in list order. */
export function unfinishedItems(plan: LoopPlan, result: LoopResult): LoopItem[] {
  return plan.todo.filter((item) => needsRun(result.ends.get(item.index)));
}

/**
 * Whether the unfinished keys are exactly the list from the first of them
 * on, so that `--resume-from <first>` runs exactly them (always so one key
 * at a time; with several at a time, unless a key after a failure succeeded).
 */
export function isSuffix(plan: LoopPlan, unfinished: readonly LoopItem[]): boolean {
  return unfinished.length > 0 && unfinished.length === plan.keys.length - unfinished[0]!.index;
}

/**
 * Where the unfinished keys are written when `--resume-from` cannot name
 * them exactly, as the operator would type it (relative when the list was
 * given relative): next to the list (`users.txt` → `users.unfinished.txt`;
 * a list that is itself such a file is rewritten), or for stdin
 * `detour-guard-<flag>.unfinished.txt` in the working directory.
 */
export function unfinishedPath(source: string, flag: string): string {
  if (source === "-") return `detour-guard-${flag.replace(/[^A-Za-z0-9._-]/g, "_")}.unfinished.txt`;
  const ext = extname(source);
  const stem = basename(source, ext).replace(/\.unfinished$/, "");
  return join(dirname(source), `${stem}.unfinished${ext}`);
}

/** `u1, u2, u3` or `u1, u2, …, u9 (9)`: at most `max` keys shown, with the last one. */
export function keyList(keys: readonly string[], max = 10): string {
  if (keys.length <= max) return keys.join(", ");
  return `${keys.slice(0, max - 1).join(", ")}, …, ${keys.at(-1)!} (${keys.length})`;
}
