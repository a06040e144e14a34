import { describe, expect, it } from "vitest";
import { call, parse, setup } from "./helpers.js";

const request = (path: string, method = "GET") => ({ method, path, headers: {} });

describe("GET /api/status", () => {
  it("answers the status of `detour status --json`, with the store's health, the known flags and the newest audit entries", async () => {
    const { admin } = await setup();
    const response = await call(admin, { path: "api/status" });
    expect(response.status).toBe(200);
    expect(response.headers["content-type"]).toMatch(/^application\/json/);
    expect(response.headers["cache-control"]).toBe("no-store");
    const body = parse(response);
    expect(body).toMatchObject({ store: { kind: "file", stale: false, error: null }, flags: [], siteFlag: "site", known: ["site"], audit: [] });
    expect(typeof body.store.revision).toBe("number");
    expect(typeof body.store.ageMs).toBe("number");
    expect(Date.parse(body.serverTime)).not.toBeNaN();
  });

  it("answers HEAD with the headers only, and ignores a trailing slash", async () => {
    const { admin } = await setup();
    const head = await call(admin, { method: "HEAD", path: "api/status" });
    expect(head).toMatchObject({ status: 200, body: null });
    expect((await call(admin, { path: "api/status/" })).status).toBe(200);
  });
});

describe("POST /api/flags/:key/on and /off", () => {
  it("turns whole-site maintenance on and off with the CLI's defaults, writing audit entries with the actor", async () => {
    const { admin, detour } = await setup();
    const on = await call(admin, { method: "POST", path: "api/flags/site/on", body: { message: "Upgrading", retryAfter: 300 } });
    expect(on.status).toBe(200);
    expect(parse(on).flags).toMatchObject([{ key: "site", mode: "maintenance", scope: "site", message: "Upgrading", by: "admin:test", active: true }]);
    expect(detour.decide(request("/checkout", "POST"))).toMatchObject({ action: "block", mode: "maintenance", retryAfter: 300 });

    const off = await call(admin, { method: "POST", path: "api/flags/site/off" });
    expect(parse(off).flags).toEqual([]);
    expect(detour.decide(request("/checkout", "POST")).action).toBe("pass");
    expect(parse(off).audit.map((e: { actor: string; action: string; flag: string }) => `${e.actor} ${e.action} ${e.flag}`)).toEqual([
      "admin:test disable site",
      "admin:test enable site",
    ]);
  });

  it("puts users in read-only mode by default and takes them out again", async () => {
    const { admin } = await setup();
    await call(admin, { method: "POST", path: "api/flags/site/on", body: { users: ["user-17", "user-42"] } });
    const removed = await call(admin, { method: "POST", path: "api/flags/site/off", body: { users: ["user-17"] } });
    expect(parse(removed).flags).toMatchObject([{ key: "site", mode: "read-only", scope: "user", users: ["user-42"] }]);
  });

  it("puts contexts of other kinds (tenants) in read-only mode, audits their kind, and takes them out again", async () => {
    const { admin, detour } = await setup();
    const on = await call(admin, { method: "POST", path: "api/flags/site/on", body: { contexts: [{ kind: "organization", key: "acme" }, { kind: "organization", key: "globex" }] } });
    expect(parse(on).flags).toMatchObject([{ key: "site", mode: "read-only", scope: "user", users: [], contexts: { organization: ["acme", "globex"] } }]);
    const off = await call(admin, { method: "POST", path: "api/flags/site/off", body: { contexts: [{ kind: "organization", key: "acme" }] } });
    expect(parse(off).flags).toMatchObject([{ key: "site", contexts: { organization: ["globex"] } }]);
    expect(detour.audit(2).map((entry) => entry.details)).toEqual([
      { contexts: [{ kind: "organization", key: "acme" }] },
      expect.objectContaining({ mode: "read-only", contexts: [{ kind: "organization", key: "acme" }, { kind: "organization", key: "globex" }] }),
    ]);
    const bad = await call(admin, { method: "POST", path: "api/flags/site/on", body: { contexts: [{ kind: "multi", key: "x" }] } });
    expect(bad.status).toBe(400);
    expect(bad.body).toContain("contexts[0].kind");
  });

  it("sets a percentage, a window (from/until) and a TTL", async () => {
    const { admin, detour } = await setup();
    const from = new Date(Date.now() + 3_600_000).toISOString();
    const until = new Date(Date.now() + 7_200_000).toISOString();
    await call(admin, { method: "POST", path: "api/flags/billing/on", body: { mode: "maintenance", from, until, message: "Moving billing" } });
    await call(admin, { method: "POST", path: "api/flags/search/on", body: { percent: 25 } });
    const status = parse(await call(admin, { method: "POST", path: "api/flags/reports/on", body: { ttl: 600 } }));
    const byKey = Object.fromEntries(status.flags.map((f: { key: string }) => [f.key, f]));
    expect(byKey.billing).toMatchObject({ mode: "maintenance", scope: "feature", active: false, state: "scheduled", from, until });
    expect(byKey.search).toMatchObject({ mode: "read-only", scope: "user", percent: 25 });
    expect(Date.parse(byKey.reports.until) - Date.parse(byKey.reports.since)).toBe(600_000);
    expect(status.known).toEqual(["site", "billing", "reports", "search"]);
    expect(detour.document()?.flags?.billing?.detour?.window).toEqual({ start: from, end: until });
  });

  it("answers 200 and writes nothing when turning off a flag that does not exist (as `detour off`)", async () => {
    const { admin, detour } = await setup();
    const before = detour.store.health().revision;
    const response = await call(admin, { method: "POST", path: "api/flags/nothing/off" });
    expect(response.status).toBe(200);
    expect(detour.store.health().revision).toBe(before);
    expect(detour.audit()).toEqual([]);
  });

  it("takes percent-encoded keys", async () => {
    const { admin } = await setup();
    const status = parse(await call(admin, { method: "POST", path: "api/flags/billing%3Aeu/on" }));
    expect(status.flags[0]).toMatchObject({ key: "billing:eu" });
  });
});

