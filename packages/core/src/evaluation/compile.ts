import type {
  Clause,
  Flag,
  JsonValue,
  Rollout,
  Segment,
  SegmentRule,
  VariationOrRollout,
} from "../document/types.js";
import { compileAttribute, compileReference, kindOf, targetsUsers, type AttributeGetter } from "./attributes.js";
import { compileFoldedOperator, compileOperator, type ValueMatcher } from "./operators.js";
import type { EvaluationReason, EvaluationResult } from "./types.js";
import { compileTargets, patchTargets, type TargetGroup } from "./target-groups.js";
import { sharedSha1Prefix, type Sha1Prefix } from "./sha1.js";
import type { TargetChange } from "../document/target-values.js";

/*
 * A flag is compiled once per snapshot into a shape that evaluates without
 * allocating: targets become one Map from user key to a frozen result,
 * clause values become precompiled matchers (regexes, CIDR ranges, dates,
 * semvers, Sets), rollout thresholds are summed ahead, and every result a
 * fixed variation can produce is built once and shared.
 */

export interface CompiledClause {
  /** `null` for an invalid attribute reference: evaluating it is a MALFORMED_FLAG error. */
  readonly attribute: AttributeGetter | null;
  readonly match: ValueMatcher;
  readonly negate: boolean;
  /** For `segmentMatch`: the segment keys. */
  readonly segments: readonly string[] | null;
}

export interface FixedOutcome {
  readonly type: "fixed";
  readonly result: EvaluationResult;
}

export interface RolloutOutcome {
  readonly type: "rollout";
  /** `prefix + "."`, prepared to be hashed with the bucketing value. */
  readonly hashPrefix: Sha1Prefix;
  readonly bucketBy: AttributeGetter;
  /** The bucketing attribute is the context key. */
  readonly bucketsByKey: boolean;
  /** The context kind the rollout buckets (`user` unless `contextKind` says otherwise). */
  readonly kind: string;
  /** Whether that kind is `user`. */
  readonly forUsers: boolean;
  /** Cumulative weights, summed exactly as LaunchDarkly sums them (floats, weight / 1e5). */
  readonly thresholds: Float64Array;
  /** The same as bounds on the hash: `hash < bounds[i]` exactly when LaunchDarkly's `hash / 0xFFFFFFFFFFFFFFF < thresholds[i]`. */
  readonly bounds: Float64Array;
  /** Result per slot when the context counts in the experiment, and when it does not. */
  readonly counted: readonly EvaluationResult[];
  readonly uncounted: readonly EvaluationResult[];
  /** Past the last threshold LaunchDarkly marks the experiment without checking the context. */
  readonly last: EvaluationResult;
}

export type Outcome = FixedOutcome | RolloutOutcome;

export interface CompiledRule {
  /** `null` when the rule has no clauses list: it never matches. */
  readonly clauses: readonly CompiledClause[] | null;
  readonly outcome: Outcome;
}

export interface CompiledPrerequisite {
  readonly key: string;
  readonly variation: number;
  readonly failed: EvaluationResult;
}

export interface CompiledFlag {
  readonly key: string;
  readonly flag: Flag;
  readonly on: boolean;
  readonly off: EvaluationResult;
  readonly prerequisites: readonly CompiledPrerequisite[];
  /** Individual targets in LaunchDarkly's order, `null` when there are none. */
  readonly targets: readonly TargetGroup[] | null;
  readonly rules: readonly CompiledRule[];
  readonly fallthrough: Outcome;
  /** True when the result can differ between contexts (targets, rules, rollouts, prerequisites). */
  readonly contextual: boolean;
}

export type { TargetGroup } from "./target-groups.js";

export interface CompiledSegmentRule {
  readonly clauses: readonly CompiledClause[];
  /** `null` when every matching context is in; else the bucket must be below this. */
  readonly weight: number | null;
  readonly hashPrefix: Sha1Prefix;
  readonly bucketBy: AttributeGetter | null;
  readonly kind: string;
}

