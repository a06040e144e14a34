import { createServer } from "node:http";
import { detour, expressRequest } from "@detour/express";
import express, { type ErrorRequestHandler, type Request, type RequestHandler } from "express";
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
