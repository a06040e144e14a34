import { createDetour, OptionsError } from "@detour/core";
import { describe, expect, it, vi } from "vitest";
import { bearerToken, createAdmin, type AdminRequest } from "../src/index.js";
import { BASE, call, HOST, ORIGIN, parse, setup, TOKEN } from "./helpers.js";

/** Every API route, with a body that would change something if the request got through. */
const ROUTES = [
  { method: "GET", path: "api/status" },
  { method: "GET", path: "api/audit" },
  { method: "GET", path: "api/document" },
  { method: "GET", path: "api/events" },
  { method: "POST", path: "api/flags/site/on", body: { message: "pwned" } },
  { method: "POST", path: "api/flags/site/off" },
  { method: "PUT", path: "api/document", body: { flags: {} } },
  { method: "GET", path: "api/nothing" },
];

describe("creating the admin", () => {
  it("requires auth: there is no open mode", () => {
    const detour = createDetour({ store: { flags: {} } });
    for (const auth of [undefined, null, "secret", true]) {
      const create = () => createAdmin({ detour, auth } as never);
      expect(create).toThrow(OptionsError);
      expect(create).toThrow(/^auth: required/);
    }
  });

  it("names the option at fault", () => {
    const detour = createDetour({ store: { flags: {} } });
    const auth = () => "x";
    expect(() => createAdmin({ detour: {} as never, auth })).toThrow(/^detour:/);
    expect(() => createAdmin({ detour, auth, basePath: "_detour" })).toThrow(/^basePath:/);
    expect(() => createAdmin({ detour, auth, basePath: "/_detour/" })).toThrow(/^basePath:/);
    expect(() => createAdmin({ detour, auth, basePath: "/a/../b" })).toThrow(/^basePath:/);
    expect(() => createAdmin({ detour, auth, heartbeatMs: 0 })).toThrow(/^heartbeatMs:/);
    expect(() => createAdmin({ detour, auth, metrics: "yes" as never })).toThrow(/^metrics:/);
    expect(() => createAdmin({ detour, auth, colour: "red" } as never)).toThrow(/^colour: unknown option/);
  });

  it("accepts an adapter's middleware for `detour` (its instance is used)", () => {
    const detour = createDetour({ store: { flags: {} } });
    const admin = createAdmin({ detour: { instance: detour }, auth: () => null });
    expect(admin.detour).toBe(detour);
  });
});