export interface CompiledSegment {
  readonly key: string;
  readonly unbounded: boolean;
  /** The kind whose key a big segment looks up (`unboundedContextKind`, falsy: `user`). */
  readonly unboundedKind: string;
  readonly generation: boolean;
  /** Context keys per kind (`included` and the `user` entries of `includedContexts` together). */
  readonly included: ReadonlyMap<string, ReadonlySet<string>>;
  readonly excluded: ReadonlyMap<string, ReadonlySet<string>>;
  readonly rules: readonly CompiledSegmentRule[];
}

const malformed: EvaluationResult = Object.freeze({
  value: null,
  variationIndex: null,
  reason: Object.freeze({ kind: "ERROR", errorKind: "MALFORMED_FLAG" }),
});

export const MALFORMED_RESULT = malformed;

function freezeReason(reason: EvaluationReason): EvaluationReason {
  return Object.freeze(reason);
}

function variationResult(flag: Flag, index: unknown, reason: EvaluationReason): EvaluationResult {
  const variations = Array.isArray(flag.variations) ? flag.variations : [];
  if (typeof index !== "number" || !Number.isInteger(index) || index < 0 || index >= variations.length) {
    return malformed;
  }
  return Object.freeze({ value: variations[index] as JsonValue, variationIndex: index, reason });
}

function offResult(flag: Flag, reason: EvaluationReason): EvaluationResult {
  if (typeof flag.offVariation !== "number") return Object.freeze({ value: null, variationIndex: null, reason });
  return variationResult(flag, flag.offVariation, reason);
}

/** Whether a clause reads the request path attribute Detour puts in every request's context. */
export function isPathClause(clause: Clause): boolean {
  return clause.attribute === "path" && targetsUsers(clause.contextKind) && clause.op !== "segmentMatch";
}

function compileClause(clause: Clause, foldPaths = false): CompiledClause {
  const values = Array.isArray(clause.values) ? clause.values : [];
  const negate = clause.negate === true;
  if (clause.op === "segmentMatch") {
    return { attribute: null, match: () => false, negate, segments: values.filter((v): v is string => typeof v === "string") };
  }
  const attribute = typeof clause.attribute === "string" && clause.attribute ? compileAttribute(clause.attribute, clause.contextKind ?? undefined) : null;
  const match = foldPaths && isPathClause(clause) ? compileFoldedOperator(clause.op, values) : compileOperator(clause.op, values);
  return { attribute, match, negate, segments: null };
}

function hashPrefix(key: string, salt: string | undefined, seed: unknown): Sha1Prefix {
  // A seed of 0 counts as no seed, as in the LaunchDarkly SDK.
  return sharedSha1Prefix(`${seed ? Number(seed) : `${key}.${salt || ""}`}.`);
}

/** LaunchDarkly's bucket: the first 60 bits of the hash over 0xFFFFFFFFFFFFFFF (as it writes it), a float in [0, 1]. */
export const BUCKET_SCALE = 1152921504606847e3;

const ulp = new Float64Array(1);
const ulpBits = new BigInt64Array(ulp.buffer);

/** The double next to `x` (≥ 0) upwards, or downwards. */
function step(x: number, by: 1n | -1n): number {
  ulp[0] = x;
  ulpBits[0]! += by;
  return ulp[0]!;
}

/**
 * The least hash `h` ≥ 0 whose bucket `h / BUCKET_SCALE` is not below
 * `threshold`, so that `hash < boundOf(threshold)` exactly when the float
 * comparison LaunchDarkly makes is true: the rounded division by a positive
 * constant never decreases as `h` grows, so the hashes whose bucket is below
 * the threshold are all those below the least one whose bucket is not. A NaN
 * threshold (a weight that is not a number) has no hash below it.
 */
export function boundOf(threshold: number): number {
  if (Number.isNaN(threshold)) return -Infinity;
  if (threshold <= 0) return 0;
  let h = Math.min(threshold * BUCKET_SCALE, Number.MAX_VALUE);
  while (h / BUCKET_SCALE < threshold) {
    if (h === Number.MAX_VALUE) return Infinity;
    h = step(h, 1n);
  }
  while (h > 0 && step(h, -1n) / BUCKET_SCALE >= threshold) h = step(h, -1n);
  return h;
}

