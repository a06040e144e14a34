/**
 * Detour for Fastify 5: a `fastify-plugin` plugin that decides every request in
 * `onRequest`, per-route features through `config: { detour: { feature } }`, and
 * a guard hook. It translates a Fastify request for `@detour/core` and writes
 * its answer back; no policy lives here.
 */
import {
  headerOf,
  isDetour,
  pathOf,
  toDetour,
  type Decision,
  type Detour,
  type DetourAdapter,
  type DetourOptions,
  type FeatureNames,
  type HttpResponse,
  type RequestAccessor,
} from "@detour/core";
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
    /** The Detour instance of the registered `@detour/fastify` plugin. */
    detour: Detour<FastifyRequest>;
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

function hookFor(instance: Detour<FastifyRequest>, features: FeatureNames | undefined): DetourHook {
  return function detour(request, reply, done) {
    let decision: Decision<FastifyRequest>;
    let response: HttpResponse;
    try {
      decision = instance.decideWith(fastifyRequest, request, features);
      request.detour = decision;
      if (decision.action === "pass") {
        done();
        return;
      }
      response = instance.respond(decision, fastifyRequest, request);
    } catch (error) {
      // user()/context() callbacks and custom renderers may throw: Fastify's error handler gets it.
      done(error instanceof Error ? error : new Error(String(error)));
      return;
    }
    // Answering from a hook: Fastify stops the lifecycle; `done` must not be called.
    void reply.code(response.status).headers(response.headers as Record<string, string | string[]>).send(response.body ?? undefined);
  };
}

/**
 * Creates the plugin. Pass Detour options (the plugin creates the instance and
 * closes its store when Fastify closes) or an existing Detour instance to share it.
 * Register it before the routes it protects (`await app.register(...)`), so that
 * route `config.detour` is seen.
 *
 * ```ts
 * const maintenance = detour({ store: fileStore("./detour.json"), allow: { paths: ["/health"] } });
 * await app.register(maintenance);
 * app.get("/billing/invoices", { config: { detour: { feature: "billing" } } }, listInvoices);
 * app.post("/billing/charge", { preHandler: maintenance.feature("billing") }, charge);
 * ```
 */
export function detour(optionsOrInstance?: DetourOptions<FastifyRequest> | Detour<FastifyRequest>): DetourPlugin {
  const owned = !isDetour(optionsOrInstance);
  const instance = toDetour<FastifyRequest>(optionsOrInstance);
  const everyRequest = hookFor(instance, undefined);
  let closing: Promise<void> | undefined;

  const plugin: FastifyPluginCallback = (fastify: FastifyInstance, _options, done) => {
    // Guarded, so that the plugin can be registered in several encapsulated scopes.
    if (!fastify.hasRequestDecorator("detour")) fastify.decorateRequest("detour", null);
    if (!fastify.hasDecorator("detour")) fastify.decorate("detour", instance);
    fastify.addHook("onRequest", everyRequest);
    fastify.addHook("onRoute", (route: RouteOptions) => {
      const feature = route.config?.detour?.feature;
      if (feature === undefined) return;
      // Runs after the plugin-wide hook, with the route's features.
      const hooks = route.onRequest === undefined ? [] : Array.isArray(route.onRequest) ? route.onRequest : [route.onRequest];
      route.onRequest = [...hooks, hookFor(instance, instance.guard(feature))] as RouteOptions["onRequest"];
    });
    if (owned) fastify.addHook("onClose", (_instance, closed) => void (closing ??= instance.close()).then(() => closed(), closed));
    if (instance.isReady) done();
    else void instance.ready.then(() => done());
  };

  return Object.assign(fp(plugin, { fastify: "5.x", name: "@detour/fastify" }), {
    instance,
    feature: (name: FeatureNames): DetourHook => hookFor(instance, instance.guard(name)),
  });
}

export default detour;
export * from "./admin.js";
