/**
 * Detour for Express 5 (and 4): a middleware and route guards that translate
 * an Express request for `@detour/core` and write its answer back. No policy
 * lives here.
 */
import type { Decision, Detour, DetourOptions, FeatureNames, HttpResponse } from "@detour/core";
import { decisionHandler, headerOf, pathOf, toDetour, type DetourAdapter, type FrameworkBinding, type RequestAccessor } from "@detour/core/adapter";
import type { NextFunction, Request, RequestHandler, Response } from "express";
import type { OutgoingHttpHeaders } from "node:http";

declare global {
  // Express's own augmentation point (express 4 and 5 type packages both merge it into `Request`).
  // eslint-disable-next-line @typescript-eslint/no-namespace
  namespace Express {
    interface Request {
      /** Detour's decision for this request, set by the `detour()` middleware and by route guards. */
      detour?: Decision;
    }
  }
}

export type { FeatureNames };

/** The `detour()` middleware, with route guards (`req.detour` holds the decision) bound to the same Detour instance. */
export type DetourMiddleware = DetourAdapter<Request, RequestHandler>;

/**
 * How Detour reads an Express request. The path is taken from `originalUrl`, so
 * allowed paths and path features mean the same inside a mounted router, and
 * `req.url` too when a middleware rewrote it before Detour at the top level
 * (inside a mounted router `req.url` is relative to the mount); the client
 * address is `req.ip`, which honours `app.set("trust proxy", ...)`.
 */
export const expressRequest: RequestAccessor<Request> = {
  method: (req) => req.method,
  path: (req) => pathOf(req.originalUrl ?? req.url),
  alternatePath: (req) => (req.originalUrl === undefined || req.url === req.originalUrl || req.baseUrl ? undefined : pathOf(req.url)),
  ip: (req) => req.ip,
  header: (req, name) => headerOf(req.headers, name),
  secure: (req) => req.secure,
};

function send(res: Response, response: HttpResponse): void {
  res.writeHead(response.status, response.headers as OutgoingHttpHeaders);
  res.end(response.body ?? undefined);
}

const decisions = new WeakMap<Request, Decision>();
let preparedPrototype: object | null = null;

/**
 * Sets `req.detour`. Express gives every request its app's prototype with
 * `setPrototypeOf`, so a new own property on `req` costs V8 a map migration
 * and a walk up a long prototype chain on every request (~+15,000
 * instructions, measured with callgrind); a symbol-keyed entry in
 * `res.locals` still cost ~1,500 more than a `WeakMap` entry. The decision
 * goes into a `WeakMap` keyed by the request instead, and `req.detour` is an
 * accessor defined once on the app's request prototype.
 */
function attach(req: Request, decision: Decision): void {
  const prototype = Object.getPrototypeOf(req) as object;
  if (prototype !== preparedPrototype) {
    if (!Object.prototype.hasOwnProperty.call(prototype, "detour")) {
      Object.defineProperty(prototype, "detour", {
        configurable: true,
        enumerable: false,
        get(this: Request) {
          return decisions.get(this);
        },
        set(this: Request, value: Decision) {
          decisions.set(this, value);
        },
      });
    }
    preparedPrototype = prototype;
  }
  decisions.set(req, decision);
}

const binding: FrameworkBinding<Request, Response, NextFunction, void> = {
  accessor: expressRequest,
  attach: (decision, req) => attach(req, decision),
  pass: (_req, _res, next) => next(),
  send: (response, _req, res, next) => {
    try {
      send(res, response);
    } catch (error) {
      // An unwritable answer (a custom renderer's header, say) goes to Express's error handlers too.
      next(error);
    }
  },
  // user()/context() callbacks and custom renderers may throw: Express's error handlers get it.
  fail: (error, _req, _res, next) => next(error),
  later: (pending) => void pending,
};

function handler(instance: Detour<Request>, features: FeatureNames | undefined): RequestHandler {
  return decisionHandler(instance, features, binding);
}

/**
 * Creates the Express middleware. Pass Detour options (the middleware creates the
 * instance) or an existing Detour instance to share it between middlewares and adapters.
 *
 * ```ts
 * const maintenance = detour({ store: fileStore("./detour.json"), allow: { paths: ["/health"] } });
 * app.use(maintenance);
 * app.post("/billing/charge", maintenance.feature("billing"), charge);
 * ```
 */
export function detour(optionsOrInstance?: DetourOptions<Request> | Detour<Request>): DetourMiddleware {
  const instance = toDetour<Request>(optionsOrInstance);
  const feature = (name: FeatureNames): RequestHandler => handler(instance, instance.guard(name));
  return Object.assign(handler(instance, undefined), { instance, feature });
}

export default detour;
