import type { Flag, JsonValue, Mode } from "./types.js";

const RANK: Record<Mode, number> = { available: 0, "read-only": 1, maintenance: 2 };

/** A flag value as a mode: `true` is maintenance, `false` available; anything else is not a mode. */
export function toMode(value: JsonValue | null | undefined): Mode | null {
  if (value === true) return "maintenance";
  if (value === false) return "available";
  // The literals, not the document's strings: the policy compares modes per request, and literals compare by identity.
  if (value === "available") return "available";
  if (value === "read-only") return "read-only";
  if (value === "maintenance") return "maintenance";
  return null;
}

/** The mode of each of a flag's variations (`null` for a value that is not a mode). */
export function modesOf(flag: Readonly<Flag>): (Mode | null)[] {
  return (Array.isArray(flag.variations) ? (flag.variations as JsonValue[]) : []).map((value) => toMode(value));
}

/** Every variation of the flag is a mode (what `enable`/`disable` can toggle). */
export function hasModeValues(flag: Readonly<Flag>): boolean {
  return Array.isArray(flag.variations) && (flag.variations as JsonValue[]).every((value) => toMode(value) !== null);
}

/**
 * A flag Detour treats as a maintenance flag ("mode flag") where it lists
 * flags (status, the console): the site flag, a flag with Detour settings, or
 * one whose values are mode names; every value a mode either way.
 */
export function isModeFlag(flag: Readonly<Flag>, siteFlag: string): boolean {
  const values = Array.isArray(flag.variations) ? (flag.variations as JsonValue[]) : [];
  if (values.length === 0 || !hasModeValues(flag)) return false;
  return flag.key === siteFlag || flag.detour !== undefined || values.some((value) => typeof value === "string");
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

/** The strictest of some modes; `available` for none. */
export function strictestMode(modes: Iterable<Mode>): Mode {
  let result: Mode = "available";
  for (const mode of modes) if (stricter(mode, result)) result = mode;
  return result;
}
