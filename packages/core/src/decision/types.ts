import type { JsonValue, Mode } from "../document/types.js";
import type { EvaluationContext, EvaluationReason, EvaluationResult } from "../evaluation/types.js";

/**
 * Where a decision's mode came from: the whole site, a feature, or the
 * request's own context, picked out by a target, rule or rollout: `user` for
 * the user kind, `context` for another kind (a tenant; see `Decision.picked`).
 */
export type Scope = "site" | "feature" | "user" | "context";

/** The context kind and key that picked a request out: `{ kind: "organization", key: "acme" }`. */
export interface PickedContext {
  readonly kind: string;
  readonly key: string;
}

/**
 * Why a decision came out as it did.
 * - `NOT_IN_FORCE`: no flag puts this request in maintenance or read-only.
 * - `FLAG`: a flag's mode applies (see `evaluation` for how the flag chose it).
 * - `SAFE_METHOD`: read-only mode, and the method only reads.
 * - `ALLOWED_PATH`, `ALLOWED_IP`, `BYPASS_COOKIE`, `BYPASS_TOKEN`: a bypass let it through.
 * - `BYPASS_SECRET`: the secret URL was visited; the answer is a redirect setting the cookie.
 * - `FAIL_OPEN`, `FAIL_CLOSED`: the store never loaded; the fail mode decided.
 */
export type DecisionReason =
  | "NOT_IN_FORCE"
  | "FLAG"
  | "SAFE_METHOD"
  | "ALLOWED_PATH"
  | "ALLOWED_IP"
  | "BYPASS_COOKIE"
  | "BYPASS_TOKEN"
  | "BYPASS_SECRET"
  | "FAIL_OPEN"
  | "FAIL_CLOSED";

export type DecisionAction = "pass" | "block" | "redirect";

/** What a decision says about its request: what to do with it and why. */
export interface DecisionFields {
  readonly action: DecisionAction;
  /** The mode in force for this request, even when it passes. */
  readonly mode: Mode;
  /** Where the mode came from; `null` when nothing is in force. */
  readonly scope: Scope | null;
  /** With scope `user` or `context`: the kind and key that picked this request out; else `null`. */
  readonly picked: PickedContext | null;
  /** The flag that set the mode; `null` when none did. */
  readonly flag: string | null;
  readonly reason: DecisionReason;
  /** How the flag was evaluated, when one was. */
  readonly evaluation: EvaluationReason | null;
  readonly message: string | null;
  /** Seconds until the client should retry, when known. */
  readonly retryAfter: number | null;
  /** When maintenance is scheduled to end (the window end), when known. */
  readonly until: Date | null;
  /** HTTP status for a blocked request. */
  readonly status: number;
}

/**
 * Detour's decision for one request: its fields, with access to any other
 * flag for the same request (against the same snapshot).
 */
export interface Decision extends DecisionFields {
  /** This request's evaluation context (`{ key, ip, path, method, ...custom }`), built on first use. */
  readonly context: EvaluationContext;
  /** Evaluates any flag for this request's context, synchronously; `defaultValue` when the flag is missing, off without a value, or broken. */
  variation<T extends JsonValue>(flagKey: string, defaultValue: T): T | JsonValue;
  /** Evaluates any flag for this request, with the reason. */
  explain(flagKey: string): EvaluationResult;
  /** The decision's fields, for logs. */
  toJSON(): Record<string, unknown>;
}

/** What adapters write back: a complete HTTP response. */
export interface HttpResponse {
  readonly status: number;
  readonly headers: Readonly<Record<string, string | readonly string[]>>;
  /** `null` for HEAD and redirects. */
  readonly body: string | null;
}
