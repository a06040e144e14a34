/**
 * Detour for Koa 3 (and 2): a middleware and route guards that translate a Koa
 * context for `@detour/core` and write its answer back. No policy lives here.
 */
import type { Decision, Detour, DetourOptions, FeatureNames, HttpResponse } from "@detour/core";
import { decisionHandler, headerOf, pathOf, toDetour, type DetourAdapter, type FrameworkBinding, type RequestAccessor } from "@detour/core/adapter";
import type { Context, Middleware, Next } from "koa";

declare module "koa" {
  interface DefaultState {
    /** Detour's decision for this request, set by the `detour()` middleware and by route guards. */
    detour?: Decision;
  }
}

export type { FeatureNames };

/** The `detour()` middleware, with route guards (`ctx.state.detour` holds the decision) bound to the same Detour instance. */
export type DetourMiddleware = DetourAdapter<Context, Middleware>;

/**
 * How Detour reads a Koa context. The path comes from `ctx.originalUrl` (so it
 * is the same under koa-mount), and `ctx.url` too when a middleware rewrote it
 * before Detour (outside koa-mount, where `ctx.url` is relative to the mount);
 * the client address is `ctx.ip`, which honours `app.proxy` (and, without
 * `app.maxIpsCount`, trusts the left-most `X-Forwarded-For` address). Your
 * `user()` and `context()` callbacks receive the context.
 */
export const koaRequest: RequestAccessor<Context> = {
  method: (ctx) => ctx.method,
  path: (ctx) => pathOf(ctx.originalUrl),
  alternatePath: (ctx) => {
    const url = ctx.url;
    return url === ctx.originalUrl || (ctx as { mountPath?: string }).mountPath !== undefined ? undefined : pathOf(url);
  },
  ip: (ctx) => ctx.ip,
  header: (ctx, name) => headerOf(ctx.req.headers, name),
  secure: (ctx) => ctx.secure,
};

/** Writes Detour's answer the Koa way, so upstream middleware (logging, compression) still sees it. */
function write(ctx: Context, response: HttpResponse): void {
  ctx.status = response.status;
  // Koa turns a null body into 204: an empty one keeps the status (HEAD and redirects have no body).
  ctx.body = response.body ?? "";
  ctx.set(response.headers as Record<string, string | string[]>);
}

// A throwing user()/context() callback rejects this middleware (no `fail`): Koa's error handling gets it.
const binding: FrameworkBinding<Context, Next, undefined, Promise<unknown> | undefined> = {
  accessor: koaRequest,
  attach: (decision, ctx) => {
    ctx.state.detour = decision;
  },
  pass: (_ctx, next) => next(),
  send: (response, ctx) => {
    write(ctx, response);
    return undefined;
  },
  later: (pending) => pending,
};

function middlewareFor(instance: Detour<Context>, features: FeatureNames | undefined): Middleware {
  // Koa passes two arguments; the handler's third is `undefined`.
  return decisionHandler(instance, features, binding) as (ctx: Context, next: Next) => Promise<unknown> | undefined;
}

/**
 * Creates the Koa middleware. Pass Detour options (the middleware creates the
 * instance) or an existing Detour instance to share it.
 *
 * ```ts
 * const maintenance = detour({ store: fileStore("./detour.json"), allow: { paths: ["/health"] } });
 * app.use(maintenance);
 * router.post("/billing/charge", maintenance.feature("billing"), charge);
 * ```
 */
export function detour(optionsOrInstance?: DetourOptions<Context> | Detour<Context>): DetourMiddleware {
  const instance = toDetour<Context>(optionsOrInstance);
  const feature = (name: FeatureNames): Middleware => middlewareFor(instance, instance.guard(name));
  return Object.assign(middlewareFor(instance, undefined), { instance, feature });
}

export default detour;
