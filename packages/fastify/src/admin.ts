/**
 * Mounts `@detour/admin` in Fastify: translates the request into an
 * `AdminRequest` and writes the `AdminResponse` back. No policy lives here.
 */
import { sendNodeResponse, type Admin, type AdminRequest } from "@detour/admin";
import type { FastifyInstance, FastifyPluginCallback, FastifyReply, FastifyRequest } from "fastify";

/** The admin as Fastify sees this request: the full URL, the trust-proxy-aware host, the unread body. */
export function fastifyAdminRequest(request: FastifyRequest): AdminRequest {
  return {
    method: request.method,
    path: request.url,
    headers: request.headers,
    body: request.body === undefined ? request.raw : request.body,
    host: request.host,
    raw: request,
  };
}

/**
 * The admin as a Fastify plugin: routes for `admin.basePath` and everything
 * under it, in their own scope (the admin reads its bodies itself, so the
 * scope hands them over unparsed). Register it without a `prefix`.
 *
 * ```ts
 * await app.register(fastifyAdmin(createAdmin({ detour: app.detour, auth })));
 * ```
 */
export function fastifyAdmin(admin: Admin): FastifyPluginCallback {
  return function detourAdmin(fastify: FastifyInstance, _options, done) {
    fastify.removeAllContentTypeParsers();
    fastify.addContentTypeParser("*", (_request, _payload, parsed) => parsed(null));
    const handler = async (request: FastifyRequest, reply: FastifyReply) => {
      const response = await admin(fastifyAdminRequest(request));
      if (response.events) {
        reply.hijack();
        sendNodeResponse(response, request.raw, reply.raw);
        return reply;
      }
      return reply.code(response.status).headers(response.headers).send(response.body ?? "");
    };
    for (const url of [admin.basePath, `${admin.basePath}/*`]) fastify.all(url, handler);
    done();
  };
}
