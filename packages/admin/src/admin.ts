import { isDetour } from "@detour/core/adapter";
import { OptionsError, isModeFlag, type AuditEntry, type Detour, type DetourError, type DetourStatus, type FlagDocument, type ValidationError } from "@detour/core";
import { readJsonBody } from "./body.js";
import { renderConsole } from "./console/page.js";
import { EventStreams } from "./events.js";
import { BASE_HEADERS, badRequest, json, problem, splitPath, type AdminRequest, type AdminResponse } from "./http.js";
import { fieldOf, parseLimit, parseOff, parseOn, type Parsed } from "./input.js";
import { DetourMetrics } from "./metrics.js";
import { migrationsOf, PANEL_MINUTES, type MigrationsSource } from "./migrations.js";
import { checkUnsafe, isSafe, unauthorized } from "./security.js";

/** What the admin uses of a Detour instance (any adapter's instance fits). */
export type AdminDetour = Pick<
  Detour<never>,
  "enable" | "disable" | "replace" | "status" | "audit" | "document" | "subscribe" | "allowPath" | "siteFlag" | "store" | "ready"
>;

/**
 * Who is asking: return the actor recorded in the audit log (`"admin:alice"`),
 * or `null`/`undefined` to refuse the request with 401.
 */
export type AdminAuth = (req: AdminRequest) => string | null | undefined | Promise<string | null | undefined>;

export interface AdminOptions {
  /** The Detour instance to show and change, or an adapter's middleware/plugin (its `instance` is used). */
  detour: AdminDetour | { readonly instance: AdminDetour };
  /** Required: there is no open mode. Called for every API request; the page shell itself needs none (it holds no data). */
  auth: AdminAuth;
  /** Where the admin lives, always exempt from maintenance; default `/_detour`. */
  basePath?: string;
  /** `GET <basePath>/metrics` in Prometheus format (needs `prom-client`): `true`, or metrics from `detourMetrics()`. */
  metrics?: boolean | DetourMetrics;
  /**
   * The migrations of this instance, `migrationMetrics(detour)` of
   * `@detour/migrate`: their figures go into `/metrics`, `GET /api/migrations`
   * and the console's Migrations panel (live, over the event stream).
   */
  migrations?: MigrationsSource;
  /** Milliseconds between SSE heartbeats; default 15000. */
  heartbeatMs?: number;
  /** Largest request body read, in bytes; default 1 MiB. */
  maxBodyBytes?: number;
  /** Shown in the console's header and title; default "Detour". */
  title?: string;
  /** Unexpected errors (a throwing `auth`, a store bug); default `console.error`. The client gets a bare 500. */
  onError?: (error: Error) => void;
}

/** The status the API answers with: `detour status --json` and the newest audit entries. */
export interface AdminStatus extends DetourStatus {
  /** The site flag's key. */
  siteFlag: string;
  /** Mode flags in the document, in force or not (for the console's flag pickers). */
  known: string[];
  /** The newest 20 audit entries. */
  audit: AuditEntry[];
  /** The server's clock, so that clients count time left without trusting their own. */
  serverTime: string;
}

/**
 * The admin: a framework-free handler of `AdminRequest`s. Mounts in
 * `@detour/express`, `@detour/koa` and `@detour/fastify` feed it.
 */
export interface Admin {
  (req: AdminRequest): Promise<AdminResponse>;
  readonly basePath: string;
  readonly detour: AdminDetour;
  /** Whether a request path (with or without query string) is the admin's to answer. */
  owns(path: string): boolean;
  /** Open event streams, e.g. for a health page or a test. */
  readonly openStreams: number;
  /** Ends every open event stream (call before closing the server: open streams keep it from closing). */
  close(): void;
}

const DEFAULT_BASE = "/_detour";
const KNOWN_OPTIONS = new Set(["detour", "auth", "basePath", "metrics", "migrations", "heartbeatMs", "maxBodyBytes", "title", "onError"]);
const AUDIT_IN_STATUS = 20;