describe("GET and PUT /api/document", () => {
  it("exports the document and replaces it whole, keeping the audit log", async () => {
    const { admin, detour } = await setup();
    await call(admin, { method: "POST", path: "api/flags/site/on" });
    const exported = parse(await call(admin, { path: "api/document" }));
    expect(exported.flags.site).toMatchObject({ key: "site", on: true });

    const replacement = {
      flags: { billing: { key: "billing", on: true, variations: ["available", "read-only", "maintenance"], offVariation: 0, fallthrough: { variation: 2 }, salt: "billing" } },
    };
    const replaced = await call(admin, { method: "PUT", path: "api/document", body: replacement });
    expect(replaced.status).toBe(200);
    expect(parse(replaced).flags.map((f: { key: string }) => f.key)).toEqual(["billing"]);
    expect(detour.document()?.flags?.site).toBeUndefined();
    expect(detour.audit().map((e) => e.action)).toEqual(["replace", "enable"]);
  });
});

describe("GET /api/audit", () => {
  it("answers the newest entries first, up to limit", async () => {
    const { admin, other } = await setup();
    await call(admin, { method: "POST", path: "api/flags/a/on" });
    await call(admin, { method: "POST", path: "api/flags/b/on" });
    // Another writer (the CLI does this) lands in the same log.
    const cli = await other();
    await cli.enable("c", {}, { actor: "cli:ops@host" });
    await expect.poll(async () => parse(await call(admin, { path: "api/audit?limit=2" })).audit[0].flag, { timeout: 3000 }).toBe("c");
    const audit = parse(await call(admin, { path: "api/audit?limit=2" })).audit;
    expect(audit.map((e: { actor: string; flag: string }) => `${e.actor}:${e.flag}`)).toEqual(["cli:ops@host:c", "admin:test:b"]);
    expect(audit[0]).toMatchObject({ action: "enable", details: { mode: "maintenance" } });
    expect(Date.parse(audit[0].at)).not.toBeNaN();
    expect(parse(await call(admin, { path: "api/audit" })).audit).toHaveLength(3);
  });
});

describe("routing", () => {
  it("redirects the bare base path to the console and serves it", async () => {
    const { admin } = await setup();
    expect(await call(admin, { path: "/_detour?x=1", anonymous: true })).toMatchObject({ status: 308, headers: { location: "/_detour/?x=1" } });
    const page = await call(admin, { path: "/_detour/", anonymous: true });
    expect(page.status).toBe(200);
    expect(page.headers["content-type"]).toMatch(/^text\/html/);
  });

  it("answers 404 and 405 as problem+json, after authentication", async () => {
    const { admin } = await setup();
    expect(await call(admin, { path: "api/nothing" })).toMatchObject({ status: 404, headers: { "content-type": expect.stringMatching(/problem\+json/) } });
    expect(await call(admin, { path: "api/nothing", anonymous: true })).toMatchObject({ status: 401 });
    const wrong = await call(admin, { method: "DELETE", path: "api/status" });
    expect(wrong).toMatchObject({ status: 405, headers: { allow: "GET, HEAD" } });
    expect(await call(admin, { path: "api/flags/site/on" })).toMatchObject({ status: 405, headers: { allow: "POST" } });
    expect(admin.owns("/_detourx")).toBe(false);
    expect(await call(admin, { path: "/elsewhere" })).toMatchObject({ status: 404 });
  });

  it("mounts under another base path", async () => {
    const { admin } = await setup({ basePath: "/ops/flags" });
    expect(admin.basePath).toBe("/ops/flags");
    expect((await call(admin, { path: "/ops/flags/api/status" })).status).toBe(200);
    expect(admin.owns("/_detour/api/status")).toBe(false);
  });
});
