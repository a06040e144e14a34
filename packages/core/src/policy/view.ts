import type { DetourFlagSettings, Flag, Mode, Rollout } from "../document/types.js";
import { attributeComponents } from "../evaluation/attributes.js";
import type { CompiledFlag, Outcome, TargetGroup } from "../evaluation/compile.js";
import type { EvaluationResult } from "../evaluation/types.js";
import { compiledFlagOf, type Snapshot } from "../snapshot.js";
import { modesOf } from "../document/modes.js";
import { inForce, scheduleOf } from "../document/schedule.js";
import { kindsRead, readsAnyKind, unionKinds, type KindsRead } from "./kinds.js";
import { pathRulesOf, type PathRules } from "./path-rules.js";
import { ruleKindsOf } from "./picked.js";

/*
 * What a snapshot means for request decisions, worked out once per snapshot
 * (and again when a window opens or closes), so that deciding a request with
 * nothing in force is a couple of field reads.
 */

export interface ModeFlag {
  readonly key: string;
  readonly compiled: CompiledFlag;
  readonly settings: DetourFlagSettings | undefined;
  /** Mode of each variation (`null` for a value that is not a mode). */
  readonly modes: readonly (Mode | null)[];
  /** The context it is evaluated with (see `ContextNeed`). */
  readonly needs: ContextNeed;
  /** Evaluating it can read a context kind other than `user`: the request's `contexts(req)` are needed. */
  readonly otherKinds: boolean;
  /** Which other kinds it reads. */
  readonly kinds: KindsRead;
  /** The fallthrough is a rollout that can send different users different ways. */
  readonly splitRollout: boolean;
  /** Window end or TTL expiry, when there is one. */
  readonly until: Date | null;
  /** The mode the flag puts everyone in (a fixed fallthrough), or `null` when it has none. */
  readonly wholeMode: Mode | null;
  /** How its rules read the request path (guard mode), `null` when they do not. */
  readonly pathRules: PathRules | null;
  /** The kind each rule picks a request out by, `null` where the segment holding the context says (`ruleKindsOf`). */
  readonly ruleKinds: readonly (string | null)[];
  /** When the client should retry (epoch ms: the window end, else `detour.retryAt`), `null` when neither is set. */
  readonly retryAt: number | null;
  /**
   * For a flag that reads nothing but whether a key is in one of its target
   * lists (on, no prerequisites, no rules, a fixed fallthrough) and puts no
   * one else in a mode: its lists and what it answers a request in none of
   * them; else `null`.
   */
  readonly keyTargets: KeyTargets | null;
}

export interface KeyTargets {
  readonly groups: readonly TargetGroup[];
  /** The fallthrough's result. */
  readonly untargeted: EvaluationResult;
}

/** The `keyTargets` of a flag, when its targets put some keys in a mode and everyone else in none. */
function keyTargetsOf(compiled: CompiledFlag, modes: readonly (Mode | null)[]): KeyTargets | null {
  const { targets, fallthrough } = compiled;
  if (!compiled.on || compiled.prerequisites.length > 0 || compiled.rules.length > 0 || targets === null || fallthrough.type !== "fixed") return null;
  const index = fallthrough.result.variationIndex;
  const mode = index === null ? null : modes[index];
  return !mode || mode === "available" ? { groups: targets, untargeted: fallthrough.result } : null;
}

/**
 * The least context a flag's evaluation reads: `none` (it answers everyone
 * alike), `key` (only keys change the result: targets, rollouts by key),
 * `key-kinds` (the same with other context kinds), `custom` (`{ key,
 * ...context(req) }`: it reads none of `ip`, `path`, `method`), `user` (the
 * user's whole context, with the other kinds when `otherKinds`).
 */
export type ContextNeed = "none" | "key" | "key-kinds" | "custom" | "user";

