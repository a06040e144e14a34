/**
 * Detour for Fastify 5: a `fastify-plugin` plugin that decides every request in
 * `onRequest`, per-route features through `config: { detour: { feature } }`, and
 * a guard hook. It translates a Fastify request for `@detour/core` and writes
 * its answer back; no policy lives here.
 */
import { OptionsError, type Decision, type Detour, type DetourOptions, type FeatureNames, type HttpResponse } from "@detour/core";
import {
  decisionHandler,
  headerOf,
  isDetour,
  pathOf,
  toDetour,
  type DetourAdapter,
  type FrameworkBinding,
  type RequestAccessor,
} from "@detour/core/adapter";
import type { FastifyInstance, FastifyPluginCallback, FastifyReply, FastifyRequest, RouteOptions } from "fastify";
import fp from "fastify-plugin";

export type { FeatureNames };

/** Per-route options: `app.get("/invoices", { config: { detour: { feature: "billing" } } }, handler)`. */
export interface DetourRouteConfig {
  /** The route belongs to this feature (or these): it is blocked while the feature's flag is in force. */
  feature?: FeatureNames;
}

declare module "fastify" {
  interface FastifyRequest {
    /** Detour's decision for this request (`null` before the `onRequest` hook ran). */
    detour: Decision | null;
  }
  interface FastifyInstance {
    /** The Detour instance of the registered `@detour/fastify` plugin, with `feature(name)` for route guards. */
    detour: FastifyDetour;
  }
  interface FastifyContextConfig {
    detour?: DetourRouteConfig;
  }
}

/** A Fastify hook with the callback signature; usable as `onRequest` or `preHandler`. */
export type DetourHook = (this: unknown, request: FastifyRequest, reply: FastifyReply, done: (error?: Error) => void) => void;

/**
 * The plugin returned by `detour()` (its instance is also `fastify.detour` once
 * registered), with guard hooks for a route's `preHandler` (or `onRequest`).
 */
export type DetourPlugin = DetourAdapter<FastifyRequest, FastifyPluginCallback, DetourHook>;

/** `app.detour`: the plugin's Detour instance, with `feature(name)`, a guard hook for a route's `preHandler`. */
export type FastifyDetour = Detour<FastifyRequest> & { feature(name: FeatureNames): DetourHook };

/**
 * The options of `app.register(detour, options)`: Detour options (the plugin
 * creates the instance and closes its store when Fastify closes), or
 * `{ detour: instance }` to share an existing instance.
 */
export type DetourPluginOptions = DetourOptions<FastifyRequest> | { detour: Detour<FastifyRequest> };

/** What Fastify itself may put in a plugin's options; not Detour's. */
const FASTIFY_OPTIONS = new Set(["prefix", "logLevel", "logSerializers"]);

/**
 * How Detour reads a Fastify request: the path is `request.url` without the
 * query string (and the URL before `rewriteUrl` too, when that changed it);
 * the client address is `request.ip` and TLS is `request.protocol`, which
 * honour the server's `trustProxy`. Your `user()` and `context()` callbacks
 * receive the Fastify request.
 */
export const fastifyRequest: RequestAccessor<FastifyRequest> = {
  method: (request) => request.method,
  path: (request) => pathOf(request.url),
  alternatePath: (request) => {
    const original = (request.raw as { originalUrl?: string }).originalUrl;
    return original === undefined || original === request.url ? undefined : pathOf(original);
  },
  ip: (request) => request.ip,
  header: (request, name) => headerOf(request.headers, name),
  secure: (request) => request.protocol === "https",
};

// No `later`: registering the plugin waits for the store, so requests are decided at once.
const binding: FrameworkBinding<FastifyRequest, FastifyReply, (error?: Error) => void, void> = {
  accessor: fastifyRequest,
  attach: (decision, request) => {
    request.detour = decision;
  },
  pass: (_request, _reply, done) => done(),
  // Answering from a hook: Fastify stops the lifecycle; `done` must not be called.
  send: (response, _request, reply) => void reply.code(response.status).headers(response.headers as Record<string, string | string[]>).send(response.body ?? undefined),
  // user()/context() callbacks and custom renderers may throw: Fastify's error handler gets it.
  fail: (error, _request, _reply, done) => done(error instanceof Error ? error : new Error(String(error))),
};

function hookFor(instance: Detour<FastifyRequest>, features: FeatureNames | undefined): DetourHook {
  return decisionHandler(instance, features, binding);
}

/** `app.detour`: the instance, given `feature(name)` once (the same hook whatever the scope). */
function withFeature(instance: Detour<FastifyRequest>): FastifyDetour {
  if (typeof (instance as Partial<FastifyDetour>).feature !== "function") {
    Object.defineProperty(instance, "feature", {
      configurable: true,
      enumerable: false,
      value: (name: FeatureNames): DetourHook => hookFor(instance, instance.guard(name)),
    });
  }
  return instance as FastifyDetour;
}

