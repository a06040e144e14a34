/**
 * The admin's conformance cases: every adapter's admin mount, through real
 * HTTP, against the file store and the Redis store.
 *
 * An adapter joins with an `AdminHarness` (a few lines that build an app with
 * the adapter's middleware, the admin mount and two routes) and one line:
 * `runAdminConformance("express", expressAdminHarness)`.
 */
import { randomUUID } from "node:crypto";
import { mkdtemp, rm } from "node:fs/promises";
import { get, type IncomingMessage, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { bearerToken, type Admin, type AdminDetour, type AdminOptions } from "@detour/admin";
import { createDetour, fileStore, type Detour, type Store } from "@detour/core";
import { redisKeys, redisStore } from "@detour/redis";
import { Redis } from "ioredis";
import request from "supertest";
import { afterEach, describe, expect, it } from "vitest";

export const ADMIN_TOKEN = "conformance-admin-token-0123456789";
const REDIS_URL = "redis://127.0.0.1:6379";
const PROBLEM = /^application\/problem\+json/;

/** The app's own routes: GET and POST answer `{ ok: true }` as JSON. */
export const APP_PATHS = ["/", "/api/items"] as const;

export interface AdminApp {
  readonly server: Server;
  /** The Detour instance of the adapter's middleware/plugin. */
  readonly detour: AdminDetour;
  readonly admin: Admin;
  /** Releases the app (the admin's streams, the Detour store, the framework). */
  close(): Promise<void>;
}

/**
 * What an adapter provides. `build` makes an app that:
 * - uses the adapter's site-wide middleware/plugin, created with `{ store }`;
 * - mounts the admin, `createAdmin({ detour: <that middleware's instance>, ...admin })`, through the adapter's mount;
 * - answers every path of {@link APP_PATHS} on GET and POST with `{ ok: true }`.
 */
export interface AdminHarness {
  build(store: Store, admin: Omit<AdminOptions, "detour">): Promise<AdminApp>;
}

type StoreKind = "file" | "redis";

interface Started {
  readonly app: AdminApp;
  readonly http: ReturnType<typeof request>;
  readonly origin: string;
  readonly port: number;
  /** Another Detour instance on the same store: another server, or the CLI. */
  other(): Promise<Detour>;
}

function listen(server: Server): Promise<number> {
  return new Promise((resolve, reject) => server.once("error", reject).listen(0, "127.0.0.1", () => resolve((server.address() as AddressInfo).port)));
}

function closeServer(server: Server): Promise<void> {
  server.closeAllConnections();
  return new Promise((resolve) => server.close(() => resolve()));
}

/** A raw SSE client (Node's http), so that the test sees exactly what the mount writes. */
function openEvents(port: number, headers: Record<string, string>) {
  let text = "";
  let response: IncomingMessage | undefined;
  const req = get({ host: "127.0.0.1", port, path: "/_detour/api/events", headers });
  const opened = new Promise<IncomingMessage>((resolve, reject) => {
    req.once("response", (res) => {
      response = res;
      res.setEncoding("utf8");
      res.on("data", (chunk: string) => (text += chunk));
      resolve(res);
    });
    req.once("error", reject);
  });
  req.on("error", () => undefined);
  const events = () =>
    text
      .split("\n\n")
      .filter((block) => block.includes("event: "))
      .map((block) => {
        const lines = block.split("\n");
        const field = (name: string) => lines.find((line) => line.startsWith(`${name}: `))?.slice(name.length + 2);
        return { event: field("event"), data: JSON.parse(field("data") ?? "null") as { flags: { key: string; message: string | null; by: string | null }[] } };
      });
  const until = async (predicate: () => boolean, what: string, timeoutMs = 5000) => {
    const deadline = Date.now() + timeoutMs;
    while (!predicate()) {
      if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}; the stream said:\n${text}`);
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
  };
  return { opened, events, until, text: () => text, response: () => response, close: () => void req.destroy() };
}

async function waitFor(check: () => boolean, what: string, timeoutMs = 3000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

export function runAdminConformance(adapter: string, harness: AdminHarness): void {
  describe(`${adapter} admin mount conformance`, () => {
    const cleanups: (() => Promise<void> | void)[] = [];

    afterEach(async () => {
      for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
    });

    /** A store of `kind` and a factory for more stores on the same data. */
    async function stores(kind: StoreKind): Promise<() => Store> {
      if (kind === "file") {
        const dir = await mkdtemp(join(tmpdir(), "detour-admin-conformance-"));
        cleanups.push(() => rm(dir, { recursive: true, force: true }));
        const file = join(dir, "detour.json");
        return () => fileStore(file, { create: true, debounceMs: 10, pollIntervalMs: 250 });
      }
      const prefix = `detour-admin-conformance:${randomUUID()}`;
      cleanups.push(async () => {
        const redis = new Redis(REDIS_URL, { maxRetriesPerRequest: 0 });
        try {
          const keys = redisKeys(prefix);
          await redis.del(keys.document, keys.revision);
        } finally {
          redis.disconnect();
        }
      });
      return () => redisStore({ url: REDIS_URL, prefix, logger: null, bootstrap: { flags: {} } });
    }

    async function start(kind: StoreKind = "file", admin: Partial<Omit<AdminOptions, "detour">> = {}): Promise<Started> {
      const storeFor = await stores(kind);
      const app = await harness.build(storeFor(), {
        auth: (req) => (bearerToken(req, ADMIN_TOKEN) ? "admin:conformance" : null),
        heartbeatMs: 60_000,
        ...admin,
      });
      const port = await listen(app.server);
      cleanups.push(async () => {
        app.admin.close();
        await closeServer(app.server);
        await app.close();
      });
      await app.detour.ready;
      const other = async () => {
        const detour = createDetour({ store: storeFor() });
        cleanups.push(() => detour.close());
        await detour.ready;
        return detour;
      };
      return { app, http: request(app.server), origin: `http://127.0.0.1:${port}`, port, other };
    }

    const auth = { Authorization: `Bearer ${ADMIN_TOKEN}` };

    for (const kind of ["file", "redis"] as const) {
      describe(`${kind} store`, () => {
        it("answers the status, and turns site maintenance on and off while the admin stays reachable", async () => {
          const { http, origin } = await start(kind);
          const status = await http.get("/_detour/api/status").set(auth).expect(200).expect("Content-Type", /^application\/json/);
          expect(status.body).toMatchObject({ store: { kind, stale: false }, flags: [], siteFlag: "site", audit: [] });

          const on = await http
            .post("/_detour/api/flags/site/on")
            .set(auth)
            .set("Origin", origin)
            .set("Content-Type", "application/json")
            .send(JSON.stringify({ message: "Back at 3", retryAfter: 60 }))
            .expect(200);
          expect(on.body.flags).toMatchObject([{ key: "site", mode: "maintenance", scope: "site", message: "Back at 3", by: "admin:conformance" }]);
          await http.get("/").expect(503);
          await http.post("/api/items").set("Accept", "application/problem+json").expect(503).expect("Detour-Mode", "maintenance");
          // The mount path is exempt from maintenance, without any allow.paths.
          await http.get("/_detour/").expect(200).expect("Content-Type", /^text\/html/);
          await http.get("/_detour/api/status").set(auth).expect(200);

          const off = await http.post("/_detour/api/flags/site/off").set(auth).set("Origin", origin).set("Content-Type", "application/json").send("{}").expect(200);
          expect(off.body.flags).toEqual([]);
          expect(off.body.audit.map((e: { actor: string; action: string }) => `${e.actor} ${e.action}`)).toEqual(["admin:conformance disable", "admin:conformance enable"]);
          await http.get("/").expect(200, { ok: true });
        });

        it("shows a change made by another instance on the same store as an event", async () => {
          const { port, other, app } = await start(kind);
          const stream = openEvents(port, { ...auth, Accept: "text/event-stream" });
          cleanups.push(stream.close);
          const res = await stream.opened;
          expect(res.statusCode).toBe(200);
          expect(res.headers["content-type"]).toBe("text/event-stream; charset=utf-8");
          await stream.until(() => stream.events().some((e) => e.event === "status"), "the status event");
          const cli = await other();
          await cli.enable("billing", { message: "Moving billing" }, { actor: "cli:ops@box" });
          await stream.until(() => stream.events().some((e) => e.event === "change" && e.data.flags.some((f) => f.key === "billing")), "the change event");
          expect(stream.events().find((e) => e.event === "change")!.data.flags).toMatchObject([{ key: "billing", message: "Moving billing", by: "cli:ops@box" }]);
          // The client goes away: the server releases the stream.
          expect(app.admin.openStreams).toBe(1);
          stream.close();
          await waitFor(() => app.admin.openStreams === 0, "the stream to be released");
        });
      });
    }

    describe("security", () => {
      it("answers 401 without credentials, revealing nothing", async () => {
        const { http, origin, app } = await start();
        await app.detour.enable("billing", { message: "Secret" });
        for (const path of ["/_detour/api/status", "/_detour/api/document", "/_detour/api/audit", "/_detour/api/events", "/_detour/api/nothing"]) {
          const res = await http.get(path).set("Authorization", "Bearer wrong").expect(401).expect("Content-Type", PROBLEM);
          expect(res.body).toEqual({ type: "about:blank", title: "Unauthorized", status: 401 });
        }
        await http.post("/_detour/api/flags/site/on").set("Origin", origin).set("Content-Type", "application/json").send("{}").expect(401);
        expect(app.detour.audit()).toHaveLength(1);
      });

      it("refuses cross-site origins (403) and non-JSON bodies (415), writing nothing", async () => {
        const { http, app, origin } = await start();
        const json = { "Content-Type": "application/json" };
        await http.post("/_detour/api/flags/site/on").set(auth).set(json).set("Origin", "https://evil.example").send("{}").expect(403).expect("Content-Type", PROBLEM);
        await http.put("/_detour/api/document").set(auth).set(json).set("Origin", "https://evil.example").send('{"flags":{}}').expect(403);
        await http.post("/_detour/api/flags/site/on").set(auth).set("Sec-Fetch-Site", "cross-site").set(json).send("{}").expect(403);
        await http.post("/_detour/api/flags/site/on").set(auth).set("Origin", origin).type("form").send("mode=maintenance").expect(415);
        await http.post("/_detour/api/flags/site/on").set(auth).set("Origin", origin).set("Content-Type", "text/plain").send("{}").expect(415);
        expect(app.detour.audit()).toEqual([]);
        await http.get("/").expect(200);
      });

      it("answers 400 naming the field, and writes nothing", async () => {
        const { http, app, origin } = await start();
        const post = (path: string, body: string) => http.post(path).set(auth).set("Origin", origin).set("Content-Type", "application/json").send(body).expect(400);
        const percent = await post("/_detour/api/flags/site/on", '{"percent":140}').expect("Content-Type", PROBLEM);
        expect(percent.body).toMatchObject({ status: 400, field: "percent" });
        expect((await post("/_detour/api/flags/site/on", '{"mode":"down","users":"x"}')).body.errors.map((e: { field: string }) => e.field)).toEqual(["mode", "users"]);
        expect((await post("/_detour/api/flags/bad%20key/on", "{}")).body).toMatchObject({ field: "key" });
        // Malformed JSON is refused by the admin, or by a JSON body parser the app put first.
        await post("/_detour/api/flags/site/on", "{nope");
        const put = await http.put("/_detour/api/document").set(auth).set("Origin", origin).set("Content-Type", "application/json").send('{"flags":{"x":{"key":"x","on":true,"variations":[],"fallthrough":{"variation":3}}}}').expect(400);
        expect(put.body.field).toMatch(/^flags\.x\./);
        expect(app.detour.audit()).toEqual([]);
        expect(app.detour.status().flags).toEqual([]);
      });

      it("refuses a body over the limit (413)", async () => {
        const { http, origin } = await start("file", { maxBodyBytes: 50_000 });
        const body = JSON.stringify({ message: "x".repeat(200_000) });
        await http.post("/_detour/api/flags/site/on").set(auth).set("Origin", origin).set("Content-Type", "application/json").send(body).expect(413);
      });
    });

    describe("routes", () => {
      it("exports and replaces the document, and answers the audit log", async () => {
        const { http, origin } = await start();
        const document = { flags: { reports: { key: "reports", on: true, variations: ["available", "read-only", "maintenance"], offVariation: 0, fallthrough: { variation: 1 } } } };
        await http.put("/_detour/api/document").set(auth).set("Origin", origin).set("Content-Type", "application/json").send(JSON.stringify(document)).expect(200);
        const exported = await http.get("/_detour/api/document").set(auth).expect(200);
        expect(exported.body.flags.reports).toMatchObject({ key: "reports", on: true });
        const audit = await http.get("/_detour/api/audit?limit=1").set(auth).expect(200);
        expect(audit.body.audit).toMatchObject([{ actor: "admin:conformance", action: "replace", flag: null }]);
        await http.get("/_detour/api/audit?limit=x").set(auth).expect(400);
      });

      it("serves the console, redirects the bare base path, and leaves other paths to the app", async () => {
        const { http } = await start();
        const page = await http.get("/_detour/").expect(200).expect("Content-Type", /^text\/html/);
        expect(page.headers["content-security-policy"]).toContain("default-src 'none'");
        expect(page.text).toContain('data-base="/_detour"');
        await http.head("/_detour/").expect(200);
        await http.get("/_detour?x=1").expect(308).expect("Location", "/_detour/?x=1");
        await http.get("/api/items").expect(200, { ok: true });
        await http.get("/_detourx").expect(404);
        await http.get("/_detour/api/nothing").set(auth).expect(404).expect("Content-Type", PROBLEM);
      });

      it("serves Prometheus metrics when asked to", async () => {
        const { http } = await start("file", { metrics: true });
        await http.get("/_detour/metrics").expect(401);
        const res = await http.get("/_detour/metrics").set(auth).expect(200).expect("Content-Type", /^text\/plain/);
        expect(res.text).toContain("detour_store_stale 0");
      });
    });
  });
}
