import { createHmac, hash, timingSafeEqual } from "node:crypto";
import { OptionsError } from "../errors.js";
import { normalizePath } from "./path-readings.js";

/**
 * Laravel-style bypass cookie.
 *
 * Value: `base64url(payload) "." base64url(HMAC-SHA256(key, base64url(payload)))`
 * with payload `2.<expiry, unix seconds>.<tag>~<tag>...`, one tag per
 * maintenance period the cookie opens (the first 16 bytes of SHA-256(period),
 * base64url). The MAC covers the encoded payload exactly as sent, so any change
 * to any character of the cookie invalidates it. The key is
 * `HMAC-SHA256(secret, "detour-bypass-cookie-v1")`: the secret that appears in
 * the bypass URL never signs anything itself. A period is the caller's
 * identifier of one flag's current maintenance period; a cookie opens a request
 * only when every period blocking it was in force, and so listed, when the
 * cookie was issued: worthless in the next period, and for a flag that went
 * down later.
 */

export const BYPASS_COOKIE = "detour_bypass";
/** Default cookie lifetime: 12 hours, as Laravel's. */
export const DEFAULT_BYPASS_TTL = 12 * 60 * 60;
/** Longest lifetime honoured (browsers cap cookies at 400 days); longer ones are shortened to it. */
export const MAX_BYPASS_TTL = 400 * 24 * 60 * 60;

const KEY_LABEL = "detour-bypass-cookie-v1";
const VERSION = "2";
const MAC_LENGTH = 43; // base64url of 32 bytes, unpadded
const TAG_LENGTH = 22; // base64url of 16 bytes, unpadded
/** Most periods one cookie lists (flags in force at once); beyond that the cookie opens the first ones, sorted. */
export const MAX_COOKIE_PERIODS = 32;
const MAX_VALUE_LENGTH = 1200;
const MAX_CANDIDATES = 4;
const BASE64URL = /^[A-Za-z0-9_-]+$/;
const EXPIRY = /^\d{1,15}$/;
const TOKEN = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/; // RFC 6265 cookie-name (RFC 7230 token)
const COOKIE_PATH = /^\/[\x21-\x3a\x3c-\x7e]*$/; // visible ASCII but ";"

export interface IssueCookieOptions {
  /** The configured bypass secret. */
  secret: string;
  /** The maintenance periods the cookie opens (any strings; the caller computes them): what is in force now. */
  periods: readonly string[];
  /** The current time, epoch milliseconds (or a Date). */
  now: number | Date;
  /** Lifetime in seconds; default 12 hours. Fractions are rounded down (minimum 1), anything over 400 days is cut to 400 days. */
  ttlSeconds?: number;
  /** Whether the request came over TLS: adds `Secure`. */
  secure: boolean;
  /** Cookie name; default `detour_bypass`. */
  name?: string;
  /** Cookie path; default `/`. */
  path?: string;
}

export interface VerifyCookieOptions {
  secret: string;
  /** The periods blocking this request: the cookie must have been issued for every one of them. */
  periods: readonly string[];
  now: number | Date;
  name?: string;
}

export type IssueBypassCookieOptions = IssueCookieOptions;
export type VerifyBypassCookieOptions = VerifyCookieOptions;

const keys = new Map<string, Buffer>();

/** The MAC key for a secret (memoised: a process has one or a few secrets). */
function macKey(secret: string): Buffer {
  let key = keys.get(secret);
  if (key === undefined) {
    key = createHmac("sha256", secret).update(KEY_LABEL).digest();
    if (keys.size >= 16) keys.clear();
    keys.set(secret, key);
  }
  return key;
}

function mac(key: Buffer, payload: string): string {
  return createHmac("sha256", key).update(payload).digest("base64url");
}

const tags = new Map<string, string>();

/** A period's tag in the payload (memoised: a few periods are in force at a time). */
function periodTag(period: string): string {
  let tag = tags.get(period);
  if (tag === undefined) {
    tag = hash("sha256", period, "base64url").slice(0, TAG_LENGTH);
    if (tags.size >= 256) tags.clear();
    tags.set(period, tag);
  }
  return tag;
}