const keyGetters = new Map<string, AttributeGetter>();

/** The getter of `kind`'s key, one per kind, so that `bucketsByKey` can compare it. */
function keyAttribute(kind: string): AttributeGetter {
  let getter = keyGetters.get(kind);
  if (getter === undefined) {
    getter = compileReference("key", true, kind)!;
    if (keyGetters.size < 64) keyGetters.set(kind, getter);
  }
  return getter;
}

function bucketGetter(bucketBy: string | undefined, contextKind: string | undefined): AttributeGetter | null {
  // As LaunchDarkly: `bucketBy` is a literal name unless a (truthy) context kind makes it a reference.
  const kind = kindOf(contextKind);
  if (!bucketBy || bucketBy === "key") return keyAttribute(kind);
  return compileReference(bucketBy, !contextKind, kind);
}

function compileRollout(flag: Flag, rollout: Rollout, reason: EvaluationReason): Outcome {
  const slots = Array.isArray(rollout.variations) ? rollout.variations : [];
  if (slots.length === 0) return { type: "fixed", result: malformed };
  const experiment = rollout.kind === "experiment";
  const kind = kindOf(rollout.contextKind);
  const bucketBy = experiment ? keyAttribute(kind) : bucketGetter(rollout.bucketBy, rollout.contextKind);
  if (!bucketBy) return { type: "fixed", result: malformed };
  const inExperiment = freezeReason({ ...reason, inExperiment: true } as EvaluationReason);
  const thresholds = new Float64Array(slots.length);
  let sum = 0;
  slots.forEach((slot, i) => {
    sum += slot.weight / 1e5;
    thresholds[i] = sum;
  });
  const counted = slots.map((slot) =>
    variationResult(flag, slot.variation, experiment && !slot.untracked ? inExperiment : reason),
  );
  const uncounted = slots.map((slot) => variationResult(flag, slot.variation, reason));
  return {
    type: "rollout",
    bounds: thresholds.map(boundOf),
    bucketsByKey: bucketBy === keyAttribute(kind),
    hashPrefix: hashPrefix(flag.key, flag.salt, rollout.seed),
    bucketBy,
    kind,
    forUsers: kind === "user",
    thresholds,
    counted,
    uncounted,
    last: counted[counted.length - 1]!,
  };
}

function compileOutcome(flag: Flag, source: VariationOrRollout | undefined, reason: EvaluationReason): Outcome {
  if (source === undefined || source === null) return { type: "fixed", result: malformed };
  if (source.variation !== undefined && source.variation !== null) {
    return { type: "fixed", result: variationResult(flag, source.variation, reason) };
  }
  if (source.rollout) return compileRollout(flag, source.rollout, reason);
  return { type: "fixed", result: malformed };
}

const TARGET_MATCH: EvaluationReason = freezeReason({ kind: "TARGET_MATCH" });
const FALLTHROUGH: EvaluationReason = freezeReason({ kind: "FALLTHROUGH" });
const OFF: EvaluationReason = freezeReason({ kind: "OFF" });

export interface CompileOptions {
  /**
   * Compare rule clauses on the `path` attribute case-insensitively on both
   * sides, as Express and Koa route: Detour's guard readings of a request.
   * Never for evaluations that must agree with LaunchDarkly.
   */
  readonly foldPaths?: boolean;
}

/**
 * `flag` compiled. `patch`: the compiled form of its previous definition and
 * the target changes between the two, so the target groups are patched
 * instead of built again (they are built again when the change does not allow it).
 */
