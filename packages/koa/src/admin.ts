/**
 * Mounts `@detour/admin` in Koa: translates the context into an
 * `AdminRequest` and writes the `AdminResponse` back. No policy lives here.
 */
import { sendNodeResponse, type Admin, type AdminRequest } from "@detour/admin";
import type { Context, Middleware, Next } from "koa";

/** The admin as Koa sees this request: the full path (koa-mount included), the proxy-aware host. */
export function koaAdminRequest(ctx: Context): AdminRequest {
  const parsed = (ctx.request as { body?: unknown }).body;
  return {
    method: ctx.method,
    path: ctx.originalUrl,
    headers: ctx.req.headers,
    // A body parser that ran has consumed the stream; otherwise the admin reads it.
    body: ctx.req.readableEnded ? parsed : ctx.req,
    host: ctx.host,
    raw: ctx,
  };
}

/**
 * The admin as Koa middleware: answers under `admin.basePath`, passes
 * everything else on.
 *
 * ```ts
 * app.use(koaAdmin(createAdmin({ detour: maintenance.instance, auth })));
 * ```
 */
export function koaAdmin(admin: Admin): Middleware {
  return async function detourAdmin(ctx: Context, next: Next): Promise<void> {
    const request = koaAdminRequest(ctx);
    if (!admin.owns(request.path)) {
      await next();
      return;
    }
    const response = await admin(request);
    if (response.events) {
      // An event stream outlives this middleware: write it to the raw response.
      ctx.respond = false;
      sendNodeResponse(response, ctx.req, ctx.res);
      return;
    }
    ctx.status = response.status;
    ctx.set(response.headers);
    // Koa turns a null body into 204: an empty one keeps the status.
    ctx.body = response.body ?? "";
  };
}
