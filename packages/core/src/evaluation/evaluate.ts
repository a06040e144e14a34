import type { Flag, FlagDocument, Segment } from "../document/types.js";
import {
  BUCKET_SCALE,
  compileFlag,
  compileSegment,
  MALFORMED_RESULT,
  type CompiledClause,
  type CompiledFlag,
  type CompiledSegment,
  type Outcome,
  type RolloutOutcome,
} from "./compile.js";
import { contextProblem, hasKind, keyOf } from "./context.js";
import { bucketHash } from "./bucket-memo.js";
import { mayContain } from "./key-filter.js";
import type { Sha1Prefix } from "./sha1.js";
import type { EvaluationContext, EvaluationResult } from "./types.js";

/** Where prerequisites and segments are looked up during an evaluation. */
export interface FlagLookup {
  flag(key: string): CompiledFlag | undefined;
  segment(key: string): CompiledSegment | undefined;
}

/** A bucketing value: strings as they are, integers in decimal, anything else none. */
function bucketable(value: unknown): string | null {
  if (typeof value === "string") return value;
  if (Number.isInteger(value)) return String(value);
  return null;
}

/** The context's bucket in [0, 1) for a rollout, or -1 when it has no bucketing value. */
export function bucketFor(hashPrefix: Sha1Prefix, value: unknown): number {
  const key = bucketable(value);
  if (key === null) return -1;
  return bucketHash(hashPrefix, key) / BUCKET_SCALE;
}

function rollout(outcome: RolloutOutcome, context: EvaluationContext): EvaluationResult {
  const key = bucketable(outcome.bucketBy(context));
  // No bucketing value: bucket 0, and the context still counts in an experiment if it has the rollout's kind.
  const hash = key === null ? 0 : bucketHash(outcome.hashPrefix, key);
  const counts = key !== null || hasKind(context, outcome.kind);
  // The bounds are the thresholds on the hash itself (see `boundOf`): no division.
  const bounds = outcome.bounds;
  for (let i = 0; i < bounds.length; i++) {
    if (hash < bounds[i]!) return counts ? outcome.counted[i]! : outcome.uncounted[i]!;
  }
  return outcome.last;
}

function resolve(outcome: Outcome, context: EvaluationContext): EvaluationResult {
  return outcome.type === "fixed" ? outcome.result : rollout(outcome, context);
}

/** Clause result: true/false, or `null` for an error (malformed flag). */
function matchClause(
  clause: CompiledClause,
  context: EvaluationContext,
  lookup: FlagLookup,
  visitedSegments: readonly string[],
): boolean | null {
  if (clause.segments !== null) {
    let matched = false;
    for (const key of clause.segments) {
      const segment = lookup.segment(key);
      if (!segment) continue;
      if (visitedSegments.includes(segment.key)) return null;
      const inside = matchSegment(segment, context, lookup, [...visitedSegments, segment.key]);
      if (inside === null) return null;
      if (inside) {
        matched = true;
        break;
      }
    }
    return clause.negate ? !matched : matched;
  }
  if (clause.attribute === null) return null;
  const value = clause.attribute(context);
  if (value === null || value === undefined) return false;
  let matched = false;
  if (Array.isArray(value)) {
    for (const item of value) {
      if (clause.match(item)) {
        matched = true;
        break;
      }
    }
  } else {
    matched = clause.match(value);
  }
  return clause.negate ? !matched : matched;
}

/**
 * All clauses must match. Mirrors the LaunchDarkly SDK exactly, quirk
 * included: a clause error does not stop the loop, and only an error in the
 * last clause evaluated makes the whole rule an error (`null`).
 */
function matchClauses(
  clauses: readonly CompiledClause[],
  context: EvaluationContext,
  lookup: FlagLookup,
  visitedSegments: readonly string[],
): boolean | null {
  let error = false;
  for (const clause of clauses) {
    const matched = matchClause(clause, context, lookup, visitedSegments);
    error = matched === null;
    if (matched === false) return false;
  }
  return error ? null : true;
}

/** The kind whose key the context has in a segment's list for that kind (`user` first), or `null`. */
export function listedKind(keys: CompiledSegment["included"], context: EvaluationContext): string | null {
  if (keys.size === 0) return null;
  for (const [kind, set] of keys) {
    const key = keyOf(context, kind);
    if (key && set.has(key)) return kind;
  }
  return null;
}

function matchSegment(
  segment: CompiledSegment,
  context: EvaluationContext,
  lookup: FlagLookup,
  visited: readonly string[],
): boolean | null {
  if (segment.unbounded) {
    // Big segments need a membership store Detour does not have: not configured, no match.
    if (!keyOf(context, segment.unboundedKind) || !segment.generation) return false;
  } else {
    if (listedKind(segment.included, context) !== null) return true;
    if (listedKind(segment.excluded, context) !== null) return false;
  }
  for (const rule of segment.rules) {
    const matched = matchClauses(rule.clauses, context, lookup, visited);
    if (matched === null) return null;
    if (!matched) continue;
    if (rule.weight === null) return true;
    if (rule.bucketBy === null) return null;
    const bucket = bucketFor(rule.hashPrefix, rule.bucketBy(context));
    if (Math.max(bucket, 0) < rule.weight) return true;
  }
  return false;
}

