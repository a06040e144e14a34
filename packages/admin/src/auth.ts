import { timingSafeEqual } from "node:crypto";
import { header, type AdminRequest } from "./http.js";

/**
 * The token of an `Authorization: Bearer <token>` header, or `null`. With
 * `expected`, the token only when it equals `expected` (compared in constant
 * time), so that a bearer-token `auth` is one line:
 *
 * ```ts
 * auth: (req) => (bearerToken(req, process.env.DETOUR_ADMIN_TOKEN) ? "admin" : null)
 * ```
 * An unset or empty `expected` refuses every request.
 */
export function bearerToken(req: AdminRequest, expected?: string | null): string | null {
  const match = /^Bearer[ \t]+([A-Za-z0-9\-._~+/]+=*)[ \t]*$/i.exec(header(req, "authorization") ?? "");
  const token = match ? match[1]! : null;
  if (arguments.length < 2) return token;
  if (token === null || typeof expected !== "string" || expected === "") return null;
  const given = Buffer.from(token);
  const wanted = Buffer.from(expected);
  return given.length === wanted.length && timingSafeEqual(given, wanted) ? token : null;
}
