import ipaddr from "ipaddr.js";
import type { ClauseOp, JsonValue } from "../document/types.js";
import { compilePattern, type LinearPattern } from "./regex.js";
import { parseSemver } from "./semver.js";

/** Tests one context value (never an array) against all of a clause's values. */
export type ValueMatcher = (value: unknown) => boolean;

const DATE = /^\d\d\d\d-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d\d*)?(Z|[-+]\d\d(:\d\d)?)/;

const never: ValueMatcher = () => false;

function isNumber(v: unknown): v is number {
  return typeof v === "number";
}

function isString(v: unknown): v is string {
  return typeof v === "string";
}

/** LaunchDarkly dates: epoch milliseconds, or an RFC 3339 string; `null` when neither. */
export function toDate(v: unknown): number | null {
  if (typeof v === "number") return v;
  if (typeof v === "string" && DATE.test(v)) return Date.parse(v);
  return null;
}

function stringOp(values: readonly JsonValue[], test: (value: string, operand: string) => boolean): ValueMatcher {
  const operands = values.filter(isString);
  if (operands.length === 0) return never;
  return (value) => {
    if (typeof value !== "string") return false;
    for (const operand of operands) if (test(value, operand)) return true;
    return false;
  };
}

function numberOp(values: readonly JsonValue[], test: (value: number, operand: number) => boolean): ValueMatcher {
  const operands = values.filter(isNumber);
  if (operands.length === 0) return never;
  return (value) => {
    if (typeof value !== "number") return false;
    for (const operand of operands) if (test(value, operand)) return true;
    return false;
  };
}

function dateOp(values: readonly JsonValue[], test: (value: number, operand: number) => boolean): ValueMatcher {
  const operands = values.map(toDate).filter((d): d is number => d !== null);
  if (operands.length === 0) return never;
  return (value) => {
    const date = toDate(value);
    if (date === null) return false;
    for (const operand of operands) if (test(date, operand)) return true;
    return false;
  };
}

function semverOp(values: readonly JsonValue[], test: (order: number) => boolean): ValueMatcher {
  const operands = values.map(parseSemver).filter((v) => v !== null);
  if (operands.length === 0) return never;
  return (value) => {
    const version = parseSemver(value);
    if (!version) return false;
    for (const operand of operands) if (test(version.compare(operand))) return true;
    return false;
  };
}

function inOp(values: readonly JsonValue[]): ValueMatcher {
  // Strict equality: objects and arrays in `values` can never equal a context value.
  const primitives = values.filter((v) => v === null || typeof v !== "object");
  if (primitives.length === 0) return never;
  if (primitives.length === 1) {
    const only = primitives[0];
    return (value) => value === only;
  }
  const set = new Set<unknown>(primitives);
  return (value) => set.has(value);
}

function matchesOp(values: readonly JsonValue[], foldCase: boolean): ValueMatcher {
  const patterns: LinearPattern[] = [];
  for (const v of values) {
    if (typeof v !== "string") continue;
    // Invalid in JavaScript: never matches, as in the LaunchDarkly SDK. Beyond
    // linear-time RE2 (validation refuses it): never matches, never backtracks.
    const compiled = compilePattern(v, { foldCase });
    if (compiled.kind === "ok") patterns.push(compiled.pattern);
  }
  if (patterns.length === 0) return never;
  return (value) => {
    if (typeof value !== "string") return false;
    for (const pattern of patterns) if (pattern.test(value)) return true;
    return false;
  };
}

/** A dotted-quad IPv4 address as an unsigned 32-bit number; `null` when it is not one. */
function ipv4Number(text: string): number | null {
  let value = 0;
  let part = 0;
  let digits = 0;
  let dots = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === 46) {
      if (digits === 0 || ++dots > 3) return null;
      value = value * 256 + part;
      part = 0;
      digits = 0;
    } else if (c >= 48 && c <= 57) {
      if (digits > 0 && part === 0) return null; // no leading zeros: "010" is octal elsewhere
      part = part * 10 + (c - 48);
      if (++digits > 3 || part > 255) return null;
    } else {
      return null;
    }
  }
  if (dots !== 3 || digits === 0) return null;
  return value * 256 + part;
}

