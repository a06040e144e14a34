import { dictionary } from "../document/dictionaries.js";
import { MAX_PAGE_BYTES, type DetourFlagSettings, type Flag, type FlagDocument, type JsonValue, type Mode, type Target } from "../document/types.js";
import { isRedirectTarget } from "../validation/validate.js";
import { isValidKind } from "../evaluation/context.js";
import { ArgumentError } from "../errors.js";
import { hashFlagSecret } from "../bypass/flag-secret.js";
import { hasModeValues, isMode, stricter, toMode } from "../document/modes.js";
import { appendValues, removeValues, valueCount } from "../document/target-values.js";

/*
 * The operations an operator performs (CLI, admin API, programmatic), as pure
 * edits of a draft document. Stores run them inside their atomic write, so
 * every caller gets the same semantics and the audit entry lands in the same
 * write as the change.
 */

export const MODE_VARIATIONS: readonly Mode[] = ["available", "read-only", "maintenance"];

export interface EnableOptions {
  /** Default `maintenance`; with `users` or `percent` and no mode, `read-only`. */
  mode?: "read-only" | "maintenance";
  /** Put these users (context keys) in the mode; others are untouched. Shorthand for `contexts` of kind `user`. */
  users?: readonly string[];
  /** Put these contexts in the mode, e.g. `[{ kind: "organization", key: "acme" }]`; others are untouched. */
  contexts?: readonly ContextRef[];
  /** Put this percentage (0..100) of users in the mode, by a stable hash of their key. */
  percent?: number;
  message?: string;
  retryAfter?: number;
  /** In force only from `start` until `end` (RFC 3339 or Date). */
  window?: { start?: string | Date; end?: string | Date };
  /** Ends by itself this many seconds from now. */
  ttl?: number;
  /** HTTP status for blocked requests (400..599). */
  status?: number;
  /** Blocked GET/HEAD requests that would get the HTML page are redirected here: a local path (`/status`) or an http(s) URL. */
  redirect?: string;
  /** A pre-rendered HTML page served as the maintenance page (at most 256 KiB of UTF-8). */
  page?: string;
  /** Seconds: the `Refresh` header (and the page's reload) on blocked GET/HEAD requests. */
  refresh?: number;
  /** When clients should retry (RFC 3339 or Date), when no window end says; Retry-After counts down to it. */
  retryAt?: string | Date;
  /**
   * A bypass secret for this maintenance period: visiting `/<secret>` sets the
   * bypass cookie, signed with the app's `allow.secret` (apps without one
   * ignore it). Stored as a salted SHA-256, never as given.
   */
  secret?: string;
}

/**
 * The settings that describe one maintenance period: they end with it, so
 * the next `enable` starts afresh. (`failMode` is configuration and stays.)
 */
export const PERIOD_SETTINGS = [
  "since", "ttl", "window", "message", "retryAfter", "retryAt", "status", "redirect", "page", "refresh", "secret",
] as const satisfies readonly (keyof DetourFlagSettings)[];

export interface DisableOptions {
  /** Take only these users out of the mode; without it (and `contexts`) the whole flag is turned off. */
  users?: readonly string[];
  /** Take only these contexts out of the mode. */
  contexts?: readonly ContextRef[];
}

/** One context of one kind: `{ kind: "organization", key: "acme" }`. */
export interface ContextRef {
  kind: string;
  key: string;
}

export interface OperationContext {
  actor: string;
  now: number;
}

function iso(value: string | Date, name: string): string {
  const date = value instanceof Date ? value : new Date(value);
  if (typeof value === "string" && !/^\d{4}-\d{2}-\d{2}T/.test(value)) {
    throw new ArgumentError(name, `expected an RFC 3339 date-time, got ${JSON.stringify(value)}`);
  }
  if (Number.isNaN(date.getTime())) throw new ArgumentError(name, `not a valid date: ${String(value)}`);
  return date.toISOString();
}

export function checkFlagKey(key: unknown): string {
  if (typeof key !== "string" || !/^[A-Za-z0-9][A-Za-z0-9._:-]*$/.test(key)) {
    throw new ArgumentError("flag", `expected a flag key of letters, digits, ".", "_", ":" or "-", got ${JSON.stringify(key)}`);
  }
  return key;
}

