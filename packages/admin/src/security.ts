import { header, problem, type AdminRequest, type AdminResponse } from "./http.js";

/** Methods that only read; every other method changes state and gets the cross-site checks. */
const SAFE = new Set(["GET", "HEAD", "OPTIONS"]);

export function isSafe(method: string): boolean {
  return SAFE.has(method.toUpperCase());
}

/** 401 that says nothing about the admin, the flags or why the credentials were refused. */
export function unauthorized(): AdminResponse {
  return problem(401, "Unauthorized", undefined, {}, { "www-authenticate": 'Bearer realm="detour"' });
}

function forbidden(detail: string): AdminResponse {
  return problem(403, "Forbidden", detail);
}

/** Whether `origin` (an `Origin` header) names the host this request was sent to. */
function sameOrigin(origin: string, host: string | undefined): boolean {
  if (host === undefined || host === "") return false;
  let url: URL;
  try {
    url = new URL(origin);
  } catch {
    return false;
  }
  if (url.protocol !== "http:" && url.protocol !== "https:") return false;
  const expected = host.toLowerCase();
  // Express 4 resolves `req.host` without the port: then the host name is all there is to compare.
  return url.host === expected || (!expected.includes(":") && url.hostname === expected);
}

function isJson(contentType: string | undefined): boolean {
  if (contentType === undefined) return false;
  const [type, ...params] = contentType.split(";").map((part) => part.trim().toLowerCase());
  if (type !== "application/json") return false;
  return params.every((param) => !param.startsWith("charset=") || param === "charset=utf-8" || param === 'charset="utf-8"');
}

/**
 * Checks a state-changing request: it must come from a page of this site and
 * carry JSON. Browsers send `Origin` with every cross-site `POST`/`PUT`, and an
 * HTML form cannot send `application/json` (a script on another site can only
 * do so after a CORS preflight, which the admin never grants), so a cross-site
 * page cannot switch maintenance on with the operator's cookies.
 * Returns the refusal, or `null` when the request may go on.
 */
export function checkUnsafe(req: AdminRequest): AdminResponse | null {
  const site = header(req, "sec-fetch-site");
  if (site === "cross-site" || site === "same-site") return forbidden("cross-site requests cannot change flags");
  const origin = header(req, "origin");
  if (origin !== undefined && !sameOrigin(origin, req.host ?? header(req, "host"))) {
    return forbidden("the Origin header does not match this host");
  }
  if (!isJson(header(req, "content-type"))) {
    return problem(415, "Unsupported Media Type", "content-type: expected application/json", { field: "content-type" }, { accept: "application/json" });
  }
  return null;
}
