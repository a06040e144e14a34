import type { JsonValue, Mode } from "./types.js";

const RANK: Record<Mode, number> = { available: 0, "read-only": 1, maintenance: 2 };

/** A flag value as a mode: `true` is maintenance, `false` available; anything else is not a mode. */
export function toMode(value: JsonValue | null | undefined): Mode | null {
  if (value === true) return "maintenance";
  if (value === false) return "available";
  if (value === "available" || value === "read-only" || value === "maintenance") return value;
  return null;
}

export function isMode(value: unknown): value is Mode {
  return value === "available" || value === "read-only" || value === "maintenance";
}

export function stricter(a: Mode, b: Mode): boolean {
  return RANK[a] > RANK[b];
}

/** Methods that only read: a read-only user may use them. */
export function isSafeMethod(method: string): boolean {
  switch (method) {
    case "GET":
    case "HEAD":
    case "OPTIONS":
    case "TRACE":
      return true;
    default:
      return method === "get" || method === "head" || method === "options" || method === "trace";
  }
}
