import type { JsonValue, Mode } from "../document/types.js";
import type { EvaluationContext, EvaluationReason, EvaluationResult } from "../evaluation/types.js";
import type { Snapshot } from "../snapshot.js";
import type { RequestAccessor } from "../request.js";
import type { Decision, DecisionAction, DecisionFields, DecisionReason, PickedContext, Scope } from "./types.js";

/** Builds the evaluation context of a request (the policy does). */
export interface ContextFactory<Req> {
  context(accessor: RequestAccessor<Req>, req: Req): EvaluationContext;
}

/** What a decision says, apart from the request it is about. Built by the factories below. */
export interface Outcome extends DecisionFields {
  /** The maintenance periods in force, for the bypass cookie a `redirect` sets. */
  readonly periods: readonly string[] | null;
}

/** Nothing in force, or the store never loaded and the fail mode is open: an instance builds each once. */
export function passOutcome(reason: "NOT_IN_FORCE" | "FAIL_OPEN", status: number): Outcome {
  return Object.freeze({
    action: "pass", mode: "available", scope: null, picked: null, flag: null, reason,
    evaluation: null, message: null, retryAfter: null, until: null, status, periods: null,
  });
}

/** A visit to a secret URL while nothing blocks the request: a redirect that sets the cookie for `periods`. */
export function secretVisitOutcome(status: number, periods: readonly string[]): Outcome {
  return {
    action: "redirect", mode: "available", scope: null, picked: null, flag: null, reason: "BYPASS_SECRET",
    evaluation: null, message: null, retryAfter: null, until: null, status, periods,
  };
}

/** What the strictest flag in force says (or the fail mode, `evaluation: null`), and the action the bypasses left. */
export function flagOutcome(
  action: DecisionAction,
  mode: Mode,
  scope: Scope,
  flag: string,
  reason: DecisionReason,
  evaluation: EvaluationReason | null,
  settings: { message: string | null; retryAfter: number | null; until: Date | null; status: number },
  periods: readonly string[] | null,
  picked: PickedContext | null,
): Outcome {
  return {
    action, mode, scope, picked, flag, reason, evaluation,
    message: settings.message, retryAfter: settings.retryAfter, until: settings.until, status: settings.status, periods,
  };
}

const NOT_FOUND: EvaluationResult = Object.freeze({
  value: null,
  variationIndex: null,
  reason: Object.freeze({ kind: "ERROR", errorKind: "STORE_UNAVAILABLE" }),
});

/**
 * The {@link Decision} of one request. It is the one object a request
 * allocates when nothing is in force: its fields are read through the
 * {@link Outcome} it was given, which the policy shares between requests
 * wherever it can (nothing in force, a flag blocking everyone alike).
 * `variation()` evaluates other flags against the same snapshot, so a
 * request's reads and writes route consistently. Not exported: the type is
 * `Decision`.
 */
export class RequestDecision<Req> implements Decision {
  readonly #outcome: Outcome;
  readonly #snapshot: Snapshot | undefined;
  readonly #factory: ContextFactory<Req>;
  readonly #accessor: RequestAccessor<Req>;
  readonly #req: Req;
  #context: EvaluationContext | undefined;

  /** `context`: the request's context when deciding already built it. */
  constructor(
    outcome: Outcome,
    snapshot: Snapshot | undefined,
    factory: ContextFactory<Req>,
    accessor: RequestAccessor<Req>,
    req: Req,
    context: EvaluationContext | undefined,
  ) {
    this.#outcome = outcome;
    this.#snapshot = snapshot;
    this.#factory = factory;
    this.#accessor = accessor;
    this.#req = req;
    this.#context = context;
  }

  get action(): DecisionAction {
    return this.#outcome.action;
  }
  get mode(): Mode {
    return this.#outcome.mode;
  }
  get scope(): Scope | null {
    return this.#outcome.scope;
  }
  get picked(): PickedContext | null {
    return this.#outcome.picked;
  }
  get flag(): string | null {
    return this.#outcome.flag;
  }
  get reason(): DecisionReason {
    return this.#outcome.reason;
  }
  get evaluation(): EvaluationReason | null {
    return this.#outcome.evaluation;
  }
  get message(): string | null {
    return this.#outcome.message;
  }
  get retryAfter(): number | null {
    return this.#outcome.retryAfter;
  }
  get until(): Date | null {
    return this.#outcome.until;
  }
  get status(): number {
    return this.#outcome.status;
  }

  /** The periods a `redirect` decision's cookie opens; none for a decision Detour did not make. */
  static periodsOf(decision: Decision): readonly string[] {
    return (#outcome in decision ? (decision as RequestDecision<unknown>).#outcome.periods : null) ?? [];
  }

  /** This request's evaluation context: the user `{ key, ip, path, method, ...custom }`, multi-kind with the request's `contexts(req)`. */
  get context(): EvaluationContext {
    return (this.#context ??= this.#factory.context(this.#accessor, this.#req));
  }

  variation<T extends JsonValue>(flagKey: string, defaultValue: T): T | JsonValue {
    const result = this.explain(flagKey);
    return result.value === null ? defaultValue : result.value;
  }

  explain(flagKey: string): EvaluationResult {
    return this.#snapshot ? this.#snapshot.evaluate(flagKey, this.context) : NOT_FOUND;
  }

  toJSON(): Record<string, unknown> {
    const { action, mode, scope, picked, flag, reason, evaluation, message, retryAfter, until, status } = this.#outcome;
    return { action, mode, scope, picked, flag, reason, evaluation, message, retryAfter, until, status };
  }

  /** `console.log(decision)` and `util.inspect()` show the fields, which live on the prototype. */
  [Symbol.for("nodejs.util.inspect.custom")](_depth: number, options: object, inspect: (value: unknown, options: object) => string): string {
    return `Decision ${inspect(this.toJSON(), options)}`;
  }
}
