import { createServer } from "node:http";
import { createDetour, type Decision } from "@detour/core";
import Koa, { type Context } from "koa";
import request from "supertest";
import { describe, expect, it } from "vitest";
import { detour } from "../src/index.js";

// Everything a framework adapter must do is in test/conformance; these are Koa specifics.

describe("@detour/koa", () => {
  it("answers the Koa way, so upstream middleware sees the blocked response", async () => {
    const maintenance = detour({ store: { flags: {} } });
    const seen: { status?: number; mode?: string; decision?: Decision } = {};
    const app = new Koa();
    app.use(async (ctx, next) => {
      await next();
      seen.status = ctx.status;
      seen.mode = ctx.response.get("Detour-Mode");
      seen.decision = ctx.state.detour;
    });
    app.use(maintenance);
    app.use((ctx) => void (ctx.body = "hello"));
    const http = request(createServer(app.callback()));
    await maintenance.instance.enable("site", { message: "Back soon" });
    const res = await http.head("/").expect(503);
    expect(Number(res.headers["content-length"])).toBeGreaterThan(0);
    expect(seen).toMatchObject({ status: 503, mode: "maintenance" });
    expect(seen.decision?.action).toBe("block");
    await maintenance.instance.close();
  });

  it("shares an existing Detour instance and guards with several features", async () => {
    const shared = createDetour<Context>({ store: { flags: {} } });
    const maintenance = detour(shared);
    expect(maintenance.instance).toBe(shared);
    const guard = maintenance.feature(["billing", "payments"]);
    const app = new Koa();
    app.use(maintenance);
    app.use((ctx, next) => guard(ctx, next));
    app.use((ctx) => void (ctx.body = { mode: ctx.state.detour?.mode }));
    const http = request(createServer(app.callback()));
    await http.post("/pay").expect(200, { mode: "available" });
    await shared.enable("payments");
    await http.post("/pay").expect(503).expect("Detour-Mode", "maintenance");
    await shared.close();
  });
});
