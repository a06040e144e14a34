import type { Flag, Target } from "../document/types.js";
import { foldLimit, plainValues, setMembership, valueCount, type TargetChange, type TargetList } from "../document/target-values.js";
import { kindOf } from "./attributes.js";
import { addKey, keyFilter, type KeyFilter } from "./key-filter.js";
import type { EvaluationResult } from "./types.js";

/*
 * A flag's individual targets, compiled: consecutive entries of one kind
 * become one group, a Map from context key to the result of the first entry
 * listing it. A change that only adds keys to and removes keys from entries
 * (`TargetChange`) is applied to the groups as an overlay over the previous
 * Map, which is shared and never changed, so adding one user to a list of a
 * million costs that user; the overlay is folded into a fresh Map once it
 * passes 2·√n keys (copying the overlay on each change and rebuilding the
 * Map now and then cost about the same, amortized O(√n) a change).
 */

/** Consecutive targets of one kind: its context keys and the result each picks (the first target listing a key wins). */
export interface TargetGroup {
  readonly kind: string;
  readonly keys: ReadonlyMap<string, EvaluationResult>;
  /** The keys again, as a filter read before the Map: most keys looked up are in no list. */
  readonly filter: KeyFilter;
}

/** One entry feeding a group, in LaunchDarkly's order. */
interface Feed {
  readonly list: TargetList;
  readonly index: number;
  readonly target: Target;
  readonly kind: string;
}

/** What patching a group needs: its entries and their results, and whether a key is in at most one of them. */
interface GroupState {
  readonly entries: readonly { readonly variation: number; readonly values: readonly string[]; readonly result: EvaluationResult }[];
  /** No key in two entries (nor twice in one), every entry's result its own object: a result tells the entry. */
  readonly exclusive: boolean;
  readonly base: ReadonlyMap<string, EvaluationResult>;
  /** Keys set (`null`: removed) over `base`. */
  readonly over: ReadonlyMap<string, EvaluationResult | null>;
  readonly size: number;
}

const states = new WeakMap<TargetGroup, GroupState>();

/** A Map seen through the keys a few changes set or removed since it was built. */
class OverlayMap implements ReadonlyMap<string, EvaluationResult> {
  constructor(
    readonly base: ReadonlyMap<string, EvaluationResult>,
    readonly over: ReadonlyMap<string, EvaluationResult | null>,
    readonly size: number,
  ) {}
  get(key: string): EvaluationResult | undefined {
    const set = this.over.get(key);
    return set === undefined ? this.base.get(key) : (set ?? undefined);
  }
  has(key: string): boolean {
    return this.get(key) !== undefined;
  }
  *entries(): MapIterator<[string, EvaluationResult]> {
    for (const entry of this.base) if (!this.over.has(entry[0])) yield entry;
    for (const [key, result] of this.over) if (result !== null) yield [key, result];
  }
  *keys(): MapIterator<string> {
    for (const [key] of this.entries()) yield key;
  }
  *values(): MapIterator<EvaluationResult> {
    for (const [, result] of this.entries()) yield result;
  }
  [Symbol.iterator](): MapIterator<[string, EvaluationResult]> {
    return this.entries();
  }
  forEach(callback: (value: EvaluationResult, key: string, map: ReadonlyMap<string, EvaluationResult>) => void): void {
    for (const [key, result] of this.entries()) callback(result, key, this);
  }
}

/** The entries that feed groups, in order; `null` when one entry feeds twice (user context targets naming one variation twice). */
function feedOf(flag: Flag): { feed: Feed[]; once: boolean } {
  const targets: Target[] = Array.isArray(flag.targets) ? flag.targets : [];
  const contextTargets: Target[] = Array.isArray(flag.contextTargets) ? flag.contextTargets : [];
  const feed: Feed[] = [];
  const seen = new Set<Target>();
  let once = true;
  const add = (list: TargetList, index: number, target: Target | undefined) => {
    // A target's own kind counts even when a user context target points at it.
    if (!target || !Array.isArray(target.values) || valueCount(target.values) === 0) return;
    if (seen.has(target)) once = false;
    seen.add(target);
    feed.push({ list, index, target, kind: kindOf(target.contextKind) });
  };
  if (contextTargets.length === 0) {
    targets.forEach((target, i) => add("targets", i, target));
  } else {
    contextTargets.forEach((target, i) => {
      // LaunchDarkly reads any falsy kind here as `user`: such an entry stands for the user target of the same variation.
      if (!target?.contextKind || target.contextKind === "user") {
        const index = targets.findIndex((t) => t.variation === target?.variation);
        add("targets", index, targets[index]);
      } else add("contextTargets", i, target);
    });
  }
  return { feed, once };
}

/** Tells each entry's list, from now on, by the group it feeds (so a writer's draft need not scan it). */
function speakFor(state: GroupState, keys: ReadonlyMap<string, EvaluationResult>): void {
  if (!state.exclusive) return;
  for (const entry of state.entries) setMembership(entry.values, (key) => keys.get(key) === entry.result);
}

function group(kind: string, state: GroupState, keys: ReadonlyMap<string, EvaluationResult>, filter: KeyFilter): TargetGroup {
  const compiled: TargetGroup = { kind, keys, filter };
  states.set(compiled, state);
  speakFor(state, keys);
  return compiled;
}

