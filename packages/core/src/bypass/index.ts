export { compilePathMatcher, type PathMatcherOptions } from "./path-globs.js";
export { allowReading, decodedReadings, normalizePath, readRequestPaths, targetPath, type RequestPaths } from "./path-readings.js";
export { compileIpMatcher } from "./ips.js";
export { tokenMatcher } from "./token.js";
export {
  BYPASS_COOKIE,
  DEFAULT_BYPASS_TTL,
  MAX_BYPASS_TTL,
  issueBypassCookie,
  verifyBypassCookie,
  readCookies,
  compileSecretPathMatcher,
  type IssueCookieOptions,
  type VerifyCookieOptions,
  type IssueBypassCookieOptions,
  type VerifyBypassCookieOptions,
} from "./cookie.js";
