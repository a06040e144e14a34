import { createDetour, type Decision } from "@detour/core";
import Fastify, { type FastifyInstance, type FastifyRequest } from "fastify";
import { afterEach, describe, expect, it } from "vitest";
import { detour } from "../src/index.js";

// Everything a framework adapter must do is in test/conformance; these are Fastify specifics.

const apps: FastifyInstance[] = [];
afterEach(async () => {
  for (const app of apps.splice(0)) await app.close();
});

function fastify(): FastifyInstance {
  const app = Fastify();
  apps.push(app);
  return app;
}

const describeRequest = async (request: FastifyRequest) => ({ mode: request.detour?.mode ?? null, flag: request.detour?.flag ?? null });

describe("@detour/fastify", () => {
  it("exposes the instance as fastify.detour and decorates request.detour", async () => {
    const app = fastify();
    const maintenance = detour({ store: { flags: {} } });
    await app.register(maintenance);
    app.get("/", describeRequest);
    expect(app.detour).toBe(maintenance.instance);
    expect((await app.inject("/")).json()).toEqual({ mode: "available", flag: null });
  });

  it("guards a route with the preHandler hook", async () => {
    const app = fastify();
    const maintenance = detour({ store: { flags: {} } });
    await app.register(maintenance);
    app.post("/billing/pay", { preHandler: maintenance.feature("billing") }, describeRequest);
    app.post("/items", describeRequest);
    await app.detour.enable("billing");
    const blocked = await app.inject({ method: "POST", url: "/billing/pay", headers: { accept: "application/problem+json" } });
    expect(blocked.statusCode).toBe(503);
    expect(blocked.json()).toMatchObject({ mode: "maintenance", scope: "feature" });
    expect((await app.inject({ method: "POST", url: "/items" })).statusCode).toBe(200);
  });

  it("decides a config route once per hook, HEAD included", async () => {
    const decisions: Decision[] = [];
    const app = fastify();
    await app.register(detour({ store: { flags: {} }, onDecision: (decision) => void decisions.push(decision) }));
    app.get("/billing/invoices", { config: { detour: { feature: ["billing", "payments"] } } }, describeRequest);
    await app.detour.enable("payments", { mode: "read-only" });
    expect((await app.inject("/billing/invoices")).json()).toEqual({ mode: "read-only", flag: "payments" });
    expect(decisions).toHaveLength(2); // the plugin-wide hook, then the route's features
    decisions.length = 0;
    await app.detour.enable("billing");
    expect((await app.inject({ method: "HEAD", url: "/billing/invoices" })).statusCode).toBe(503);
    expect(decisions).toHaveLength(2);
  });

  it("registers in several encapsulated scopes, each with its own instance", async () => {
    const app = fastify();
    const shop = detour({ store: { flags: {} } });
    const blog = detour({ store: { flags: {} } });
    await app.register(async (scope) => {
      await scope.register(shop);
      scope.get("/shop", describeRequest);
    });
    await app.register(async (scope) => {
      await scope.register(blog);
      scope.get("/blog", describeRequest);
    });
    app.get("/outside", async (request) => ({ decided: request.detour !== undefined }));
    await shop.instance.enable("site");
    expect((await app.inject("/shop")).statusCode).toBe(503);
    expect((await app.inject("/blog")).statusCode).toBe(200);
    expect((await app.inject("/outside")).json()).toEqual({ decided: false });
  });

  it("registers one plugin in two sibling scopes", async () => {
    const app = fastify();
    const maintenance = detour({ store: { flags: {} } });
    for (const prefix of ["/a", "/b"]) {
      await app.register(async (scope) => {
        await scope.register(maintenance);
        scope.get("/", describeRequest);
      }, { prefix });
    }
    await maintenance.instance.enable("site");
    expect((await app.inject("/a")).statusCode).toBe(503);
    expect((await app.inject("/b")).statusCode).toBe(503);
  });

  it("closes the store it created, and only that one", async () => {
    const shared = createDetour<FastifyRequest>({ store: { flags: {} } });
    const withShared = Fastify();
    await withShared.register(detour(shared));
    await withShared.close();
    // The shared instance outlives the app: it still writes, and the next app it serves sees the write.
    await shared.enable("site");
    const next = fastify();
    await next.register(detour(shared));
    next.get("/", describeRequest);
    expect((await next.inject("/")).statusCode).toBe(503);

    const owned = detour({ store: { flags: {} } });
    const withOwned = Fastify();
    await withOwned.register(owned);
    await withOwned.close();
    await expect(owned.instance.enable("site")).rejects.toMatchObject({ code: "DETOUR_STORE_CLOSED" });
    await shared.close();
  });
});

describe("app.register(detour, options): Fastify's convention", () => {
  it("registers with options, decorates app.detour and request.detour, and guards routes with app.detour.feature(name)", async () => {
    const app = fastify();
    await app.register(detour, { store: { flags: {} }, user: (request: FastifyRequest) => request.headers["x-user"]?.toString(), features: { reports: ["/reports/*"] } });
    app.get("/", describeRequest);
    app.get("/reports/daily", describeRequest);
    app.post("/billing/pay", { preHandler: app.detour.feature("billing") }, describeRequest);
    expect((await app.inject("/")).json()).toEqual({ mode: "available", flag: null });
    await app.detour.enable("billing");
    await app.detour.enable("reports");
    await app.detour.enable("site", { users: ["u1"] });
    expect((await app.inject({ method: "POST", url: "/billing/pay" })).statusCode).toBe(503);
    expect((await app.inject("/reports/daily")).statusCode).toBe(503);
    expect((await app.inject({ url: "/", headers: { "x-user": "u1" } })).json()).toEqual({ mode: "read-only", flag: "site" });
    expect((await app.inject({ method: "POST", url: "/", headers: { "x-user": "u1" } })).statusCode).toBe(503);
  });

  it("shares an instance with { detour: instance }, and leaves closing it to its owner", async () => {
    const instance = createDetour<FastifyRequest>({ store: { flags: {} } });
    const app = fastify();
    await app.register(detour, { detour: instance });
    expect(app.detour).toBe(instance);
    await app.close();
    apps.splice(apps.indexOf(app), 1);
    await instance.enable("site");
    expect(instance.status().flags[0]?.key).toBe("site");
    await instance.close();
  });

  it("refuses bad options, naming them", async () => {
    const app = fastify();
    await expect(app.register(detour, { store: { flags: {} }, bogus: true } as never).ready()).rejects.toThrow(/^bogus: unknown option/);
    const other = fastify();
    const instance = createDetour<FastifyRequest>({ store: { flags: {} } });
    await expect(other.register(detour, { detour: instance, siteFlag: "x" } as never).ready()).rejects.toThrow(/^siteFlag: give either/);
    await instance.close();
  });
});