describe("authentication", () => {
  it("answers 401 to every API route without valid credentials, revealing nothing and writing nothing", async () => {
    const { admin, detour } = await setup();
    await detour.enable("billing", { message: "Secret migration" });
    const revision = detour.store.health().revision;
    const attempts: Record<string, string>[] = [{}, { authorization: "Bearer wrong" }, { authorization: `Basic ${TOKEN}` }, { authorization: `Bearer ${TOKEN}x` }];
    for (const credentials of attempts) {
      for (const route of ROUTES) {
        const response = await call(admin, { ...route, anonymous: true, headers: credentials });
        expect(response.status, `${route.method} ${route.path}`).toBe(401);
        expect(response.events).toBeUndefined();
        expect(response.headers["www-authenticate"]).toMatch(/^Bearer/);
        expect(parse(response)).toEqual({ type: "about:blank", title: "Unauthorized", status: 401 });
      }
    }
    expect(detour.store.health().revision).toBe(revision);
    expect(detour.audit()).toHaveLength(1);
  });

  it("passes the request to auth, and records the actor it returns", async () => {
    const seen: AdminRequest[] = [];
    const { admin, detour } = await setup({
      auth: (req) => {
        seen.push(req);
        return req.headers["x-operator"] === "alice" ? "admin:alice" : null;
      },
    });
    expect((await call(admin, { path: "api/status", anonymous: true })).status).toBe(401);
    await call(admin, { method: "POST", path: "api/flags/site/on", anonymous: true, headers: { "x-operator": "alice" } });
    expect(detour.audit()[0]).toMatchObject({ actor: "admin:alice", action: "enable", flag: "site" });
    expect(seen.at(-1)).toMatchObject({ method: "POST", path: `${BASE}/api/flags/site/on` });
  });

  it("answers a bare 500 when auth throws, and reports the error", async () => {
    const onError = vi.fn();
    const { admin } = await setup({
      auth: async () => {
        throw new Error("session store down at 10.0.0.7");
      },
      onError,
    });
    const response = await call(admin, { path: "api/status" });
    expect(response.status).toBe(500);
    expect(response.body).not.toContain("10.0.0.7");
    expect(onError).toHaveBeenCalledWith(expect.objectContaining({ message: "session store down at 10.0.0.7" }));
  });

  it("serves the console page without credentials: it holds no data", async () => {
    const { admin, detour } = await setup();
    await detour.enable("payments-eu", { message: "Secret migration" });
    const page = await call(admin, { path: `${BASE}/`, anonymous: true });
    expect(page.status).toBe(200);
    expect(page.body).not.toContain("payments-eu");
    expect(page.body).not.toContain("Secret migration");
  });

  it("bearerToken compares in constant time and refuses everything when the expected token is unset", () => {
    const req = (authorization?: string): AdminRequest => ({ method: "GET", path: "/", headers: { authorization } });
    expect(bearerToken(req(`Bearer ${TOKEN}`), TOKEN)).toBe(TOKEN);
    expect(bearerToken(req(`bearer ${TOKEN}`), TOKEN)).toBe(TOKEN);
    expect(bearerToken(req(`Bearer ${TOKEN}`), "other")).toBeNull();
    expect(bearerToken(req("Bearer "), "")).toBeNull();
    expect(bearerToken(req("Bearer x"), undefined)).toBeNull();
    expect(bearerToken(req(undefined), TOKEN)).toBeNull();
    expect(bearerToken(req("Bearer abc"))).toBe("abc");
  });
});

describe("cross-site requests", () => {
  it("refuses state changes whose Origin is another site (403), and writes nothing", async () => {
    const { admin, detour } = await setup();
    const revision = detour.store.health().revision;
    for (const origin of ["https://evil.example", `http://${HOST}.evil.example`, `https://evil.example/${HOST}`, "null", "not a url", `file://${HOST}`]) {
      for (const route of ROUTES.filter((r) => r.method !== "GET")) {
        const response = await call(admin, { ...route, headers: { origin } });
        expect(response.status, `${origin} ${route.method} ${route.path}`).toBe(403);
        expect(response.headers["content-type"]).toMatch(/^application\/problem\+json/);
      }
    }
    for (const site of ["cross-site", "same-site"]) {
      const response = await call(admin, { method: "POST", path: "api/flags/site/on", headers: { "sec-fetch-site": site } });
      expect(response.status).toBe(403);
    }
    expect(detour.store.health().revision).toBe(revision);
    expect(detour.audit()).toEqual([]);
  });

  it("accepts the same origin (scheme-independent host match), and no Origin at all (curl, scripts)", async () => {
    const { admin } = await setup();
    for (const origin of [ORIGIN, `http://${HOST}`, undefined]) {
      const headers: Record<string, string> = origin === undefined ? { "sec-fetch-site": "none" } : { origin, "sec-fetch-site": "same-origin" };
      const response = await call(admin, { method: "POST", path: "api/flags/site/off", headers });
      expect(response.status, String(origin)).toBe(200);
    }
    const noOrigin = await admin({ method: "POST", path: `${BASE}/api/flags/site/on`, headers: { authorization: `Bearer ${TOKEN}`, "content-type": "application/json", host: "h:1" } });
    expect(noOrigin.status).toBe(200);
    // Without a host from the framework, the Host header is what Origin must match.
    const viaHostHeader = await admin({
      method: "POST",
      path: `${BASE}/api/flags/site/off`,
      headers: { authorization: `Bearer ${TOKEN}`, "content-type": "application/json", host: "h:1", origin: "http://h:1" },
    });
    expect(viaHostHeader.status).toBe(200);
    // Ports count when the framework's host has one...
    expect((await call(admin, { method: "POST", path: "api/flags/site/off", host: "localhost:3000", headers: { origin: "http://localhost:3001" } })).status).toBe(403);
    // ...and a host name without port (Express 4's req.host) matches that name on any port (cookies do not isolate ports either).
    expect((await call(admin, { method: "POST", path: "api/flags/site/off", host: "localhost", headers: { origin: "http://localhost:3000" } })).status).toBe(200);
  });

  it("answers 415 to state changes that are not JSON (an HTML form cannot send JSON), and writes nothing", async () => {
    const { admin, detour } = await setup();
    for (const type of ["application/x-www-form-urlencoded", "text/plain", "multipart/form-data; boundary=x", "application/json; charset=latin1", ""]) {
      const response = await call(admin, { method: "POST", path: "api/flags/site/on", headers: { "content-type": type }, body: "{}" });
      expect(response.status, type).toBe(415);
      expect(parse(response)).toMatchObject({ status: 415, field: "content-type" });
    }
    expect((await call(admin, { method: "POST", path: "api/flags/site/on", headers: { "content-type": "application/json; charset=UTF-8" } })).status).toBe(200);
    expect(detour.audit()).toHaveLength(1);
  });
});

