import type { CompiledFlag, Outcome } from "../evaluation/compile.js";
import { keyOf } from "../evaluation/context.js";
import type { EvaluationContext, EvaluationResult } from "../evaluation/types.js";
import type { PickedContext } from "../decision/types.js";

/*
 * Which context kind and key picked a request out of everyone, for a result
 * that did (a target, a rule, a split rollout): the decision reports it, so
 * that a refused write says "organization acme is read-only", not just "you".
 */

function rolloutKind(outcome: Outcome): string | null {
  return outcome.type === "rollout" ? outcome.kind : null;
}

/** The kind a rule is about: its rollout's, else the first clause kind that is not `user`, else `user`. */
function ruleKind(compiled: CompiledFlag, index: number): string {
  const rule = compiled.rules[index];
  const fromRollout = rule ? rolloutKind(rule.outcome) : null;
  if (fromRollout !== null) return fromRollout;
  const clauses = compiled.flag.rules?.[index]?.clauses ?? [];
  for (const clause of clauses) if (clause.contextKind && clause.contextKind !== "user") return clause.contextKind;
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

export function pickedBy(compiled: CompiledFlag, result: EvaluationResult, context: EvaluationContext): PickedContext {
  const reason = result.reason;
  const kind =
    reason.kind === "TARGET_MATCH"
      ? targetKind(compiled, context)
      : reason.kind === "RULE_MATCH"
        ? ruleKind(compiled, reason.ruleIndex)
        : (rolloutKind(compiled.fallthrough) ?? "user");
  return { kind, key: keyOf(context, kind) ?? "" };
}
