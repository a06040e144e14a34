import { createServer } from "node:http";
import { detour, koaRequest } from "@detour/koa";
import Koa, { type Context, type Middleware } from "koa";
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
