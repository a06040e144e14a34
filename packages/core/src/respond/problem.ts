/** The `application/problem+json` body (RFC 9457) of a blocked response. */
import type { Mode } from "../document/types.js";
import type { Scope } from "../decision/types.js";
import type { Content } from "./content.js";

export const PROBLEM_TYPES = {
  maintenance: "https://detour.dev/problems/maintenance",
  "read-only": "https://detour.dev/problems/read-only",
} as const;

/** A problem details object with Detour's extension members. */
export interface ProblemDetails {
  /** `https://detour.dev/problems/maintenance` or `https://detour.dev/problems/read-only`. */
  readonly type: string;
  /** "Service under maintenance" or "Read-only mode"; the same for every occurrence of a type. */
  readonly title: string;
  /** The HTTP status of the response. */
  readonly status: number;
  /** The flag's message, or a default worded for the mode and scope. */
  readonly detail: string;
  readonly mode: Mode;
  readonly scope: Scope | null;
  /** Whole seconds until the client should retry (counted down to the window end when known), or null. */
  readonly retryAfter: number | null;
}

export function problemDetails(content: Content, status: number, mode: Mode, scope: Scope | null): ProblemDetails {
  return {
    type: PROBLEM_TYPES[content.kind],
    title: content.title,
    status,
    detail: content.message,
    mode,
    scope,
    retryAfter: content.retryAfter,
  };
}

export function renderProblem(problem: ProblemDetails): string {
  return JSON.stringify(problem);
}
