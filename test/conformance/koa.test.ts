import { createServer } from "node:http";
import { createAdmin } from "@detour/admin";
import { detour, koaRequest } from "@detour/koa";
import { koaAdmin } from "@detour/koa/admin";
import Koa, { type Context, type Middleware } from "koa";
import { runSecurityConformance, type Route, type SecurityHarness } from "./security-suite.js";
import { GUARDED_FEATURE, GUARDED_PATH, OPEN_PATHS, answer, runConformance, type Harness } from "./suite.js";

const open = new Set<string>(OPEN_PATHS);

export const koaHarness: Harness<Context> = {
  accessor: koaRequest,
  async build(options, { trustProxy }) {
    const maintenance = detour(options);
    const guard = maintenance.feature(GUARDED_FEATURE);
    const app = new Koa({ proxy: trustProxy });
    app.use(async (ctx, next) => {
      try {
        await next();
      } catch (error) {
        ctx.status = 500;
        ctx.type = "text/plain";
        ctx.body = (error as Error).message;
      }
    });
    app.use(maintenance);
    const handler: Middleware = (ctx) => void (ctx.body = answer(ctx.state.detour));
    // A two-route router: the suite needs no more, and Koa has none built in.
    app.use((ctx, next) => (ctx.path === GUARDED_PATH ? guard(ctx, () => handler(ctx, next)) : open.has(ctx.path) ? handler(ctx, next) : next()));
    return { server: createServer(app.callback()), detour: maintenance.instance, close: () => maintenance.instance.close() };
  },
};

runConformance("koa", koaHarness);

/** Routes as @koa/router matches them by default: case-insensitive, an optional trailing slash, the undecoded path. */
const SECURITY_ROUTES: readonly (readonly [RegExp, Route])[] = [
  [/^\/health\/?$/i, "health"],
  [/^\/billing(?:\/.*)?$/i, "billing"],
  [/^\/admin(?:\/.*)?$/i, "admin"],
  [/^\/public(?:\/.*)?$/i, "public"],
];

/** The README's Koa app: a router, an SPA fallback, optionally a /v2 rewrite and the admin. */
export const koaSecurityHarness: SecurityHarness<Context> = {
  accessor: koaRequest,
  async build(options, settings) {
    const maintenance = detour(options);
    const app = new Koa();
    if (settings.stripV2) {
      app.use((ctx, next) => {
        if (ctx.path.startsWith("/v2/")) ctx.path = ctx.path.slice(3);
        return next();
      });
    }
    app.use(maintenance);
    const admin = settings.admin ? createAdmin({ detour: maintenance.instance, ...settings.admin }) : null;
    if (admin) app.use(koaAdmin(admin));
    app.use((ctx) => {
      ctx.body = { route: SECURITY_ROUTES.find(([pattern]) => pattern.test(ctx.path))?.[1] ?? "spa" };
    });
    return { server: createServer(app.callback()), detour: maintenance.instance, close: async () => (admin?.close(), maintenance.instance.close()) };
  },
};

runSecurityConformance("koa", koaSecurityHarness);