export function compileFlag(flag: Flag, options: CompileOptions = {}, patch?: { previous: CompiledFlag; changes: readonly TargetChange[] }): CompiledFlag {
  const foldPaths = options.foldPaths === true;
  const rules = (Array.isArray(flag.rules) ? flag.rules : []).map((rule, ruleIndex): CompiledRule => {
    const reason = freezeReason(
      rule.id === undefined
        ? { kind: "RULE_MATCH", ruleIndex }
        : { kind: "RULE_MATCH", ruleIndex, ruleId: rule.id },
    );
    return {
      clauses: Array.isArray(rule.clauses) ? rule.clauses.map((clause) => compileClause(clause, foldPaths)) : null,
      outcome: compileOutcome(flag, rule, reason),
    };
  });
  const prerequisites = (Array.isArray(flag.prerequisites) ? flag.prerequisites : []).map((p) => ({
    key: p.key,
    variation: p.variation,
    failed: offResult(flag, freezeReason({ kind: "PREREQUISITE_FAILED", prerequisiteKey: p.key })),
  }));
  const resultOf = (variation: number) => variationResult(flag, variation, TARGET_MATCH);
  const patched = patch && sameVariations(patch.previous.flag, flag) ? patchTargets(patch.previous.targets, patch.previous.flag, flag, patch.changes) : undefined;
  const targets = patched === undefined ? compileTargets(flag, resultOf) : patched;
  const fallthrough = compileOutcome(flag, flag.fallthrough, FALLTHROUGH);
  return {
    key: flag.key,
    flag,
    on: flag.on === true,
    off: offResult(flag, OFF),
    prerequisites,
    targets,
    rules,
    fallthrough,
    contextual: prerequisites.length > 0 || targets !== null || rules.length > 0 || fallthrough.type === "rollout",
  };
}

/** Target results can be kept when the variations they name are the same values. */
function sameVariations(a: Flag, b: Flag): boolean {
  return a.variations === b.variations || JSON.stringify(a.variations) === JSON.stringify(b.variations);
}

/** `flagValues` shorthand: what the LaunchDarkly file data source makes of `key: value`. */
export function flagFromValue(key: string, value: JsonValue): Flag {
  return { key, on: true, fallthrough: { variation: 0 }, variations: [value], version: 1 };
}

function compileSegmentRule(segment: Segment, rule: SegmentRule): CompiledSegmentRule {
  const weighted = typeof rule.weight === "number";
  return {
    clauses: (Array.isArray(rule.clauses) ? rule.clauses : []).map((clause) => compileClause(clause)),
    weight: weighted ? rule.weight! / 1e5 : null,
    hashPrefix: hashPrefix(segment.key, segment.salt, undefined),
    bucketBy: weighted ? bucketGetter(rule.bucketBy, rule.rolloutContextKind) : null,
    kind: kindOf(rule.rolloutContextKind),
  };
}

/** Context keys per kind: the plain list holds user keys, the context list any kind's. */
function keysByKind(plain: unknown, contextual: unknown): Map<string, Set<string>> {
  const byKind = new Map<string, Set<string>>();
  const add = (kind: string, values: unknown) => {
    if (!Array.isArray(values)) return;
    let keys = byKind.get(kind);
    if (keys === undefined) byKind.set(kind, (keys = new Set()));
    for (const value of values) if (typeof value === "string" && value !== "") keys.add(value);
  };
  add("user", plain);
  for (const target of Array.isArray(contextual) ? contextual : []) {
    if (target && typeof target === "object") add(kindOf(target.contextKind), target.values);
  }
  for (const [kind, keys] of byKind) if (keys.size === 0) byKind.delete(kind);
  return byKind;
}

export function compileSegment(segment: Segment): CompiledSegment {
  return {
    key: segment.key,
    unbounded: segment.unbounded === true,
    unboundedKind: (segment.unboundedContextKind as string | undefined) || "user",
    generation: typeof segment.generation === "number" && segment.generation !== 0,
    included: keysByKind(segment.included, segment.includedContexts),
    excluded: keysByKind(segment.excluded, segment.excludedContexts),
    rules: (Array.isArray(segment.rules) ? segment.rules : []).map((rule) => compileSegmentRule(segment, rule)),
  };
}