const MAPPED = "::ffff:";
/** `::a.b.c.d`, the deprecated IPv4-compatible form (glibc's inet_ntop prints `::a00:1` so). */
const COMPATIBLE = /^::\d{1,3}\.\d{1,3}\.\d{1,3}\.\d{1,3}(?:%[^/]*)?(?:\/|$)/;

/**
 * ipaddr.js reads `::a.b.c.d` as the IPv4-mapped `::ffff:a.b.c.d`, so an IPv6
 * client at `::a00:1` would pass for 10.0.0.1. `0::a.b.c.d` is the same
 * address and ipaddr.js reads it right.
 */
export function unambiguousAddress(text: string): string {
  return COMPATIBLE.test(text) ? `0${text}` : text;
}

/** IPv4 client address (plain or IPv4-mapped IPv6, as Node reports on dual-stack sockets) as a number. */
function clientIpv4(text: string): number | null {
  if (text.length > 7 && text.length <= 22 && text.charCodeAt(0) === 58 && text.slice(0, 7).toLowerCase() === MAPPED) {
    return ipv4Number(text.slice(7));
  }
  return text.length <= 15 ? ipv4Number(text) : null;
}

function bytesToNumber(bytes: readonly number[]): number {
  return ((bytes[0]! << 24) | (bytes[1]! << 16) | (bytes[2]! << 8) | bytes[3]!) >>> 0;
}

/** Parses an address or CIDR range (`10.0.0.0/8`, `::1`, `2001:db8::/32`); `null` when invalid. */
export function parseCidr(text: string): [ipaddr.IPv4 | ipaddr.IPv6, number] | null {
  try {
    const slash = text.indexOf("/");
    if (!text.includes(":")) {
      // IPv4 without the IPv6 attempt ipaddr.parseCIDR makes first (~6x faster).
      if (ipv4Number(slash < 0 ? text : text.slice(0, slash)) === null) return null;
      return slash < 0 ? [ipaddr.IPv4.parse(text), 32] : ipaddr.IPv4.parseCIDR(text);
    }
    if (slash >= 0) {
      const [address, bits] = ipaddr.parseCIDR(text);
      const normalized = normalizeAddress(address);
      return [normalized, address.kind() === "ipv6" && normalized.kind() === "ipv4" ? bits - 96 : bits];
    }
    const address = normalizeAddress(ipaddr.parse(text));
    return [address, address.kind() === "ipv4" ? 32 : 128];
  } catch {
    return null;
  }
}

/** IPv4-mapped IPv6 addresses (`::ffff:10.0.0.1`, as Node reports on dual-stack sockets) become IPv4. */
function normalizeAddress(address: ipaddr.IPv4 | ipaddr.IPv6): ipaddr.IPv4 | ipaddr.IPv6 {
  return address.kind() === "ipv6" && (address as ipaddr.IPv6).isIPv4MappedAddress()
    ? (address as ipaddr.IPv6).toIPv4Address()
    : address;
}

/** Parses a client address; `null` when it is not one. */
function parseAddress(text: string): ipaddr.IPv4 | ipaddr.IPv6 | null {
  const v4 = clientIpv4(text);
  if (v4 !== null) return ipaddr.fromByteArray([v4 >>> 24, (v4 >>> 16) & 255, (v4 >>> 8) & 255, v4 & 255]);
  if (!ipaddr.IPv6.isValid(text)) return null;
  return normalizeAddress(ipaddr.IPv6.parse(text));
}

/**
 * Compiles CIDR ranges into one membership test. IPv4 clients (the common
 * case) are tested with integer masks and no parsing library; IPv6 through
 * ipaddr.js.
 */
