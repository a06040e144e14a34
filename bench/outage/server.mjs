// The app for the outage bench: Fastify 5 + Detour on the Redis store.
//
//   node server.mjs <redis-url> <prefix>
//
// The store's document (seeded by the runner) holds a site flag that is
// read-only for 1,000 other users, so every request is evaluated; the request's
// user is not targeted, so every answer should be 200. Prints "LISTENING <port>"
// once the store has loaded. Store errors are counted, not logged per request.
import { pathToFileURL } from "node:url";

const [url, prefix] = process.argv.slice(2);
const { fastifyDetour, redisStore } = await import(pathToFileURL(process.env.DETOUR_BENCH_BUNDLE).href);
const { default: Fastify } = await import("fastify");

let storeErrors = 0;
const store = redisStore({ url, prefix, logger: null, onError: () => storeErrors++ });
const app = Fastify({ logger: false });
const plugin = fastifyDetour({ store, user: (request) => request.headers["x-user"], onStoreError: () => {} });
await app.register(plugin);
app.get("/", (request, reply) => reply.send("hello world"));
await app.ready();
await plugin.instance.ready;
if (!plugin.instance.snapshot()) throw new Error("the store did not load");
app.server.listen(0, "127.0.0.1", () => process.stdout.write(`LISTENING ${app.server.address().port}\n`));
process.on("SIGUSR2", () => {
  const health = store.health();
  process.stdout.write(`HEALTH ${JSON.stringify({ storeErrors, health })}\n`);
});
process.on("SIGTERM", () => process.exit(0));
