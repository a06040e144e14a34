import type { EvaluationContext } from "./types.js";

/** Reads one attribute from a flat user context, exactly as LaunchDarkly resolves it. */
export type AttributeGetter = (context: EvaluationContext) => unknown;

const USER_KINDS: readonly string[] = Object.freeze(["user"]);
const hasOwn = Object.prototype.hasOwnProperty;

function isValidReference(reference: string): boolean {
  return reference !== "" && reference !== "/" && !/\/\/|(^\/.*~[^0|^1])|~$/.test(reference);
}

function unescape(component: string): string {
  return component.replace(/~1/g, "/").replace(/~0/g, "~");
}

/**
 * Splits an attribute into path components, or returns `null` when the
 * reference is invalid. Without a context kind the attribute is a literal
 * name (LaunchDarkly's legacy rule); with one, `/a/b` is a path.
 */
export function attributeComponents(attribute: string, literal: boolean): string[] | null {
  if (literal) return attribute === "" ? null : [attribute];
  if (!isValidReference(attribute)) return null;
  const components = attribute.startsWith("/") ? attribute.slice(1).split("/").map(unescape) : [attribute];
  return components[0] === "_meta" ? null : components;
}

/** Compiles an attribute reference into a getter; `null` when the reference is invalid. */
export function compileAttribute(attribute: string, contextKind: string | undefined): AttributeGetter | null {
  const components = attributeComponents(attribute, !contextKind);
  if (!components) return null;
  if (components.length === 1 && components[0] === "kind") return () => USER_KINDS;
  const forOtherKind = contextKind !== undefined && contextKind !== "user";
  if (forOtherKind) return () => undefined;
  if (components.length === 1) {
    const name = components[0]!;
    if (name === "anonymous") return (context) => !!(context as { anonymous?: unknown }).anonymous;
    return (context) => (hasOwn.call(context, name) ? context[name] : undefined);
  }
  return (context) => {
    let current: unknown = context;
    for (const component of components) {
      if (current !== null && typeof current === "object" && !Array.isArray(current) && hasOwn.call(current, component)) {
        current = (current as Record<string, unknown>)[component];
      } else {
        return undefined;
      }
    }
    return current;
  };
}

/**
 * Whether `contextKind` means the user kind where LaunchDarkly defaults it
 * (targets, segment lists, rollouts): absent (`undefined`, or `null`, which its
 * loader strips) or `"user"`. An empty string is a kind no context has.
 */
export function targetsUsers(contextKind: string | null | undefined): boolean {
  return contextKind === undefined || contextKind === null || contextKind === "user";
}
