import { isValidKind, type ContextRef } from "@detour/core";
import { InvalidArgumentError } from "commander";

/** `--user a --user b,c` → `["a", "b", "c"]` (commander option collector). */
export function collectUsers(value: string, previous: string[] = []): string[] {
  const ids = value
    .split(",")
    .map((id) => id.trim())
    .filter((id) => id !== "");
  if (ids.length === 0) throw new InvalidArgumentError("expected a user id (repeat --user or separate ids with commas)");
  return [...previous, ...ids];
}

/** `--context organization:acme` (repeatable, comma-separated): contexts of any kind, `kind:key` each (the key may hold colons). */
export function collectContexts(value: string, previous: ContextRef[] = []): ContextRef[] {
  const refs = value
    .split(",")
    .map((ref) => ref.trim())
    .filter((ref) => ref !== "")
    .map((ref): ContextRef => {
      const colon = ref.indexOf(":");
      const kind = colon < 0 ? "" : ref.slice(0, colon);
      const key = colon < 0 ? "" : ref.slice(colon + 1);
      if (!isValidKind(kind) || key === "") {
        throw new InvalidArgumentError(`expected kind:key, e.g. organization:acme (a kind of letters, digits, ".", "_" or "-"), got ${JSON.stringify(ref)}`);
      }
      return { kind, key };
    });
  if (refs.length === 0) throw new InvalidArgumentError("expected kind:key, e.g. organization:acme (repeat --context or separate them with commas)");
  return [...previous, ...refs];
}

/** Whole seconds >= `min`. */
export function seconds(min: number): (value: string) => number {
  return (value) => {
    const text = value.trim();
    if (!/^\d+$/.test(text) || Number(text) < min) throw new InvalidArgumentError(`expected whole seconds >= ${min}, got ${JSON.stringify(value)}`);
    return Number(text);
  };
}

/** A whole number >= 0 (`--check-ratio`). */
export function wholeNumber(value: string): number {
  const text = value.trim();
  if (!/^\d+$/.test(text) || !Number.isSafeInteger(Number(text))) throw new InvalidArgumentError(`expected a whole number >= 0, got ${JSON.stringify(value)}`);
  return Number(text);
}

/** A percentage 0..100 (up to three decimals, the resolution of rollout weights). */
export function percent(value: string): number {
  const text = value.trim().replace(/%$/, "");
  if (!/^\d+(\.\d{1,3})?$/.test(text) || Number(text) > 100) {
    throw new InvalidArgumentError(`expected a percentage from 0 to 100, got ${JSON.stringify(value)}`);
  }
  return Number(text);
}

const UNITS: Record<string, number> = { s: 1_000, m: 60_000, h: 3_600_000, d: 86_400_000 };

/**
 * A point in time: an RFC 3339 date-time (`2026-12-01T02:00:00Z`), `now`, or
 * an offset from now (`+30m`, `+2h`, `+90s`, `+1d`). Returns an ISO string.
 */
export function timeArgument(now: () => number = Date.now): (value: string) => string {
  return (value) => {
    const text = value.trim();
    if (text.toLowerCase() === "now") return new Date(now()).toISOString();
    const offset = /^\+(\d+)([smhd])$/i.exec(text);
    if (offset) return new Date(now() + Number(offset[1]) * UNITS[offset[2]!.toLowerCase()]!).toISOString();
    if (!/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:\d{2})$/i.test(text) || Number.isNaN(Date.parse(text))) {
      throw new InvalidArgumentError(`expected an RFC 3339 time (2026-12-01T02:00:00Z), "now" or an offset (+30m, +2h), got ${JSON.stringify(value)}`);
    }
    return new Date(text).toISOString();
  };
}

/** An HTTP status for blocked requests: 400..599 (as the app's `status` option). */
export function httpStatus(value: string): number {
  const text = value.trim();
  if (!/^\d{3}$/.test(text) || Number(text) < 400 || Number(text) > 599) {
    throw new InvalidArgumentError(`expected an HTTP error status 400..599, got ${JSON.stringify(value)}`);
  }
  return Number(text);
}

/** `--retry`: whole seconds (Retry-After: N), or a time (RFC 3339, `+2h`) that Retry-After counts down to. */
export type Retry = { readonly seconds: number } | { readonly at: string };

export function retryArgument(now: () => number = Date.now): (value: string) => Retry {
  const time = timeArgument(now);
  return (value) => {
    if (/^\s*\d+\s*$/.test(value)) return { seconds: Number(value.trim()) };
    try {
      return { at: time(value) };
    } catch {
      throw new InvalidArgumentError(`expected whole seconds (600) or a time (2026-12-01T03:00:00Z, +2h), got ${JSON.stringify(value)}`);
    }
  };
}
