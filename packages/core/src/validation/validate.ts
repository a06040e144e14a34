import { cloneJson } from "../document/clone.js";
import { ValidationError, type ValidationIssue } from "../errors.js";
import { attributeComponents } from "../evaluation/attributes.js";
import { CLAUSE_OPS, parseCidr } from "../evaluation/operators.js";
import { compilePattern } from "../evaluation/regex.js";
import { dictionary } from "../document/dictionaries.js";
import { MAX_PAGE_BYTES, type Flag, type FlagDocument, type JsonValue } from "../document/types.js";

/*
 * Validation refuses what would make a flag evaluate differently from what
 * its author meant: unknown operators, weights outside 0..100000, variation
 * indexes out of range, unknown modes in Detour flags, broken dates. It is
 * deliberately no stricter than LaunchDarkly where LaunchDarkly data could be
 * affected (an invalid regex, say, just never matches there, and here), with
 * three exceptions that keep a hostile document from hurting the process: a
 * `matches` pattern Detour cannot run in linear time, a `__proto__` key
 * (JavaScript objects would drop it or change their prototype), and nesting
 * deeper than MAX_DOCUMENT_DEPTH.
 */

type Obj = Record<string, unknown>;

const TOP_LEVEL = new Set(["flags", "flagValues", "segments", "audit", "revision"]);
const MODES = new Set(["available", "read-only", "maintenance"]);
const OPS = new Set<string>(CLAUSE_OPS);
const RFC3339 = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$/i;
const PROTO = "__proto__";

/** Deepest nesting of objects and arrays accepted (the document itself is level 1). */
export const MAX_DOCUMENT_DEPTH = 100;

export interface ValidateOptions {
  /**
   * Quote offending values in messages (`got "x"`); default true. Stores that
   * read files pass false: a file swapped for another (a symlink) must not
   * leak its content into `health().error` or logs.
   */
  readonly quoteValues?: boolean;
}

