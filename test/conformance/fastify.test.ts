import { createAdmin } from "@detour/admin";
import { createDetour, type DetourOptions } from "@detour/core";
import { detour, fastifyRequest } from "@detour/fastify";
import { fastifyAdmin } from "@detour/fastify/admin";
import Fastify, { type FastifyInstance, type FastifyRequest, type FastifyServerOptions } from "fastify";
import { runSecurityConformance, type Route, type SecurityHarness } from "./security-suite.js";
import { GUARDED_FEATURE, GUARDED_PATH, OPEN_PATHS, ROUTE_METHODS, answer, runConformance, type Harness } from "./suite.js";

type Register = (app: FastifyInstance, options: DetourOptions<FastifyRequest>) => PromiseLike<unknown>;

/** A harness for one way of registering the plugin; the guarded route uses route config or `app.detour.feature()`. */
function harness(register: Register, guard: "config" | "preHandler"): Harness<FastifyRequest> {
  return {
    accessor: fastifyRequest,
    async build(options, { trustProxy }) {
      const app = Fastify({ trustProxy });
      await register(app, options);
      app.setErrorHandler((error: Error, _request, reply) => reply.code(500).type("text/plain").send(error.message));
      const handler = async (request: FastifyRequest) => answer(request.detour);
      for (const url of OPEN_PATHS) app.route({ method: [...ROUTE_METHODS], url, handler });
      if (guard === "config") app.route({ method: [...ROUTE_METHODS], url: GUARDED_PATH, config: { detour: { feature: GUARDED_FEATURE } }, handler });
      else app.route({ method: [...ROUTE_METHODS], url: GUARDED_PATH, preHandler: app.detour.feature(GUARDED_FEATURE), handler });
      await app.ready();
      return { server: app.server, detour: app.detour, close: () => app.close() };
    },
  };
}

export const fastifyHarness = harness((app, options) => app.register(detour(options)), "config");

runConformance("fastify", fastifyHarness);
// Fastify's own convention, as with @fastify/rate-limit: the plugin and its options.
runConformance("fastify app.register(detour, options)", harness((app, options) => app.register(detour, options), "preHandler"));
runConformance(
  "fastify app.register(detour, { detour: instance })",
  harness(async (app, options) => {
    const instance = createDetour<FastifyRequest>(options);
    app.addHook("onClose", async () => instance.close());
    await app.register(detour, { detour: instance });
  }, "preHandler"),
);

/** The README's Fastify app: routes (case-sensitive), a /* SPA fallback, optionally rewriteUrl, `;` delimiters and the admin. */
export const fastifySecurityHarness: SecurityHarness<FastifyRequest> = {
  accessor: fastifyRequest,
  async build(options, settings) {
    const app = Fastify({
      // Fastify 5 reads it from routerOptions (the top-level option is deprecated and warned about); its types do not list it there yet.
      routerOptions: { useSemicolonDelimiter: settings.semicolons === true } as FastifyServerOptions["routerOptions"],
      rewriteUrl: settings.stripV2 ? (req) => (req.url?.startsWith("/v2/") ? req.url.slice(3) : (req.url ?? "/")) : undefined,
    });
    await app.register(detour(options));
    const admin = settings.admin ? createAdmin({ detour: app.detour, ...settings.admin }) : null;
    if (admin) await app.register(fastifyAdmin(admin));
    const route = (name: Route) => ({ method: [...ROUTE_METHODS, "OPTIONS"], handler: async () => ({ route: name }) });
    app.route({ ...route("health"), url: "/health" });
    for (const name of ["billing", "admin", "public"] as const) {
      app.route({ ...route(name), url: `/${name}` });
      app.route({ ...route(name), url: `/${name}/*` });
    }
    app.route({ ...route("spa"), url: "/*" });
    await app.ready();
    return { server: app.server, detour: app.detour, close: async () => (admin?.close(), app.close()) };
  },
};

runSecurityConformance("fastify", fastifySecurityHarness);
