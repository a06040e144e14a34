/**
 * How Detour reads a request. Adapters implement this once for their
 * framework's request object, so deciding needs no per-request translation
 * object and reads only what the flags in force need (the client address,
 * for instance, is often expensive to compute behind a proxy).
 */
export interface RequestAccessor<Req> {
  method(req: Req): string;
  /**
   * The request target as the request gave it: the path with or without the
   * query string, or an absolute-form URL (`http://host/path`). Give it as it
   * is: Detour derives every reading a router could route on (../bypass/path-readings.ts).
   */
  path(req: Req): string;
  /**
   * The request's other URL, where the framework keeps two and they differ:
   * the URL after a middleware rewrote it (Express `req.url` against
   * `req.originalUrl` at the top level, Koa `ctx.url` against
   * `ctx.originalUrl`) or before (Fastify's `rewriteUrl`). `undefined` when
   * there is none. Guards block when either URL matches; allowed paths must
   * allow both.
   */
  alternatePath?(req: Req): string | undefined;
  /** The client address as the framework resolves it (trust-proxy aware). Never parse X-Forwarded-For here. */
  ip(req: Req): string | undefined;
  /** A header by lower-case name; the first value when repeated. */
  header(req: Req, name: string): string | undefined;
  /** Whether the request came over TLS (as the framework sees it). */
  secure(req: Req): boolean;
}

/** A framework-free request, for `detour.decide()` and tests. */
export interface DetourRequest {
  method: string;
  /** The request target: a path (query string allowed) or an absolute-form URL. */
  path: string;
  /** The URL after (or before) a rewrite, when it differs from `path` (see `RequestAccessor.alternatePath`). */
  alternatePath?: string;
  ip?: string;
  headers?: Readonly<Record<string, string | readonly string[] | undefined>>;
  secure?: boolean;
  /** Anything else your `user()` / `context()` callbacks need. */
  [extra: string]: unknown;
}

function first(value: string | readonly string[] | undefined): string | undefined {
  return typeof value === "string" ? value : value?.[0];
}

export const plainRequest: RequestAccessor<DetourRequest> = {
  method: (req) => req.method,
  path: (req) => req.path,
  alternatePath: (req) => (typeof req.alternatePath === "string" ? req.alternatePath : undefined),
  ip: (req) => req.ip,
  header: (req, name) => {
    const headers = req.headers;
    if (!headers) return undefined;
    const direct = headers[name];
    if (direct !== undefined) return first(direct);
    for (const key of Object.keys(headers)) if (key.toLowerCase() === name) return first(headers[key]);
    return undefined;
  },
  secure: (req) => req.secure === true,
};

/** A feature name, or several for a route that belongs to more than one feature. */
export type FeatureNames = string | readonly string[];

/** The path part of a request URL (adapters pass it to Detour without the query string). */
export function pathOf(url: string): string {
  const query = url.indexOf("?");
  return query === -1 ? url : url.slice(0, query);
}

/** One header from Node's `IncomingHttpHeaders` (lower-case names): the first value when repeated. */
export function headerOf(headers: Readonly<Record<string, string | readonly string[] | undefined>>, name: string): string | undefined {
  const value = headers[name];
  return typeof value === "string" ? value : value?.[0];
}
