import { createServer } from "node:http";
import { createDetour, OptionsError } from "@detour/core";
import express, { type Request } from "express";
import request from "supertest";
import { describe, expect, it } from "vitest";
import { detour } from "../src/index.js";

// Everything a framework adapter must do is in test/conformance; these are Express specifics.

function app(setup: (app: express.Express) => void) {
  const app = express();
  setup(app);
  return request(createServer(app));
}

describe("@detour/express", () => {
  it("shares an existing Detour instance between middlewares", async () => {
    const shared = createDetour<Request>({ store: { flags: {} } });
    const first = detour(shared);
    const second = detour(shared);
    expect(first.instance).toBe(shared);
    expect(second.instance).toBe(shared);
    const one = app((a) => a.use(first).get("/", (_req, res) => void res.send("one")));
    const two = app((a) => a.use(second).get("/", (_req, res) => void res.send("two")));
    await shared.enable("site");
    await one.get("/").expect(503);
    await two.get("/").expect(503);
    await shared.disable("site");
    await two.get("/").expect(200, "two");
    await shared.close();
  });

  it("sees full paths inside a mounted router", async () => {
    const maintenance = detour({ store: { flags: {} }, allow: { paths: ["/admin/health"] }, features: { exports: ["/admin/exports/*"] } });
    const admin = express.Router();
    admin.use(maintenance.feature("admin"));
    admin.get("/health", (_req, res) => void res.send("ok"));
    admin.get("/exports/:id", maintenance, (_req, res) => void res.send("export"));
    const http = app((a) => a.use("/admin", admin));
    await maintenance.instance.enable("site");
    await http.get("/admin/health").expect(200, "ok");
    await maintenance.instance.disable("site");
    await maintenance.instance.enable("exports");
    await http.get("/admin/exports/7").expect(503);
    await maintenance.instance.close();
  });

  it("checks options and feature names when the middleware is created", () => {
    expect(() => detour({ store: { flags: {} }, sitFlag: "x" } as never)).toThrow(OptionsError);
    const maintenance = detour({ store: { flags: {} } });
    expect(() => maintenance.feature("")).toThrow(/feature/);
    void maintenance.instance.close();
  });

  it("guards a route with several features at once", async () => {
    const maintenance = detour({ store: { flags: {} } });
    const http = app((a) => a.use(maintenance).all("/pay", maintenance.feature(["billing", "payments"]), (req, res) => void res.json(req.detour)));
    await http.get("/pay").expect(200).expect((r) => expect(r.body).toMatchObject({ action: "pass", mode: "available" }));
    await maintenance.instance.enable("payments", { mode: "read-only" });
    await http.post("/pay").expect(503).expect("Detour-Mode", "read-only");
    await http.get("/pay").expect(200).expect((r) => expect(r.body).toMatchObject({ mode: "read-only", flag: "payments", scope: "feature" }));
    await maintenance.instance.close();
  });
});
