export { compilePathMatcher, normalizePath } from "./paths.js";
export { compileIpMatcher } from "./ips.js";
export { tokenMatcher } from "./token.js";
export {
  BYPASS_COOKIE,
  issueBypassCookie,
  matchesSecretPath,
  readCookie,
  verifyBypassCookie,
  type IssueCookieOptions,
  type VerifyCookieOptions,
} from "./cookie.js";
