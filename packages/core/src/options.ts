import type { FlagDocument } from "./document/types.js";
import { compilePathMatcher } from "./bypass/path-globs.js";
import { OptionsError } from "./errors.js";
import { isValidKind } from "./evaluation/context.js";
import type { Renderer, PageTemplate } from "./respond/index.js";
import type { Store } from "./stores/types.js";
import type { Decision } from "./decision/types.js";

export interface BypassSecretOptions {
  /** The secret; visiting `/<secret>` (or `path`) while maintenance is on sets the bypass cookie. */
  value: string;
  /**
   * The path that issues the cookie; default `/<value>`. `false`: no URL of
   * the app's own; the value only signs the cookies that flags' secrets
   * (`detour down --secret`) issue.
   */
  path?: string | false;
  /** Cookie lifetime in seconds; default 12 hours (it also ends with the maintenance period). */
  ttl?: number;
  /** Where the visit redirects to; default `/`. */
  redirectTo?: string;
}

export interface AllowOptions {
  /** Exact paths or anchored globs that are never blocked (`/health`, `/status/*`). */
  paths?: readonly string[];
  /** Client addresses or CIDR ranges that are never blocked, as the framework resolves the client address. */
  ips?: readonly string[];
  /** Laravel-style bypass secret (cookie). */
  secret?: string | BypassSecretOptions;
  /** Tokens accepted in the `Detour-Bypass` header, for automation. */
  token?: string | readonly string[];
}

export interface DetourOptions<Req = unknown> {
  /** A store, or a document for an in-memory store. Default: `fileStore("./detour.json", { create: true })`. */
  store?: Store | FlagDocument;
  /** The whole-site flag; default `"site"`. */
  siteFlag?: string;
  /** Feature name → path globs; each feature is governed by the flag of the same name. */
  features?: Readonly<Record<string, readonly string[]>>;
  /** Identifies the user (the context `key`); default none, i.e. `"anonymous"`. */
  user?: (req: Req) => string | number | null | undefined;
  /** Extra context attributes for flag rules. */
  context?: (req: Req) => Record<string, unknown> | null | undefined;
  /**
   * The request's contexts of other kinds than `user`, e.g. its tenant:
   * `(req) => ({ organization: req.get("x-org") })`, a key or
   * `{ key, ...attributes }` per kind (`null`/`undefined`/`""`: none). With
   * `user` they make the multi-kind context flags are evaluated with. Called
   * only for requests that meet a flag in force that reads another kind.
   * Per kind, `{ organization: (req) => req.get("x-org") }`: while deciding,
   * only the kinds the flags in force read are computed.
   */
  contexts?: ContextsOption<Req>;
  allow?: AllowOptions;
  /**
   * Paths (exact or anchored globs, e.g. `["/api/**"]`) that always get
   * `application/problem+json` when blocked, whatever their `Accept` says.
   * Requests with a JSON `Content-Type` always do. Default: none.
   */
  json?: readonly string[];
  /** Replaces the built-in response bodies (return `undefined` to keep the built-in one). */
  render?: Renderer;
  /** Replaces the built-in HTML page. */
  template?: PageTemplate;
  /** Auto-refresh of the HTML page in seconds, or `false`; default derived from Retry-After. */
  refresh?: number | false;
  /** Status for blocked requests; default 503 (a flag's `detour.status` overrides it). */
  status?: number;
  /** Retry-After (seconds) when neither the flag nor its window says; default none. */
  retryAfter?: number;
  /** When nothing was ever loaded from the store: `open` (pass, default) or `closed` (maintenance). */
  failMode?: "open" | "closed";
  /** Called with every decision (logging, metrics). Keep it cheap: it runs on every request. */
  onDecision?: (decision: Decision, req: Req) => void;
  /** Store errors (unreadable file, Redis down...). Default: logged once per distinct message. */
  onStoreError?: (error: Error) => void;
  /** Clock, for tests. */
  now?: () => number;
}

const KNOWN = new Set([
  "store", "siteFlag", "features", "user", "context", "contexts", "allow", "json", "render", "template", "refresh",
  "status", "retryAfter", "failMode", "onDecision", "onStoreError", "now",
]);
const ALLOW_KNOWN = new Set(["paths", "ips", "secret", "token"]);

