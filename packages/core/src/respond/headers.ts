/** Status and headers of a blocked response. */
import type { Decision } from "../decision/types.js";
import { retrySeconds, validUntil } from "./content.js";

export type HeaderValue = string | readonly string[];
export type HeaderMap = Readonly<Record<string, HeaderValue>>;

/** Statuses that may not carry the body a blocked response always has. */
const BODILESS = new Set([204, 205, 304]);

/** `decision.status` when it is a usable status for a response with a body, else 503. */
export function statusOf(decision: Decision): number {
  const status = decision.status;
  return Number.isInteger(status) && status >= 200 && status <= 599 && !BODILESS.has(status) ? status : 503;
}

/**
 * The `Retry-After` value: an HTTP date (IMF-fixdate, `toUTCString()`) when the
 * end of maintenance is known, else whole seconds, else null (no header).
 */
export function retryAfterHeader(decision: Decision, now: number): string | null {
  const until = validUntil(decision);
  if (until) return until.toUTCString();
  const seconds = retrySeconds(decision, now);
  return seconds === null ? null : String(seconds);
}

/** The headers every blocked response carries, whatever renders its body. */
export function baseHeaders(decision: Decision, now: number): Record<string, string> {
  const headers: Record<string, string> = {
    "Cache-Control": "no-store",
    "Detour-Mode": decision.mode,
    Vary: "Accept",
  };
  const retryAfter = retryAfterHeader(decision, now);
  if (retryAfter !== null) headers["Retry-After"] = retryAfter;
  return headers;
}

/** Byte length of a body as it goes on the wire (UTF-8). */
export function contentLength(body: string): string {
  return String(Buffer.byteLength(body, "utf8"));
}

/**
 * `base` overlaid with `overrides`; header names compare case-insensitively and
 * the override keeps its own spelling.
 */
export function mergeHeaders(base: HeaderMap, overrides: HeaderMap): Record<string, HeaderValue> {
  const merged: Record<string, HeaderValue> = {};
  const overridden = new Set(Object.keys(overrides).map((name) => name.toLowerCase()));
  for (const [name, value] of Object.entries(base)) {
    if (!overridden.has(name.toLowerCase())) merged[name] = value;
  }
  return Object.assign(merged, overrides);
}

export function hasHeader(headers: HeaderMap, name: string): boolean {
  const lower = name.toLowerCase();
  return Object.keys(headers).some((key) => key.toLowerCase() === lower);
}
