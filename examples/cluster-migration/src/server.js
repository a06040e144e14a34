// @ts-check
/**
 * Runs the notes API: `npm start` (or `node src/server.js`).
 * PORT (default 3000; 0 picks a free port), DETOUR_STORE (default this
 * example's `detour.json`; `file:PATH` or `redis://HOST:PORT/DB`),
 * OLD_DATABASE_URL and NEW_DATABASE_URL (default databases `notes_old` and
 * `notes_new` on postgres://postgres@127.0.0.1:5432; `npm run setup` creates them).
 */
import { fileURLToPath } from "node:url";
import { exampleServer, isMain, listenHttp, serve } from "@detour/example-shared";
import { buildApp } from "./app.js";
import { clustersFromEnv } from "./cluster.js";

/** Starts the app (options default to PORT and DETOUR_STORE) and resolves once it listens. */
export const listen = exampleServer({
  defaultStore: fileURLToPath(new URL("../detour.json", import.meta.url)),
  start: async (store, port) => {
    const clusters = clustersFromEnv();
    const app = buildApp({ store, clusters });
    try {
      const server = await listenHttp(app, port);
      return {
        port: server.port,
        close: () => server.close().finally(() => Promise.all([app.locals.detour.close(), clusters.old.close(), clusters.new.close()]).then(() => {})),
      };
    } catch (error) {
      await Promise.all([app.locals.detour.close(), clusters.old.close(), clusters.new.close()]);
      throw error;
    }
  },
});

if (isMain(import.meta.url)) await serve("cluster-migration", listen);
