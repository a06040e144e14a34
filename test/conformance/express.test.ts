import { createServer } from "node:http";
import { createAdmin } from "@detour/admin";
import { detour, expressRequest } from "@detour/express";
import { expressAdmin } from "@detour/express/admin";
import express, { type ErrorRequestHandler, type Request, type RequestHandler } from "express";
import { runSecurityConformance, type Route, type SecurityHarness } from "./security-suite.js";
import { GUARDED_FEATURE, GUARDED_PATH, OPEN_PATHS, answer, runConformance, type Harness } from "./suite.js";

export const expressHarness: Harness<Request> = {
  accessor: expressRequest,
  async build(options, { trustProxy }) {
    const maintenance = detour(options);
    const app = express();
    app.set("trust proxy", trustProxy ? "loopback" : false);
    app.use(maintenance);
    const handler: RequestHandler = (req, res) => void res.json(answer(req.detour));
    for (const path of OPEN_PATHS) app.all(path, handler);
    app.all(GUARDED_PATH, maintenance.feature(GUARDED_FEATURE), handler);
    const onError: ErrorRequestHandler = (error: Error, _req, res, _next) => void res.status(500).type("text/plain").send(error.message);
    app.use(onError);
    return { server: createServer(app), detour: maintenance.instance, close: () => maintenance.instance.close() };
  },
};

runConformance("express", expressHarness);

/** The README's Express app: Express 5 routes (case-insensitive), an SPA fallback, optionally a /v2 rewrite and the admin. */
export const expressSecurityHarness: SecurityHarness<Request> = {
  accessor: expressRequest,
  async build(options, settings) {
    const maintenance = detour(options);
    const app = express();
    if (settings.stripV2) {
      app.use((req, _res, next) => {
        if (req.url.startsWith("/v2/")) req.url = req.url.slice(3);
        next();
      });
    }
    app.use(maintenance);
    const admin = settings.admin ? createAdmin({ detour: maintenance.instance, ...settings.admin }) : null;
    if (admin) app.use(express.json(), expressAdmin(admin));
    const route = (name: Route): RequestHandler => (_req, res) => void res.json({ route: name });
    app.all("/health", route("health"));
    for (const name of ["billing", "admin", "public"] as const) app.all([`/${name}`, `/${name}/*rest`], route(name));
    app.use(route("spa"));
    return { server: createServer(app), detour: maintenance.instance, close: async () => (admin?.close(), maintenance.instance.close()) };
  },
};

runSecurityConformance("express", expressSecurityHarness);