export function cidrMatcher(ranges: readonly (readonly [ipaddr.IPv4 | ipaddr.IPv6, number])[]): (address: string) => boolean {
  const v4: number[] = [];
  const v6: (readonly [ipaddr.IPv6, number])[] = [];
  for (const [range, bits] of ranges) {
    if (range.kind() === "ipv4") {
      const mask = bits <= 0 ? 0 : (0xffffffff << (32 - Math.min(bits, 32))) >>> 0;
      v4.push((bytesToNumber(range.toByteArray()) & mask) >>> 0, mask);
    } else {
      v6.push([range as ipaddr.IPv6, bits]);
    }
  }
  if (v4.length === 0 && v6.length === 0) return () => false;
  const inV4 = (ip: number): boolean => {
    for (let i = 0; i < v4.length; i += 2) if (((ip & v4[i + 1]!) >>> 0) === v4[i]) return true;
    return false;
  };
  return (text) => {
    const ip = clientIpv4(text);
    if (ip !== null) return inV4(ip);
    const v6text = unambiguousAddress(text);
    if (!ipaddr.IPv6.isValid(v6text)) return false;
    const address = normalizeAddress(ipaddr.IPv6.parse(v6text));
    if (address.kind() === "ipv4") return inV4(bytesToNumber(address.toByteArray()));
    for (const [range, bits] of v6) if ((address as ipaddr.IPv6).match(range, bits)) return true;
    return false;
  };
}

function inCidrOp(values: readonly JsonValue[]): ValueMatcher {
  const ranges = values.flatMap((v) => {
    const parsed = typeof v === "string" ? parseCidr(v) : null;
    return parsed ? [parsed] : [];
  });
  const test = cidrMatcher(ranges);
  return (value) => typeof value === "string" && test(value);
}

const compilers: Record<Exclude<ClauseOp, "segmentMatch">, (values: readonly JsonValue[]) => ValueMatcher> = {
  in: inOp,
  startsWith: (values) => stringOp(values, (v, o) => v.startsWith(o)),
  endsWith: (values) => stringOp(values, (v, o) => v.endsWith(o)),
  contains: (values) => stringOp(values, (v, o) => v.includes(o)),
  matches: (values) => matchesOp(values, false),
  lessThan: (values) => numberOp(values, (v, o) => v < o),
  lessThanOrEqual: (values) => numberOp(values, (v, o) => v <= o),
  greaterThan: (values) => numberOp(values, (v, o) => v > o),
  greaterThanOrEqual: (values) => numberOp(values, (v, o) => v >= o),
  before: (values) => dateOp(values, (v, o) => v < o),
  after: (values) => dateOp(values, (v, o) => v > o),
  semVerEqual: (values) => semverOp(values, (order) => order === 0),
  semVerLessThan: (values) => semverOp(values, (order) => order < 0),
  semVerGreaterThan: (values) => semverOp(values, (order) => order > 0),
  inCidr: inCidrOp,
};

export const CLAUSE_OPS: readonly ClauseOp[] = [...Object.keys(compilers), "segmentMatch"] as ClauseOp[];

/** Compiles a clause's operator and values; an unknown operator never matches. */
export function compileOperator(op: string, values: readonly JsonValue[]): ValueMatcher {
  const compile = Object.prototype.hasOwnProperty.call(compilers, op)
    ? compilers[op as keyof typeof compilers]
    : undefined;
  return compile ? compile(values) : never;
}

function lower(values: readonly JsonValue[]): JsonValue[] {
  return values.map((v) => (typeof v === "string" ? v.toLowerCase() : v));
}

/**
 * A clause operator compared case-insensitively on both sides: how Express
 * and Koa route paths. Detour's guard readings of the request path use it;
 * flag evaluation (LaunchDarkly parity) never does. Operators that do not
 * compare strings are the same as `compileOperator`'s.
 */
export function compileFoldedOperator(op: string, values: readonly JsonValue[]): ValueMatcher {
  if (op === "matches") return matchesOp(values, true);
  if (op !== "in" && op !== "startsWith" && op !== "endsWith" && op !== "contains") return compileOperator(op, values);
  const match = compileOperator(op, lower(values));
  return (value) => match(typeof value === "string" ? value.toLowerCase() : value);
}
