import type { CompiledFlag, Outcome } from "../evaluation/compile.js";
import { keyOf } from "../evaluation/context.js";
import type { EvaluationContext, EvaluationResult } from "../evaluation/types.js";
import type { PickedContext } from "../decision/types.js";
import type { Clause, Segment } from "../document/types.js";

/*
 * Which context kind and key picked a request out of everyone, for a result
 * that did (a target, a rule, a split rollout): the decision reports it, so
 * that a refused write says "organization acme is read-only", not just "you".
 */

function rolloutKind(outcome: Outcome): string | null {
  return outcome.type === "rollout" ? outcome.kind : null;
}

/** The first kind other than `user` that clauses name (a clause without `contextKind` is on the user). */
function clauseKind(clauses: readonly Clause[]): string | null {
  for (const clause of clauses) if (clause.contextKind && clause.contextKind !== "user") return clause.contextKind;
  return null;
}

/**
 * The kind by which `context` is in `segment`, in the SDK's order: `included`
 * (users) and `includedContexts` by key, exactly; else its rules, by the kind
 * a rule is about (its `rolloutContextKind`, else its clauses'), as for flag rules.
 */
function segmentKind(segment: Segment | undefined, context: EvaluationContext): string | null {
  if (segment === undefined) return null;
  const user = keyOf(context, "user");
  if (user !== undefined && segment.included?.includes(user)) return "user";
  for (const target of segment.includedContexts ?? []) {
    const key = keyOf(context, target.contextKind);
    if (key !== undefined && target.values?.includes(key)) return target.contextKind;
  }
  for (const rule of segment.rules ?? []) {
    const kind = (rule.weight !== undefined ? rule.rolloutContextKind : undefined) ?? clauseKind(rule.clauses ?? []);
    if (kind) return kind;
  }
  return null;
}

/** The kind a rule is about: its rollout's, else the first clause kind that is not `user` (a segment's, for segmentMatch), else `user`. */
function ruleKind(compiled: CompiledFlag, index: number, context: EvaluationContext, segments: Readonly<Record<string, Segment>> | undefined): string {
  const rule = compiled.rules[index];
  const fromRollout = rule ? rolloutKind(rule.outcome) : null;
  if (fromRollout !== null) return fromRollout;
  const clauses = compiled.flag.rules?.[index]?.clauses ?? [];
  const own = clauseKind(clauses.filter((clause) => clause.op !== "segmentMatch"));
  if (own !== null) return own;
  for (const clause of clauses) {
    if (clause.op !== "segmentMatch" || clause.negate) continue;
    for (const key of clause.values) {
      const kind = typeof key === "string" ? segmentKind(segments?.[key], context) : null;
      if (kind !== null) return kind;
    }
  }
  return "user";
}

/** The kind whose target holds the context's key, as evaluation found it (first group in order). */
function targetKind(compiled: CompiledFlag, context: EvaluationContext): string {
  for (const group of compiled.targets ?? []) {
    const key = keyOf(context, group.kind);
    if (key !== undefined && group.keys.has(key)) return group.kind;
  }
  return "user";
}

/** `segments`: the snapshot's, for rules that match by segment. */
export function pickedBy(compiled: CompiledFlag, result: EvaluationResult, context: EvaluationContext, segments?: Readonly<Record<string, Segment>>): PickedContext {
  const reason = result.reason;
  const kind =
    reason.kind === "TARGET_MATCH"
      ? targetKind(compiled, context)
      : reason.kind === "RULE_MATCH"
        ? ruleKind(compiled, reason.ruleIndex, context, segments)
        : (rolloutKind(compiled.fallthrough) ?? "user");
  return { kind, key: keyOf(context, kind) ?? "" };
}