function checkUsers(users: unknown): string[] {
  if (!Array.isArray(users) || users.some((u) => typeof u !== "string" || u === "")) {
    throw new ArgumentError("users", "expected a list of non-empty user ids");
  }
  return [...new Set(users as string[])];
}

/**
 * `users` and `contexts` together, as keys per kind (`user` first), or
 * `undefined` when neither is given. Refuses invalid kinds and empty keys.
 */
export function contextsByKind(users: unknown, contexts: unknown): Map<string, string[]> | undefined {
  if (users === undefined && contexts === undefined) return undefined;
  const byKind = new Map<string, string[]>();
  if (users !== undefined) byKind.set("user", checkUsers(users));
  if (contexts !== undefined) {
    if (!Array.isArray(contexts)) throw new ArgumentError("contexts", 'expected a list of { kind, key }, e.g. [{ kind: "organization", key: "acme" }]');
    contexts.forEach((ref: unknown, i) => {
      const { kind, key } = (ref ?? {}) as Partial<ContextRef>;
      if (!isValidKind(kind)) {
        throw new ArgumentError(`contexts[${i}].kind`, `expected a context kind of letters, digits, ".", "_" or "-" (not "kind" or "multi"), got ${JSON.stringify(kind)}`);
      }
      if (typeof key !== "string" || key === "") throw new ArgumentError(`contexts[${i}].key`, `expected a non-empty key, got ${JSON.stringify(key)}`);
      const keys = byKind.get(kind) ?? [];
      if (!keys.includes(key)) keys.push(key);
      byKind.set(kind, keys);
    });
  }
  return byKind;
}

const isUserKind = (contextKind: string | undefined) => !contextKind || contextKind === "user";

function newModeFlag(key: string): Flag {
  return {
    key,
    on: false,
    variations: [...MODE_VARIATIONS],
    offVariation: 0,
    fallthrough: { variation: 0 },
    targets: [],
    salt: key,
    detour: {},
  };
}

/** The document's own flag `key` (never an `Object.prototype` member such as `constructor`). */
function ownFlag(doc: FlagDocument, key: string): Flag | undefined {
  return doc.flags && Object.prototype.hasOwnProperty.call(doc.flags, key) ? doc.flags[key] : undefined;
}

/** The flag as a mode flag, created when missing; refuses flags whose values are not modes. */
function modeFlag(doc: FlagDocument, key: string): Flag {
  if (doc.flagValues && Object.prototype.hasOwnProperty.call(doc.flagValues, key)) {
    throw new ArgumentError("flag", `"${key}" is a fixed flagValues entry; move it under "flags" to toggle it`);
  }
  doc.flags ??= dictionary();
  const flag = ownFlag(doc, key) ?? (doc.flags[key] = newModeFlag(key));
  if (!hasModeValues(flag)) {
    throw new ArgumentError("flag", `"${key}" is not a mode flag: its variations are not modes (${JSON.stringify(flag.variations)})`);
  }
  flag.detour ??= {};
  return flag;
}

/** Index of the variation meaning `mode`, added when the flag has none. */
function variationFor(flag: Flag, mode: Mode): number {
  const exact = flag.variations.indexOf(mode);
  if (exact >= 0) return exact;
  const equivalent = flag.variations.findIndex((v) => toMode(v as JsonValue) === mode);
  if (equivalent >= 0) return equivalent;
  flag.variations.push(mode);
  return flag.variations.length - 1;
}

function removeUsers(flag: Flag, users: readonly string[]): void {
  const drop = new Set(users);
  for (const target of flag.targets ?? []) removeValues(target, drop);
  flag.targets = (flag.targets ?? []).filter((t) => valueCount(t.values) > 0);
  for (const target of flag.contextTargets ?? []) {
    if (target.contextKind === "user" || !target.contextKind) {
      // User context targets mirror `targets`; keep them pointing at variations that still have users.
      target.values = [];
    }
  }
  if (flag.contextTargets) {
    flag.contextTargets = flag.contextTargets.filter((t) => (t.contextKind && t.contextKind !== "user") || flag.targets!.some((u) => u.variation === t.variation));
  }
}

