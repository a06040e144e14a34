// @ts-check
/**
 * Running an example as a program: `PORT`, listening, printing the URL,
 * stopping cleanly on SIGINT/SIGTERM.
 */
import { realpathSync } from "node:fs";
import { createServer } from "node:http";
import { pathToFileURL } from "node:url";
import { openStore } from "./store.js";

/** @typedef {import("@detour/core").Store} Store */

/**
 * @typedef {object} RunningServer
 * @property {string} url `http://localhost:<port>`
 * @property {number} port the port actually listened on (`PORT=0` picks a free one)
 * @property {string} store what to pass to the CLI's `--store` to toggle this server's flags
 * @property {() => Promise<void>} close stops listening and closes the Detour store
 */

/**
 * `PORT`: unset or empty for `fallback`, else a port number; 0 asks the system for a free port.
 * @param {string | number | undefined} value
 * @param {number} [fallback]
 */
export function portFrom(value, fallback = 3000) {
  if (value === undefined || value === "") return fallback;
  const port = Number(value);
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new Error(`PORT: expected a port number 0..65535, got ${JSON.stringify(value)}`);
  return port;
}

/**
 * Serves a Node request listener (an Express app, a Koa `app.callback()`) on `port`.
 * @param {import("node:http").RequestListener} listener
 * @param {number} port
 * @returns {Promise<{ port: number, close(): Promise<void> }>}
 */
export async function listenHttp(listener, port) {
  const server = createServer(listener);
  await new Promise((resolve, reject) => {
    server.once("error", reject);
    server.listen(port, () => resolve(undefined));
  });
  const address = server.address();
  return {
    port: typeof address === "object" && address !== null ? address.port : port,
    close: () =>
      new Promise((resolve, reject) => {
        server.close((error) => (error ? reject(error) : resolve()));
        server.closeAllConnections();
      }),
  };
}

/**
 * Calls `close` on the first SIGINT or SIGTERM, then exits (0 when it closed cleanly);
 * a second signal exits at once.
 * @param {() => Promise<void>} close
 */
export function stopOnSignals(close) {
  let stopping = false;
  /** @param {NodeJS.Signals} signal */
  const stop = (signal) => {
    if (stopping) process.exit(1);
    stopping = true;
    console.log(`\n${signal}: stopping`);
    close().then(
      () => process.exit(0),
      (error) => {
        console.error(error);
        process.exit(1);
      },
    );
  };
  process.on("SIGINT", stop);
  process.on("SIGTERM", stop);
}

/**
 * @typedef {object} StartOptions
 * @property {string | number} [port] default `PORT`, else 3000; 0 picks a free port
 * @property {string} [store] default `DETOUR_STORE`, else `defaultStore` (see `openStore()`)
 */

/**
 * @callback StartApp builds the app on `store` and listens on `port`
 * @param {Store} store
 * @param {number} port
 * @returns {Promise<{ port: number, close(): Promise<void> }>}
 */

/**
 * An example's `listen()`: opens the store named by `DETOUR_STORE` (or `options.store`;
 * `defaultStore` when neither is set) and starts the app on `PORT` (or `options.port`)
 * with `start`. Resolves once the server listens.
 * @param {{ defaultStore: string, start: StartApp }} example
 * @returns {(options?: StartOptions) => Promise<RunningServer>}
 */
export function exampleServer({ defaultStore, start }) {
  return async ({ port = process.env.PORT, store = process.env.DETOUR_STORE } = {}) => {
    const listenOn = portFrom(port);
    const opened = await openStore(store, { defaultPath: defaultStore });
    let server;
    try {
      server = await start(opened.store, listenOn);
    } catch (error) {
      await opened.store.close();
      throw error;
    }
    const { close } = server;
    return {
      url: `http://localhost:${server.port}`,
      port: server.port,
      store: opened.location,
      close: async () => {
        await close();
        await opened.store.close(); // closing twice is harmless; a store must not outlive the server
      },
    };
  };
}

/**
 * True when the module at `moduleUrl` is the program node was started with.
 * @param {string} moduleUrl `import.meta.url`
 */
export function isMain(moduleUrl) {
  const entry = process.argv[1];
  return entry !== undefined && pathToFileURL(realpathSync(entry)).href === moduleUrl;
}

/**
 * Runs a server module as a program: starts it, prints its URL, stops on SIGINT/SIGTERM.
 * @param {string} name
 * @param {() => Promise<RunningServer>} listen
 */
export async function serve(name, listen) {
  const running = await listen();
  console.log(`Detour ${name} example on ${running.url} (flags: ${running.store})`);
  stopOnSignals(running.close);
  return running;
}
