import { createHash, createHmac, timingSafeEqual } from "node:crypto";

export const BYPASS_COOKIE = "detour_bypass";

export interface IssueCookieOptions {
  secret: string;
  /** Identifies the maintenance period the cookie is good for. */
  period: string;
  now: number;
  ttlSeconds: number;
  secure: boolean;
  name?: string;
  path?: string;
}

export interface VerifyCookieOptions {
  secret: string;
  period: string;
  now: number;
  name?: string;
}

const keys = new Map<string, Buffer>();

/** The MAC key: derived from the secret with a label, so the URL secret never signs anything itself. */
function macKey(secret: string): Buffer {
  let key = keys.get(secret);
  if (!key) {
    key = createHmac("sha256", secret).update("detour-bypass-cookie-v1").digest();
    if (keys.size > 16) keys.clear();
    keys.set(secret, key);
  }
  return key;
}

function sign(secret: string, payload: string): Buffer {
  return createHmac("sha256", macKey(secret)).update(payload).digest();
}

function periodTag(period: string): string {
  return createHash("sha256").update(period).digest("base64url").slice(0, 16);
}

/** A `Set-Cookie` value for the bypass cookie: expiry and period, HMAC-SHA256-signed. */
export function issueBypassCookie(options: IssueCookieOptions): string {
  const expires = Math.floor(options.now / 1000) + Math.max(1, Math.floor(options.ttlSeconds));
  const payload = Buffer.from(JSON.stringify({ e: expires, p: periodTag(options.period) })).toString("base64url");
  const value = `${payload}.${sign(options.secret, payload).toString("base64url")}`;
  const attributes = [
    `${options.name ?? BYPASS_COOKIE}=${value}`,
    `Path=${options.path ?? "/"}`,
    `Expires=${new Date(expires * 1000).toUTCString()}`,
    `Max-Age=${expires - Math.floor(options.now / 1000)}`,
    "HttpOnly",
    "SameSite=Lax",
  ];
  if (options.secure) attributes.push("Secure");
  return attributes.join("; ");
}

/** Finds a cookie's value in a Cookie header; never throws. */
export function readCookie(header: string, name: string): string | undefined {
  for (const part of header.split(";")) {
    const eq = part.indexOf("=");
    if (eq < 0 || part.slice(0, eq).trim() !== name) continue;
    let value = part.slice(eq + 1).trim();
    if (value.length >= 2 && value.startsWith('"') && value.endsWith('"')) value = value.slice(1, -1);
    return value;
  }
  return undefined;
}

/** True when the header carries a bypass cookie that is authentic, unexpired and for this period. */
export function verifyBypassCookie(header: string, options: VerifyCookieOptions): boolean {
  const value = readCookie(header, options.name ?? BYPASS_COOKIE);
  if (!value) return false;
  const dot = value.indexOf(".");
  if (dot <= 0) return false;
  const payload = value.slice(0, dot);
  const mac = Buffer.from(value.slice(dot + 1), "base64url");
  const expected = sign(options.secret, payload);
  if (mac.length !== expected.length || !timingSafeEqual(mac, expected)) return false;
  try {
    const claims = JSON.parse(Buffer.from(payload, "base64url").toString("utf8")) as { e?: unknown; p?: unknown };
    return typeof claims.e === "number" && claims.e * 1000 > options.now && claims.p === periodTag(options.period);
  } catch {
    return false;
  }
}

/** True when `path` is the secret URL (compared in constant time). */
export function matchesSecretPath(path: string, secretPath: string): boolean {
  const query = path.indexOf("?");
  const candidate = Buffer.from(query >= 0 ? path.slice(0, query) : path);
  const expected = Buffer.from(secretPath);
  return candidate.length === expected.length && timingSafeEqual(candidate, expected);
}