/**
 * Evaluates a compiled flag. `visited` holds the prerequisite chain (for
 * cycle detection); top-level calls pass `null`.
 */
export function evaluateCompiled(
  flag: CompiledFlag,
  context: EvaluationContext,
  lookup: FlagLookup,
  visited: readonly string[] | null = null,
): EvaluationResult {
  if (!flag.on) return flag.off;
  if (flag.prerequisites.length > 0) {
    const chain = visited ?? [];
    // LaunchDarkly quirk, mirrored: a cycle does not stop the loop; it is an
    // error only when no later prerequisite fails (or errs) first.
    let cycle = false;
    for (const prerequisite of flag.prerequisites) {
      if (chain.includes(prerequisite.key)) {
        cycle = true;
        continue;
      }
      const target = lookup.flag(prerequisite.key);
      if (!target) return prerequisite.failed;
      const result = evaluateCompiled(target, context, lookup, [...chain, prerequisite.key]);
      if (result.reason.kind === "ERROR") return result;
      if (result.reason.kind === "OFF" || result.variationIndex !== prerequisite.variation) {
        return prerequisite.failed;
      }
    }
    if (cycle) return MALFORMED_RESULT;
  }
  const targets = flag.targets;
  if (targets !== null) {
    for (let i = 0; i < targets.length; i++) {
      const group = targets[i]!;
      const key = keyOf(context, group.kind);
      if (key === undefined || (typeof key === "string" && !mayContain(group.filter, key))) continue;
      const targeted = group.keys.get(key);
      if (targeted !== undefined) return targeted;
    }
  }
  const rules = flag.rules;
  for (let i = 0; i < rules.length; i++) {
    const rule = rules[i]!;
    if (rule.clauses === null) continue;
    const matched = matchClauses(rule.clauses, context, lookup, []);
    if (matched === null) return MALFORMED_RESULT;
    if (matched) return resolve(rule.outcome, context);
  }
  return resolve(flag.fallthrough, context);
}

const USER_NOT_SPECIFIED: EvaluationResult = Object.freeze({
  value: null,
  variationIndex: null,
  reason: Object.freeze({ kind: "ERROR", errorKind: "USER_NOT_SPECIFIED" }),
});

/**
 * `ERROR`/`USER_NOT_SPECIFIED` for a context LaunchDarkly's SDK refuses (no
 * key, an invalid kind, a multi-kind context without parts...), else `null`.
 * Checked before the flag is looked up, as the SDK does.
 */
export function invalidContext(context: unknown): EvaluationResult | null {
  return contextProblem(context) === null ? null : USER_NOT_SPECIFIED;
}

const compiledFlags = new WeakMap<Flag, CompiledFlag>();
const compiledSegments = new WeakMap<Segment, CompiledSegment>();

function compiledFlag(flag: Flag): CompiledFlag {
  let compiled = compiledFlags.get(flag);
  if (!compiled) {
    compiled = compileFlag(flag);
    compiledFlags.set(flag, compiled);
  }
  return compiled;
}

function compiledSegment(segment: Segment): CompiledSegment {
  let compiled = compiledSegments.get(segment);
  if (!compiled) {
    compiled = compileSegment(segment);
    compiledSegments.set(segment, compiled);
  }
  return compiled;
}

/**
 * Evaluates one flag for one context, exactly as the LaunchDarkly server SDK
 * would: a pure, synchronous function. `rest` supplies the other flags (for
 * prerequisites) and segments of the document. Flags are compiled on first
 * use and the compiled form is cached per flag object, so pass the same
 * (unchanged) objects to evaluate repeatedly at full speed; a snapshot's
 * `evaluate()` does this for you.
 */
export function evaluate(
  flag: Flag,
  context: EvaluationContext,
  rest: Pick<FlagDocument, "flags" | "segments"> = {},
): EvaluationResult {
  const invalid = invalidContext(context);
  if (invalid !== null) return invalid;
  const flags = rest.flags ?? {};
  const segments = rest.segments ?? {};
  const lookup: FlagLookup = {
    flag: (key) => (Object.prototype.hasOwnProperty.call(flags, key) ? compiledFlag(flags[key]!) : undefined),
    segment: (key) => (Object.prototype.hasOwnProperty.call(segments, key) ? compiledSegment(segments[key]!) : undefined),
  };
  return evaluateCompiled(compiledFlag(flag), context, lookup);
}