function fn(options: Record<string, unknown>, name: string): void {
  if (options[name] !== undefined && typeof options[name] !== "function") {
    throw new OptionsError(name, `expected a function, got ${typeof options[name]}`);
  }
}

/** `contexts`: one function for every kind, or a function per kind (a copy without a prototype). */
function contextsOption(value: unknown): unknown {
  if (value === undefined || typeof value === "function") return value;
  if (value === null || typeof value !== "object" || Array.isArray(value)) {
    throw new OptionsError("contexts", `expected a function or { kind: (req) => key }, got ${value === null ? "null" : typeof value}`);
  }
  const perKind: Record<string, unknown> = Object.create(null);
  for (const [kind, get] of Object.entries(value)) {
    if (kind === "user" || !isValidKind(kind)) throw new OptionsError(`contexts.${kind}`, 'expected a context kind other than "user" (letters, digits, ".", "_" or "-")');
    if (typeof get !== "function") throw new OptionsError(`contexts.${kind}`, `expected a function, got ${typeof get}`);
    perKind[kind] = get;
  }
  return perKind;
}

function stringList(value: unknown, name: string): readonly string[] {
  if (value === undefined) return [];
  if (!Array.isArray(value)) throw new OptionsError(name, "expected an array of strings");
  value.forEach((item, i) => {
    if (typeof item !== "string" || item === "") throw new OptionsError(`${name}[${i}]`, "expected a non-empty string");
  });
  return value as string[];
}

export interface NormalizedSecret {
  readonly value: string;
  /** `null`: the app has no secret URL of its own (`path: false`). */
  readonly path: string | null;
  readonly ttl: number;
  readonly redirectTo: string;
}

function secretOption(value: unknown): NormalizedSecret | null {
  if (value === undefined) return null;
  const spec = typeof value === "string" ? { value } : value;
  if (typeof spec !== "object" || spec === null) throw new OptionsError("allow.secret", "expected a string or { value, path?, ttl? }");
  const { value: secret, path, ttl, redirectTo } = spec as BypassSecretOptions;
  if (path === false) {
    if (typeof secret !== "string" || secret.length < 16) throw new OptionsError("allow.secret", "expected a secret of at least 16 characters (it signs the bypass cookie)");
  }
  if (typeof secret !== "string" || secret.length < 16) {
    throw new OptionsError("allow.secret", "expected a secret of at least 16 characters (it signs the bypass cookie)");
  }
  if (path !== undefined && path !== false && (typeof path !== "string" || !path.startsWith("/") || path === "/")) {
    throw new OptionsError("allow.secret.path", 'expected a path like "/let-me-in", or false');
  }
  if (ttl !== undefined && (typeof ttl !== "number" || !(ttl > 0))) throw new OptionsError("allow.secret.ttl", "expected seconds > 0");
  if (redirectTo !== undefined && (typeof redirectTo !== "string" || !redirectTo.startsWith("/") || redirectTo.startsWith("//"))) {
    throw new OptionsError("allow.secret.redirectTo", 'expected a local path like "/"');
  }
  return { value: secret, path: path === false ? null : (path ?? `/${encodeURIComponent(secret)}`), ttl: ttl ?? 12 * 3600, redirectTo: redirectTo ?? "/" };
}

export interface NormalizedOptions<Req> {
  readonly siteFlag: string;
  readonly features: ReadonlyMap<string, readonly string[]>;
  readonly user: ((req: Req) => string | number | null | undefined) | undefined;
  readonly context: ((req: Req) => Record<string, unknown> | null | undefined) | undefined;
  readonly contexts: ContextsOption<Req> | undefined;
  readonly allowPaths: readonly string[];
  readonly allowIps: readonly string[];
  readonly secret: NormalizedSecret | null;
  readonly tokens: readonly string[];
  /** Whether a path always gets problem+json (`json` option); `null` without the option. */
  readonly jsonPath: ((path: string) => boolean) | null;
  readonly render: Renderer | undefined;
  readonly template: PageTemplate | undefined;
  readonly refresh: number | false | undefined;
  readonly status: number;
  readonly retryAfter: number | null;
  readonly failMode: "open" | "closed";
  readonly onDecision: ((decision: Decision, req: Req) => void) | undefined;
  readonly onStoreError: ((error: Error) => void) | undefined;
  readonly now: () => number;
}