/** The target groups of `flag`; `resultOf` gives the result of a variation (a new object each call). */
export function compileTargets(flag: Flag, resultOf: (variation: number) => EvaluationResult): TargetGroup[] | null {
  const { feed, once } = feedOf(flag);
  const built: { kind: string; keys: Map<string, EvaluationResult>; entries: GroupState["entries"][number][]; exclusive: boolean }[] = [];
  const results = new Set<EvaluationResult>();
  for (const { target, kind } of feed) {
    let last = built.at(-1);
    if (last === undefined || last.kind !== kind) built.push((last = { kind, keys: new Map(), entries: [], exclusive: once }));
    const result = resultOf(target.variation);
    if (results.has(result)) last.exclusive = false;
    results.add(result);
    const values = plainValues(target.values);
    last.entries.push({ variation: target.variation, values: target.values, result });
    for (let i = 0; i < values.length; i++) {
      const value = values[i]!;
      if (!last.keys.has(value)) last.keys.set(value, result);
      else last.exclusive = false;
    }
  }
  if (built.length === 0) return null;
  return built.map(({ kind, keys, entries, exclusive }) =>
    group(kind, { entries, exclusive, base: keys, over: new Map(), size: keys.size }, keys, keyFilter(keys.keys(), keys.size)),
  );
}

/**
 * The groups of `flag` (the new definition, its changed entries' values
 * already derived) from `previous` (those of `old`) and `changes`, or
 * `undefined` when the change is not one the groups can take as a delta
 * (entries appear, disappear or move, a key would be in two entries): then
 * compile afresh. Checks every key it is given, so a wrong delta is never
 * applied silently.
 */
export function patchTargets(
  previous: readonly TargetGroup[] | null,
  old: Flag,
  flag: Flag,
  changes: readonly TargetChange[],
): TargetGroup[] | null | undefined {
  if (previous === null) return undefined;
  const olds = previous.map((g) => states.get(g));
  if (olds.some((s) => s === undefined || !s.exclusive)) return undefined;
  const { feed, once } = feedOf(flag);
  if (!once) return undefined;
  const byEntry = new Map(changes.map((c) => [`${c.list}:${c.index}`, c]));
  const out: TargetGroup[] = [];
  let at = 0;
  for (let g = 0; g < previous.length; g++) {
    const state = olds[g]!;
    const kind = previous[g]!.kind;
    const entries: GroupState["entries"][number][] = [];
    const removed: [string, EvaluationResult][] = [];
    const added: [string, EvaluationResult][] = [];
    for (const entry of state.entries) {
      const next = feed[at++];
      if (next === undefined || next.kind !== kind || next.target.variation !== entry.variation) return undefined;
      const change = byEntry.get(`${next.list}:${next.index}`);
      if (change) {
        if (old[change.list]?.[change.from]?.values !== entry.values) return undefined;
        for (const key of change.removed) removed.push([key, entry.result]);
        for (const key of change.added) added.push([key, entry.result]);
      } else if (next.target.values !== entry.values && !sameSmallList(next.target.values, entry.values)) return undefined;
      entries.push({ variation: entry.variation, values: next.target.values, result: entry.result });
    }
    const patched =
      removed.length + added.length === 0
        ? { state: { ...state, entries }, keys: previous[g]!.keys, filter: previous[g]!.filter }
        : applyToGroup(state, entries, removed, added, previous[g]!);
    if (patched === undefined) return undefined;
    out.push(group(kind, patched.state, patched.keys, patched.filter));
  }
  if (at !== feed.length) return undefined;
  // A flag left without any targeted key compiles afresh (its traits change).
  if (out.every((g) => states.get(g)!.size === 0)) return undefined;
  return out;
}

function sameSmallList(a: readonly string[], b: readonly string[]): boolean {
  return a.length === b.length && a.length <= 1024 && a.every((v, i) => v === b[i]);
}

interface Patched {
  readonly state: GroupState;
  readonly keys: ReadonlyMap<string, EvaluationResult>;
  readonly filter: KeyFilter;
}

/** The group's state, Map and filter with the removals then the additions applied; `undefined` when a key is not where the change says. */
function applyToGroup(
  state: GroupState,
  entries: GroupState["entries"],
  removed: readonly [string, EvaluationResult][],
  added: readonly [string, EvaluationResult][],
  previous: TargetGroup,
): Patched | undefined {
  const { base } = state;
  const over = new Map(state.over);
  let size = state.size;
  const get = (key: string) => {
    const set = over.get(key);
    return set === undefined ? base.get(key) : (set ?? undefined);
  };
  for (const [key, result] of removed) {
    if (get(key) !== result) return undefined;
    if (base.has(key)) over.set(key, null);
    else over.delete(key);
    size--;
  }
  for (const [key, result] of added) {
    if (typeof key !== "string" || get(key) !== undefined) return undefined;
    if (base.get(key) === result) over.delete(key);
    else over.set(key, result);
    size++;
  }
  if (over.size > foldLimit(base.size)) {
    const keys = new Map<string, EvaluationResult>();
    for (const [key, result] of base) if (!over.has(key)) keys.set(key, result);
    for (const [key, result] of over) if (result !== null) keys.set(key, result);
    return { state: { entries, exclusive: true, base: keys, over: new Map(), size }, keys, filter: keyFilter(keys.keys(), keys.size) };
  }
  for (const [key] of added) addKey(previous.filter, key);
  const keys = over.size === 0 ? base : new OverlayMap(base, over, size);
  return { state: { entries, exclusive: true, base, over, size }, keys, filter: previous.filter };
}