function isObject(v: unknown): v is Obj {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

/** Set for the duration of one (synchronous) `validateDocument` call: see `ValidateOptions.quoteValues`. */
let quoting = true;

function describe(v: unknown): string {
  if (v === null) return "null";
  if (Array.isArray(v)) return "an array";
  if (typeof v === "string") return quoting ? JSON.stringify(v.length > 40 ? `${v.slice(0, 40)}…` : v) : `a string of ${v.length} characters`;
  if (typeof v === "object") return "an object";
  if (typeof v === "number" && !quoting) return "a number";
  return String(v);
}

function keyPath(base: string, key: string): string {
  const shown = quoting || key.length <= 40 ? key : `${key.slice(0, 40)}…`;
  return /^[A-Za-z_$][\w$-]*$/.test(shown) ? `${base}.${shown}` : `${base}[${JSON.stringify(shown)}]`;
}

/**
 * The path of the first object or array nested deeper than `limit`, or
 * `null`. Iterative, so that no document can exhaust the stack.
 */
function tooDeep(input: unknown, limit: number): string | null {
  interface Frame { readonly value: object; readonly depth: number; readonly path: string }
  const stack: Frame[] = [{ value: input as object, depth: 1, path: "(document)" }];
  while (stack.length > 0) {
    const { value, depth, path } = stack.pop()!;
    if (depth > limit) return path;
    if (Array.isArray(value)) {
      for (let i = value.length - 1; i >= 0; i--) {
        const item: unknown = value[i];
        if (item !== null && typeof item === "object") stack.push({ value: item, depth: depth + 1, path: `${path}[${i}]` });
      }
    } else {
      for (const key of Object.keys(value)) {
        const item: unknown = (value as Obj)[key];
        if (item !== null && typeof item === "object") stack.push({ value: item, depth: depth + 1, path: depth === 1 ? key : keyPath(path, key) });
      }
    }
  }
  return null;
}

class Checker {
  readonly issues: ValidationIssue[] = [];
  flag: string | undefined;
  /** `flag "site", rule 0` or `segment "beta", rule 2`: where a clause sits, for messages. */
  rule: string | undefined;

  fail(path: string, message: string): void {
    this.issues.push(this.flag === undefined ? { path, message } : { path, flag: this.flag, message });
  }

  /** Optional fields may be absent or null (LaunchDarkly exports write nulls). */
  present(o: Obj, key: string): boolean {
    return o[key] !== undefined && o[key] !== null;
  }

  object(v: unknown, path: string): v is Obj {
    if (isObject(v)) return true;
    this.fail(path, `expected an object, got ${describe(v)}`);
    return false;
  }

  array(v: unknown, path: string): v is unknown[] {
    if (Array.isArray(v)) return true;
    this.fail(path, `expected an array, got ${describe(v)}`);
    return false;
  }

  string(v: unknown, path: string, nonEmpty = false): v is string {
    if (typeof v === "string" && (!nonEmpty || v.length > 0)) return true;
    this.fail(path, nonEmpty ? `expected a non-empty string, got ${describe(v)}` : `expected a string, got ${describe(v)}`);
    return false;
  }

  boolean(v: unknown, path: string): v is boolean {
    if (typeof v === "boolean") return true;
    this.fail(path, `expected true or false, got ${describe(v)}`);
    return false;
  }

  integer(v: unknown, path: string, min: number, max = Number.MAX_SAFE_INTEGER): v is number {
    if (typeof v === "number" && Number.isInteger(v) && v >= min && v <= max) return true;
    const range = max === Number.MAX_SAFE_INTEGER ? (min === 0 ? "a non-negative integer" : `an integer >= ${min}`) : `integer ${min}..${max}`;
    this.fail(path, `expected ${range}, got ${describe(v)}`);
    return false;
  }

  number(v: unknown, path: string, min: number): v is number {
    if (typeof v === "number" && Number.isFinite(v) && v >= min) return true;
    this.fail(path, `expected a number >= ${min}, got ${describe(v)}`);
    return false;
  }

  date(v: unknown, path: string): v is string {
    if (typeof v === "string" && RFC3339.test(v) && !Number.isNaN(Date.parse(v))) return true;
    this.fail(path, `expected an RFC 3339 date-time like "2026-12-01T02:00:00Z", got ${describe(v)}`);
    return false;
  }

  strings(v: unknown, path: string): void {
    if (!this.array(v, path)) return;
    v.forEach((item, i) => this.string(item, `${path}[${i}]`));
  }

  variationIndex(v: unknown, path: string, count: number): void {
    if (count === 0) this.fail(path, "the flag has no variations to refer to");
    else this.integer(v, path, 0, count - 1);
  }
}

function checkAttribute(c: Checker, clause: Obj, path: string): void {
  if (!c.string(clause.attribute, `${path}.attribute`, true)) return;
  const literal = !c.present(clause, "contextKind");
  if (!attributeComponents(clause.attribute, literal)) {
    c.fail(`${path}.attribute`, `${describe(clause.attribute)} is not a valid attribute reference`);
  }
}

function checkClause(c: Checker, clause: unknown, path: string): void {
  if (!c.object(clause, path)) return;
  const op = clause.op;
  if (typeof op !== "string" || !OPS.has(op)) {
    c.fail(`${path}.op`, `unknown operator ${describe(op)}; expected one of ${[...OPS].join(", ")}`);
  }
  if (op !== "segmentMatch") checkAttribute(c, clause, path);
  if (c.present(clause, "contextKind")) c.string(clause.contextKind, `${path}.contextKind`, true);
  if (c.present(clause, "negate")) c.boolean(clause.negate, `${path}.negate`);
  if (!c.array(clause.values, `${path}.values`)) return;
  clause.values.forEach((value, i) => {
    const at = `${path}.values[${i}]`;
    if (op === "segmentMatch") c.string(value, at, true);
    if (op === "inCidr" && (typeof value !== "string" || !parseCidr(value))) {
      c.fail(at, `${describe(value)} is not an IP address or CIDR range`);
    }
    if (op === "matches" && typeof value === "string") checkPattern(c, value, at);
  });
}

/** A `matches` pattern must run in linear time; one JavaScript refuses never matches, as in LaunchDarkly. */
function checkPattern(c: Checker, pattern: string, path: string): void {
  const compiled = compilePattern(pattern);
  if (compiled.kind !== "unsupported") return;
  c.fail(
    path,
    `${c.rule ?? "this rule"}: the "matches" pattern ${describe(pattern)} is refused: ${compiled.reason}. ` +
      "Detour runs patterns in time linear in the input (RE2), so that no pattern can stall the server",
  );
}

function checkRollout(c: Checker, rollout: unknown, path: string, variations: number): void {
  if (!c.object(rollout, path)) return;
  if (!c.array(rollout.variations, `${path}.variations`)) return;
  if (rollout.variations.length === 0) c.fail(`${path}.variations`, "expected at least one weighted variation");
  rollout.variations.forEach((slot, i) => {
    const at = `${path}.variations[${i}]`;
    if (!c.object(slot, at)) return;
    c.variationIndex(slot.variation, `${at}.variation`, variations);
    c.integer(slot.weight, `${at}.weight`, 0, 100000);
    if (c.present(slot, "untracked")) c.boolean(slot.untracked, `${at}.untracked`);
  });
  if (c.present(rollout, "bucketBy") && c.string(rollout.bucketBy, `${path}.bucketBy`, true)) {
    if (!attributeComponents(rollout.bucketBy, !c.present(rollout, "contextKind"))) {
      c.fail(`${path}.bucketBy`, `${describe(rollout.bucketBy)} is not a valid attribute reference`);
    }
  }
  if (c.present(rollout, "seed")) c.integer(rollout.seed, `${path}.seed`, Number.MIN_SAFE_INTEGER);
  if (c.present(rollout, "kind") && rollout.kind !== "rollout" && rollout.kind !== "experiment") {
    c.fail(`${path}.kind`, `expected "rollout" or "experiment", got ${describe(rollout.kind)}`);
  }
  if (c.present(rollout, "contextKind")) c.string(rollout.contextKind, `${path}.contextKind`, true);
}

function checkOutcome(c: Checker, source: Obj, path: string, variations: number, required: boolean): void {
  if (c.present(source, "variation")) c.variationIndex(source.variation, `${path}.variation`, variations);
  else if (c.present(source, "rollout")) checkRollout(c, source.rollout, `${path}.rollout`, variations);
  else if (required) c.fail(path, "expected a variation or a rollout");
}

function checkTargets(c: Checker, targets: unknown, path: string, variations: number): void {
  if (!c.array(targets, path)) return;
  targets.forEach((target, i) => {
    const at = `${path}[${i}]`;
    if (!c.object(target, at)) return;
    c.variationIndex(target.variation, `${at}.variation`, variations);
    c.strings(target.values, `${at}.values`);
    // A context target without a kind is a user target, as in the LaunchDarkly SDK.
    if (c.present(target, "contextKind")) c.string(target.contextKind, `${at}.contextKind`, true);
  });
}

const DETOUR_SETTINGS = [
  "message", "retryAfter", "window", "failMode", "ttl", "status", "since", "by", "redirect", "page", "refresh", "retryAt", "secret",
];
const BASE64URL = /^[A-Za-z0-9_-]+$/;

/** A local path (`/status`, not `//host`) or an absolute http(s) URL. */
export function isRedirectTarget(value: string): boolean {
  if (/^\/(?![/\\])/.test(value)) return !/[\s\x00-\x1f]/.test(value);
  if (!/^https?:\/\//i.test(value)) return false;
  try {
    return new URL(value).host !== "";
  } catch {
    return false;
  }
}

function checkDetour(c: Checker, settings: unknown, path: string, variations: unknown[]): void {
  if (!c.object(settings, path)) return;
  for (const key of Object.keys(settings)) {
    if (!DETOUR_SETTINGS.includes(key)) {
      c.fail(`${path}.${key}`, `unknown setting; expected ${DETOUR_SETTINGS.slice(0, -1).join(", ")} or ${DETOUR_SETTINGS.at(-1)}`);
    }
  }
  if (c.present(settings, "message")) c.string(settings.message, `${path}.message`);
  if (c.present(settings, "retryAfter")) c.integer(settings.retryAfter, `${path}.retryAfter`, 0);
  if (c.present(settings, "ttl")) c.number(settings.ttl, `${path}.ttl`, 0);
  if (c.present(settings, "status")) c.integer(settings.status, `${path}.status`, 400, 599);
  if (c.present(settings, "since")) c.date(settings.since, `${path}.since`);
  if (c.present(settings, "by")) c.string(settings.by, `${path}.by`);
  if (c.present(settings, "retryAt")) c.date(settings.retryAt, `${path}.retryAt`);
  if (c.present(settings, "refresh")) c.integer(settings.refresh, `${path}.refresh`, 1, 86_400);
  if (c.present(settings, "redirect") && c.string(settings.redirect, `${path}.redirect`) && !isRedirectTarget(settings.redirect)) {
    c.fail(`${path}.redirect`, `expected a local path like "/status" or an http(s) URL, got ${describe(settings.redirect)}`);
  }
  if (c.present(settings, "page") && c.string(settings.page, `${path}.page`)) {
    const bytes = Buffer.byteLength(settings.page, "utf8");
    if (bytes > MAX_PAGE_BYTES) c.fail(`${path}.page`, `the page is ${bytes} bytes; at most ${MAX_PAGE_BYTES} (256 KiB) are allowed`);
  }
  if (c.present(settings, "secret") && c.object(settings.secret, `${path}.secret`)) {
    const { salt, sha256 } = settings.secret;
    if (typeof salt !== "string" || !BASE64URL.test(salt)) c.fail(`${path}.secret.salt`, `expected a base64url string, got ${describe(salt)}`);
    if (typeof sha256 !== "string" || sha256.length !== 43 || !BASE64URL.test(sha256)) {
      c.fail(`${path}.secret.sha256`, "expected the base64url SHA-256 of the secret (43 characters); the secret itself is never stored");
    }
    for (const key of Object.keys(settings.secret)) {
      if (key !== "salt" && key !== "sha256") c.fail(`${path}.secret.${key}`, "unknown field; expected salt and sha256");
    }
  }
  if (c.present(settings, "failMode") && settings.failMode !== "open" && settings.failMode !== "closed") {
    c.fail(`${path}.failMode`, `expected "open" or "closed", got ${describe(settings.failMode)}`);
  }
  if (c.present(settings, "window") && c.object(settings.window, `${path}.window`)) {
    const { start, end } = settings.window;
    const okStart = start === undefined || start === null || c.date(start, `${path}.window.start`);
    const okEnd = end === undefined || end === null || c.date(end, `${path}.window.end`);
    if (okStart && okEnd && typeof start === "string" && typeof end === "string" && Date.parse(end) <= Date.parse(start)) {
      c.fail(`${path}.window.end`, "must be after window.start");
    }
  }
  // A flag with Detour settings is a mode flag: its variations must be modes.
  variations.forEach((value, i) => {
    if (typeof value !== "boolean" && !(typeof value === "string" && MODES.has(value))) {
      c.fail(`${path.replace(/\.detour$/, "")}.variations[${i}]`, `unknown mode ${describe(value)}; expected "available", "read-only", "maintenance" or a boolean`);
    }
  });
}

function checkFlag(c: Checker, key: string, flag: unknown, path: string): void {
  if (!c.object(flag, path)) return;
  if (c.present(flag, "key")) {
    if (flag.key !== key) c.fail(`${path}.key`, `must equal the flag's key ${describe(key)}, got ${describe(flag.key)}`);
  }
  if (c.present(flag, "on")) c.boolean(flag.on, `${path}.on`);
  const variations = c.array(flag.variations, `${path}.variations`) ? flag.variations : [];
  const count = variations.length;
  if (c.present(flag, "offVariation")) c.variationIndex(flag.offVariation, `${path}.offVariation`, count);
  if (c.present(flag, "version")) c.integer(flag.version, `${path}.version`, 0);
  if (c.present(flag, "salt")) c.string(flag.salt, `${path}.salt`);
  if (c.present(flag, "fallthrough")) {
    if (c.object(flag.fallthrough, `${path}.fallthrough`)) {
      checkOutcome(c, flag.fallthrough, `${path}.fallthrough`, count, flag.on === true);
    }
  } else if (flag.on === true) {
    c.fail(`${path}.fallthrough`, "required when the flag is on: expected a variation or a rollout");
  }
  if (c.present(flag, "targets")) checkTargets(c, flag.targets, `${path}.targets`, count);
  if (c.present(flag, "contextTargets")) checkTargets(c, flag.contextTargets, `${path}.contextTargets`, count);
  if (c.present(flag, "rules") && c.array(flag.rules, `${path}.rules`)) {
    flag.rules.forEach((rule, i) => {
      const at = `${path}.rules[${i}]`;
      if (!c.object(rule, at)) return;
      if (c.present(rule, "id")) c.string(rule.id, `${at}.id`);
      c.rule = ruleName(`flag ${JSON.stringify(key)}`, i, rule);
      if (c.array(rule.clauses, `${at}.clauses`)) rule.clauses.forEach((clause, j) => checkClause(c, clause, `${at}.clauses[${j}]`));
      c.rule = undefined;
      checkOutcome(c, rule, at, count, true);
    });
  }
  if (c.present(flag, "prerequisites") && c.array(flag.prerequisites, `${path}.prerequisites`)) {
    flag.prerequisites.forEach((p, i) => {
      const at = `${path}.prerequisites[${i}]`;
      if (!c.object(p, at)) return;
      c.string(p.key, `${at}.key`, true);
      c.integer(p.variation, `${at}.variation`, 0);
    });
  }
  if (c.present(flag, "detour")) checkDetour(c, flag.detour, `${path}.detour`, variations);
}

function checkSegment(c: Checker, key: string, segment: unknown, path: string): void {
  if (!c.object(segment, path)) return;
  if (c.present(segment, "key") && segment.key !== key) {
    c.fail(`${path}.key`, `must equal the segment's key ${describe(key)}, got ${describe(segment.key)}`);
  }
  for (const list of ["included", "excluded"]) if (c.present(segment, list)) c.strings(segment[list], `${path}.${list}`);
  for (const list of ["includedContexts", "excludedContexts"]) {
    if (c.present(segment, list) && c.array(segment[list], `${path}.${list}`)) {
      (segment[list] as unknown[]).forEach((target, i) => {
        const at = `${path}.${list}[${i}]`;
        if (!c.object(target, at)) return;
        c.string(target.contextKind, `${at}.contextKind`, true);
        c.strings(target.values, `${at}.values`);
      });
    }
  }
  if (c.present(segment, "salt")) c.string(segment.salt, `${path}.salt`);
  if (c.present(segment, "rules") && c.array(segment.rules, `${path}.rules`)) {
    segment.rules.forEach((rule, i) => {
      const at = `${path}.rules[${i}]`;
      if (!c.object(rule, at)) return;
      c.rule = ruleName(`segment ${JSON.stringify(key)}`, i, rule);
      if (c.array(rule.clauses, `${at}.clauses`)) rule.clauses.forEach((clause, j) => checkClause(c, clause, `${at}.clauses[${j}]`));
      c.rule = undefined;
      if (c.present(rule, "weight")) c.integer(rule.weight, `${at}.weight`, 0, 100000);
      if (c.present(rule, "bucketBy")) c.string(rule.bucketBy, `${at}.bucketBy`, true);
    });
  }
}

function ruleName(owner: string, index: number, rule: Obj): string {
  return typeof rule.id === "string" && rule.id !== "" ? `${owner}, rule ${index} (id ${JSON.stringify(rule.id)})` : `${owner}, rule ${index}`;
}

function checkAudit(c: Checker, audit: unknown): void {
  if (!c.array(audit, "audit")) return;
  audit.forEach((entry, i) => {
    const at = `audit[${i}]`;
    if (!c.object(entry, at)) return;
    c.string(entry.at, `${at}.at`, true);
    c.string(entry.actor, `${at}.actor`);
    c.string(entry.action, `${at}.action`, true);
    if (entry.flag !== null) c.string(entry.flag, `${at}.flag`);
    if (c.present(entry, "details")) c.object(entry.details, `${at}.details`);
  });
}

/**
 * Removes null-valued optional fields (LaunchDarkly writes them), keeping
 * `variations` and values intact. A `__proto__` key is reported (JSON.parse
 * makes it an own property; copying it into an object would set the copy's
 * prototype instead).
 */
function withoutNulls<T>(c: Checker, value: T, keep: boolean, path: string): T {
  if (value === null || typeof value !== "object") return value;
  if (keep) return cloneJson(value);
  if (Array.isArray(value)) {
    const copy = value.slice();
    for (let i = 0; i < copy.length; i++) {
      const item: unknown = copy[i];
      if (item !== null && typeof item === "object") copy[i] = withoutNulls(c, item, false, `${path}[${i}]`);
    }
    return copy as T;
  }
  const out: Obj = {};
  for (const [key, v] of Object.entries(value as Obj)) {
    if (key === PROTO) {
      c.fail(path === "" ? key : keyPath(path, key), protoMessage(path));
      continue;
    }
    if (v === null) continue;
    const keepIt = key === "variations" || key === "values" || key === "audit" || key === "flagValues";
    out[key] = withoutNulls(c, v, keepIt, path === "" ? key : keyPath(path, key));
  }
  return out as T;
}

function protoMessage(container: string): string {
  const what = container === "flags" || container === "flagValues" ? "a flag key" : container === "segments" ? "a segment key" : "a field name";
  return `"__proto__" cannot be ${what}: JavaScript objects treat it as their prototype, so it would be silently dropped`;
}


/**
 * Checks a whole flag document and returns a normalised copy (nulls in
 * optional fields dropped, flag and segment keys filled in). Throws a
 * `ValidationError` listing every problem, each with its path, e.g.
 * `flags.site.fallthrough.rollout.variations[1].weight: expected integer 0..100000`.
 */
export function validateDocument(input: unknown, source?: string, options: ValidateOptions = {}): FlagDocument {
  quoting = options.quoteValues !== false;
  try {
    return check(input, source);
  } finally {
    quoting = true;
  }
}

/** What {@link loadDocument} made of a document: the flags it could load, and every problem on the way. */
export interface LoadedDocument {
  readonly document: FlagDocument;
  /** Each problem with its path; those of a flag name it in `flag`. Empty for a document `validateDocument` accepts. */
  readonly problems: readonly ValidationIssue[];
  /** Flags Detour could not represent at all: kept at their last good version, or (without one) evaluating as MALFORMED_FLAG. */
  readonly unloadable: ReadonlySet<string>;
}

export interface LoadOptions extends ValidateOptions {
  /** The document in force before, whose version of a flag Detour cannot represent is kept. */
  readonly previous?: Readonly<FlagDocument>;
}

/**
 * Whether a flag with these problems is still one Detour evaluates as
 * LaunchDarkly's SDK would (an unknown operator, a missing `values`, an
 * out-of-range index: the SDK loads those and errs or does not match only
 * where evaluation reaches them). Not: a flag that is not an object, whose
 * `variations` are no list, whose key or `on` is wrong, or whose Detour
 * settings (the maintenance policy) are broken.
 */
function representable(flag: unknown, path: string, issues: readonly ValidationIssue[]): boolean {
  if (!isObject(flag) || !Array.isArray(flag.variations)) return false;
  return issues.every(
    (issue) =>
      issue.path !== path &&
      issue.path !== `${path}.key` &&
      issue.path !== `${path}.on` &&
      !issue.path.startsWith(`${path}.detour`) &&
      !(isObject(flag.detour) && issue.path.startsWith(`${path}.variations[`)),
  );
}

/** A stand-in for a flag Detour cannot represent: it evaluates as MALFORMED_FLAG (off, no variation to serve). */
function malformedFlag(key: string, flag: unknown): Obj {
  const failMode = isObject(flag) && isObject(flag.detour) && (flag.detour.failMode === "closed" || flag.detour.failMode === "open") ? flag.detour.failMode : undefined;
  return { key, on: false, variations: [], offVariation: 0, fallthrough: { variation: 0 }, ...(failMode ? { detour: { failMode } } : {}) };
}

/**
 * Loads a document flag by flag, as LaunchDarkly's SDK loads a data file
 * (stores, bootstrap files, `detour import`): a flag with problems the SDK
 * tolerates is kept as it is and evaluates as the SDK would; a flag Detour
 * cannot represent keeps its version in `previous`, or evaluates as
 * MALFORMED_FLAG; a segment that is not an object is left out. Every problem
 * is reported. Throws a `ValidationError` only for what cannot be a flag
 * document at all: not an object, `flags`/`segments`/`flagValues` not
 * objects, nesting deeper than MAX_DOCUMENT_DEPTH.
 */
export function loadDocument(input: unknown, source?: string, options: LoadOptions = {}): LoadedDocument {
  quoting = options.quoteValues !== false;
  try {
    return load(input, source, options.previous);
  } finally {
    quoting = true;
  }
}

/** What refuses a document whole: not an object, or nested too deep. Returns the checker to go on with. */
function documentChecker(input: unknown, source: string | undefined): { c: Checker; input: Obj } {
  const c = new Checker();
  if (!isObject(input)) {
    c.fail("(document)", `expected a JSON object with "flags", got ${describe(input)}`);
    throw new ValidationError(c.issues, source);
  }
  const deep = tooDeep(input, MAX_DOCUMENT_DEPTH);
  if (deep !== null) {
    c.fail(deep, `nested more than ${MAX_DOCUMENT_DEPTH} levels deep; no flag document needs that many`);
    throw new ValidationError(c.issues, source);
  }
  return { c, input };
}

function load(given: unknown, source: string | undefined, previous: Readonly<FlagDocument> | undefined): LoadedDocument {
  const { c, input } = documentChecker(given, source);
  for (const key of ["flags", "flagValues", "segments"]) {
    if (input[key] !== undefined && input[key] !== null) c.object(input[key], key);
  }
  if (c.issues.length > 0) throw new ValidationError(c.issues, source);
  const problems: ValidationIssue[] = [];
  for (const key of Object.keys(input)) {
    if (!TOP_LEVEL.has(key) && key !== PROTO) problems.push({ path: key, message: "unknown top-level field, left out; expected flags, flagValues, segments, audit or revision" });
  }
  const doc = withoutNulls(c, input, false, "") as Obj;
  problems.push(...c.issues);
  const flags = dictionary<Flag>();
  const unloadable = new Set<string>();
  for (const [key, flag] of Object.entries((doc.flags ?? {}) as Obj)) {
    const one = new Checker();
    one.flag = key;
    const path = keyPath("flags", key);
    checkFlag(one, key, flag, path);
    problems.push(...one.issues);
    if (one.issues.length === 0 || representable(flag, path, one.issues)) {
      flags[key] = { ...(flag as Obj), key, on: (flag as Obj).on === true } as never;
      continue;
    }
    unloadable.add(key);
    const good = previous?.flags && Object.prototype.hasOwnProperty.call(previous.flags, key) ? previous.flags[key] : undefined;
    const kept = good !== undefined ? "its last good version is kept" : "it evaluates as MALFORMED_FLAG until it is fixed";
    problems.push({ path, flag: key, message: `Detour cannot load this flag: ${kept}` });
    flags[key] = (good !== undefined ? cloneJson(good) : malformedFlag(key, flag)) as never;
  }
  const out: FlagDocument = {};
  if (doc.flags) out.flags = flags;
  if (doc.flagValues) {
    out.flagValues = dictionary<JsonValue>();
    for (const [key, value] of Object.entries(doc.flagValues as Obj)) {
      if (Object.prototype.hasOwnProperty.call(flags, key)) problems.push({ path: keyPath("flagValues", key), message: "also defined under flags, which wins; a key may appear in only one of them" });
      else out.flagValues[key] = value as JsonValue;
    }
  }
  if (doc.segments) {
    out.segments = dictionary();
    for (const [key, segment] of Object.entries(doc.segments as Obj)) {
      const one = new Checker();
      checkSegment(one, key, segment, keyPath("segments", key));
      problems.push(...one.issues);
      if (isObject(segment)) out.segments[key] = { ...segment, key } as never;
    }
  }
  const rest = new Checker();
  if (doc.audit !== undefined) checkAudit(rest, doc.audit);
  if (rest.issues.length === 0 && doc.audit) out.audit = doc.audit as FlagDocument["audit"];
  if (doc.revision !== undefined && rest.integer(doc.revision, "revision", 0)) out.revision = doc.revision as number;
  problems.push(...rest.issues);
  return { document: out, problems, unloadable };
}

function check(given: unknown, source: string | undefined): FlagDocument {
  const { c, input } = documentChecker(given, source);
  for (const key of Object.keys(input)) {
    if (!TOP_LEVEL.has(key) && key !== PROTO) c.fail(key, `unknown top-level field; expected flags, flagValues, segments, audit or revision`);
  }
  const doc = withoutNulls(c, input, false, "") as Obj;
  const flags = doc.flags ?? {};
  if (c.object(flags, "flags")) {
    for (const [key, flag] of Object.entries(flags)) {
      c.flag = key;
      checkFlag(c, key, flag, keyPath("flags", key));
    }
    c.flag = undefined;
  }
  const flagValues = doc.flagValues ?? {};
  if (c.object(flagValues, "flagValues") && isObject(flags)) {
    for (const key of Object.keys(flagValues)) {
      if (key === PROTO) c.fail(keyPath("flagValues", key), protoMessage("flagValues"));
      else if (Object.prototype.hasOwnProperty.call(flags, key)) {
        c.fail(keyPath("flagValues", key), "also defined under flags; a key may appear in only one of them");
      }
    }
  }
  const segments = doc.segments ?? {};
  if (c.object(segments, "segments")) {
    for (const [key, segment] of Object.entries(segments)) checkSegment(c, key, segment, keyPath("segments", key));
  }
  if (doc.audit !== undefined) checkAudit(c, doc.audit);
  if (doc.revision !== undefined) c.integer(doc.revision, "revision", 0);
  if (c.issues.length > 0) throw new ValidationError(c.issues, source);

  // Key-to-value maps without a prototype: `flags.constructor` is a flag or nothing, never Object's.
  const out: FlagDocument = {};
  if (doc.flags) {
    out.flags = dictionary();
    for (const [key, flag] of Object.entries(doc.flags as Obj)) {
      out.flags[key] = { ...(flag as Obj), key, on: (flag as Obj).on === true } as never;
    }
  }
  if (doc.flagValues) out.flagValues = Object.assign(dictionary<JsonValue>(), doc.flagValues as Record<string, JsonValue>);
  if (doc.segments) {
    out.segments = dictionary();
    for (const [key, segment] of Object.entries(doc.segments as Obj)) out.segments[key] = { ...(segment as Obj), key } as never;
  }
  if (doc.audit) out.audit = doc.audit as FlagDocument["audit"];
  if (doc.revision !== undefined) out.revision = doc.revision as number;
  return out;
}