function checkSecret(secret: unknown): asserts secret is string {
  if (typeof secret !== "string" || secret === "") throw new OptionsError("allow.secret", "must be a non-empty string");
}

function checkPeriods(periods: unknown): asserts periods is readonly string[] {
  if (!Array.isArray(periods) || periods.some((p) => typeof p !== "string")) throw new OptionsError("periods", "must be an array of strings");
}

function millis(now: unknown): number {
  const ms = now instanceof Date ? now.getTime() : now;
  if (typeof ms !== "number" || !Number.isFinite(ms)) throw new OptionsError("now", "must be epoch milliseconds or a valid Date");
  return ms;
}

function cookieName(name: unknown): string {
  if (name === undefined) return BYPASS_COOKIE;
  if (typeof name !== "string" || !TOKEN.test(name)) throw new OptionsError("name", `${JSON.stringify(name)} is not a valid cookie name`);
  return name;
}

/**
 * A `Set-Cookie` header value for the bypass cookie, e.g.
 * `detour_bypass=…; HttpOnly; SameSite=Lax; Path=/; Expires=…; Max-Age=43200; Secure`.
 * Throws `OptionsError` for an empty secret, a bad name, path, ttl or clock.
 */
export function issueBypassCookie(options: IssueCookieOptions): string {
  const { secret, periods, secure } = options;
  checkSecret(secret);
  checkPeriods(periods);
  const now = millis(options.now);
  const name = cookieName(options.name);
  const path = options.path ?? "/";
  if (typeof path !== "string" || !COOKIE_PATH.test(path)) throw new OptionsError("path", `${JSON.stringify(path)} is not a valid cookie path`);
  const ttl = options.ttlSeconds ?? DEFAULT_BYPASS_TTL;
  if (typeof ttl !== "number" || !(ttl > 0)) throw new OptionsError("ttlSeconds", "must be a number of seconds > 0");
  const seconds = Math.min(MAX_BYPASS_TTL, Math.max(1, Math.floor(ttl)));

  const expires = Math.floor(now / 1000) + seconds;
  const listed = [...new Set(periods.map(periodTag))].sort().slice(0, MAX_COOKIE_PERIODS);
  const payload = Buffer.from(`${VERSION}.${expires}.${listed.join("~")}`, "latin1").toString("base64url");
  const value = `${payload}.${mac(macKey(secret), payload)}`;
  let cookie = `${name}=${value}; HttpOnly; SameSite=Lax; Path=${path}; Expires=${new Date(expires * 1000).toUTCString()}; Max-Age=${seconds}`;
  if (secure === true) cookie += "; Secure";
  return cookie;
}

/**
 * Every value of cookie `name` in a Cookie header (several headers may be
 * given), in order. Tolerates spaces, empty pairs, pairs without `=`, and
 * double-quoted values (the quotes are removed). Never throws.
 */
export function readCookies(header: string | readonly string[] | null | undefined, name: string): string[] {
  const values: string[] = [];
  if (typeof header !== "string") {
    if (Array.isArray(header)) for (const one of header) values.push(...readCookies(one as unknown as string, name));
    return values;
  }
  // A pair named `name` has the name in it: most Cookie headers (sessions, preferences) are turned away by one search.
  if (!header.includes(name)) return values;
  let start = 0;
  while (start < header.length) {
    let end = header.indexOf(";", start);
    if (end < 0) end = header.length;
    const eq = header.indexOf("=", start);
    if (eq >= 0 && eq < end && header.slice(start, eq).trim() === name) {
      let value = header.slice(eq + 1, end).trim();
      if (value.length >= 2 && value.charCodeAt(0) === 34 && value.charCodeAt(value.length - 1) === 34) value = value.slice(1, -1);
      values.push(value);
    }
    start = end + 1;
  }
  return values;
}

