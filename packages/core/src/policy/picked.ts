import type { CompiledFlag, Outcome } from "../evaluation/compile.js";
import { keyOf } from "../evaluation/context.js";
import type { EvaluationContext, EvaluationResult } from "../evaluation/types.js";
import type { PickedContext } from "../decision/types.js";
import type { Clause } from "../document/types.js";
import { listedKind } from "../evaluation/evaluate.js";
import { compiledSegmentOf, type Snapshot } from "../snapshot.js";

/*
 * Which context kind and key picked a request out of everyone, for a result
 * that did (a target, a rule, a split rollout): the decision reports it, so
 * that a refused write says "organization acme is read-only", not just "you".
 */

function rolloutKind(outcome: Outcome): string | null {
  return outcome.type === "rollout" ? outcome.kind : null;
}

/** The first kind other than `user` that clauses name (a clause without `contextKind` is on the user), segment matches aside. */
function clauseKind(clauses: readonly Clause[]): string | null {
  for (const clause of clauses) if (clause.op !== "segmentMatch" && clause.contextKind && clause.contextKind !== "user") return clause.contextKind;
  return null;
}

/**
 * The kind by which `context` is in segment `key`, in the SDK's order: the
 * segment's lists by key, exactly (the evaluator's own lookup); else its
 * rules, by the kind a rule is about (its `rolloutContextKind`, else its
 * clauses'), as for flag rules.
 */
function segmentKind(snapshot: Snapshot, key: string, context: EvaluationContext): string | null {
  const compiled = compiledSegmentOf(snapshot, key);
  if (compiled === undefined) return null;
  const listed = listedKind(compiled.included, context);
  if (listed !== null) return listed;
  for (const rule of snapshot.document.segments?.[key]?.rules ?? []) {
    const kind = (rule.weight !== undefined ? rule.rolloutContextKind : undefined) ?? clauseKind(rule.clauses ?? []);
    if (kind) return kind;
  }
  return null;
}

/** The kind a positive segmentMatch clause of `clauses` holds the context by (the first segment that does), else `user`. */
function segmentRuleKind(clauses: readonly Clause[], context: EvaluationContext, snapshot: Snapshot | undefined): string {
  if (snapshot === undefined) return "user";
  for (const clause of clauses) {
    if (clause.op !== "segmentMatch" || clause.negate) continue;
    for (const key of clause.values) {
      const kind = typeof key === "string" ? segmentKind(snapshot, key, context) : null;
      if (kind !== null) return kind;
    }
  }
  return "user";
}

/**
 * The kind each rule of a flag is about when the context does not change it
 * (its rollout's, else the first clause kind that is not `user`, else `user`),
 * or `null` for a rule whose kind is that of the segment holding the context.
 * Worked out once per snapshot (the policy view keeps it).
 */
export function ruleKindsOf(compiled: CompiledFlag): readonly (string | null)[] {
  return compiled.rules.map((rule, index) => {
    const fromRollout = rolloutKind(rule.outcome);
    if (fromRollout !== null) return fromRollout;
    const clauses = compiled.flag.rules?.[index]?.clauses ?? [];
    const own = clauseKind(clauses);
    if (own !== null) return own;
    return clauses.some((clause) => clause.op === "segmentMatch" && !clause.negate) ? null : "user";
  });
}

/** The kind whose target holds the context's key, as evaluation found it (first group in order). */
function targetKind(compiled: CompiledFlag, context: EvaluationContext): string {
  const targets = compiled.targets;
  if (targets === null) return "user";
  // A target matched: with one group, it is that group's.
  if (targets.length === 1) return targets[0]!.kind;
  for (const group of targets) {
    const key = keyOf(context, group.kind);
    if (key !== undefined && group.keys.has(key)) return group.kind;
  }
  return "user";
}

/** `ruleKinds`: the flag's {@link ruleKindsOf}; `snapshot`: the one evaluated, for rules that match by segment. */
export function pickedBy(
  compiled: CompiledFlag,
  ruleKinds: readonly (string | null)[],
  result: EvaluationResult,
  context: EvaluationContext,
  snapshot?: Snapshot,
): PickedContext {
  const reason = result.reason;
  let kind: string;
  if (reason.kind === "TARGET_MATCH") kind = targetKind(compiled, context);
  else if (reason.kind === "RULE_MATCH") {
    const index = reason.ruleIndex;
    kind = ruleKinds[index] ?? segmentRuleKind(compiled.flag.rules?.[index]?.clauses ?? [], context, snapshot);
  } else kind = rolloutKind(compiled.fallthrough) ?? "user";
  return { kind, key: keyOf(context, kind) ?? "" };
}
