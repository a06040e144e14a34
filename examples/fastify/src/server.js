// @ts-check
/**
 * Runs the Fastify example: `npm start` (or `node src/server.js`).
 * PORT (default 3000; 0 picks a free port), DETOUR_STORE (default this
 * example's `detour.json`; `file:PATH` or `redis://HOST:PORT/DB`).
 */
import { fileURLToPath } from "node:url";
import { exampleServer, isMain, serve } from "@detour/example-shared";
import { buildApp } from "./app.js";

/** Starts the app (options default to PORT and DETOUR_STORE) and resolves once it listens. */
export const listen = exampleServer({
  defaultStore: fileURLToPath(new URL("../detour.json", import.meta.url)),
  start: async (store, port) => {
    const app = await buildApp({ store });
    await app.listen({ port });
    const address = app.server.address();
    return { port: typeof address === "object" && address !== null ? address.port : port, close: () => app.close() };
  },
});

if (isMain(import.meta.url)) await serve("Fastify", listen);
