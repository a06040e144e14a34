import type { JsonValue } from "../document/types.js";

/**
 * A flat user context: `{ key, ...attributes }`. It evaluates as a LaunchDarkly
 * context of kind `user` with the same attributes.
 */
export interface EvaluationContext {
  key: string;
  [attribute: string]: unknown;
}

export type ErrorKind = "FLAG_NOT_FOUND" | "MALFORMED_FLAG" | "STORE_UNAVAILABLE";

export type EvaluationReason =
  | { readonly kind: "OFF" }
  | { readonly kind: "TARGET_MATCH" }
  | { readonly kind: "RULE_MATCH"; readonly ruleIndex: number; readonly ruleId?: string; readonly inExperiment?: true }
  | { readonly kind: "PREREQUISITE_FAILED"; readonly prerequisiteKey: string }
  | { readonly kind: "FALLTHROUGH"; readonly inExperiment?: true }
  | { readonly kind: "ERROR"; readonly errorKind: ErrorKind };

export interface EvaluationResult<T = JsonValue | null> {
  /** The variation's value; `null` for an error or an off flag without `offVariation`. */
  readonly value: T;
  /** Index into `variations`, or `null` when no variation was chosen. */
  readonly variationIndex: number | null;
  readonly reason: EvaluationReason;
}
