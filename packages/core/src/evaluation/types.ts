import type { JsonValue } from "../document/types.js";

/**
 * Detour's flat user context, `{ key, ...attributes }`, which is also
 * LaunchDarkly's legacy user (no `kind`): it evaluates as a context of kind
 * `user`. As for a legacy user, attributes under `custom` are read too (the
 * built-ins `name`, `ip`, `firstName`, `lastName`, `email`, `avatar`,
 * `country`, `anonymous` from top level first); unlike a legacy user, any
 * other top-level attribute is read as well.
 */
export interface UserContext {
  key: string;
  kind?: undefined;
  custom?: Record<string, unknown>;
  [attribute: string]: unknown;
}

/** A LaunchDarkly single-kind context: `{ kind: "organization", key: "acme", plan: "pro" }`. */
export interface SingleKindContext {
  kind: string;
  key: string;
  anonymous?: boolean;
  _meta?: { privateAttributes?: string[] };
  [attribute: string]: unknown;
}

/** A LaunchDarkly multi-kind context: `{ kind: "multi", user: { key: "u1" }, organization: { key: "acme" } }`. */
export interface MultiKindContext {
  kind: "multi";
  [kind: string]: unknown;
}

/**
 * What flags are evaluated for: a LaunchDarkly context as its SDK takes it
 * (single-kind, multi-kind, legacy user) or Detour's flat user form.
 */
export type EvaluationContext = UserContext | SingleKindContext | MultiKindContext;

export type ErrorKind = "FLAG_NOT_FOUND" | "MALFORMED_FLAG" | "USER_NOT_SPECIFIED" | "STORE_UNAVAILABLE";

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