/** Takes keys of a kind other than `user` out of the flag's context targets. */
function removeContexts(flag: Flag, kind: string, keys: readonly string[]): void {
  if (!flag.contextTargets) return;
  const drop = new Set(keys);
  for (const target of flag.contextTargets) {
    if (target.contextKind === kind && Array.isArray(target.values)) removeValues(target, drop);
  }
  flag.contextTargets = flag.contextTargets.filter((t) => isUserKind(t.contextKind) || (Array.isArray(t.values) && valueCount(t.values) > 0));
}

/**
 * Targets keys of a kind other than `user`. LaunchDarkly reads only
 * `contextTargets` once it has entries, its user entries standing for
 * `targets`: the first such entry brings one for every user target along.
 */
function addContexts(flag: Flag, kind: string, keys: readonly string[], variation: number): void {
  removeContexts(flag, kind, keys);
  if (!flag.contextTargets?.length) {
    flag.contextTargets = (flag.targets ?? []).map((t) => ({ contextKind: "user", variation: t.variation, values: [] }));
  }
  let target = flag.contextTargets.find((t) => t.contextKind === kind && t.variation === variation);
  if (!target) {
    target = { contextKind: kind, variation, values: [] };
    flag.contextTargets.push(target);
  }
  appendValues(target, keys);
}

/** Adds or removes targets, per kind. */
function retarget(flag: Flag, byKind: ReadonlyMap<string, readonly string[]>, variation: number | null): void {
  for (const [kind, keys] of byKind) {
    if (kind === "user") variation === null ? removeUsers(flag, keys) : addUsers(flag, keys, variation);
    else variation === null ? removeContexts(flag, kind, keys) : addContexts(flag, kind, keys, variation);
  }
}

function addUsers(flag: Flag, users: readonly string[], variation: number): void {
  removeUsers(flag, users);
  flag.targets ??= [];
  let target = flag.targets.find((t) => t.variation === variation);
  if (!target) {
    target = { variation, values: [] };
    flag.targets.push(target);
  }
  appendValues(target, users);
  if (flag.contextTargets?.length && !flag.contextTargets.some((t) => (!t.contextKind || t.contextKind === "user") && t.variation === variation)) {
    flag.contextTargets.push({ contextKind: "user", variation, values: [] });
  }
}

function wasInForce(flag: Flag): boolean {
  return flag.on || toMode(flag.variations[flag.offVariation ?? -1] as JsonValue) !== "available";
}

