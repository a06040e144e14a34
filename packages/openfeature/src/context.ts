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
 * Translates an OpenFeature evaluation context into Detour's flat user context.
 *
 * - `targetingKey` becomes `key`; without one, a string `key` attribute is used
 *   (what the LaunchDarkly provider accepts), else `"anonymous"`.
 * - `kind` absent or `"user"`: the context is a user. `kind: "multi"` with a
 *   `user` part: that part is the user (the other kinds are left out). Any other
 *   kind cannot be evaluated by Detour, whose flags target users only: the
 *   translation fails and the provider answers `INVALID_CONTEXT`.
 * - Every other attribute passes through; `Date`s (at any depth) become
 *   RFC 3339 strings, as the LaunchDarkly provider sends them, so `before` and
 *   `after` clauses compare them. `privateAttributes` is dropped.
 */
export function toDetourContext(context: EvaluationContext): ContextTranslation {
  const kind = context.kind;
  if (kind === undefined || kind === "user") return { ok: true, context: userContext(context, context.targetingKey) };
  if (kind === "multi") {
    const user = context.user;
    if (isRecord(user)) {
      const targetingKey = typeof user.targetingKey === "string" ? user.targetingKey : undefined;
      return { ok: true, context: userContext(user, targetingKey) };
    }
    return { ok: false, message: 'a multi-kind context needs a "user" part: Detour evaluates user contexts only' };
  }
  return {
    ok: false,
    message: `context kind ${JSON.stringify(kind)} is not supported: Detour evaluates user contexts only (leave "kind" out or set it to "user")`,
  };
}

function userContext(source: Readonly<Record<string, EvaluationContextValue>>, targetingKey: string | undefined): DetourContext {
  const key = typeof targetingKey === "string" ? targetingKey : typeof source.key === "string" ? source.key : ANONYMOUS_KEY;
  const out: DetourContext = { key };
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
