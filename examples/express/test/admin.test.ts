/** The admin console mounted in the Express example: /_detour, a bearer token from DETOUR_ADMIN_TOKEN. */
import request from "supertest";
import { afterEach, describe, expect, it } from "vitest";
import { buildApp } from "../src/app.js";

const TOKEN = "example-admin-token-0123456789";

describe("the admin console at /_detour", () => {
  const apps: ReturnType<typeof buildApp>[] = [];
  afterEach(async () => {
    for (const app of apps.splice(0)) {
      app.locals.admin.close();
      await app.locals.detour.close();
    }
  });
  const build = (adminToken?: string) => {
    const app = buildApp({ store: { flags: {} }, adminToken });
    apps.push(app);
    return { app, http: request(app) };
  };

  it("answers with the token, refuses without it, and stays reachable while the site is down", async () => {
    const { app, http } = build(TOKEN);
    await app.locals.detour.ready;
    await http.get("/_detour/api/status").expect(401);
    await http.get("/_detour/api/status").set("Authorization", "Bearer nope").expect(401);
    await http
      .post("/_detour/api/flags/site/on")
      .set("Authorization", `Bearer ${TOKEN}`)
      .set("Content-Type", "application/json")
      .send(JSON.stringify({ message: "Upgrading" }))
      .expect(200);
    await http.get("/").expect(503);
    await http.get("/_detour/").expect(200).expect("Content-Type", /^text\/html/);
    const status = await http.get("/_detour/api/status").set("Authorization", `Bearer ${TOKEN}`).expect(200);
    expect(status.body.audit[0]).toMatchObject({ actor: "admin", action: "enable", flag: "site" });
  });

  it("refuses every request when no token is set", async () => {
    for (const token of [undefined, ""]) {
      const { http } = build(token);
      for (const authorization of ["Bearer ", "Bearer undefined", "Bearer null"]) {
        await http.get("/_detour/api/status").set("Authorization", authorization).expect(401);
      }
      await http.post("/_detour/api/flags/site/on").set("Content-Type", "application/json").send("{}").expect(401);
    }
  });
});
