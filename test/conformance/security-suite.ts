/**
 * The block holds: request-path hardening, tried as an attacker would, through
 * real HTTP against an app built the way the READMEs show (a maintenance
 * middleware, path features, route handlers, an SPA fallback that answers
 * every other path with 200, optionally the admin console). Every request is
 * written byte for byte on a raw socket: HTTP clients normalise what these
 * tests need to send (`//health`, `/%68ealth`, absolute-form targets).
 *
 * An adapter joins with a `SecurityHarness` and one line:
 * `runSecurityConformance("express", expressSecurityHarness)`.
 */
import { connect } from "node:net";
import type { AddressInfo } from "node:net";
import type { Server } from "node:http";
import { bearerToken, type AdminOptions } from "@detour/admin";
import { createDetour, memoryStore, type DetourOptions, type FlagDocument, type Store, type StoreListener } from "@detour/core";
import type { RequestAccessor } from "@detour/core/adapter";
import { afterEach, describe, expect, it } from "vitest";
import type { ConformanceApp } from "./suite.js";

export const SECURITY_SECRET = "security-conformance-secret-0123";
export const SECURITY_ADMIN_TOKEN = "security-admin-token-0123456789";

/** What the app's handlers answer (200, JSON): which route ran. */
export type Route = "health" | "billing" | "admin" | "public" | "spa";

export interface SecuritySettings {
  /**
   * A URL rewrite before Detour that strips a leading `/v2` (Express: a
   * middleware setting `req.url`; Koa: one setting `ctx.path`; Fastify:
   * `rewriteUrl`).
   */
  readonly stripV2?: boolean;
  /** Fastify's `useSemicolonDelimiter: true` (the others have no such option). */
  readonly semicolons?: boolean;
  /** The admin console under `/_detour`, through the adapter's mount. */
  readonly admin?: Omit<AdminOptions, "detour">;
}

/** The app a harness builds: a server, its Detour instance, and what else to release. */
export type SecurityApp<Req> = ConformanceApp<Req>;

/**
 * What an adapter provides. `build` makes an app that uses the adapter's
 * middleware/plugin created from `options` and answers, on every method,
 * `{ route }` as JSON with status 200:
 * - `health` on `/health`, `billing` on `/billing` and everything under it,
 *   `admin` on `/admin` and under it, `public` on `/public` and under it,
 *   routed as the framework routes by default (Express and Koa routers
 *   case-insensitively, Fastify case-sensitively);
 * - `spa` on every other path (an SPA fallback: Express/Koa a last
 *   middleware, Fastify a `/*` route);
 * - the admin mounted when `settings.admin` is given.
 */
export interface SecurityHarness<Req> {
  readonly accessor: RequestAccessor<Req>;
  build(options: DetourOptions<Req>, settings: SecuritySettings): Promise<SecurityApp<Req>>;
}

interface RawResponse {
  readonly status: number;
  readonly headers: Readonly<Record<string, string>>;
  readonly body: string;
  /** The route that answered, when a handler did (`null` for Detour's own answers). */
  readonly route: Route | null;
}

/** Sends one request exactly as written (`GET <target> HTTP/1.1`) and reads the whole response. */
function raw(port: number, method: string, target: string, headers: Record<string, string> = {}, body = ""): Promise<RawResponse> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, "127.0.0.1");
    const chunks: Buffer[] = [];
    socket.on("data", (chunk) => chunks.push(chunk));
    socket.on("error", reject);
    socket.on("end", () => {
      const text = Buffer.concat(chunks).toString("latin1");
      const split = text.indexOf("\r\n\r\n");
      const head = text.slice(0, split).split("\r\n");
      const status = Number(/^HTTP\/1\.1 (\d{3})/.exec(head[0] ?? "")?.[1]);
      const fields: Record<string, string> = {};
      for (const line of head.slice(1)) {
        const colon = line.indexOf(":");
        fields[line.slice(0, colon).trim().toLowerCase()] ??= line.slice(colon + 1).trim();
      }
      let content = text.slice(split + 4);
      if (fields["transfer-encoding"] === "chunked") content = unchunk(content);
      let route: Route | null = null;
      try {
        route = (JSON.parse(content) as { route?: Route }).route ?? null;
      } catch {
        route = null;
      }
      resolve({ status, headers: fields, body: content, route });
    });
    const lines = [`${method} ${target} HTTP/1.1`, "Host: security.test", "Connection: close"];
    for (const [name, value] of Object.entries(headers)) lines.push(`${name}: ${value}`);
    if (body !== "") lines.push(`Content-Length: ${Buffer.byteLength(body)}`);
    socket.write(`${lines.join("\r\n")}\r\n\r\n${body}`);
  });
}

