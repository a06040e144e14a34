// @ts-check
/**
 * Runs the Express example: `npm start` (or `node src/server.js`).
 * PORT (default 3000; 0 picks a free port), DETOUR_STORE (default this
 * example's `detour.json`; `file:PATH` or `redis://HOST:PORT/DB`),
 * DETOUR_ADMIN_TOKEN (the admin console's bearer token; unset: it refuses everyone).
 */
import { fileURLToPath } from "node:url";
import { exampleServer, isMain, listenHttp, serve } from "@detour/example-shared";
import { buildApp } from "./app.js";

/** Starts the app (options default to PORT and DETOUR_STORE) and resolves once it listens. */
export const listen = exampleServer({
  defaultStore: fileURLToPath(new URL("../detour.json", import.meta.url)),
  start: async (store, port) => {
    const app = buildApp({ store, adminToken: process.env.DETOUR_ADMIN_TOKEN });
    const server = await listenHttp(app, port);
    return { port: server.port, close: () => (app.locals.admin.close(), server.close()).finally(() => app.locals.detour.close()) };
  },
});

if (isMain(import.meta.url)) await serve("Express", listen);
