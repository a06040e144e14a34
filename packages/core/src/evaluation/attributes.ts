import { kindsOf, legacyAttribute, partOf } from "./context.js";
import type { EvaluationContext } from "./types.js";

/** Reads one attribute of one context kind, exactly as LaunchDarkly resolves it. */
export type AttributeGetter = (context: EvaluationContext) => unknown;

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

/**
 * The kind a clause, target, rollout or segment rule reads: `user` when its
 * `contextKind` is absent (`undefined`, or `null`, which LaunchDarkly's loader
 * strips); any other string as it is (`""` is a kind no context has).
 */
export function kindOf(contextKind: string | null | undefined): string {
  return contextKind === undefined || contextKind === null ? "user" : contextKind;
}

function descend(value: unknown, components: readonly string[], from: number): unknown {
  let current = value;
  for (let i = from; i < components.length; i++) {
    const component = components[i]!;
    if (current !== null && typeof current === "object" && !Array.isArray(current) && hasOwn.call(current, component)) {
      current = (current as Record<string, unknown>)[component];
    } else {
      return undefined;
    }
  }
  return current;
}

/**
 * Compiles an attribute reference into a getter; `null` when the reference is
 * invalid. `contextKind` absent: a literal name read from the user kind (the
 * legacy rule); present: a reference (`/a/b` a path) into that kind's part.
 */
export function compileAttribute(attribute: string, contextKind: string | null | undefined): AttributeGetter | null {
  return compileReference(attribute, !contextKind, kindOf(contextKind));
}

/** As `compileAttribute`, with the literal rule and the kind given apart (rollouts: `bucketBy` is literal for any falsy kind). */
export function compileReference(attribute: string, literal: boolean, kind: string): AttributeGetter | null {
  const components = attributeComponents(attribute, literal);
  if (!components) return null;
  const first = components[0]!;
  if (components.length === 1 && first === "kind") return kindsOf;
  const anonymous = components.length === 1 && first === "anonymous";
  if (kind !== "user") {
    return (context) => {
      const part = partOf(context, kind);
      if (part === undefined) return undefined;
      if (anonymous) return !!part.anonymous;
      return descend(part, components, 0);
    };
  }
  return (context) => {
    const own = context.kind;
    let value: unknown;
    if (own === undefined || own === null) {
      value = legacyAttribute(context, first);
    } else {
      const part = partOf(context, "user");
      if (part === undefined) return undefined;
      value = hasOwn.call(part, first) ? part[first] : undefined;
    }
    if (anonymous) return !!value;
    return components.length === 1 ? value : descend(value, components, 1);
  };
}

/** Whether `contextKind` means the user kind (see `kindOf`). */
export function targetsUsers(contextKind: string | null | undefined): boolean {
  return kindOf(contextKind) === "user";
}