function applySettings(flag: Flag, options: EnableOptions, context: OperationContext): void {
  const settings: DetourFlagSettings = flag.detour!;
  if (options.message !== undefined) {
    if (typeof options.message !== "string") throw new ArgumentError("message", "expected a string");
    settings.message = options.message;
  }
  if (options.retryAfter !== undefined) {
    if (!Number.isInteger(options.retryAfter) || options.retryAfter < 0) throw new ArgumentError("retryAfter", "expected whole seconds >= 0");
    settings.retryAfter = options.retryAfter;
  }
  if (options.retryAt !== undefined) settings.retryAt = iso(options.retryAt, "retryAt");
  if (options.status !== undefined) {
    if (!Number.isInteger(options.status) || options.status < 400 || options.status > 599) throw new ArgumentError("status", "expected 400..599");
    settings.status = options.status;
  }
  if (options.refresh !== undefined) {
    if (!Number.isInteger(options.refresh) || options.refresh < 1 || options.refresh > 86_400) throw new ArgumentError("refresh", "expected whole seconds 1..86400");
    settings.refresh = options.refresh;
  }
  if (options.redirect !== undefined) {
    if (typeof options.redirect !== "string" || !isRedirectTarget(options.redirect)) {
      throw new ArgumentError("redirect", `expected a local path like "/status" or an http(s) URL, got ${JSON.stringify(options.redirect)}`);
    }
    settings.redirect = options.redirect;
  }
  if (options.page !== undefined) {
    if (typeof options.page !== "string" || options.page.trim() === "") throw new ArgumentError("page", "expected the HTML of a page");
    const bytes = Buffer.byteLength(options.page, "utf8");
    if (bytes > MAX_PAGE_BYTES) throw new ArgumentError("page", `the page is ${bytes} bytes; at most ${MAX_PAGE_BYTES} (256 KiB) are allowed`);
    settings.page = options.page;
  }
  if (options.secret !== undefined) settings.secret = hashFlagSecret(options.secret);
  if (options.window !== undefined) {
    const window: { start?: string; end?: string } = {};
    if (options.window.start !== undefined) window.start = iso(options.window.start, "window.start");
    if (options.window.end !== undefined) window.end = iso(options.window.end, "window.end");
    if (window.start && window.end && window.end <= window.start) throw new ArgumentError("window.end", "must be after window.start");
    // A window that is already over would silently end the flag (and release everyone in it).
    if (window.end && Date.parse(window.end) <= context.now) {
      throw new ArgumentError("window.end", `${window.end} is in the past (now is ${new Date(context.now).toISOString()})`);
    }
    settings.window = window;
  }
  if (options.ttl !== undefined) {
    if (typeof options.ttl !== "number" || !(options.ttl > 0)) throw new ArgumentError("ttl", "expected seconds > 0");
    settings.ttl = options.ttl;
  }
  settings.by = context.actor;
}

/** The mode `enable` puts in force: individual maintenance (users, tenants, a percentage) is read-only unless said otherwise. */
export function enabledMode(options: EnableOptions): string {
  return options.mode ?? (options.users || options.contexts || options.percent !== undefined ? "read-only" : "maintenance");
}

/** Contexts for an audit entry, as `[{ kind, key }]` (absent when none were given). */
export function auditedContexts(contexts: readonly ContextRef[] | undefined): JsonValue | undefined {
  return contexts ? contexts.map(({ kind, key }) => ({ kind, key })) : undefined;
}

/** Turns a mode on for the whole flag, some users, or a percentage of users. */
export function enableFlag(doc: FlagDocument, key: string, options: EnableOptions, context: OperationContext): Flag {
  checkFlagKey(key);
  const users = contextsByKind(options.users, options.contexts);
  const mode = enabledMode(options);
  if (!isMode(mode) || (mode as Mode) === "available") throw new ArgumentError("mode", `expected "read-only" or "maintenance", got ${JSON.stringify(mode)}`);
  if (options.percent !== undefined && (typeof options.percent !== "number" || !(options.percent >= 0 && options.percent <= 100))) {
    throw new ArgumentError("percent", "expected a number from 0 to 100");
  }
  const flag = modeFlag(doc, key);
  const before = wasInForce(flag);
  const index = variationFor(flag, mode);
  const available = variationFor(flag, "available");
  flag.offVariation ??= available;
  if (users) {
    retarget(flag, users, index);
    // Users alone never put everyone else in a mode left over from before.
    if (!before || !flag.fallthrough) flag.fallthrough = { variation: available };
  }
  if (options.percent !== undefined) {
    const weight = Math.round(options.percent * 1000);
    flag.fallthrough = {
      rollout: { variations: [{ variation: index, weight }, { variation: available, weight: 100000 - weight }], bucketBy: "key" },
    };
  }
  if (!users && options.percent === undefined) flag.fallthrough = { variation: index };
  flag.on = true;
  applySettings(flag, options, context);
  const settings = flag.detour!;
  if (!before || options.ttl !== undefined || !settings.since) settings.since = new Date(context.now).toISOString();
  if (options.ttl === undefined && !before) delete settings.ttl;
  flag.version = (flag.version ?? 0) + 1;
  return flag;
}

/** True for a target that puts its users in read-only or maintenance. */
function blockingTarget(flag: Flag, target: Target): boolean {
  const mode = toMode(flag.variations[target.variation] as JsonValue);
  return mode === "read-only" || mode === "maintenance";
}

