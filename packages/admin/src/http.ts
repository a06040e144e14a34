/**
 * The neutral request and response the admin speaks. Mounts (one small module
 * per framework) translate their framework's request into an `AdminRequest`
 * and write an `AdminResponse` back; nothing here knows about a framework.
 */

export type HeaderValue = string | readonly string[] | undefined;

export interface AdminRequest {
  readonly method: string;
  /** The path as the client sent it, with or without the query string: `/_detour/api/audit?limit=5`. */
  readonly path: string;
  readonly headers: Readonly<Record<string, HeaderValue>>;
  /**
   * The request body, read only by the requests that need one: JSON a body
   * parser already parsed, the raw text or bytes, or the unread body stream
   * (Node's `IncomingMessage` is one). `undefined` when there is none.
   */
  readonly body?: unknown;
  /**
   * The `host[:port]` the request was addressed to, as the framework resolves
   * it (trust-proxy aware); compared with the `Origin` header. Default: the
   * `Host` header.
   */
  readonly host?: string;
  /** The framework's own request, for your `auth` callback (a session's user, a client certificate...). */
  readonly raw?: unknown;
}

/**
 * A Server-Sent Events stream. The mount calls `open` once, pipes every chunk
 * to the raw response, and calls the returned `stop` when the client goes away.
 */
export interface AdminEventStream {
  /**
   * Starts the stream: `write` receives `text/event-stream` text, `end` is
   * called when the admin ends the stream itself (`admin.close()`).
   * Returns `stop`, which releases the stream's subscription and timers (idempotent).
   */
  open(write: (chunk: string) => void, end: () => void): () => void;
}

export interface AdminResponse {
  readonly status: number;
  readonly headers: Readonly<Record<string, string>>;
  /** `null` for HEAD, redirects and event streams. */
  readonly body: string | null;
  /** Set for `GET /api/events`: headers first, then this stream instead of a body. */
  readonly events?: AdminEventStream;
}

export const JSON_TYPE = "application/json; charset=utf-8";
export const PROBLEM_TYPE = "application/problem+json; charset=utf-8";

/** Headers on every admin response: nothing is cached, sniffed, framed or leaked through Referer. */
export const BASE_HEADERS: Readonly<Record<string, string>> = Object.freeze({
  "cache-control": "no-store",
  "x-content-type-options": "nosniff",
  "referrer-policy": "no-referrer",
});

/** A header by lower-case name; the first value when repeated. */
export function header(req: AdminRequest, name: string): string | undefined {
  const headers = req.headers;
  let value = headers[name];
  if (value === undefined) {
    for (const key of Object.keys(headers)) {
      if (key.toLowerCase() === name) {
        value = headers[key];
        break;
      }
    }
  }
  return typeof value === "string" ? value : value?.[0];
}

export function json(status: number, value: unknown, headers: Readonly<Record<string, string>> = {}): AdminResponse {
  return { status, headers: { ...BASE_HEADERS, "content-type": JSON_TYPE, ...headers }, body: JSON.stringify(value) };
}

/** One field of a request that was refused. */
export interface FieldProblem {
  readonly field: string;
  readonly message: string;
}

/** An `application/problem+json` answer (RFC 9457); `extra` members are added to the body. */
export function problem(
  status: number,
  title: string,
  detail?: string,
  extra: Readonly<Record<string, unknown>> = {},
  headers: Readonly<Record<string, string>> = {},
): AdminResponse {
  const body = { type: "about:blank", title, status, ...(detail === undefined ? {} : { detail }), ...extra };
  return { status, headers: { ...BASE_HEADERS, "content-type": PROBLEM_TYPE, ...headers }, body: JSON.stringify(body) };
}

/** 400 naming the fields at fault. */
export function badRequest(errors: readonly FieldProblem[]): AdminResponse {
  const first = errors[0]!;
  return problem(400, "Invalid request", `${first.field}: ${first.message}`, { field: first.field, errors });
}

/** The path without query string, and the parsed query. */
export function splitPath(path: string): { pathname: string; query: URLSearchParams } {
  const mark = path.indexOf("?");
  return mark === -1
    ? { pathname: path, query: new URLSearchParams() }
    : { pathname: path.slice(0, mark), query: new URLSearchParams(path.slice(mark + 1)) };
}
