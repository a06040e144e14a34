import type { EvaluationContext } from "./types.js";

/*
 * LaunchDarkly contexts as its server SDK reads them, without copying them:
 * the evaluator looks a kind's part up in the object it was given.
 *
 * - `kind` absent (or null): Detour's flat form, which is also LaunchDarkly's
 *   legacy user: the `user` kind, its `custom` attributes readable as the SDK
 *   reads them (see `legacyAttribute`).
 * - `kind: "multi"`: one part per kind, `{ kind: "multi", user: {...}, organization: {...} }`.
 * - any other kind: a single-kind context, `{ kind: "organization", key: "acme", ... }`.
 */

type Attributes = Record<string, unknown>;

const hasOwn = Object.prototype.hasOwnProperty;
const KIND = /^(\w|\.|-)+$/;

/** The user attributes a legacy LaunchDarkly user has at top level; any other is read from `custom`. */
const LEGACY_BUILT_INS = new Set(["name", "ip", "firstName", "lastName", "email", "avatar", "country", "anonymous"]);

function isObject(value: unknown): value is Attributes {
  return value !== null && typeof value === "object" && !Array.isArray(value);
}

/** Kinds already found valid: a request's kinds are checked on every evaluation, the pattern once. */
const validKinds = new Set<string>(["user"]);

/** Whether `kind` is a context kind LaunchDarkly accepts: letters, digits, `.`, `_`, `-`, and not `kind` (nor `multi`, which names the form). */
export function isValidKind(kind: unknown): kind is string {
  if (typeof kind !== "string") return false;
  if (validKinds.has(kind)) return true;
  if (kind === "kind" || kind === "multi" || !KIND.test(kind)) return false;
  if (validKinds.size < 256) validKinds.add(kind);
  return true;
}

function validKey(key: unknown): boolean {
  return typeof key === "string" && key !== "";
}

/**
 * Why LaunchDarkly's SDK refuses `context` (it then answers
 * `ERROR`/`USER_NOT_SPECIFIED`), or `null` when it is a valid context.
 */
export function contextProblem(context: unknown): string | null {
  if (!isObject(context)) return "no context given";
  const kind = context.kind;
  if (kind === undefined || kind === null) {
    // Legacy users may have any key but a missing one, even "" (it is made a string).
    return context.key === undefined || context.key === null ? 'the context has no "key"' : null;
  }
  if (typeof kind !== "string") return `"kind" must be a string, got ${typeof kind}`;
  if (kind !== "multi") {
    if (!isValidKind(kind)) return `${JSON.stringify(kind)} is not a valid context kind`;
    return validKey(context.key) ? null : `the ${kind} context needs a non-empty string "key"`;
  }
  let kinds = 0;
  for (const name in context) {
    if (name === "kind" || !hasOwn.call(context, name)) continue;
    kinds++;
    if (!isValidKind(name)) return `${JSON.stringify(name)} is not a valid context kind`;
    const part = context[name];
    if (!isObject(part)) return `the ${name} part of a multi-kind context must be an object`;
    if (!validKey(part.key)) return `the ${name} context needs a non-empty string "key"`;
  }
  return kinds === 0 ? "a multi-kind context needs at least one kind" : null;
}

/** Whether `context` (valid) is in the flat / legacy user form. */
export function isFlat(context: EvaluationContext): boolean {
  return context.kind === undefined || context.kind === null;
}

/** The part of a valid context for `kind`, or `undefined` when it has none. Flat contexts are their own user part. */
export function partOf(context: EvaluationContext, kind: string): Attributes | undefined {
  const own = context.kind;
  if (own === undefined || own === null) return kind === "user" ? context : undefined;
  if (own === "multi") return kind !== "kind" && hasOwn.call(context, kind) ? (context[kind] as Attributes) : undefined;
  return own === kind ? context : undefined;
}

/** The key of the context's `kind` part, or `undefined`. A legacy user's key is read as a string, as LaunchDarkly does. */
export function keyOf(context: EvaluationContext, kind: string): string | undefined {
  const own = context.kind;
  if (own === undefined || own === null) {
    if (kind !== "user") return undefined;
    const key = context.key;
    return typeof key === "string" ? key : String(key);
  }
  return partOf(context, kind)?.key as string | undefined;
}

/** The kinds of a valid context, as the `kind` attribute reads them. */
export function kindsOf(context: EvaluationContext): string[] {
  const own = context.kind;
  if (own === undefined || own === null) return ["user"];
  if (own !== "multi") return [own as string];
  return Object.keys(context).filter((name) => name !== "kind");
}

/** Whether the context has a part of `kind`. */
export function hasKind(context: EvaluationContext, kind: string): boolean {
  return partOf(context, kind) !== undefined;
}

/**
 * A first-level attribute of a flat (legacy) user, as LaunchDarkly's SDK reads a
 * legacy user: `key` as a string, the built-ins at top level, the others from
 * `custom`. Detour's flat form also reads any other top-level attribute (that
 * is where it differs from a legacy user, whose SDK ignores those).
 */
export function legacyAttribute(context: Attributes, name: string): unknown {
  if (name === "key") {
    const key = context.key;
    return typeof key === "string" ? key : String(key);
  }
  const custom = context.custom;
  if (custom === undefined || !isObject(custom)) return hasOwn.call(context, name) ? context[name] : undefined;
  if (LEGACY_BUILT_INS.has(name)) {
    const value = context[name];
    if (value !== undefined && value !== null && hasOwn.call(context, name)) return value;
  }
  if (hasOwn.call(custom, name)) return custom[name];
  return name !== "custom" && hasOwn.call(context, name) ? context[name] : undefined;
}

/** A copy of `context` whose user part has `name` set to `value` (flat contexts are their own user part). */
export function withUserAttribute(context: EvaluationContext, name: string, value: unknown): EvaluationContext {
  if (context.kind === "multi") {
    const user = partOf(context, "user");
    return user === undefined ? context : ({ ...context, user: { ...user, [name]: value } } as EvaluationContext);
  }
  return { ...context, [name]: value } as EvaluationContext;
}