function verifyValue(value: string, key: Buffer, required: readonly string[], now: number): boolean {
  if (value.length > MAX_VALUE_LENGTH) return false;
  const dot = value.indexOf(".");
  if (dot <= 0 || value.length - dot - 1 !== MAC_LENGTH) return false;
  const payload = value.slice(0, dot);
  const signature = value.slice(dot + 1);
  if (!BASE64URL.test(payload) || !BASE64URL.test(signature)) return false;
  // Both sides are 43 ASCII characters, hence 43-byte buffers: equal lengths, as timingSafeEqual requires.
  if (!timingSafeEqual(Buffer.from(signature, "latin1"), Buffer.from(mac(key, payload), "latin1"))) return false;
  const claims = Buffer.from(payload, "base64url").toString("latin1").split(".");
  if (claims.length !== 3 || claims[0] !== VERSION || !EXPIRY.test(claims[1]!)) return false;
  if (!(Number(claims[1]) * 1000 > now)) return false;
  // The tags are no secret: the MAC already vouched for them.
  const listed = claims[2]!.split("~");
  for (const tag of required) if (!listed.includes(tag)) return false;
  return true;
}

/**
 * Whether the Cookie header carries a bypass cookie that is authentic
 * (constant-time HMAC check), unexpired at `now` and issued while every one
 * of `periods` was in force (an empty list needs no period).
 * Garbage of any kind is `false`, never an exception; only programming errors
 * (empty secret, non-string period, invalid clock) throw.
 */
export function verifyBypassCookie(
  header: string | readonly string[] | null | undefined,
  options: VerifyCookieOptions,
): boolean {
  checkSecret(options.secret);
  checkPeriods(options.periods);
  const now = millis(options.now);
  const name = cookieName(options.name);
  let values: string[];
  try {
    values = readCookies(header, name);
  } catch {
    return false;
  }
  if (values.length === 0) return false;
  const key = macKey(options.secret);
  const required = options.periods.map(periodTag);
  const count = Math.min(values.length, MAX_CANDIDATES);
  for (let i = 0; i < count; i++) if (verifyValue(values[i]!, key, required, now)) return true;
  return false;
}

// ---------------------------------------------------------------------------
// The secret URL

function digest(text: string): Buffer {
  return hash("sha256", text, "buffer");
}

function secretDigest(secretPath: string): Buffer | null {
  if (typeof secretPath !== "string") return null;
  const normal = normalizePath(secretPath.startsWith("/") ? secretPath : `/${secretPath}`);
  // A secret path that is "/" would hand the cookie to every visitor of the home page.
  if (normal === null || normal === "/") return null;
  return digest(normal);
}

/**
 * Compiles the secret URL (`/<secret>`, or a configured path; a bare secret
 * gets its `/`) into a test of request paths. Paths are compared in normal
 * form (query string, trailing slash and duplicate slashes ignored;
 * case-sensitive), by SHA-256 digest and `timingSafeEqual`, so the time taken
 * says nothing about how much of the secret a guess got right. A path of
 * another length is refused before hashing: the secret URL's length is no
 * secret, and the policy asks on every request while anything is in force.
 * Throws `OptionsError` naming `option` when the secret path is empty, `/` or
 * has no normal form.
 */
export function compileSecretPathMatcher(secretPath: string, option = "allow.secret.path"): (path: string) => boolean {
  const expected = secretDigest(secretPath);
  if (expected === null) throw new OptionsError(option, `${JSON.stringify(secretPath)} is not a usable secret path`);
  const length = normalizePath(secretPath.startsWith("/") ? secretPath : `/${secretPath}`)!.length;
  return (path) => {
    // The normal form is never longer than the path: a shorter path (most paths, the secret being long) is refused unread.
    if (typeof path !== "string" || path.length < length) return false;
    const normal = normalizePath(path);
    if (normal === null || normal.length !== length) return false;
    return timingSafeEqual(digest(normal), expected);
  };
}
