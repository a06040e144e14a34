/**
 * The one conformance suite every Detour adapter passes, through real HTTP.
 *
 * An adapter joins with a harness (a few lines that build an app with the
 * adapter for the given options and the routes below) and one line:
 * `runConformance("express", expressHarness)`.
 */
import type { Server } from "node:http";
import { setTimeout as sleep } from "node:timers/promises";
import { createDetour, type Decision, type Detour, type DetourOptions, type FlagDocument, type Store } from "@detour/core";
import type { RequestAccessor } from "@detour/core/adapter";
import request from "supertest";
import { afterEach, describe, expect, it } from "vitest";

/** Paths the app answers on GET (and so HEAD), POST, PUT, PATCH and DELETE with `answer(decision)` as JSON. */
export const OPEN_PATHS = ["/", "/api/items", "/reports", "/reports/monthly", "/health", "/healthz-admin"] as const;
/** Answered like the open paths, behind the adapter's route guard for {@link GUARDED_FEATURE}. */
export const GUARDED_PATH = "/billing/invoices";
export const GUARDED_FEATURE = "billing";
/** The methods to route explicitly; every framework answers HEAD through GET. */
export const ROUTE_METHODS = ["GET", "POST", "PUT", "PATCH", "DELETE"] as const;

/** What the route handlers send back: the decision the handler saw, and a flag read through it. */
export function answer(decision: Decision | null | undefined): Record<string, unknown> {
  if (!decision) return { error: "no decision attached to the request" };
  const { action, mode, scope, reason } = decision;
  return { action, mode, scope, reason, storage: decision.variation("storage", "old") };
}

export interface AppSettings {
  /**
   * Trust the loopback proxy in front of the app: Express `app.set("trust proxy", "loopback")`,
   * Koa `app.proxy = true`, Fastify `trustProxy: true`. Off: the socket address is the client.
   */
  readonly trustProxy: boolean;
}

export interface ConformanceApp<Req> {
  /** A node HTTP server for the app; the suite listens on it and closes it. */
  readonly server: Server;
  /** The Detour instance the adapter created from the options. */
  readonly detour: Detour<Req>;
  /** Releases what the app holds besides the server (the Detour store, the framework). */
  close(): Promise<void>;
}

/**
 * What an adapter provides to run the suite. `build` makes an app that:
 * - uses the adapter's site-wide middleware/plugin, created from `options`;
 * - answers every path of {@link OPEN_PATHS} for {@link ROUTE_METHODS} with `answer(<attached decision>)` as JSON;
 * - answers {@link GUARDED_PATH} the same way behind the adapter's route guard for {@link GUARDED_FEATURE};
 * - has an error handler that answers 500 with the error's message as text/plain.
 */
export interface Harness<Req> {
  /** The adapter's request accessor; the suite's `user()` reads the `X-User` header through it. */
  readonly accessor: RequestAccessor<Req>;
  build(options: DetourOptions<Req>, settings: AppSettings): Promise<ConformanceApp<Req>>;
}

export const SECRET = "conformance-secret-0123456789";
export const TOKEN = "conformance-automation-token";
const PROBLEM = "application/problem+json";
const UNSAFE = ["post", "put", "patch", "delete"] as const;

/** The flags the suite starts from: nothing in force, and a `storage` flag that sends user-42 to the new cluster. */
function startingDocument(): FlagDocument {
  return {
    flags: {
      storage: {
        key: "storage",
        on: true,
        variations: ["old", "new"],
        offVariation: 0,
        targets: [{ variation: 1, values: ["user-42"] }],
        fallthrough: { variation: 0 },
        salt: "storage",
      },
    },
  } as FlagDocument;
}