function contextNeed(compiled: CompiledFlag, flag: Flag, otherKinds: boolean): ContextNeed {
  if (!compiled.contextual) return "none";
  if (readsOnlyKey(compiled)) return otherKinds ? "key-kinds" : "key";
  return otherKinds || readsRequest(flag) ? "user" : "custom";
}

export interface PolicyView {
  readonly snapshot: Snapshot;
  readonly site: ModeFlag | null;
  readonly features: ReadonlyMap<string, ModeFlag>;
  /** No flag can put anyone in read-only or maintenance right now. */
  readonly quiet: boolean;
  /** When a window opens or closes and the view must be rebuilt (epoch ms; Infinity: never). */
  readonly expires: number;
  /** Site or feature flags with `failMode: "closed"`: maintenance while the store is stale. */
  readonly failClosed: ReadonlySet<string>;
  /** Of those, the ones the store's document has in a form Detour could not load (no last good version): maintenance until fixed. */
  readonly brokenClosed: ReadonlySet<string>;
  /** The other kinds the flags in force read: the only ones of a request's per-kind `contexts` computed while deciding. */
  readonly kinds: KindsRead;
  /** Bypass periods of this snapshot's flags by key, filled as blocked requests need them (`periodOf`). */
  readonly periods: Map<string, string>;
  /** Some flag in force has its own secret URL (`detour.secret`). */
  readonly flagSecrets: boolean;
}

function outcomeVariations(outcome: Outcome, into: Set<number>): void {
  if (outcome.type === "fixed") {
    if (outcome.result.variationIndex !== null) into.add(outcome.result.variationIndex);
    return;
  }
  const { thresholds, counted } = outcome;
  let previous = 0;
  thresholds.forEach((threshold, i) => {
    const index = counted[i]!.variationIndex;
    const reachable = threshold > previous || (i === thresholds.length - 1 && threshold < 1);
    if (reachable && index !== null) into.add(index);
    previous = threshold;
  });
}

/** The variations a flag can currently produce for someone. */
function reachableVariations(compiled: CompiledFlag): Set<number> {
  const reachable = new Set<number>();
  if (compiled.off.variationIndex !== null && (!compiled.on || compiled.prerequisites.length > 0)) {
    reachable.add(compiled.off.variationIndex);
  }
  if (!compiled.on) return reachable;
  for (const p of compiled.prerequisites) if (p.failed.variationIndex !== null) reachable.add(p.failed.variationIndex);
  for (const group of compiled.targets ?? []) {
    for (const result of group.keys.values()) if (result.variationIndex !== null) reachable.add(result.variationIndex);
  }
  for (const rule of compiled.rules) outcomeVariations(rule.outcome, reachable);
  outcomeVariations(compiled.fallthrough, reachable);
  return reachable;
}

function outcomeReadsOnlyKey(outcome: Outcome): boolean {
  return outcome.type === "fixed" || outcome.bucketsByKey;
}

/** True when evaluating the flag reads no context attribute but keys (the user's, or another kind's: tenant targets). */
function readsOnlyKey(compiled: CompiledFlag): boolean {
  return (
    compiled.prerequisites.length === 0 &&
    compiled.rules.length === 0 &&
    outcomeReadsOnlyKey(compiled.fallthrough)
  );
}

const REQUEST_ATTRIBUTES: ReadonlySet<string> = new Set(["ip", "path", "method"]);

function readsRequestAttribute(attribute: string | undefined, literal: boolean): boolean {
  if (attribute === undefined) return false;
  const first = attributeComponents(attribute, literal)?.[0];
  return first === undefined || REQUEST_ATTRIBUTES.has(first);
}

function rolloutReadsRequest(rollout: Rollout | undefined): boolean {
  return rollout !== undefined && readsRequestAttribute(rollout.bucketBy, !rollout.contextKind);
}

/**
 * Whether evaluating a flag can read `ip`, `path` or `method`: a clause or
 * rollout on one of them (of any kind), an invalid reference, a segment or a
 * prerequisite (conservatively: those may read anything).
 */
