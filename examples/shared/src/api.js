// @ts-check
/**
 * The examples' own API errors use the same format as Detour's 503s for API
 * clients: `application/problem+json` (RFC 9457).
 */

export const PROBLEM_JSON = "application/problem+json";

/**
 * @param {number} status
 * @param {string} title
 * @param {string} [detail]
 */
export function problem(status, title, detail) {
  return { type: "about:blank", title, status, ...(detail === undefined ? {} : { detail }) };
}

export const NOT_SIGNED_IN = problem(401, "Not signed in", "Send an X-User header (or the user cookie) to say who you are.");
