import { isValidKind } from "../evaluation/context.js";
import type { EvaluationContext, UserContext } from "../evaluation/types.js";
import type { ContextInput } from "../options.js";

/*
 * A request's other context kinds, from what the `contexts` option gave for
 * them: one kind's key, its part of the multi-kind context, the whole
 * multi-kind context.
 */

/** What `contexts(req)` gives for every kind at once. */
export type GivenContexts = Record<string, ContextInput> | null | undefined;

/** The key of one kind's context as `contexts(req)` gave it (`undefined` for none): what its part's `key` would be. */
export function keyOfInput(input: ContextInput): string | undefined {
  if (typeof input === "string") return input === "" ? undefined : input;
  if (typeof input === "number") return Number.isFinite(input) ? String(input) : undefined;
  if (input === null || typeof input !== "object") return undefined;
  const key = input.key;
  return typeof key === "string" && key !== "" ? key : undefined;
}

/** One kind's part of a request's context from what `contexts(req)` gave for it; `null` for none. */
function contextPart(input: ContextInput): Record<string, unknown> | null {
  const key = keyOfInput(input);
  if (key === undefined) return null;
  if (typeof input !== "object" || input === null) return { key };
  const { kind: _kind, ...part } = input;
  return part;
}

/** `multi` with `kind`'s part added (created around `user` on the first part); unchanged when the input holds none. */
export function withPart(multi: Record<string, unknown> | undefined, user: UserContext, kind: string, input: ContextInput): Record<string, unknown> | undefined {
  const part = contextPart(input);
  if (part === null || kind === "user" || !isValidKind(kind)) return multi;
  (multi ??= { kind: "multi", user })[kind] = part;
  return multi;
}

/** The multi-kind context of `user` and the kinds `contexts(req)` gave; `user` alone when it gave none. */
export function multiKind(user: UserContext, given: GivenContexts): EvaluationContext {
  let multi: Record<string, unknown> | undefined;
  if (given) for (const kind of Object.keys(given)) multi = withPart(multi, user, kind, given[kind]);
  return multi === undefined ? user : (multi as EvaluationContext);
}
