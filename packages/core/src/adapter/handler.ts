import type { Decision, HttpResponse } from "../decision/types.js";
import { createDetour, Detour } from "../detour.js";
import type { DetourOptions } from "../options.js";
import type { FeatureNames, RequestAccessor } from "../request.js";

/**
 * What every adapter's `detour()` returns: the framework's middleware (or
 * plugin) itself, the Detour instance behind it, and route guards bound to it.
 */
export type DetourAdapter<Req, Handler, Guard = Handler> = Handler & {
  /** The Detour instance: toggle flags, read status, share it with other adapters. */
  readonly instance: Detour<Req>;
  /**
   * A route guard for a feature (or several): blocks while the feature's flag
   * (or the site flag) is in force, and replaces the request's decision with
   * the combined one.
   */
  feature(name: FeatureNames): Guard;
};

/**
 * The framework-shaped half of an adapter: how its handler's arguments
 * (`req, res, next`; `ctx, next`; `request, reply, done`) carry and answer a
 * request. The first argument is the framework's request (`Req`), `B` and `C`
 * the others; `Result` what the handler returns.
 */
export interface FrameworkBinding<Req, B, C, Result> {
  /** How Detour reads the framework's request. */
  readonly accessor: RequestAccessor<Req>;
  /** Makes the decision visible to the rest of the request (`req.detour`, `ctx.state.detour`...). */
  attach(decision: Decision, req: Req, b: B, c: C): void;
  /** Lets the request go on. */
  pass(req: Req, b: B, c: C): Result;
  /** Writes Detour's complete answer for a blocked or redirected request (errors it throws are the framework's). */
  send(response: HttpResponse, req: Req, b: B, c: C): Result;
  /**
   * Hands an error of a `user()`/`context()` callback or a custom renderer to
   * the framework's error handling; without it the error is thrown (or the
   * promise rejects).
   */
  fail?(error: unknown, req: Req, b: B, c: C): Result;
  /**
   * What the handler returns while the store's first load is pending, given
   * the decision to come: Express drops it, Koa returns it. Without it the
   * request is decided at once (Fastify's plugin registration already waits).
   */
  later?(pending: Promise<Result>): Result;
}

/**
 * The one request handler of every adapter: waits for the store's first load
 * (only while it has not happened), decides, attaches the decision, then
 * passes the request on or sends Detour's answer. `features`: a route
 * guard's (from `instance.guard()`), or `undefined` for the global middleware.
 */
export function decisionHandler<Req, B, C, Result>(
  instance: Detour<Req>,
  features: FeatureNames | undefined,
  binding: FrameworkBinding<Req, B, C, Result>,
): (req: Req, b: B, c: C) => Result {
  const { accessor, fail, later } = binding;
  const run = function detour(req: Req, b: B, c: C): Result {
    let response: HttpResponse | null = null;
    try {
      const decision = instance.decideWith(accessor, req, features);
      binding.attach(decision, req, b, c);
      if (decision.action !== "pass") response = instance.respondWith(decision, accessor, req);
    } catch (error) {
      if (fail === undefined) throw error;
      return fail(error, req, b, c);
    }
    // Outside the try: what the framework does next is its own (an error thrown there is not a decision's).
    return response === null ? binding.pass(req, b, c) : binding.send(response, req, b, c);
  };
  if (later === undefined) return run;
  return function detour(req: Req, b: B, c: C): Result {
    if (instance.isReady) return run(req, b, c);
    return later(instance.ready.then(() => run(req, b, c)));
  };
}

/** True for a Detour instance (adapters and integrations accept an instance or options). */
export function isDetour<Req>(value: unknown): value is Detour<Req> {
  return value instanceof Detour || typeof (value as Detour<Req> | undefined)?.decideWith === "function";
}

/** The instance given, or a new one built from the options given: what every adapter's factory does. */
export function toDetour<Req>(optionsOrInstance?: DetourOptions<Req> | Detour<Req>): Detour<Req> {
  return isDetour<Req>(optionsOrInstance) ? optionsOrInstance : createDetour<Req>(optionsOrInstance);
}
