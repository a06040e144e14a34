import type { EvaluationContext as DetourContext } from "@detour/core";
import type { EvaluationContext, EvaluationContextValue } from "@openfeature/server-sdk";

/** The key used when a context has neither `targetingKey` nor a string `key`: the one Detour's middleware uses for anonymous requests. */
export const ANONYMOUS_KEY = "anonymous";

/** What {@link toDetourContext} makes of an OpenFeature context. */
export type ContextTranslation =
  | { readonly ok: true; readonly context: DetourContext }
  | { readonly ok: false; readonly message: string };

/** Keys that are OpenFeature or LaunchDarkly metadata, not attributes. */
const RESERVED = new Set(["targetingKey", "key", "kind", "privateAttributes"]);

/**
 * Translates an OpenFeature evaluation context into the LaunchDarkly context
 * Detour evaluates, as LaunchDarkly's OpenFeature provider does.
 *
 * - `targetingKey` becomes `key`; without one, a string `key` attribute is used
 *   (what the LaunchDarkly provider accepts), else `"anonymous"` for a user.
 * - `kind` absent: Detour's flat user context. `kind: "organization"` (any
 *   kind, `"user"` too): that single-kind context, which needs a key unless it is
 *   a user. `kind: "multi"`: one part per object-valued attribute, each with its
 *   own `targetingKey` or `key`; other top-level attributes are left out.
 * - Every other attribute passes through; `Date`s (at any depth) become
 *   RFC 3339 strings, as the LaunchDarkly provider sends them, so `before` and
 *   `after` clauses compare them. `privateAttributes` is dropped.
 *
 * Kinds are checked by the evaluation itself: an invalid one is
 * `USER_NOT_SPECIFIED` there, `INVALID_CONTEXT` to OpenFeature.
 */
export function toDetourContext(context: EvaluationContext): ContextTranslation {
  const kind = context.kind;
  if (kind === undefined) return { ok: true, context: part(context, context.targetingKey, ANONYMOUS_KEY) as DetourContext };
  if (kind !== "multi") return single(context, String(kind));
  const multi: Record<string, unknown> = { kind: "multi" };
  for (const name of Object.keys(context)) {
    const value = context[name];
    if (name === "kind" || !isRecord(value)) continue;
    const translated = single(value, name);
    if (!translated.ok) return translated;
    const { kind: _kind, ...attributes } = translated.context as Record<string, unknown>;
    multi[name] = attributes;
  }
  return { ok: true, context: multi as DetourContext };
}

function single(source: Readonly<Record<string, EvaluationContextValue>>, kind: string): ContextTranslation {
  const targetingKey = typeof source.targetingKey === "string" ? source.targetingKey : undefined;
  const attributes = part(source, targetingKey, kind === "user" ? ANONYMOUS_KEY : undefined);
  if (attributes.key === undefined) {
    return { ok: false, message: `the ${JSON.stringify(kind)} context has no targetingKey (or string "key")` };
  }
  return { ok: true, context: { ...attributes, kind } as DetourContext };
}

function part(
  source: Readonly<Record<string, EvaluationContextValue>>,
  targetingKey: string | undefined,
  fallbackKey: string | undefined,
): Record<string, unknown> {
  const key = typeof targetingKey === "string" ? targetingKey : typeof source.key === "string" ? source.key : fallbackKey;
  const out: Record<string, unknown> = key === undefined ? {} : { key };
  for (const name of Object.keys(source)) {
    if (RESERVED.has(name)) continue;
    out[name] = plain(source[name], 0);
  }
  return out;
}

const MAX_DEPTH = 64;

/** The value with every `Date` turned into an ISO string; the same reference when there is none. */
function plain(value: EvaluationContextValue | undefined, depth: number): unknown {
  if (value instanceof Date) return Number.isNaN(value.getTime()) ? null : value.toISOString();
  if (value === null || typeof value !== "object" || depth >= MAX_DEPTH) return value;
  if (Array.isArray(value)) {
    let copy: unknown[] | undefined;
    value.forEach((item, i) => {
      const converted = plain(item, depth + 1);
      if (converted !== item) (copy ??= value.slice())[i] = converted;
    });
    return copy ?? value;
  }
  let copy: Record<string, unknown> | undefined;
  for (const name of Object.keys(value)) {
    const item = value[name];
    const converted = plain(item, depth + 1);
    if (converted !== item) (copy ??= { ...value })[name] = converted;
  }
  return copy ?? value;
}

function isRecord(value: unknown): value is Record<string, EvaluationContextValue> {
  return value !== null && typeof value === "object" && !Array.isArray(value) && !(value instanceof Date);
}