function unchunk(text: string): string {
  let out = "";
  let at = 0;
  for (;;) {
    const eol = text.indexOf("\r\n", at);
    const size = parseInt(text.slice(at, eol), 16);
    if (!(size > 0)) return out;
    out += text.slice(eol + 2, eol + 2 + size);
    at = eol + 2 + size + 2;
  }
}

function modeFlag(key: string, fields: Record<string, unknown> = {}): Record<string, unknown> {
  return { key, on: true, version: 1, variations: ["available", "read-only", "maintenance"], offVariation: 0, fallthrough: { variation: 0 }, salt: key, ...fields };
}

/** A site flag whose rule puts `path <op> <values>` in maintenance; everything else stays available. */
function pathRule(op: string, values: string[]): FlagDocument {
  return {
    flags: { site: modeFlag("site", { rules: [{ id: "path-rule", clauses: [{ attribute: "path", op, values }], variation: 2 }] }) },
  } as unknown as FlagDocument;
}

/** A store that can be made to fail and recover, as a store whose source goes away (its snapshot stays). */
function flakyStore(document: FlagDocument): Store & { fail(): void; recover(): void } {
  const inner = memoryStore(document);
  const listeners = new Set<StoreListener>();
  let failing = false;
  return {
    kind: "flaky",
    load: () => inner.load(),
    snapshot: () => inner.snapshot(),
    subscribe: (listener) => {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
    write: (mutator) => inner.write(mutator),
    health: () => ({ ...inner.health(), stale: failing, error: failing ? "the source went away" : null }),
    close: () => inner.close(),
    fail() {
      failing = true;
      for (const listener of listeners) listener({ type: "error", error: new Error("the source went away") });
    },
    recover() {
      failing = false;
      for (const listener of listeners) listener({ type: "snapshot", snapshot: inner.snapshot()! });
    },
  };
}

/** A store that never loads: the fail mode decides. */
function unreachableStore(): Store {
  const inner = createDetour({ store: {} }).store;
  return {
    kind: "unreachable",
    load: () => Promise.reject(new Error("unreachable")),
    snapshot: () => undefined,
    subscribe: () => () => {},
    write: () => Promise.reject(new Error("unreachable")),
    health: () => ({ ...inner.health(), revision: null, ageMs: null, stale: false, error: "unreachable" }),
    close: () => inner.close(),
  };
}

function listen(server: Server): Promise<number> {
  return new Promise((resolve, reject) => server.once("error", reject).listen(0, "127.0.0.1", () => resolve((server.address() as AddressInfo).port)));
}

function closeServer(server: Server): Promise<void> {
  server.closeAllConnections();
  return new Promise((resolve) => server.close(() => resolve()));
}

function cookieOf(response: RawResponse): string {
  const line = response.headers["set-cookie"] ?? "";
  expect(line).toMatch(/^detour_bypass=/);
  return line.split(";")[0]!;
}

export function runSecurityConformance<Req>(adapter: string, harness: SecurityHarness<Req>): void {
  describe(`${adapter}: the block holds (request-path hardening)`, () => {
    const running: SecurityApp<Req>[] = [];

    afterEach(async () => {
      for (const app of running.splice(0)) {
        await closeServer(app.server);
        await app.close();
      }
    });

    async function start(options: Partial<DetourOptions<Req>> = {}, settings: SecuritySettings = {}) {
      const app = await harness.build(
        {
          store: { flags: {} } as FlagDocument,
          features: { billing: ["/billing", "/billing/**"] },
          allow: { paths: ["/health"], secret: SECURITY_SECRET },
          ...options,
        },
        settings,
      );
      running.push(app);
      const port = await listen(app.server);
      const send = (target: string, method = "GET", headers: Record<string, string> = {}, body = "") => raw(port, method, target, headers, body);
      return { detour: app.detour, port, send };
    }

    /** The app itself answers these routes: a sanity check that each test's app routes as the test assumes. */
    it("routes as described while nothing is in force", async () => {
      const { send } = await start();
      const routes: [string, Route][] = [["/health", "health"], ["/billing", "billing"], ["/billing/charge", "billing"], ["/admin/x", "admin"], ["/public/x", "public"], ["/elsewhere", "spa"]];
      for (const [target, route] of routes) expect((await send(target)).route, target).toBe(route);
    });

    describe("1. absolute-form request targets", () => {
      it("block a feature under every scheme spelling, and a path rule", async () => {
        const { detour, send } = await start();
        await detour.enable("billing");
        for (const target of ["http://anything/billing/charge", "HTTP://anything/billing/charge", "https://anything/billing/charge", "http://anything/billing", "http://user@anything:8080/billing/charge?x=1"]) {
          const res = await send(target, "POST");
          expect(res.status, target).toBe(503);
          expect(res.route, target).toBeNull();
        }
        expect((await send("http://anything/elsewhere")).status).toBe(200);
        await detour.disable("billing");
        await detour.replace(pathRule("startsWith", ["/admin"]));
        expect((await send("http://anything/admin/users")).status).toBe(503);
        expect((await send("http://anything/public/x")).status).toBe(200);
      });

      it("count a target Detour cannot read as matching (fail closed)", async () => {
        const { detour, send } = await start();
        await detour.enable("billing");
        // Detour blocks them (503); Fastify's router may refuse them first (400). No handler ever runs.
        for (const [method, target] of [["OPTIONS", "*"], ["GET", "/billing/%zz"], ["GET", "/%zz/elsewhere"]] as const) {
          const res = await send(target, method);
          expect([400, 503], `${method} ${target}`).toContain(res.status);
          expect(res.route, `${method} ${target}`).toBeNull();
        }
      });
    });

    describe("2. matches runs in linear time", () => {
      it("a nested-quantifier pattern and a path that would backtrack for hours answer at once", async () => {
        const { detour, send } = await start();
        await detour.replace(pathRule("matches", ["^/(a+)+$"]));
        // 2^45 backtracking steps in a backtracking engine; a few microseconds in RE2.
        const res = await send(`/${"a".repeat(45)}!`);
        expect(res.status).toBe(200);
        expect(res.route).toBe("spa");
        expect((await send(`/${"a".repeat(45)}`)).status).toBe(503);
      });

      it("refuses, naming flag, rule and pattern, a pattern only a backtracking engine could run", async () => {
        const { detour } = await start();
        await expect(detour.replace(pathRule("matches", ["^/(a+)\\1$"]))).rejects.toThrow(
          /flags\.site\.rules\[0\]\.clauses\[0\]\.values\[0\]: flag "site", rule 0 \(id "path-rule"\): the "matches" pattern "\^\/\(a\+\)\\\\1\$" is refused: it uses backreferences/,
        );
      });

      it("a path longer than matches reads counts as matching a rule on path", async () => {
        const { detour, send } = await start();
        await detour.replace(pathRule("matches", ["^/admin"]));
        expect((await send(`/admin/${"x".repeat(9000)}`)).status).toBe(503);
        expect((await send(`/public/${"x".repeat(100)}`)).status).toBe(200);
      });
    });

    describe("3. rules on path see what the router sees", () => {
      it("match under every case and every decoding", async () => {
        const { detour, send } = await start();
        await detour.replace(pathRule("startsWith", ["/admin"]));
        for (const target of ["/admin", "/ADMIN", "/Admin/x", "/%61dmin", "/%41DMIN/x", "/x/../admin", "//admin"]) {
          const res = await send(target);
          expect(res.status, target).toBe(503);
        }
        expect((await send("/public/admin")).status).toBe(200);
      });

      it("an exemption by path holds only where every reading agrees", async () => {
        const { detour, send } = await start();
        // Everything in maintenance but /public: the exemption must not open /public/../admin or /PUBLIC elsewhere.
        await detour.replace({
          flags: { site: modeFlag("site", { fallthrough: { variation: 2 }, rules: [{ clauses: [{ attribute: "path", op: "startsWith", values: ["/public"] }], variation: 0 }] }) },
        } as unknown as FlagDocument);
        expect((await send("/public/x")).route).toBe("public");
        for (const target of ["/public/../admin", "/public/%2e%2e/admin", "/PUBLIC/x"]) expect((await send(target)).status, target).toBe(503);
      });
    });

    describe("4. matrix parameters", () => {
      it("the part before ; is guarded, for features and for rules", async () => {
        const { detour, send } = await start({}, { semicolons: true });
        await detour.enable("billing");
        for (const target of ["/billing;x", "/billing;x/charge", "/billing/charge;jsessionid=1"]) expect((await send(target)).status, target).toBe(503);
        await detour.disable("billing");
        await detour.replace(pathRule("in", ["/admin"]));
        expect((await send("/admin;jsessionid=1")).status).toBe(503);
        expect((await send("/public;x")).status).toBe(200);
      });
    });

    describe("5. allowed paths never leak to catch-alls", () => {
      it("only the exact reading of an allowed path passes; the admin stays reachable", async () => {
        const auth = { Authorization: `Bearer ${SECURITY_ADMIN_TOKEN}` };
        const { detour, send } = await start({}, { admin: { auth: (req) => (bearerToken(req, SECURITY_ADMIN_TOKEN) ? "admin" : null) } });
        await detour.enable("site");
        expect((await send("/health")).route).toBe("health");
        expect((await send("/health?full=1")).route).toBe("health");
        expect((await send("/_detour/api/status", "GET", auth)).status).toBe(200);
        expect((await send("/_detour/", "GET")).status).toBe(200);
        for (const target of ["//health", "/%68ealth", "/health/", "/HEALTH", "/health;x", "//_detour/x", "//_detour/api/status", "/%5Fdetour/x", "/_DETOUR/x", "/_detour/../x", "http://h/health"]) {
          const res = await send(target, "GET", auth);
          expect(res.status, target).toBe(503);
          expect(res.route, target).toBeNull();
        }
      });
    });

    describe("6. URL rewrites before Detour", () => {
      it("a feature is blocked when either the original or the rewritten URL is in it", async () => {
        const { detour, send } = await start({}, { stripV2: true });
        expect((await send("/v2/billing/x")).route).toBe("billing");
        await detour.enable("billing");
        expect((await send("/v2/billing/x")).status).toBe(503);
        expect((await send("/billing/x")).status).toBe(503);
        expect((await send("/v2/elsewhere")).status).toBe(200);
      });

      it("an allowed path must be allowed under both URLs", async () => {
        const { detour, send } = await start({ allow: { paths: ["/v2/health"] } }, { stripV2: true });
        await detour.enable("site");
        // Rewritten to /health, which is not allowed: blocked.
        expect((await send("/v2/health")).status).toBe(503);
      });
    });

    describe("7. bypass cookies are bound to the period", () => {
      async function visit(send: (target: string) => Promise<RawResponse>): Promise<string> {
        const res = await send(`/${SECURITY_SECRET}`);
        expect(res.status).toBe(302);
        return cookieOf(res);
      }

      it("a flag switched off and on by replace() starts a new period", async () => {
        const { detour, send } = await start();
        await detour.enable("site");
        const exported = detour.document()!;
        const cookie = await visit(send);
        expect((await send("/elsewhere", "GET", { Cookie: cookie })).route).toBe("spa");
        await detour.replace({ flags: { site: { ...exported.flags!.site!, on: false } } });
        await detour.replace(exported); // the very document the cookie was issued under
        expect((await send("/elsewhere", "GET", { Cookie: cookie })).status).toBe(503);
        expect((await send("/elsewhere", "GET", { Cookie: await visit(send) })).route).toBe("spa");
      });

      it("fail-closed: a cookie from one outage does not open the next", async () => {
        const store = flakyStore({ flags: { site: modeFlag("site", { detour: { failMode: "closed" } }) } } as unknown as FlagDocument);
        const errors: string[] = [];
        const { send } = await start({ store, onStoreError: (error) => errors.push(error.message) });
        expect((await send("/elsewhere")).route).toBe("spa");
        store.fail();
        expect(errors).toEqual(["the source went away"]);
        expect((await send("/elsewhere")).status).toBe(503);
        const cookie = await visit(send);
        expect((await send("/elsewhere", "GET", { Cookie: cookie })).route).toBe("spa");
        store.recover();
        store.fail();
        expect((await send("/elsewhere", "GET", { Cookie: cookie })).status).toBe(503);
      });

      it("fail-closed before any load: a cookie is good for that instance's outage only", async () => {
        const errors: string[] = [];
        const onStoreError = (error: Error) => void errors.push(error.message);
        const first = await start({ store: unreachableStore(), failMode: "closed", onStoreError });
        const cookie = await visit(first.send);
        expect((await first.send("/elsewhere", "GET", { Cookie: cookie })).route).toBe("spa");
        const second = await start({ store: unreachableStore(), failMode: "closed", onStoreError });
        expect((await second.send("/elsewhere", "GET", { Cookie: cookie })).status).toBe(503);
        expect(errors).toEqual(["unreachable", "unreachable"]);
      });

      it("a cookie opens only what was in force when it was issued", async () => {
        const { detour, send } = await start();
        await detour.enable("site");
        const cookie = await visit(send);
        await detour.enable("billing");
        expect((await send("/elsewhere", "GET", { Cookie: cookie })).route).toBe("spa");
        expect((await send("/billing/charge", "POST", { Cookie: cookie })).status).toBe(503);
        const both = await visit(send);
        expect((await send("/billing/charge", "POST", { Cookie: both })).route).toBe("billing");
      });

      it("the secret URL issues a cookie when only a feature is down", async () => {
        const { detour, send } = await start();
        await detour.enable("billing");
        const cookie = await visit(send);
        expect((await send("/billing/charge", "POST")).status).toBe(503);
        expect((await send("/billing/charge", "POST", { Cookie: cookie })).route).toBe("billing");
      });
    });

    describe("8. flag keys that are Object.prototype names", () => {
      it("are flags like any other through the admin API; nothing lands on Object", async () => {
        const auth = { Authorization: `Bearer ${SECURITY_ADMIN_TOKEN}`, "Content-Type": "application/json" };
        const { detour, send } = await start({}, { admin: { auth: (req) => (bearerToken(req, SECURITY_ADMIN_TOKEN) ? "admin" : null) } });
        for (const key of ["constructor", "toString", "valueOf", "hasOwnProperty"]) {
          const off = await send(`/_detour/api/flags/${key}/off`, "POST", auth, "{}");
          expect(off.status, `${key} off`).toBe(200);
          const offUsers = await send(`/_detour/api/flags/${key}/off`, "POST", auth, '{"users":["u1"]}');
          expect(offUsers.status, `${key} off users`).toBe(200);
          expect(detour.document()!.flags![key], key).toBeUndefined();
          const on = await send(`/_detour/api/flags/${key}/on`, "POST", auth, '{"users":["u1"]}');
          expect(on.status, `${key} on`).toBe(200);
          expect(Object.prototype.hasOwnProperty.call(detour.document()!.flags, key)).toBe(true);
          expect((await send(`/_detour/api/flags/${key}/off`, "POST", auth, "{}")).status).toBe(200);
        }
        expect((Object as unknown as Record<string, unknown>).targets).toBeUndefined();
        expect((Object as unknown as Record<string, unknown>).version).toBeUndefined();
        expect(({} as Record<string, unknown>).targets).toBeUndefined();
      });
    });

    describe("9. hostile documents", () => {
      it("JSON nested thousands of levels deep is a 400 with a clear error, not a 500", async () => {
        const auth = { Authorization: `Bearer ${SECURITY_ADMIN_TOKEN}`, "Content-Type": "application/json" };
        const { send } = await start({}, { admin: { auth: (req) => (bearerToken(req, SECURITY_ADMIN_TOKEN) ? "admin" : null) } });
        const deep = `{"flags":{"x":{"variations":[${"[".repeat(6000)}${"]".repeat(6000)}]}}}`;
        const res = await send("/_detour/api/document", "PUT", auth, deep);
        expect(res.status).toBe(400);
        expect(res.body).toMatch(/nested more than \d+ levels deep/);
      });
    });
  });
}
