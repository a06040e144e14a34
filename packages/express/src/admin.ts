/**
 * Mounts `@detour/admin` in Express: translates the request into an
 * `AdminRequest` and writes the `AdminResponse` back. No policy lives here.
 */
import { sendNodeResponse, type Admin, type AdminRequest } from "@detour/admin";
import type { NextFunction, Request, RequestHandler, Response } from "express";

/** The admin as Express sees this request: the full path (mounted routers included), the trust-proxy-aware host. */
export function expressAdminRequest(req: Request): AdminRequest {
  return {
    method: req.method,
    path: req.originalUrl ?? req.url,
    headers: req.headers,
    // A body parser that ran (express.json()) has consumed the stream; otherwise the admin reads it.
    body: req.readableEnded ? req.body : req,
    host: req.host,
    raw: req,
  };
}

/**
 * The admin as Express middleware: answers under `admin.basePath`, passes
 * everything else on. Use it with or without a mount path (`app.use(mount)` or
 * `app.use(admin.basePath, mount)`).
 *
 * ```ts
 * app.use(expressAdmin(createAdmin({ detour: maintenance.instance, auth })));
 * ```
 */
export function expressAdmin(admin: Admin): RequestHandler {
  return function detourAdmin(req: Request, res: Response, next: NextFunction): void {
    const request = expressAdminRequest(req);
    if (!admin.owns(request.path)) {
      next();
      return;
    }
    admin(request).then((response) => sendNodeResponse(response, req, res), next);
  };
}