/** Checks every option once, at construction; errors name the option. */
export function normalizeOptions<Req>(input: DetourOptions<Req> | undefined): NormalizedOptions<Req> {
  const options = (input ?? {}) as Record<string, unknown>;
  if (typeof options !== "object" || Array.isArray(options)) throw new OptionsError("options", "expected an object");
  for (const key of Object.keys(options)) {
    if (!KNOWN.has(key)) throw new OptionsError(key, `unknown option; expected one of ${[...KNOWN].join(", ")}`);
  }
  for (const name of ["user", "context", "render", "template", "onDecision", "onStoreError", "now"]) fn(options, name);

  const siteFlag = options.siteFlag ?? "site";
  if (typeof siteFlag !== "string" || siteFlag === "") throw new OptionsError("siteFlag", "expected a non-empty flag key");

  const features = new Map<string, readonly string[]>();
  if (options.features !== undefined) {
    if (typeof options.features !== "object" || options.features === null || Array.isArray(options.features)) {
      throw new OptionsError("features", 'expected { featureName: ["/path/*", ...] }');
    }
    for (const [name, patterns] of Object.entries(options.features)) {
      if (name === siteFlag) throw new OptionsError(`features.${name}`, "a feature cannot share the site flag's key");
      features.set(name, stringList(patterns, `features.${name}`));
    }
  }

  const allow = (options.allow ?? {}) as Record<string, unknown>;
  if (typeof allow !== "object" || Array.isArray(allow)) throw new OptionsError("allow", "expected { paths?, ips?, secret?, token? }");
  for (const key of Object.keys(allow)) {
    if (!ALLOW_KNOWN.has(key)) throw new OptionsError(`allow.${key}`, "unknown option; expected paths, ips, secret or token");
  }
  const tokens = typeof allow.token === "string" ? [allow.token] : stringList(allow.token, "allow.token");

  const status = options.status ?? 503;
  if (typeof status !== "number" || !Number.isInteger(status) || status < 400 || status > 599) {
    throw new OptionsError("status", "expected an HTTP error status 400..599");
  }
  const retryAfter = options.retryAfter ?? null;
  if (retryAfter !== null && (typeof retryAfter !== "number" || !Number.isInteger(retryAfter) || retryAfter < 0)) {
    throw new OptionsError("retryAfter", "expected whole seconds >= 0");
  }
  const refresh = options.refresh;
  if (refresh !== undefined && refresh !== false && (typeof refresh !== "number" || !(refresh > 0))) {
    throw new OptionsError("refresh", "expected seconds > 0 or false");
  }
  const jsonPaths = stringList(options.json, "json");
  const failMode = options.failMode ?? "open";
  if (failMode !== "open" && failMode !== "closed") throw new OptionsError("failMode", 'expected "open" or "closed"');

  return {
    siteFlag,
    features,
    user: options.user as NormalizedOptions<Req>["user"],
    context: options.context as NormalizedOptions<Req>["context"],
    contexts: contextsOption(options.contexts) as ContextsOption<Req> | undefined,
    allowPaths: stringList(allow.paths, "allow.paths"),
    allowIps: stringList(allow.ips, "allow.ips"),
    secret: secretOption(allow.secret),
    tokens,
    jsonPath: jsonPaths.length > 0 ? compilePathMatcher(jsonPaths, "json", { mode: "guard" }) : null,
    render: options.render as Renderer | undefined,
    template: options.template as PageTemplate | undefined,
    refresh: refresh as number | false | undefined,
    status,
    retryAfter,
    failMode,
    onDecision: options.onDecision as NormalizedOptions<Req>["onDecision"],
    onStoreError: options.onStoreError as NormalizedOptions<Req>["onStoreError"],
    now: (options.now as () => number) ?? Date.now,
  };
}

/** The `contexts` option: the request's other kinds at once, or a function per kind (computed only when a flag in force reads it). */
export type ContextsOption<Req> =
  | ((req: Req) => Record<string, ContextInput> | null | undefined)
  | Readonly<Record<string, (req: Req) => ContextInput>>;

/** One kind's context as `contexts(req)` gives it: its key, or `{ key, ...attributes }`; nothing for none. */
export type ContextInput = string | number | { key: string; [attribute: string]: unknown } | null | undefined;
