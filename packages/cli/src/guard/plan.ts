import { isDone, type JournalState } from "./journal.js";
import type { LoopItem } from "./loop.js";

/** What a guard loop run does with its list. */
export interface LoopPlan {
  /** Every key of the list, in order. */
  readonly keys: readonly string[];
  /** The keys to run, in list order. */
  readonly todo: readonly LoopItem[];
  /** Keys done before this run (skipped). */
  readonly skipped: number;
  /** Keys whose command succeeded before but whose flag may still be on: turned off before the loop starts. */
  readonly stillOn: readonly string[];
}

/** The whole list, or from `first` on (`--resume-from`). */
export function planFrom(keys: readonly string[], first = 0): LoopPlan {
  const todo: LoopItem[] = [];
  for (let index = first; index < keys.length; index++) todo.push({ index, key: keys[index]! });
  return { keys, todo, skipped: first, stillOn: [] };
}

/** Every key the journal does not record as done (`--resume`). */
export function planFromJournal(keys: readonly string[], journal: JournalState): LoopPlan & { readonly failed: number; readonly inFlight: number } {
  const todo: LoopItem[] = [];
  const stillOn: string[] = [];
  let failed = 0;
  let inFlight = 0;
  keys.forEach((key, index) => {
    const last = journal.last.get(key);
    if (last === "ok") stillOn.push(key);
    if (isDone(last)) return;
    if (last === "start" || last === "interrupted") inFlight++;
    else if (last === "fail" || last === "error") failed++;
    todo.push({ index, key });
  });
  return { keys, todo, skipped: keys.length - todo.length, stillOn, failed, inFlight };
}
