/** The admin conformance cases, run against the admin mount of each adapter. */
import { createServer } from "node:http";
import { createAdmin } from "@detour/admin";
import { detour as expressDetour } from "@detour/express";
import { expressAdmin } from "@detour/express/admin";
import { detour as fastifyDetour } from "@detour/fastify";
import { fastifyAdmin } from "@detour/fastify/admin";
import { detour as koaDetour } from "@detour/koa";
import { koaAdmin } from "@detour/koa/admin";
import express from "express";
import Fastify from "fastify";
import Koa from "koa";
import { APP_PATHS, runAdminConformance, type AdminHarness } from "./admin-suite.js";

const appPaths = new Set<string>(APP_PATHS);

/** Express, with a JSON body parser in front of everything, as many apps have: the mount takes the parsed body. */
export const expressAdminHarness: AdminHarness = {
  async build(store, options) {
    const maintenance = expressDetour({ store });
    const admin = createAdmin({ detour: maintenance.instance, ...options });
    const app = express();
    app.use(maintenance);
    app.use(express.json({ limit: "100kb" }));
    app.use(expressAdmin(admin));
    for (const path of APP_PATHS) app.all(path, (_req, res) => void res.json({ ok: true }));
    return { server: createServer(app), detour: maintenance.instance, admin, close: () => maintenance.instance.close() };
  },
};

/** Koa with no body parser: the admin reads the body stream itself. */
export const koaAdminHarness: AdminHarness = {
  async build(store, options) {
    const maintenance = koaDetour({ store });
    const admin = createAdmin({ detour: maintenance.instance, ...options });
    const app = new Koa();
    app.use(maintenance);
    app.use(koaAdmin(admin));
    app.use((ctx, next) => (appPaths.has(ctx.path) ? void (ctx.body = { ok: true }) : next()));
    return { server: createServer(app.callback()), detour: maintenance.instance, admin, close: () => maintenance.instance.close() };
  },
};

/** Fastify: the mount's scope hands bodies over unparsed. */
export const fastifyAdminHarness: AdminHarness = {
  async build(store, options) {
    const app = Fastify();
    await app.register(fastifyDetour({ store }));
    const admin = createAdmin({ detour: app.detour, ...options });
    await app.register(fastifyAdmin(admin));
    for (const url of APP_PATHS) app.route({ method: ["GET", "POST"], url, handler: async () => ({ ok: true }) });
    await app.ready();
    return { server: app.server, detour: app.detour, admin, close: () => app.close() };
  },
};

runAdminConformance("express", expressAdminHarness);
runAdminConformance("koa", koaAdminHarness);
runAdminConformance("fastify", fastifyAdminHarness);