describe("bad input", () => {
  const cases: [string, unknown, string][] = [
    ["api/flags/site/on", { mode: "down" }, "mode"],
    ["api/flags/site/on", { mode: "available" }, "mode"],
    ["api/flags/site/on", { percent: 150 }, "percent"],
    ["api/flags/site/on", { percent: "50" }, "percent"],
    ["api/flags/site/on", { users: "user-1" }, "users"],
    ["api/flags/site/on", { users: [] }, "users"],
    ["api/flags/site/on", { users: ["ok", ""] }, "users[1]"],
    ["api/flags/site/on", { message: 42 }, "message"],
    ["api/flags/site/on", { retryAfter: -1 }, "retryAfter"],
    ["api/flags/site/on", { retryAfter: 1.5 }, "retryAfter"],
    ["api/flags/site/on", { ttl: 0 }, "ttl"],
    ["api/flags/site/on", { from: "tomorrow" }, "from"],
    ["api/flags/site/on", { until: "2026-13-45T00:00:00Z" }, "until"],
    ["api/flags/site/on", { from: "2026-12-01T03:00:00Z", until: "2026-12-01T02:00:00Z" }, "until"],
    ["api/flags/site/on", { mdoe: "maintenance" }, "mdoe"],
    ["api/flags/site/on", [1, 2], "body"],
    ["api/flags/site/on", "{not json", "body"],
    ["api/flags/site/off", { users: [1] }, "users[0]"],
    ["api/flags/site/off", { mode: "maintenance" }, "mode"],
    ["api/flags/bad%20key!/on", {}, "key"],
    ["api/flags/%E0%A4%A/on", {}, "key"],
    ["api/document", [], "body"],
    ["api/document", { flags: { site: { key: "site", on: true, variations: ["available"], fallthrough: { variation: 4 } } } }, "flags.site.fallthrough.variation"],
  ];

  it.each(cases)("POST/PUT %s %j → 400 naming %s, nothing written", async (path, body, field) => {
    const { admin, detour } = await setup();
    await detour.enable("site", { users: ["user-1"] });
    const document = JSON.stringify(detour.document());
    const method = path === "api/document" ? "PUT" : "POST";
    const response = await call(admin, { method, path, body });
    expect(response.status).toBe(400);
    expect(response.headers["content-type"]).toMatch(/^application\/problem\+json/);
    const problem = parse(response);
    expect(problem.field).toBe(field);
    expect(problem.detail).toContain(field);
    expect(problem.errors[0].field).toBe(field);
    expect(JSON.stringify(detour.document())).toBe(document);
  });

  it("refuses a flag that is not a mode flag, through core's check, naming it", async () => {
    const { admin, detour } = await setup();
    await detour.replace({ flags: { storage: { key: "storage", on: true, variations: ["old", "new"], fallthrough: { variation: 0 } } } });
    const response = await call(admin, { method: "POST", path: "api/flags/storage/on" });
    expect(response.status).toBe(400);
    expect(parse(response)).toMatchObject({ field: "key", detail: expect.stringContaining("not a mode flag") });
  });

  it("answers 413 to a body over maxBodyBytes", async () => {
    const { admin } = await setup({ maxBodyBytes: 64 });
    const response = await call(admin, { method: "POST", path: "api/flags/site/on", body: { message: "x".repeat(100) } });
    expect(response.status).toBe(413);
    async function* stream() {
      yield Buffer.from('{"message":"');
      yield Buffer.from("x".repeat(100));
    }
    const streamed = await admin({ method: "POST", path: `${BASE}/api/flags/site/on`, headers: { authorization: `Bearer ${TOKEN}`, "content-type": "application/json" }, body: stream() });
    expect(streamed.status).toBe(413);
  });

  it("reads a body handed over as a stream, as bytes, or already parsed", async () => {
    const { admin, detour } = await setup();
    const headers = { authorization: `Bearer ${TOKEN}`, "content-type": "application/json" };
    async function* stream() {
      yield Buffer.from('{"message":');
      yield '"streamed"}';
    }
    await admin({ method: "POST", path: `${BASE}/api/flags/a/on`, headers, body: stream() });
    await admin({ method: "POST", path: `${BASE}/api/flags/b/on`, headers, body: new TextEncoder().encode('{"message":"bytes"}') });
    await admin({ method: "POST", path: `${BASE}/api/flags/c/on`, headers, body: { message: "parsed" } });
    expect(detour.status().flags.map((f) => f.message)).toEqual(["streamed", "bytes", "parsed"]);
  });
});

