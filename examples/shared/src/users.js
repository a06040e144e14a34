// @ts-check
/**
 * Who is asking. The examples have no passwords: the user is whoever the
 * `X-User` header (API clients, curl) or the `user` cookie (set by
 * `/login?user=NAME` in a browser) says. Detour only needs an id to target.
 */

export const USER_HEADER = "x-user";
export const USER_COOKIE = "user";
const USER_NAME = /^[A-Za-z0-9._-]{1,64}$/;

/**
 * A valid user id, or undefined.
 * @param {unknown} value
 * @returns {string | undefined}
 */
export function userName(value) {
  return typeof value === "string" && USER_NAME.test(value) ? value : undefined;
}

/**
 * @param {string | undefined} header a `Cookie` header
 * @param {string} name
 * @returns {string | undefined}
 */
function cookie(header, name) {
  if (!header) return undefined;
  for (const part of header.split(";")) {
    const eq = part.indexOf("=");
    if (eq !== -1 && part.slice(0, eq).trim() === name) {
      try {
        return decodeURIComponent(part.slice(eq + 1).trim());
      } catch {
        return undefined;
      }
    }
  }
  return undefined;
}

/**
 * The user of a request, from Node's request headers (`req.headers`, `ctx.headers`,
 * `request.headers`): the `X-User` header, else the `user` cookie; undefined when neither
 * holds a valid id.
 * @param {import("node:http").IncomingHttpHeaders} headers
 * @returns {string | undefined}
 */
export function userOf(headers) {
  const header = headers[USER_HEADER];
  return userName(Array.isArray(header) ? header[0] : header) ?? userName(cookie(headers.cookie, USER_COOKIE));
}

/**
 * The `Set-Cookie` header that signs `user` in, or out when `user` is undefined.
 * @param {string | undefined} user
 * @returns {string}
 */
export function userCookie(user) {
  const value = user === undefined ? "" : encodeURIComponent(user);
  return `${USER_COOKIE}=${value}; Path=/; HttpOnly; SameSite=Lax; Max-Age=${user === undefined ? 0 : 7 * 24 * 3600}`;
}
