/**
 * The responder: turns a blocked {@link Decision} into the complete
 * {@link HttpResponse} an adapter writes back verbatim.
 */
import { normalizePath } from "../bypass/path-globs.js";
import type { DetourFlagSettings } from "../document/types.js";
import type { Decision, HttpResponse } from "../decision/types.js";
import { contentFor } from "./content.js";
import { baseHeaders, contentLength, type HeaderValue, type HeaderMap, hasHeader, mergeHeaders, statusOf } from "./headers.js";
import { type PageView, pageView, renderPage } from "./html.js";
import { negotiate } from "./negotiate.js";
import { problemDetails, renderProblem } from "./problem.js";
import { renderText } from "./text.js";

export { escapeHtml, type PageView, renderPage } from "./html.js";
export { type MediaRange, type Negotiated, negotiate, parseAccept, type Representation } from "./negotiate.js";
export { PROBLEM_TYPES, type ProblemDetails } from "./problem.js";
export { retryAfterHeader } from "./headers.js";

/** The parts of the request the responder looks at. */
export interface RespondRequest {
  /** The request method; `HEAD` gets the headers without a body. */
  readonly method: string;
  /** The `Accept` header, `undefined` when absent. */
  readonly accept: string | undefined;
  /** The request path: a flag's `redirect` never sends its own target to itself. */
  readonly path?: string | undefined;
  /** The `Content-Type` header: a JSON body always gets problem+json back. */
  readonly contentType?: string | undefined;
  /** The `Referer` header: the "Go back" link of a blocked write points at its path. */
  readonly referer?: string | undefined;
}

/** What a {@link Renderer} may return besides a complete response. */
export interface PartialResponse {
  /** Default: `decision.status` (503 unless configured). */
  readonly status?: number;
  /** Laid over the standard headers; names compare case-insensitively. */
  readonly headers?: HeaderMap;
  readonly body: string | null;
}

/**
 * A custom renderer, called for every blocked response before the built-in one.
 *
 * Return `undefined` to fall back to the built-in response (for instance, to
 * handle only `application/json` clients and leave the rest to Detour).
 *
 * Whatever it returns — a complete {@link HttpResponse} or a
 * {@link PartialResponse} — is completed the same way:
 * - `status` defaults to `decision.status`;
 * - its headers are laid over the standard ones (`Retry-After`,
 *   `Cache-Control: no-store`, `Detour-Mode`, `Vary: Accept`), so it can
 *   override any of them but not drop them;
 * - `Content-Type` defaults to `text/plain; charset=utf-8` (set your own for
 *   HTML or JSON), `Content-Length` to the UTF-8 length of the body;
 * - for `HEAD` the body is dropped.
 *
 * The body is sent as is: escape anything taken from the decision
 * (see {@link escapeHtml}). Errors thrown by the renderer propagate.
 *
 * @param decision the blocked decision
 * @param accept the request's `Accept` header, `undefined` when absent
 *   (`application/problem+json` when the path or body asks for JSON)
 */
export type Renderer = (decision: Decision, accept: string | undefined) => HttpResponse | PartialResponse | undefined;

/** Renders the whole HTML page from a {@link PageView}; see it for which strings are already escaped. */
export type PageTemplate = (view: PageView) => string;

export interface RespondOptions {
  /** Replaces the whole response; see {@link Renderer}. */
  readonly render?: Renderer;
  /**
   * Replaces the HTML page wholesale (headers and negotiation stay Detour's).
   * See {@link PageView} for which of its strings are already escaped.
   */
  readonly template?: PageTemplate;
  /**
   * Seconds after which the HTML page reloads itself (`<meta http-equiv="refresh">`),
   * or `false` for never. Default: the retry delay clamped to 5..300 seconds
   * when one is known and the request is a GET or HEAD (reloading a refused POST would
   * turn it into a GET of the form's URL); otherwise no reload.
   */
  readonly refresh?: number | false;
  /** The clock, in epoch milliseconds; default `Date.now`. */
  readonly now?: () => number;
  /**
   * Answer with problem+json whatever `Accept` says (the request's path is
   * one of the `json` option's API paths). A JSON `Content-Type` does the same.
   */
  readonly json?: boolean;
  /**
   * The blocking flag's `detour` settings. What an operator set there
   * (`detour down --redirect/--render/--refresh`) overrides these options:
   * `redirect` and `page` come before `render` and `template`, `refresh`
   * before `refresh`.
   */
  readonly settings?: Readonly<DetourFlagSettings> | undefined;
}

