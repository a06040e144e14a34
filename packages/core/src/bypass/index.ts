export { compilePathMatcher, normalizePath, type PathMatcherOptions } from "./paths.js";
export { compileIpMatcher } from "./ips.js";
export { tokenMatcher } from "./token.js";
export {
  BYPASS_COOKIE,
  DEFAULT_BYPASS_TTL,
  MAX_BYPASS_TTL,
  issueBypassCookie,
  verifyBypassCookie,
  readCookie,
  readCookies,
  matchesSecretPath,
  compileSecretPathMatcher,
  type IssueCookieOptions,
  type VerifyCookieOptions,
  type IssueBypassCookieOptions,
  type VerifyBypassCookieOptions,
} from "./cookie.js";