describe("the base path is exempt from maintenance", () => {
  it("lets every request under the base path through while the site is down, and only those", async () => {
    const { admin, detour } = await setup();
    await call(admin, { method: "POST", path: "api/flags/site/on" });
    for (const path of ["/_detour", "/_detour/", "/_detour/api/status", "/_detour/api/flags/site/off"]) {
      expect(detour.decide({ method: "POST", path })).toMatchObject({ action: "pass", reason: "ALLOWED_PATH" });
    }
    expect(detour.decide({ method: "GET", path: "/_detourx" }).action).toBe("block");
    expect(detour.decide({ method: "GET", path: "/" }).action).toBe("block");
  });

  it("uses a custom base path", async () => {
    const { detour } = await setup({ basePath: "/ops/console" });
    await detour.enable("site");
    expect(detour.decide({ method: "POST", path: "/ops/console/api/flags/site/off" }).action).toBe("pass");
    expect(detour.decide({ method: "GET", path: "/_detour/" }).action).toBe("block");
  });
});

describe("the console page", () => {
  it("is self-contained and locked down: inline style and script allowed by hash, connections to its own origin only, no framing", async () => {
    const { admin } = await setup();
    const page = await call(admin, { path: `${BASE}/`, anonymous: true });
    const csp = page.headers["content-security-policy"]!;
    expect(csp).toContain("default-src 'none'");
    expect(csp).toContain("connect-src 'self'");
    expect(csp).toContain("frame-ancestors 'none'");
    expect(csp).toMatch(/script-src 'sha256-[A-Za-z0-9+/=]+'/);
    expect(page.headers["x-frame-options"]).toBe("DENY");
    // Nothing is loaded from anywhere: no src= or href= but data: URIs and in-page anchors.
    const references = [...page.body!.matchAll(/\s(?:src|href)="([^"]*)"/g)].map((m) => m[1]!);
    expect(references.every((ref) => ref.startsWith("data:") || ref.startsWith("#"))).toBe(true);
    expect(page.body).not.toMatch(/https?:\/\/(?!www\.w3\.org)/);
    expect(page.body).toContain(`data-base="${BASE}"`);
  });

  it("escapes the title", async () => {
    const { admin } = await setup({ title: "<b>Shop</b>" });
    const page = await call(admin, { path: `${BASE}/`, anonymous: true });
    expect(page.body).toContain("&lt;b&gt;Shop&lt;/b&gt;");
    expect(page.body).not.toContain("<b>Shop");
  });
});
