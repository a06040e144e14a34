import { detour, fastifyRequest } from "@detour/fastify";
import Fastify, { type FastifyRequest } from "fastify";
import { GUARDED_FEATURE, GUARDED_PATH, OPEN_PATHS, ROUTE_METHODS, answer, runConformance, type Harness } from "./suite.js";

export const fastifyHarness: Harness<FastifyRequest> = {
  accessor: fastifyRequest,
  async build(options, { trustProxy }) {
    const app = Fastify({ trustProxy });
    await app.register(detour(options));
    app.setErrorHandler((error: Error, _request, reply) => reply.code(500).type("text/plain").send(error.message));
    const handler = async (request: FastifyRequest) => answer(request.detour);
    for (const url of OPEN_PATHS) app.route({ method: [...ROUTE_METHODS], url, handler });
    app.route({ method: [...ROUTE_METHODS], url: GUARDED_PATH, config: { detour: { feature: GUARDED_FEATURE } }, handler });
    await app.ready();
    return { server: app.server, detour: app.detour, close: () => app.close() };
  },
};

runConformance("fastify", fastifyHarness);
