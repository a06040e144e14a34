import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileStore } from "@detour/core";
import request from "supertest";
import { afterEach, beforeEach, expect, it } from "vitest";
import { buildApp } from "../src/app.js";

// One organization read-only (a tenant migration) while another keeps writing, through the app's X-Org header.

let dir: string;
let app: ReturnType<typeof buildApp>;

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), "detour-example-tenants-"));
  app = buildApp({ store: fileStore(join(dir, "detour.json"), { create: true }) });
});

afterEach(async () => {
  await app.locals.detour.close();
  rmSync(dir, { recursive: true, force: true });
});

const note = (org: string, user: string) =>
  request(app).post("/api/notes").set("X-Org", org).set("X-User", user).set("Accept", "application/json").send({ text: `from ${org}` });

it("puts organization acme read-only while globex keeps writing", async () => {
  await note("acme", "alice").expect(201);
  await app.locals.detour.enable("site", { contexts: [{ kind: "organization", key: "acme" }], message: "Moving acme to the new cluster" });

  const refused = await note("acme", "alice").expect(503);
  expect(refused.headers["detour-mode"]).toBe("read-only");
  expect(refused.body).toMatchObject({ mode: "read-only", scope: "context", detail: "Moving acme to the new cluster" });
  // acme still reads; globex, and the same user in globex, still write.
  const read = await request(app).get("/api/notes").set("X-Org", "acme").set("X-User", "alice").expect(200);
  expect(read.body.notes).toEqual([expect.objectContaining({ text: "from acme" })]);
  await note("globex", "bob").expect(201);
  await note("globex", "alice").expect(201);

  await app.locals.detour.disable("site", { contexts: [{ kind: "organization", key: "acme" }] });
  await note("acme", "alice").expect(201);
});