/** What registering the plugin does in a Fastify scope, for `instance` (closed with Fastify when `owned`). */
function setUp(fastify: FastifyInstance, instance: Detour<FastifyRequest>, owned: boolean, done: (error?: Error) => void): void {
  const everyRequest = hookFor(instance, undefined);
  // Guarded, so that the plugin can be registered in several encapsulated scopes.
  if (!fastify.hasRequestDecorator("detour")) fastify.decorateRequest("detour", null);
  if (!fastify.hasDecorator("detour")) fastify.decorate("detour", withFeature(instance));
  fastify.addHook("onRequest", everyRequest);
  fastify.addHook("onRoute", (route: RouteOptions) => {
    const feature = route.config?.detour?.feature;
    if (feature === undefined) return;
    // Runs after the plugin-wide hook, with the route's features.
    const hooks = route.onRequest === undefined ? [] : Array.isArray(route.onRequest) ? route.onRequest : [route.onRequest];
    route.onRequest = [...hooks, hookFor(instance, instance.guard(feature))] as RouteOptions["onRequest"];
  });
  if (owned) {
    let closing: Promise<void> | undefined;
    fastify.addHook("onClose", (_instance, closed) => void (closing ??= instance.close()).then(() => closed(), closed));
  }
  if (instance.isReady) done();
  else void instance.ready.then(() => done());
}

/** `app.register(detour, options)`: the options Fastify hands the plugin, as an instance (and whether the plugin owns it). */
function fromPluginOptions(options: unknown): { instance: Detour<FastifyRequest>; owned: boolean } {
  const given = (options ?? {}) as Record<string, unknown>;
  const rest: Record<string, unknown> = {};
  for (const [name, value] of Object.entries(given)) if (!FASTIFY_OPTIONS.has(name)) rest[name] = value;
  if ("detour" in rest) {
    const { detour: shared, ...others } = rest;
    if (!isDetour<FastifyRequest>(shared)) throw new OptionsError("detour", "expected a Detour instance (createDetour())");
    if (Object.keys(others).length > 0) {
      throw new OptionsError(Object.keys(others)[0]!, "give either { detour: instance } or Detour options, not both (the instance has its options)");
    }
    return { instance: shared, owned: false };
  }
  return { instance: toDetour<FastifyRequest>(rest as DetourOptions<FastifyRequest>), owned: true };
}

function isFastify(value: unknown): value is FastifyInstance {
  const app = value as Partial<FastifyInstance> | null;
  return typeof app === "object" && app !== null && typeof app.register === "function" && typeof app.addHook === "function" && typeof app.decorate === "function";
}

/**
 * The Fastify plugin, used either way:
 *
 * - `app.register(detour, options)`, Fastify's convention (as
 *   `@fastify/rate-limit`): `options` are Detour options, or
 *   `{ detour: instance }` to share one; route guards are
 *   `app.detour.feature("billing")`;
 * - `app.register(detour(options))` (or `detour(instance)`): the same
 *   plugin, made first, with `.instance` and `.feature(name)`.
 *
 * Pass Detour options (the plugin creates the instance and closes its store
 * when Fastify closes) or an existing Detour instance to share it. Register
 * it before the routes it protects (`await app.register(...)`), so that
 * route `config.detour` is seen.
 *
 * ```ts
 * await app.register(detour, { store: fileStore("./detour.json"), allow: { paths: ["/health"] } });
 * app.get("/billing/invoices", { config: { detour: { feature: "billing" } } }, listInvoices);
 * app.post("/billing/charge", { preHandler: app.detour.feature("billing") }, charge);
 * ```
 */
export function detour(optionsOrInstance?: DetourOptions<FastifyRequest> | Detour<FastifyRequest>): DetourPlugin;
export function detour(fastify: FastifyInstance, options: DetourPluginOptions, done: (error?: Error) => void): void;
export function detour(
  first?: DetourOptions<FastifyRequest> | Detour<FastifyRequest> | FastifyInstance,
  options?: DetourPluginOptions,
  done?: (error?: Error) => void,
): DetourPlugin | void {
  if (isFastify(first) && typeof done === "function") {
    let resolved: { instance: Detour<FastifyRequest>; owned: boolean };
    try {
      resolved = fromPluginOptions(options);
    } catch (error) {
      done(error as Error);
      return;
    }
    setUp(first, resolved.instance, resolved.owned, done);
    return;
  }
  const given = first as DetourOptions<FastifyRequest> | Detour<FastifyRequest> | undefined;
  const owned = !isDetour(given);
  const instance = toDetour<FastifyRequest>(given);
  const plugin: FastifyPluginCallback = (fastify, _options, ready) => setUp(fastify, instance, owned, ready);
  return Object.assign(fp(plugin, { fastify: "5.x", name: "@detour/fastify" }), {
    instance,
    feature: (name: FeatureNames): DetourHook => hookFor(instance, instance.guard(name)),
  });
}

// `app.register(detour, options)`: not encapsulated, so `app.detour` and `request.detour` reach the app.
fp(detour as unknown as FastifyPluginCallback<DetourPluginOptions>, { fastify: "5.x", name: "@detour/fastify" });

export default detour;