function detourOf(value: unknown): AdminDetour {
  if (isDetour(value)) return value;
  const inner = (value as { instance?: unknown } | null)?.instance;
  if (isDetour(inner)) return inner;
  throw new OptionsError("detour", "expected a Detour instance (createDetour()) or an adapter's middleware/plugin");
}

function positive(options: AdminOptions, name: "heartbeatMs" | "maxBodyBytes", fallback: number): number {
  const value = options[name] ?? fallback;
  if (typeof value !== "number" || !Number.isInteger(value) || value <= 0) throw new OptionsError(name, "expected a whole number > 0");
  return value;
}

function basePathOf(value: unknown): string {
  const base = value ?? DEFAULT_BASE;
  if (typeof base !== "string" || !/^(\/[A-Za-z0-9._~-]+)+$/.test(base)) {
    throw new OptionsError("basePath", 'expected a path such as "/_detour" (no trailing slash, no "." or ".." segments)');
  }
  if (base.split("/").some((segment) => segment === "." || segment === "..")) throw new OptionsError("basePath", 'no "." or ".." segments');
  return base;
}

/** Mode flags of the document, in force or not. */
function knownFlags(document: Readonly<FlagDocument> | undefined, siteFlag: string): string[] {
  const keys = new Set<string>([siteFlag]);
  for (const [key, flag] of Object.entries(document?.flags ?? {})) if (isModeFlag(flag, siteFlag)) keys.add(key);
  return [...keys].sort((a, b) => (a === siteFlag ? -1 : b === siteFlag ? 1 : a.localeCompare(b)));
}

function isCode(error: unknown, code: DetourError["code"]): boolean {
  return (error as DetourError | null)?.code === code;
}

function fromParsed<T>(parsed: Parsed<T>): AdminResponse | null {
  return parsed.ok ? null : badRequest(parsed.errors);
}

/**
 * Creates the admin: the JSON API, the event stream and the console page
 * under `basePath`, which it exempts from maintenance on the Detour instance.
 *
 * ```ts
 * const admin = createAdmin({
 *   detour,
 *   auth: (req) => (bearer(req) === process.env.DETOUR_ADMIN_TOKEN ? "admin" : null),
 * });
 * app.use(expressAdmin(admin));
 * ```
 */
