import { isValidKind, type ContextRef, type DisableOptions, type EnableOptions } from "@detour/core";
import type { FieldProblem } from "./http.js";

/*
 * The bodies of `POST /api/flags/:key/on|off`, checked field by field before
 * anything is written. Core checks the same values again inside its write;
 * checking here first lets one answer name every field at fault.
 */

export type Parsed<T> = { readonly ok: true; readonly value: T } | { readonly ok: false; readonly errors: readonly FieldProblem[] };

const ON_FIELDS = ["mode", "users", "contexts", "percent", "message", "retryAfter", "from", "until", "ttl"] as const;
const OFF_FIELDS = ["users", "contexts"] as const;
const RFC3339 = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:\d{2})$/i;
const MAX_USERS = 10_000;
const MAX_USER_LENGTH = 512;
const MAX_MESSAGE_LENGTH = 2_000;

function record(body: unknown, fields: readonly string[], errors: FieldProblem[]): Record<string, unknown> | null {
  if (body === undefined) return {};
  if (typeof body !== "object" || body === null || Array.isArray(body)) {
    errors.push({ field: "body", message: `expected a JSON object with any of ${fields.join(", ")}` });
    return null;
  }
  for (const name of Object.keys(body)) {
    if (!fields.includes(name)) errors.push({ field: name, message: `unknown field; expected any of ${fields.join(", ")}` });
  }
  return body as Record<string, unknown>;
}

/** A non-empty list of at most MAX_USERS items, or `undefined` (absent, or refused with a problem in `errors`). */
function list(value: unknown, field: string, expected: string, errors: FieldProblem[]): unknown[] | undefined {
  if (value === undefined) return undefined;
  if (!Array.isArray(value) || value.length === 0) {
    errors.push({ field, message: `expected a non-empty list of ${expected}` });
    return undefined;
  }
  if (value.length > MAX_USERS) {
    errors.push({ field, message: `at most ${MAX_USERS} ${field} at a time` });
    return undefined;
  }
  return value;
}

function users(given: unknown, errors: FieldProblem[]): string[] | undefined {
  const value = list(given, "users", "user ids", errors);
  if (value === undefined) return undefined;
  const bad = value.findIndex((user) => typeof user !== "string" || user.trim() === "" || user.length > MAX_USER_LENGTH);
  if (bad >= 0) {
    errors.push({ field: `users[${bad}]`, message: `expected a non-empty user id of at most ${MAX_USER_LENGTH} characters` });
    return undefined;
  }
  return [...new Set((value as string[]).map((user) => user.trim()))];
}

/** `[{ kind, key }]`: contexts of any kind (tenants), as core's `contexts`. */
function contexts(given: unknown, errors: FieldProblem[]): ContextRef[] | undefined {
  const value = list(given, "contexts", '{ kind, key }, e.g. [{ "kind": "organization", "key": "acme" }]', errors);
  if (value === undefined) return undefined;
  const refs: ContextRef[] = [];
  for (const [i, ref] of value.entries()) {
    const { kind, key } = (ref !== null && typeof ref === "object" ? ref : {}) as Partial<ContextRef>;
    if (!isValidKind(kind)) errors.push({ field: `contexts[${i}].kind`, message: 'expected a context kind of letters, digits, ".", "_" or "-" (not "kind" or "multi")' });
    else if (typeof key !== "string" || key.trim() === "" || key.length > MAX_USER_LENGTH) errors.push({ field: `contexts[${i}].key`, message: `expected a non-empty key of at most ${MAX_USER_LENGTH} characters` });
    else refs.push({ kind, key: key.trim() });
  }
  return refs.length === value.length ? refs : undefined;
}

function date(value: unknown, field: string, errors: FieldProblem[]): string | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== "string" || !RFC3339.test(value) || Number.isNaN(Date.parse(value))) {
    errors.push({ field, message: "expected an RFC 3339 date-time such as 2026-12-01T02:00:00Z" });
    return undefined;
  }
  return value;
}

/** `{ mode?, users?, contexts?, percent?, message?, retryAfter?, from?, until?, ttl? }` → core `EnableOptions`. */
export function parseOn(body: unknown): Parsed<EnableOptions> {
  const errors: FieldProblem[] = [];
  const input = record(body, ON_FIELDS, errors);
  if (input === null) return { ok: false, errors };
  const options: EnableOptions = {};

  const { mode, percent, message, retryAfter, ttl } = input;
  if (mode !== undefined) {
    if (mode === "read-only" || mode === "maintenance") options.mode = mode;
    else errors.push({ field: "mode", message: `expected "read-only" or "maintenance", got ${JSON.stringify(mode)}` });
  }
  const list = users(input.users, errors);
  if (list) options.users = list;
  const refs = contexts(input.contexts, errors);
  if (refs) options.contexts = refs;
  if (percent !== undefined) {
    if (typeof percent === "number" && percent >= 0 && percent <= 100) options.percent = percent;
    else errors.push({ field: "percent", message: "expected a number from 0 to 100" });
  }
  if (message !== undefined) {
    if (typeof message === "string" && message.length <= MAX_MESSAGE_LENGTH) options.message = message;
    else errors.push({ field: "message", message: `expected a string of at most ${MAX_MESSAGE_LENGTH} characters` });
  }
  if (retryAfter !== undefined) {
    if (Number.isInteger(retryAfter) && (retryAfter as number) >= 0) options.retryAfter = retryAfter as number;
    else errors.push({ field: "retryAfter", message: "expected whole seconds >= 0" });
  }
  if (ttl !== undefined) {
    if (typeof ttl === "number" && Number.isFinite(ttl) && ttl > 0) options.ttl = ttl;
    else errors.push({ field: "ttl", message: "expected seconds > 0" });
  }
  const from = date(input.from, "from", errors);
  const until = date(input.until, "until", errors);
  if (from !== undefined && until !== undefined && Date.parse(until) <= Date.parse(from)) {
    errors.push({ field: "until", message: "must be after from" });
  }
  if (from !== undefined || until !== undefined) {
    options.window = {};
    if (from !== undefined) options.window.start = from;
    if (until !== undefined) options.window.end = until;
  }
  return errors.length > 0 ? { ok: false, errors } : { ok: true, value: options };
}

/** `{ users?, contexts? }` → core `DisableOptions`. */
export function parseOff(body: unknown): Parsed<DisableOptions> {
  const errors: FieldProblem[] = [];
  const input = record(body, OFF_FIELDS, errors);
  if (input === null) return { ok: false, errors };
  const list = users(input.users, errors);
  const refs = contexts(input.contexts, errors);
  if (errors.length > 0) return { ok: false, errors };
  return { ok: true, value: { ...(list ? { users: list } : {}), ...(refs ? { contexts: refs } : {}) } };
}

/** `?limit=N`: 1..1000, default 100. */
export function parseLimit(value: string | null): Parsed<number> {
  if (value === null) return { ok: true, value: 100 };
  const limit = /^\d{1,4}$/.test(value) ? Number(value) : NaN;
  if (!(limit >= 1 && limit <= 1000)) return { ok: false, errors: [{ field: "limit", message: "expected a whole number from 1 to 1000" }] };
  return { ok: true, value: limit };
}

/** Core's argument names, as the API's fields. */
export function fieldOf(argument: string): string {
  if (argument === "window.start") return "from";
  if (argument === "window.end") return "until";
  if (argument === "flag") return "key";
  return argument;
}
