// One hello-world server variant, for the callgrind and autocannon benches.
//
//   node server.mjs <framework> <variant> [--port 0]
//
// framework: express | koa | fastify
// variant:   bare        GET / answers "hello world", nothing else
//            noop        + one middleware / onRequest hook that does nothing
//            noop2       the same as noop, a second copy for the A/A check
//            detour-none + Detour, a site flag that is off (no flag in force)
//            detour-user + Detour, a read-only site flag targeting 1,000 other
//                          users (the request's user, from the x-user header, is not one)
//            detour-tenant + Detour, a read-only site flag targeting 1,000 other
//                          organizations (LaunchDarkly context targets; the request's,
//                          from the x-org header through contexts(), is not one)
//            peer        + the framework's maintenance peer: `maintenance` on
//                          Express, `@fastify/under-pressure` on Fastify
// Diagnostic variants (Express only, run on demand with --variants):
//            probe-req-prop    no-op middleware that sets req.detour = <shared object>
//            probe-res-locals  no-op middleware that sets res.locals.detour = <shared object>
//            probe-ip          no-op middleware that reads req.ip (what Detour's context needs)
//            probe-user        no-op middleware that reads req.headers["x-user"] (what the Detour variants' user() callback does)
//
// Prints "LISTENING <port>" on stdout once ready. The Detour bundle path comes
// from DETOUR_BENCH_BUNDLE (built by bench/lib/bundle.mjs), so this file runs
// from the sources without a build.
import { createRequire } from "node:module";
import v8 from "node:v8";
import { pathToFileURL } from "node:url";

const require = createRequire(import.meta.url);
const [framework, variant] = process.argv.slice(2);
const portArg = process.argv.indexOf("--port");
const port = portArg > 0 ? Number(process.argv[portArg + 1]) : 0;

const BODY = "hello world";
const modeFlag = (fields) => ({
  key: "site",
  on: true,
  version: 1,
  variations: ["available", "read-only", "maintenance"],
  offVariation: 0,
  fallthrough: { variation: 0 },
  salt: "site",
  ...fields,
});
const documents = {
  "detour-none": { flags: { site: modeFlag({ on: false }) } },
  "detour-user": {
    flags: { site: modeFlag({ targets: [{ variation: 1, values: Array.from({ length: 1000 }, (_, i) => `other-${i}`) }] }) },
  },
  "detour-tenant": {
    flags: { site: modeFlag({ contextTargets: [{ contextKind: "organization", variation: 1, values: Array.from({ length: 1000 }, (_, i) => `other-${i}`) }] }) },
  },
};

/** The Detour options of a variant; `header(req, name)` reads a request header in the framework's way. */
function detourOptions(header) {
  return {
    store: documents[variant],
    user: (req) => header(req, "x-user"),
    contexts: (req) => ({ organization: header(req, "x-org") }),
  };
}

async function detourModule() {
  const path = process.env.DETOUR_BENCH_BUNDLE;
  if (!path) throw new Error("DETOUR_BENCH_BUNDLE is not set (run through bench/callgrind/run.mjs or bench/http/run.mjs)");
  return import(pathToFileURL(path).href);
}

function listen(server) {
  server.listen(port, "127.0.0.1", () => {
    process.stdout.write(`LISTENING ${server.address().port}\n`);
  });
}

async function express() {
  const { default: createApp } = await import("express");
  const app = createApp();
  if (variant === "noop" || variant === "noop2") app.use((req, res, next) => next());
  const shared = Object.freeze({ action: "pass" });
  if (variant === "probe-req-prop") app.use((req, res, next) => ((req.detour = shared), next()));
  if (variant === "probe-res-locals") app.use((req, res, next) => ((res.locals.detour = shared), next()));
  if (variant === "probe-ip") app.use((req, res, next) => (req.ip === "" ? next(new Error("no ip")) : next()));
  if (variant === "probe-user") app.use((req, res, next) => (req.headers["x-user"] === "" ? next(new Error("no user")) : next()));
  if (variant.startsWith("detour-")) {
    const { expressDetour } = await detourModule();
    const mw = expressDetour(detourOptions((req, name) => req.headers[name]));
    await mw.instance.ready;
    app.use(mw);
  }
  if (variant === "peer") {
    // `maintenance` patches the routes that exist when it is called, so call it after them.
    app.get("/", (req, res) => res.send(BODY));
    require("maintenance")(app, { current: false });
  } else {
    app.get("/", (req, res) => res.send(BODY));
  }
  listen(require("node:http").createServer(app));
}

async function koa() {
  const { default: Koa } = await import("koa");
  const app = new Koa();
  if (variant === "noop" || variant === "noop2") app.use((ctx, next) => next());
  if (variant.startsWith("detour-")) {
    const { koaDetour } = await detourModule();
    const mw = koaDetour(detourOptions((ctx, name) => ctx.req.headers[name]));
    await mw.instance.ready;
    app.use(mw);
  }
  if (variant === "peer") throw new Error("no maintenance peer for Koa");
  app.use((ctx) => {
    if (ctx.method === "GET" && ctx.path === "/") ctx.body = BODY;
  });
  listen(require("node:http").createServer(app.callback()));
}

async function fastify() {
  const { default: Fastify } = await import("fastify");
  const app = Fastify({ logger: false });
  if (variant === "noop" || variant === "noop2") app.addHook("onRequest", (request, reply, done) => done());
  if (variant.startsWith("detour-")) {
    const { fastifyDetour } = await detourModule();
    await app.register(fastifyDetour(detourOptions((request, name) => request.headers[name])));
  }
  if (variant === "peer") {
    // Thresholds set (far away), so its onRequest check runs on every request as in production.
    await app.register(require("@fastify/under-pressure"), {
      maxEventLoopDelay: 10_000,
      maxHeapUsedBytes: 64 * 2 ** 30,
      maxRssBytes: 64 * 2 ** 30,
      maxEventLoopUtilization: 0.999,
    });
  }
  app.get("/", (request, reply) => reply.send(BODY));
  await app.ready();
  app.server.listen(port, "127.0.0.1", () => process.stdout.write(`LISTENING ${app.server.address().port}\n`));
}

// Allocation probe (bench/callgrind/run.mjs --alloc, a native run, never under
// valgrind): with DETOUR_BENCH_ALLOC=1, SIGUSR2 prints the bytes held by the
// young generation and the number of collections so far; the runner sends N
// requests between two probes and keeps the pair only when no collection ran
// in between, so the difference is what those N requests allocated.
if (process.env.DETOUR_BENCH_ALLOC === "1") {
  const { PerformanceObserver } = await import("node:perf_hooks");
  let collections = 0;
  new PerformanceObserver((list) => (collections += list.getEntries().length)).observe({ entryTypes: ["gc"] });
  process.on("SIGUSR2", () => {
    let used = 0;
    for (const s of v8.getHeapSpaceStatistics()) if (s.space_name === "new_space" || s.space_name === "new_large_object_space") used += s.space_used_size;
    // Let the observer's pending entries arrive before reporting the count.
    setTimeout(() => process.stdout.write(`HEAP ${used} ${collections}\n`), 30);
  });
}

const frameworks = { express, koa, fastify };
if (!frameworks[framework]) throw new Error(`unknown framework ${framework}`);
await frameworks[framework]();
process.on("SIGTERM", () => process.exit(0));