/** A store that takes `delayMs` to load, to check that adapters wait for the first snapshot. */
function slowStore(document: FlagDocument, delayMs: number): Store {
  const inner = createDetour({ store: document }).store;
  let loaded = false;
  return {
    kind: "slow",
    load: () => sleep(delayMs).then(() => ((loaded = true), inner.load())),
    snapshot: () => (loaded ? inner.snapshot() : undefined),
    subscribe: (listener) => inner.subscribe(listener),
    write: (mutator) => inner.write(mutator),
    health: () => inner.health(),
    close: () => inner.close(),
  };
}

function listen(server: Server): Promise<void> {
  // No host: the dual-stack default, so IPv4 clients arrive as ::ffff:127.0.0.1 as in many deployments.
  return new Promise((resolve, reject) => server.once("error", reject).listen(0, () => resolve()));
}

function closeServer(server: Server): Promise<void> {
  server.closeAllConnections();
  return new Promise((resolve) => server.close(() => resolve()));
}

export function runConformance<Req>(adapter: string, harness: Harness<Req>): void {
  describe(`${adapter} adapter conformance`, () => {
    const running: ConformanceApp<Req>[] = [];

    afterEach(async () => {
      for (const app of running.splice(0)) {
        await closeServer(app.server);
        await app.close();
      }
    });

    async function start(options: Partial<DetourOptions<Req>> = {}, settings: AppSettings = { trustProxy: false }) {
      const app = await harness.build(
        {
          store: startingDocument(),
          features: { reports: ["/reports", "/reports/*"] },
          allow: { paths: ["/health"], secret: SECRET, token: TOKEN },
          user: (req) => harness.accessor.header(req, "x-user"),
          ...options,
        },
        settings,
      );
      running.push(app);
      await listen(app.server);
      return { detour: app.detour, http: request(app.server) };
    }

    describe("nothing in force", () => {
      it("runs the handler with mode available on every method", async () => {
        const { http } = await start();
        const body = { action: "pass", mode: "available", scope: null, reason: "NOT_IN_FORCE", storage: "old" };
        for (const path of [...OPEN_PATHS, GUARDED_PATH]) {
          await http.get(path).expect(200, body);
          for (const method of UNSAFE) await http[method](path).expect(200, body);
        }
        await http.head("/").expect(200);
      });

      it("lets handlers read any flag through variation()", async () => {
        const { http } = await start();
        await http.get("/api/items").set("X-User", "user-42").expect(200).expect((res) => expect(res.body.storage).toBe("new"));
        await http.get("/api/items").set("X-User", "user-7").expect(200).expect((res) => expect(res.body.storage).toBe("old"));
      });

      it("waits for the store's first load before deciding", async () => {
        const document = startingDocument();
        document.flags!.site = { key: "site", on: true, variations: ["available", "read-only", "maintenance"], offVariation: 0, fallthrough: { variation: 2 }, salt: "site" } as never;
        const { http } = await start({ store: slowStore(document, 50) });
        await http.get("/").expect(503).expect("Detour-Mode", "maintenance");
      });
    });

    describe("whole-site maintenance", () => {
      async function inMaintenance(options: Partial<DetourOptions<Req>> = {}) {
        const started = await start(options);
        await started.detour.enable("site", { message: "Upgrading <the> database", retryAfter: 120 });
        return started;
      }

      it("answers 503 with an HTML page by default, Retry-After, no-store and Detour-Mode", async () => {
        const { http } = await inMaintenance();
        for (const accept of [undefined, "text/html", "*/*"]) {
          const req = http.get("/api/items");
          if (accept) void req.set("Accept", accept);
          const res = await req.expect(503).expect("Retry-After", "120").expect("Detour-Mode", "maintenance");
          expect(res.headers["content-type"]).toMatch(/^text\/html/);
          expect(res.headers["cache-control"]).toMatch(/no-store/);
          expect(res.text).toContain("Upgrading &lt;the&gt; database");
          expect(res.text).not.toContain('"action"');
        }
      });

      it("answers problem+json to JSON clients", async () => {
        const { http } = await inMaintenance();
        for (const [accept, type] of [[PROBLEM, /^application\/problem\+json/], ["application/json", /^application\/(problem\+)?json/]] as const) {
          const res = await http.get("/api/items").set("Accept", accept).expect(503).expect("Content-Type", type);
          const problem = JSON.parse(res.text) as Record<string, unknown>;
          expect(problem).toMatchObject({ status: 503, mode: "maintenance", scope: "site", retryAfter: 120, detail: "Upgrading <the> database" });
          expect(typeof problem.type).toBe("string");
          expect(typeof problem.title).toBe("string");
        }
      });

      it("answers plain text to text clients", async () => {
        const { http } = await inMaintenance();
        const res = await http.get("/").set("Accept", "text/plain").expect(503).expect("Content-Type", /^text\/plain/);
        expect(res.text).toContain("Upgrading <the> database");
        expect(res.headers["cache-control"]).toMatch(/no-store/);
      });

      it("answers HEAD with the headers and no body", async () => {
        const { http } = await inMaintenance();
        const res = await http.head("/").expect(503).expect("Retry-After", "120").expect("Detour-Mode", "maintenance");
        expect(res.headers["cache-control"]).toMatch(/no-store/);
        expect(res.text ?? "").toBe("");
      });

      it("blocks every method and every path, known to the router or not", async () => {
        const { http } = await inMaintenance();
        for (const path of ["/", "/api/items", GUARDED_PATH, "/not-a-route"]) {
          await http.get(path).set("Accept", PROBLEM).expect(503);
          for (const method of UNSAFE) await http[method](path).set("Accept", PROBLEM).expect(503).expect("Detour-Mode", "maintenance");
        }
      });

      it("follows live toggles without a restart", async () => {
        const { http, detour } = await start();
        await http.get("/").expect(200);
        await detour.enable("site");
        await http.get("/").expect(503);
        await detour.disable("site");
        await http.get("/").expect(200, { action: "pass", mode: "available", scope: null, reason: "NOT_IN_FORCE", storage: "old" });
        await detour.enable("site", { mode: "read-only" });
        await http.post("/").expect(503).expect("Detour-Mode", "read-only");
        await http.get("/").expect(200).expect((res) => expect(res.body.mode).toBe("read-only"));
      });

      it("uses a custom renderer, keeping the standard headers", async () => {
        const { http } = await inMaintenance({
          render: (decision, accept) => ({ headers: { "Content-Type": "text/x-custom" }, body: `custom ${decision.mode} for ${accept ?? "-"}` }),
        });
        const res = await http.get("/").set("Accept", "text/html").expect(503).expect("Content-Type", /^text\/x-custom/);
        expect(res.text).toBe("custom maintenance for text/html");
        expect(res.headers["retry-after"]).toBe("120");
        expect(res.headers["cache-control"]).toMatch(/no-store/);
        expect(res.headers["detour-mode"]).toBe("maintenance");
      });
    });

    describe("features", () => {
      it("blocks a route guarded by a feature while its flag is on, and nothing else", async () => {
        const { http, detour } = await start();
        await detour.enable(GUARDED_FEATURE, { message: "Billing is moving" });
        const res = await http.get(GUARDED_PATH).set("Accept", PROBLEM).expect(503).expect("Detour-Mode", "maintenance");
        expect(JSON.parse(res.text)).toMatchObject({ mode: "maintenance", scope: "feature", detail: "Billing is moving" });
        await http.post(GUARDED_PATH).expect(503);
        await http.head(GUARDED_PATH).expect(503).expect("Detour-Mode", "maintenance");
        await http.get("/").expect(200);
        await http.post("/api/items").expect(200);
        await detour.disable(GUARDED_FEATURE);
        await http.get(GUARDED_PATH).expect(200).expect((r) => expect(r.body).toMatchObject({ action: "pass", mode: "available" }));
      });

      it("blocks paths matched by a feature's glob", async () => {
        const { http, detour } = await start();
        await detour.enable("reports");
        for (const path of ["/reports", "/reports/monthly", "/reports/monthly?year=2026"]) {
          const res = await http.get(path).set("Accept", PROBLEM).expect(503);
          expect(JSON.parse(res.text)).toMatchObject({ mode: "maintenance", scope: "feature" });
        }
        await http.get("/").expect(200);
        await http.get("/api/items").expect(200);
      });

      it("resolves to the strictest mode of the site and the feature", async () => {
        const { http, detour } = await start();
        await detour.enable("site", { mode: "read-only" });
        await detour.enable(GUARDED_FEATURE, { mode: "maintenance" });
        const guarded = await http.get(GUARDED_PATH).set("Accept", PROBLEM).expect(503).expect("Detour-Mode", "maintenance");
        expect(JSON.parse(guarded.text)).toMatchObject({ mode: "maintenance", scope: "feature" });
        await http.get("/").expect(200).expect((r) => expect(r.body).toMatchObject({ mode: "read-only", scope: "site" }));
        await http.post("/").expect(503).expect("Detour-Mode", "read-only");

        await detour.enable("reports", { mode: "read-only" });
        await detour.enable("site", { mode: "maintenance" });
        const reports = await http.get("/reports").set("Accept", PROBLEM).expect(503);
        expect(JSON.parse(reports.text)).toMatchObject({ mode: "maintenance", scope: "site" });
      });
    });

    describe("per-user read-only", () => {
      it("lets the user read with mode read-only and refuses every unsafe method", async () => {
        const { http, detour } = await start();
        await detour.enable("site", { users: ["user-17"] });
        const seen = { action: "pass", mode: "read-only", scope: "user", reason: "SAFE_METHOD", storage: "old" };
        await http.get("/api/items").set("X-User", "user-17").expect(200, seen);
        await http.head("/api/items").set("X-User", "user-17").expect(200);
        for (const method of UNSAFE) {
          await http[method]("/api/items").set("X-User", "user-17").set("Accept", PROBLEM).expect(503).expect("Detour-Mode", "read-only");
        }
        for (const method of UNSAFE) {
          await http[method]("/api/items").set("X-User", "user-18").expect(200).expect((r) => expect(r.body.mode).toBe("available"));
        }
      });

      it("hands errors thrown by the user() callback to the framework's error handler", async () => {
        const { http, detour } = await start({
          user: () => {
            throw new Error("user lookup failed");
          },
        });
        await detour.enable("site", { users: ["user-17"] });
        await http.get("/api/items").expect(500).expect("user lookup failed");
        await http.get(GUARDED_PATH).expect(500).expect("user lookup failed");
      });
    });

    describe("per-tenant read-only", () => {
      it("puts one organization read-only: its reads pass in read-only mode, its writes are refused, another organization writes on", async () => {
        const { http, detour } = await start({ contexts: (req) => ({ organization: harness.accessor.header(req, "x-org") }) });
        await detour.enable("site", { contexts: [{ kind: "organization", key: "acme" }] });
        const seen = { action: "pass", mode: "read-only", scope: "context", reason: "SAFE_METHOD", storage: "old" };
        await http.get("/api/items").set("X-Org", "acme").set("X-User", "user-17").expect(200, seen);
        await http.get(GUARDED_PATH).set("X-Org", "acme").expect(200, seen);
        for (const method of UNSAFE) {
          await http[method]("/api/items").set("X-Org", "acme").set("Accept", PROBLEM).expect(503).expect("Detour-Mode", "read-only");
        }
        for (const method of UNSAFE) {
          await http[method]("/api/items").set("X-Org", "globex").set("X-User", "user-17").expect(200).expect((r) => expect(r.body.mode).toBe("available"));
        }
        // A user whose key is the organization's is not the organization.
        await http.post("/api/items").set("X-User", "acme").expect(200);
        await detour.disable("site", { contexts: [{ kind: "organization", key: "acme" }] });
        await http.post("/api/items").set("X-Org", "acme").expect(200);
      });
      it("computes only the kinds the flags in force read, of a per-kind contexts option", async () => {
        const calls = { organization: 0, workspace: 0 };
        const { http, detour } = await start({
          contexts: {
            organization: (req) => (calls.organization++, harness.accessor.header(req, "x-org")),
            workspace: (req) => (calls.workspace++, harness.accessor.header(req, "x-workspace")),
          },
        });
        await detour.enable("site", { contexts: [{ kind: "organization", key: "acme" }] });
        for (const method of UNSAFE) {
          await http[method]("/api/items").set("X-Org", "acme").set("X-Workspace", "w1").set("Accept", PROBLEM).expect(503).expect("Detour-Mode", "read-only");
        }
        expect(calls).toEqual({ organization: UNSAFE.length, workspace: 0 });
      });
    });

    describe("bypass", () => {
      it("lets allowed paths through, anchored", async () => {
        const { http, detour } = await start();
        await detour.enable("site");
        await http.get("/health").expect(200).expect((r) => expect(r.body).toMatchObject({ action: "pass", reason: "ALLOWED_PATH" }));
        await http.get("/health?verbose=1").expect(200);
        await http.post("/health").expect(200);
        await http.get("/healthz-admin").expect(503);
        await http.get("/api/health").expect(503);
      });

      it("lets allowed client addresses through, by CIDR", async () => {
        const { http, detour } = await start({ allow: { ips: ["127.0.0.0/8", "::1"] } });
        await detour.enable("site");
        await http.post("/api/items").expect(200).expect((r) => expect(r.body.reason).toBe("ALLOWED_IP"));
      });

      it("ignores X-Forwarded-For when the proxy is not trusted", async () => {
        const { http, detour } = await start({ allow: { ips: ["10.0.0.0/8"] } }, { trustProxy: false });
        await detour.enable("site");
        await http.get("/").set("X-Forwarded-For", "10.0.0.1").expect(503);
      });

      it("uses the forwarded client address when the proxy is trusted", async () => {
        const { http, detour } = await start({ allow: { ips: ["10.0.0.0/8"] } }, { trustProxy: true });
        await detour.enable("site");
        await http.get("/").set("X-Forwarded-For", "10.0.0.1").expect(200).expect((r) => expect(r.body.reason).toBe("ALLOWED_IP"));
        await http.get("/").set("X-Forwarded-For", "192.0.2.1").expect(503);
      });

      it("turns a visit to the secret path into a cookie bound to the maintenance period", async () => {
        const { http, detour } = await start();
        await detour.enable("site");
        const visit = await http.get(`/${SECRET}`).expect(302).expect("Location", "/");
        const setCookie = ([] as string[]).concat(visit.headers["set-cookie"] ?? []);
        const bypass = setCookie.find((line) => line.startsWith("detour_bypass="));
        expect(bypass).toBeDefined();
        expect(bypass).toMatch(/;\s*HttpOnly/i);
        expect(bypass).toMatch(/;\s*SameSite=Lax/i);
        expect(bypass).not.toMatch(/;\s*Secure/i);
        const cookie = bypass!.split(";")[0]!;

        await http.get("/").set("Cookie", `theme=dark; ${cookie}`).expect(200).expect((r) => expect(r.body.reason).toBe("BYPASS_COOKIE"));
        await http.post("/api/items").set("Cookie", cookie).expect(200);
        await http.get("/").expect(503);

        await detour.disable("site");
        await sleep(5); // a new period starts at a later instant
        await detour.enable("site");
        await http.get("/").set("Cookie", cookie).expect(503);
      });

      it("lets automation through with the Detour-Bypass header token", async () => {
        const { http, detour } = await start();
        await detour.enable("site");
        await http.delete("/api/items").set("Detour-Bypass", TOKEN).expect(200).expect((r) => expect(r.body.reason).toBe("BYPASS_TOKEN"));
        await http.delete("/api/items").set("Detour-Bypass", "not-the-token").expect(503);
      });
    });
  });
}