function readsRequest(flag: Flag): boolean {
  if (Array.isArray(flag.prerequisites) && flag.prerequisites.length > 0) return true;
  if (rolloutReadsRequest(flag.fallthrough?.rollout)) return true;
  for (const rule of Array.isArray(flag.rules) ? flag.rules : []) {
    if (rolloutReadsRequest(rule.rollout)) return true;
    for (const clause of Array.isArray(rule.clauses) ? rule.clauses : []) {
      if (clause.op === "segmentMatch" || readsRequestAttribute(clause.attribute, !clause.contextKind)) return true;
    }
  }
  return false;
}

function splits(outcome: Outcome): boolean {
  if (outcome.type === "fixed") return false;
  const reachable = new Set<number>();
  outcomeVariations(outcome, reachable);
  return reachable.size > 1;
}

function modeFlag(snapshot: Snapshot, key: string, now: number, boundaries: number[]): ModeFlag | null {
  const compiled = compiledFlagOf(snapshot, key);
  if (!compiled) return null;
  const flag: Flag = compiled.flag;
  const schedule = scheduleOf(flag.detour);
  for (const t of [schedule.from, schedule.until]) if (Number.isFinite(t) && t > now) boundaries.push(t);
  if (!inForce(schedule, now)) return null;
  const modes = modesOf(flag);
  const canBlock = [...reachableVariations(compiled)].some((i) => {
    const mode = modes[i];
    return mode === "read-only" || mode === "maintenance";
  });
  if (!canBlock) return null;
  const kinds = kindsRead(snapshot, key);
  const otherKinds = readsAnyKind(kinds);
  const needs = contextNeed(compiled, flag, otherKinds);
  const until = Number.isFinite(schedule.until) ? new Date(schedule.until) : null;
  return {
    key,
    compiled,
    settings: flag.detour,
    modes,
    needs,
    otherKinds,
    kinds,
    splitRollout: compiled.on && splits(compiled.fallthrough),
    wholeMode:
      compiled.on && compiled.fallthrough.type === "fixed" && compiled.fallthrough.result.variationIndex !== null
        ? (modes[compiled.fallthrough.result.variationIndex] ?? null)
        : null,
    until,
    pathRules: needs === "custom" || needs === "user" ? pathRulesOf(compiled, modes) : null,
    ruleKinds: ruleKindsOf(compiled),
    retryAt: until !== null ? until.getTime() : flag.detour?.retryAt !== undefined ? Date.parse(flag.detour.retryAt) : null,
    keyTargets: keyTargetsOf(compiled, modes),
  };
}

export function buildView(snapshot: Snapshot, siteFlag: string, featureNames: Iterable<string>, now: number): PolicyView {
  const boundaries: number[] = [];
  const site = modeFlag(snapshot, siteFlag, now, boundaries);
  const features = new Map<string, ModeFlag>();
  const failClosed = new Set<string>();
  const names = new Set(featureNames);
  for (const name of names) {
    const flag = modeFlag(snapshot, name, now, boundaries);
    if (flag) features.set(name, flag);
  }
  const brokenClosed = new Set<string>();
  for (const key of [siteFlag, ...names]) {
    if (snapshot.definition(key)?.detour?.failMode === "closed") {
      failClosed.add(key);
      if (snapshot.unloadable.has(key) && snapshot.definition(key)!.variations.length === 0) brokenClosed.add(key);
    }
  }
  const flagsInForce = [...(site ? [site] : []), ...features.values()];
  return {
    snapshot,
    site,
    features,
    quiet: site === null && features.size === 0,
    expires: boundaries.length > 0 ? Math.min(...boundaries) : Infinity,
    failClosed,
    brokenClosed,
    kinds: unionKinds(flagsInForce.map((flag) => flag.kinds)),
    periods: new Map(),
    flagSecrets: flagsInForce.some((flag) => Boolean(flag.settings?.secret)),
  };
}