/**
 * Turns a flag off, or takes some users out of it. Off without users ends
 * the flag entirely: the users targeted into a mode, the percentage, and
 * every setting of the period (message, window, ttl, redirect, page, secret...),
 * so the next `enable` starts from nothing. Users targeted `available`
 * (exemptions) and rules, which are configuration, stay.
 */
export function disableFlag(doc: FlagDocument, key: string, options: DisableOptions, context: OperationContext): Flag | null {
  checkFlagKey(key);
  const flag = ownFlag(doc, key);
  if (!flag) return null;
  const some = contextsByKind(options.users, options.contexts);
  if (some !== undefined) {
    retarget(flag, some, null);
  } else {
    const available = flag.variations.findIndex((v) => toMode(v as JsonValue) === "available");
    if (available < 0) throw new ArgumentError("flag", `"${key}" has no "available" (or false) variation to fall back to`);
    flag.on = false;
    flag.offVariation = available;
    flag.fallthrough = { variation: available };
    if (flag.targets) flag.targets = flag.targets.filter((target) => !blockingTarget(flag, target));
    if (flag.contextTargets) flag.contextTargets = flag.contextTargets.filter((target) => !blockingTarget(flag, target));
    if (flag.detour) {
      for (const field of PERIOD_SETTINGS) delete flag.detour[field];
      flag.detour.by = context.actor;
    }
  }
  flag.version = (flag.version ?? 0) + 1;
  return flag;
}

/**
 * `detour import --merge`: the incoming document's flags, flagValues and
 * segments replace those of the same key in `doc`; everything else stays.
 * A key moves between `flags` and `flagValues` when the incoming document
 * says so.
 */
export function mergeDocument(doc: FlagDocument, incoming: Readonly<FlagDocument>): void {
  for (const [key, flag] of Object.entries(incoming.flags ?? {})) {
    (doc.flags ??= {})[key] = structuredClone(flag);
    if (doc.flagValues) delete doc.flagValues[key];
  }
  for (const [key, value] of Object.entries(incoming.flagValues ?? {})) {
    (doc.flagValues ??= {})[key] = structuredClone(value);
    if (doc.flags) delete doc.flags[key];
  }
  for (const [key, segment] of Object.entries(incoming.segments ?? {})) (doc.segments ??= {})[key] = structuredClone(segment);
}

/**
 * Sets a multivariate percentage rollout on a flag's fallthrough, e.g.
 * `{ old: 50, dual: 25, new: 25 }`. Percentages must sum to 100 and name
 * existing variations (string values).
 */
export function setRollout(doc: FlagDocument, key: string, split: Readonly<Record<string, number>>): Flag {
  checkFlagKey(key);
  const flag = ownFlag(doc, key);
  if (!flag) throw new ArgumentError("flag", `no flag "${key}"`);
  const entries = Object.entries(split);
  if (entries.length === 0) throw new ArgumentError("rollout", "expected at least one variation=percent");
  let total = 0;
  const slots = entries.map(([name, percent]) => {
    const variation = flag.variations.findIndex((v) => v === name || JSON.stringify(v) === name);
    if (variation < 0) {
      throw new ArgumentError(`rollout.${name}`, `"${key}" has no variation "${name}"; it has ${flag.variations.map((v) => JSON.stringify(v)).join(", ")}`);
    }
    if (typeof percent !== "number" || !(percent >= 0 && percent <= 100)) throw new ArgumentError(`rollout.${name}`, "expected a percentage 0..100");
    const weight = Math.round(percent * 1000);
    total += weight;
    return { variation, weight };
  });
  if (total !== 100000) throw new ArgumentError("rollout", `percentages must sum to 100, got ${total / 1000}`);
  // Slots always follow the flag's variation order, whatever order they were given in:
  // moving weight from earlier variations to later ones then only ever moves users forward.
  slots.sort((a, b) => a.variation - b.variation);
  const bucketBy = flag.fallthrough?.rollout?.bucketBy;
  flag.fallthrough = { rollout: { variations: slots, ...(bucketBy ? { bucketBy } : {}) } };
  flag.on = true;
  flag.version = (flag.version ?? 0) + 1;
  return flag;
}