/** `application/json`, `application/<x>+json`, with or without parameters. */
const JSON_TYPE = /^\s*application\/(?:[\w.!#$&^-]+\+)?json\s*(?:;|$)/i;

/** Whether a `Content-Type` header names JSON. */
export function isJsonType(contentType: string | undefined): boolean {
  return typeof contentType === "string" && JSON_TYPE.test(contentType);
}

/** For a stored page: nothing in it may run script or load plugins; its own styles and images still load. */
const STORED_PAGE_CSP = "script-src 'none'; object-src 'none'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

function redirectFor(settings: Readonly<DetourFlagSettings> | undefined, request: RespondRequest, method: string): string | null {
  const target = settings?.redirect;
  if (target === undefined || (method !== "GET" && method !== "HEAD") || request.path === undefined) return null;
  if (target.startsWith("/")) {
    // The target itself gets the usual answer (Laravel does the same): a redirect to itself would loop.
    const here = normalizePath(request.path);
    const there = normalizePath(target);
    if (here === null || here === there) return null;
  }
  return target;
}

const MIN_REFRESH = 5;
const MAX_REFRESH = 300;

/** `default-src 'none'` for the built-in page: it needs nothing, so nothing injected could load. */
const PAGE_CSP = "default-src 'none'; style-src 'unsafe-inline'; img-src data:; base-uri 'none'; form-action 'none'";

function refreshSeconds(option: number | false | undefined, method: string, retryAfter: number | null): number | null {
  if (option === false) return null;
  // Reloading a refused POST would send the form again: only reads ever reload.
  if (method !== "GET" && method !== "HEAD") return null;
  if (option !== undefined) return Math.max(1, Math.round(option));
  if ((method !== "GET" && method !== "HEAD") || retryAfter === null) return null;
  return Math.min(MAX_REFRESH, Math.max(MIN_REFRESH, retryAfter));
}

function finish(status: number, headers: Readonly<Record<string, HeaderValue>>, body: string | null, head: boolean): HttpResponse {
  const complete: Record<string, HeaderValue> = { ...headers };
  if (body !== null && !hasHeader(complete, "Content-Length")) complete["Content-Length"] = contentLength(body);
  return { status, headers: complete, body: head ? null : body };
}

/**
 * Builds the response for a blocked request.
 *
 * - Status: `decision.status` (503 by default; an unusable value such as 204 or 304 becomes 503).
 * - Headers: `Retry-After` (an HTTP date when `decision.until` is known, else
 *   whole seconds from `decision.retryAfter`, else absent), `Cache-Control:
 *   no-store`, `Detour-Mode: <mode>`, `Vary: Accept`, `Content-Type` with
 *   charset, `Content-Length` of the UTF-8 body, `X-Content-Type-Options:
 *   nosniff`; the built-in HTML page also gets a `Content-Security-Policy`
 *   that forbids every fetch.
 * - Body, by {@link negotiate}: the HTML page (also for `*\/*` and no
 *   `Accept`, as Laravel does — curl gets HTML unless it asks otherwise), the
 *   problem document for `application/problem+json`, `application/json` and
 *   `application/*+json`, plain text for `text/plain` and for anything else
 *   (never a 406).
 * - `HEAD`: the same headers (with the `Content-Length` the body would have), `body: null`.
 * - `options.json` or a JSON `Content-Type`: the problem document, whatever `Accept` says
 *   (a custom renderer then sees `application/problem+json` as the accept).
 * - The flag's `settings`, which an operator sets (`detour down ...`) and which
 *   override the options: `redirect` answers a GET or HEAD that would get the
 *   HTML page with a 302 to it (the target itself gets the usual answer);
 *   `page` is served as the HTML page (under a CSP that runs no script);
 *   `refresh` adds `Refresh: N` to GET and HEAD answers and reloads the page.
 * - A blocked write (POST, PUT...) never reloads itself; its page offers "Go back"
 *   (to the Referer's path when known).
 *
 * @throws TypeError when the decision is not a block, or `options.refresh` is invalid.
 */
export function respond(decision: Decision, request: RespondRequest, options: RespondOptions = {}): HttpResponse {
  if (decision.action !== "block") {
    throw new TypeError(`respond: expected a blocked decision, got action "${decision.action}"`);
  }
  const now = (options.now ?? Date.now)();
  const method = request.method.toUpperCase();
  const head = method === "HEAD";
  const status = statusOf(decision);
  const base = baseHeaders(decision, now);
  const refresh = options.refresh;
  if (refresh !== undefined && refresh !== false && !(typeof refresh === "number" && Number.isFinite(refresh) && refresh > 0)) {
    throw new TypeError(`respond: options.refresh must be a positive number of seconds or false, got ${String(refresh)}`);
  }

  const settings = options.settings;
  // API paths and JSON bodies get the problem document; a client that asked for JSON keeps its media type.
  const json = options.json === true || isJsonType(request.contentType);
  let accept = request.accept;
  let { representation, mediaType } = negotiate(accept);
  if (json && representation !== "problem") {
    accept = "application/problem+json";
    ({ representation, mediaType } = negotiate(accept));
  }

  if (representation === "html") {
    const location = redirectFor(settings, request, method);
    if (location !== null) return finish(302, { ...base, Location: location }, null, head);
  }
  const stored = settings?.refresh !== undefined && (method === "GET" || method === "HEAD") ? settings.refresh : undefined;
  if (stored !== undefined) base["Refresh"] = String(stored);

  if (options.render && !(representation === "html" && settings?.page !== undefined)) {
    const custom = options.render(decision, accept);
    if (custom !== undefined) {
      const headers = mergeHeaders({ ...base, "Content-Type": "text/plain; charset=utf-8" }, custom.headers ?? {});
      return finish(custom.status ?? status, headers, custom.body ?? null, head);
    }
  }

  const content = contentFor(decision, now);
  const headers: Record<string, string> = { "Content-Type": `${mediaType}; charset=utf-8`, ...base, "X-Content-Type-Options": "nosniff" };
  let body: string;
  switch (representation) {
    case "html": {
      const view = pageView(decision, content, status, refreshSeconds(stored ?? options.refresh, method, content.retryAfter), {
        unsafe: method !== "GET" && method !== "HEAD",
        referer: request.referer,
      });
      if (settings?.page !== undefined) {
        body = settings.page;
        headers["Content-Security-Policy"] = STORED_PAGE_CSP;
      } else if (options.template) {
        body = options.template(view);
      } else {
        body = renderPage(view);
        headers["Content-Security-Policy"] = PAGE_CSP;
      }
      break;
    }
    case "problem":
      body = renderProblem(problemDetails(content, status, decision.mode, decision.scope));
      break;
    case "text":
      body = renderText(content);
      break;
  }
  return finish(status, headers, body, head);
}