export function createAdmin(options: AdminOptions): Admin {
  if (typeof options !== "object" || options === null) throw new OptionsError("options", "expected { detour, auth, ... }");
  for (const key of Object.keys(options)) {
    if (!KNOWN_OPTIONS.has(key)) throw new OptionsError(key, `unknown option; expected one of ${[...KNOWN_OPTIONS].join(", ")}`);
  }
  if (typeof options.auth !== "function") {
    throw new OptionsError("auth", "required: a function (req) => actor | null that authenticates every API request; the admin has no open mode");
  }
  const detour = detourOf(options.detour);
  const auth = options.auth;
  const basePath = basePathOf(options.basePath);
  const heartbeatMs = positive(options, "heartbeatMs", 15_000);
  const maxBodyBytes = positive(options, "maxBodyBytes", 1024 * 1024);
  const title = options.title ?? "Detour";
  if (typeof title !== "string" || title === "") throw new OptionsError("title", "expected a non-empty string");
  if (options.onError !== undefined && typeof options.onError !== "function") throw new OptionsError("onError", "expected a function");
  const onError = options.onError ?? ((error: Error) => console.error("[detour admin]", error));
  const metricsOption = options.metrics ?? false;
  if (typeof metricsOption !== "boolean" && !(metricsOption instanceof DetourMetrics)) {
    throw new OptionsError("metrics", "expected true, false or detourMetrics()");
  }
  const metrics = metricsOption === true ? new DetourMetrics() : metricsOption === false ? null : metricsOption;
  const migrations = migrationsOf(options.migrations);
  metrics?.attach({ status: () => detour.status(), document: () => detour.document(), subscribe: (l) => detour.subscribe(l), now: Date.now, migrations });

  // The console must stay reachable while the site it controls is down.
  detour.allowPath(`${basePath}/**`);

  const page = renderConsole({ basePath, title });

  function status(): AdminStatus {
    return {
      ...detour.status(),
      siteFlag: detour.siteFlag,
      known: knownFlags(detour.document(), detour.siteFlag),
      audit: detour.audit(AUDIT_IN_STATUS),
      serverTime: new Date().toISOString(),
    };
  }

  const streams = new EventStreams(
    {
      subscribe: (listener) => detour.subscribe(listener),
      payload: () => {
        const current = status();
        const { ageMs: _age, ...store } = current.store;
        return { data: JSON.stringify(current), fingerprint: JSON.stringify([store, current.flags, current.known, current.audit[0] ?? null]) };
      },
      revision: () => detour.store.health().revision,
    },
    heartbeatMs,
    migrations
      ? [{ name: "migrations", intervalMs: 1000, payload: () => JSON.stringify(migrations.summary(PANEL_MINUTES)), subscribe: (onActivity) => migrations.subscribe(onActivity) }]
      : [],
  );

  function failed(error: unknown): AdminResponse {
    if (isCode(error, "DETOUR_INVALID_ARGUMENT")) {
      const { argument, message } = error as Error & { argument: string };
      const prefix = `${argument}: `;
      return badRequest([{ field: fieldOf(argument), message: message.startsWith(prefix) ? message.slice(prefix.length) : message }]);
    }
    if (isCode(error, "DETOUR_INVALID_DOCUMENT")) {
      const issues = (error as ValidationError).issues;
      const errors = issues.map((issue) => ({ field: issue.path, message: issue.message }));
      return problem(400, "Invalid document", (error as Error).message, { field: errors[0]?.field ?? "body", errors });
    }
    if (isCode(error, "DETOUR_STORE_UNAVAILABLE") || isCode(error, "DETOUR_WRITE_CONFLICT") || isCode(error, "DETOUR_STORE_CLOSED")) {
      return problem(503, "Store unavailable", (error as Error).message, {}, { "retry-after": "5" });
    }
    onError(error instanceof Error ? error : new Error(String(error)));
    return problem(500, "Internal Server Error");
  }

  async function write(run: () => Promise<unknown>): Promise<AdminResponse> {
    try {
      await run();
    } catch (error) {
      return failed(error);
    }
    return json(200, status());
  }

  async function body(req: AdminRequest): Promise<{ value: unknown } | AdminResponse> {
    const read = await readJsonBody(req.body, maxBodyBytes);
    return read.ok ? { value: read.value } : read.response;
  }

  function notAllowed(allow: string): AdminResponse {
    return problem(405, "Method Not Allowed", undefined, {}, { allow });
  }

  async function api(req: AdminRequest, method: string, route: string, query: URLSearchParams, actor: string): Promise<AdminResponse> {
    const read = method === "GET" || method === "HEAD";
    if (route === "/api/status") return read ? json(200, status()) : notAllowed("GET, HEAD");
    if (route === "/api/audit") {
      if (!read) return notAllowed("GET, HEAD");
      const limit = parseLimit(query.get("limit"));
      return fromParsed(limit) ?? json(200, { audit: detour.audit(limit.ok ? limit.value : 100) });
    }
    if (route === "/api/events") return read ? streams.response() : notAllowed("GET, HEAD");
    if (route === "/api/migrations" && migrations) {
      if (!read) return notAllowed("GET, HEAD");
      const minutes = Number(query.get("minutes") ?? PANEL_MINUTES);
      if (!Number.isInteger(minutes) || minutes < 1 || minutes > 15) return badRequest([{ field: "minutes", message: "expected a whole number of minutes from 1 to 15" }]);
      return json(200, migrations.summary(minutes));
    }
    if (route === "/api/document") {
      if (read) return json(200, detour.document() ?? { flags: {} });
      if (method !== "PUT") return notAllowed("GET, HEAD, PUT");
      const input = await body(req);
      if (!("value" in input)) return input;
      if (typeof input.value !== "object" || input.value === null || Array.isArray(input.value)) {
        return badRequest([{ field: "body", message: "expected a flag document: { flags?, flagValues?, segments? }" }]);
      }
      return write(() => detour.replace(input.value, { actor }));
    }
    if (route === "/metrics" && metrics) {
      if (!read) return notAllowed("GET, HEAD");
      try {
        const scraped = await metrics.render();
        return { status: 200, headers: { ...BASE_HEADERS, "content-type": scraped.contentType }, body: scraped.body };
      } catch (error) {
        return failed(error);
      }
    }
    const toggle = /^\/api\/flags\/([^/]+)\/(on|off)$/.exec(route);
    if (toggle) {
      if (method !== "POST") return notAllowed("POST");
      let key: string;
      try {
        key = decodeURIComponent(toggle[1]!);
      } catch {
        return badRequest([{ field: "key", message: "malformed percent-escape" }]);
      }
      const input = await body(req);
      if (!("value" in input)) return input;
      if (toggle[2] === "on") {
        const parsed = parseOn(input.value);
        return fromParsed(parsed) ?? write(() => detour.enable(key, parsed.ok ? parsed.value : {}, { actor }));
      }
      const parsed = parseOff(input.value);
      const refused = fromParsed(parsed);
      if (refused) return refused;
      // As `detour off`: a flag that does not exist is already off; nothing is written.
      if (detour.document()?.flags?.[key] === undefined) return json(200, status());
      return write(() => detour.disable(key, parsed.ok ? parsed.value : {}, { actor }));
    }
    return problem(404, "Not Found");
  }

  async function authenticate(req: AdminRequest): Promise<string | null | Error> {
    try {
      const actor = await auth(req);
      if (actor === null || actor === undefined || actor === "") return null;
      if (typeof actor !== "string") return new Error(`auth must return an actor string or null, got ${typeof actor}`);
      return actor;
    } catch (error) {
      return error instanceof Error ? error : new Error(String(error));
    }
  }

  async function respond(req: AdminRequest): Promise<AdminResponse> {
    const { pathname, query } = splitPath(req.path);
    const method = req.method.toUpperCase();
    if (!owns(pathname)) return problem(404, "Not Found");
    const rest = pathname.slice(basePath.length);
    if (rest === "" || rest === "/") {
      if (method !== "GET" && method !== "HEAD") return notAllowed("GET, HEAD");
      if (rest === "") {
        const search = req.path.indexOf("?");
        return { status: 308, headers: { ...BASE_HEADERS, location: `${basePath}/${search === -1 ? "" : req.path.slice(search)}` }, body: null };
      }
      return { status: 200, headers: { ...BASE_HEADERS, ...page.headers }, body: page.html };
    }

    const actor = await authenticate(req);
    if (actor === null) return unauthorized();
    if (actor instanceof Error) {
      onError(actor);
      return problem(500, "Internal Server Error");
    }
    if (!isSafe(method)) {
      const refused = checkUnsafe(req);
      if (refused) return refused;
    }
    await detour.ready;
    const route = rest.length > 1 && rest.endsWith("/") ? rest.slice(0, -1) : rest;
    return api(req, method, route, query, actor);
  }

  function owns(path: string): boolean {
    const pathname = splitPath(path).pathname;
    return pathname === basePath || pathname.startsWith(`${basePath}/`);
  }

  const handler = async (req: AdminRequest): Promise<AdminResponse> => {
    const response = await respond(req);
    // HEAD: the headers a GET would get; no body, no stream.
    if (req.method.toUpperCase() !== "HEAD") return response;
    return { status: response.status, headers: response.headers, body: null };
  };

  return Object.defineProperties(handler, {
    basePath: { value: basePath, enumerable: true },
    detour: { value: detour, enumerable: true },
    owns: { value: owns, enumerable: true },
    openStreams: { get: () => streams.size, enumerable: true },
    close: { value: () => streams.closeAll(), enumerable: true },
  }) as Admin;
}
