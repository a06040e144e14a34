import type { JsonValue, Mode } from "../document/types.js";
import type { EvaluationContext, EvaluationReason, EvaluationResult } from "../evaluation/types.js";
import type { Snapshot } from "../snapshot.js";
import type { RequestAccessor } from "../adapter/request.js";
import type { DecisionAction, DecisionReason, PickedContext, RequestDecision, Scope } from "./types.js";

/** Builds the evaluation context of a request (the policy does). */
export interface ContextFactory<Req> {
  context(accessor: RequestAccessor<Req>, req: Req): EvaluationContext;
}

const NOT_FOUND: EvaluationResult = Object.freeze({
  value: null,
  variationIndex: null,
  reason: Object.freeze({ kind: "ERROR", errorKind: "STORE_UNAVAILABLE" }),
});

/**
 * The decision for one request. It is the one object a request allocates when
 * nothing is in force; `variation()` evaluates other flags against the same
 * snapshot, so a request's reads and writes route consistently.
 */
export class Decision<Req = unknown> implements RequestDecision {
  readonly action: DecisionAction;
  readonly mode: Mode;
  readonly scope: Scope | null;
  readonly picked: PickedContext | null;
  readonly flag: string | null;
  readonly reason: DecisionReason;
  readonly evaluation: EvaluationReason | null;
  readonly message: string | null;
  readonly retryAfter: number | null;
  readonly until: Date | null;
  readonly status: number;
  /** @internal the maintenance periods in force, for the bypass cookie a `redirect` sets. */
  readonly periods: readonly string[] | null;
  #snapshot: Snapshot | undefined;
  #factory: ContextFactory<Req>;
  #accessor: RequestAccessor<Req>;
  #req: Req;
  #context: EvaluationContext | undefined;

  constructor(
    action: DecisionAction,
    mode: Mode,
    scope: Scope | null,
    flag: string | null,
    reason: DecisionReason,
    evaluation: EvaluationReason | null,
    message: string | null,
    retryAfter: number | null,
    until: Date | null,
    status: number,
    periods: readonly string[] | null,
    snapshot: Snapshot | undefined,
    factory: ContextFactory<Req>,
    accessor: RequestAccessor<Req>,
    req: Req,
    context: EvaluationContext | undefined,
    picked: PickedContext | null = null,
  ) {
    this.action = action;
    this.mode = mode;
    this.scope = scope;
    this.picked = picked;
    this.flag = flag;
    this.reason = reason;
    this.evaluation = evaluation;
    this.message = message;
    this.retryAfter = retryAfter;
    this.until = until;
    this.status = status;
    this.periods = periods;
    this.#snapshot = snapshot;
    this.#factory = factory;
    this.#accessor = accessor;
    this.#req = req;
    this.#context = context;
  }

  /** This request's evaluation context: the user `{ key, ip, path, method, ...custom }`, multi-kind with the request's `contexts(req)`. */
  get context(): EvaluationContext {
    return (this.#context ??= this.#factory.context(this.#accessor, this.#req));
  }

  /** Evaluates any flag for this request; `defaultValue` when the flag is missing, off without a value, or broken. */
  variation<T extends JsonValue>(flagKey: string, defaultValue: T): T | JsonValue {
    const result = this.explain(flagKey);
    return result.value === null ? defaultValue : result.value;
  }

  /** Evaluates any flag for this request, with the reason. */
  explain(flagKey: string): EvaluationResult {
    return this.#snapshot ? this.#snapshot.evaluate(flagKey, this.context) : NOT_FOUND;
  }

  toJSON(): Record<string, unknown> {
    const { action, mode, scope, picked, flag, reason, evaluation, message, retryAfter, until, status } = this;
    return { action, mode, scope, picked, flag, reason, evaluation, message, retryAfter, until, status };
  }
}
