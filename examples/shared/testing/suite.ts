/**
 * The tests every example passes, written once: each example's
 * `test/app.test.ts` builds its app on a temporary file store and calls
 * `exampleSuite("<framework>", start)`.
 */
import { mkdtempSync, rmSync } from "node:fs";
import type { RequestListener, Server } from "node:http";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createDetour, fileStore, type Detour, type Store } from "@detour/core";
import request from "supertest";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";

export interface RunningApp {
  /** What supertest talks to: a Node request listener or an (unstarted) server. */
  readonly target: RequestListener | Server;
  /** The app's Detour instance: the tests toggle flags through it, as an operator would. */
  readonly detour: Pick<Detour<never>, "enable" | "disable">;
  /** Closes the app and its Detour instance. */
  close(): Promise<void>;
}

/** Builds the example's app (`buildApp({ store })`) on the given store. */
export type StartApp = (store: Store) => Promise<RunningApp>;

const HTML = "text/html";
const JSON_ACCEPT = "application/json";

export function exampleSuite(framework: string, start: StartApp): void {
  describe(`the ${framework} example`, () => {
    let dir: string;
    let storePath: string;
    let app: RunningApp;

    beforeEach(async () => {
      dir = mkdtempSync(join(tmpdir(), `detour-example-${framework}-`));
      storePath = join(dir, "detour.json");
      app = await start(fileStore(storePath, { create: true }));
    });

    afterEach(async () => {
      await app.close();
      rmSync(dir, { recursive: true, force: true });
    });

    const http = () => request(app.target);
    const page = (path: string, user?: string) => {
      const req = http().get(path).set("Accept", HTML);
      return user === undefined ? req : req.set("X-User", user);
    };
    const api = (user?: string) => ({
      list: () => (user === undefined ? http().get("/api/notes") : http().get("/api/notes").set("X-User", user)).set("Accept", JSON_ACCEPT),
      add: (body: object) => {
        const req = http().post("/api/notes").set("Accept", JSON_ACCEPT).send(body);
        return user === undefined ? req : req.set("X-User", user);
      },
    });

    it("renders its pages for a user named by the X-User header or the user cookie", async () => {
      const anonymous = await page("/");
      expect(anonymous.status).toBe(200);
      expect(anonymous.type).toBe(HTML);
      expect(anonymous.text).toContain("Sign in to keep notes");

      const home = await page("/", "alice");
      expect(home.text).toContain('action="/notes"');
      expect(home.text).not.toContain("Read-only for now");

      const account = await http().get("/account").set("Cookie", "theme=dark; user=alice");
      expect(account.status).toBe(200);
      expect(account.text).toContain("Signed in as <strong>alice</strong>");
      expect(account.text).toContain("Mode: <code>available</code>");

      const invoices = await page("/billing/invoices", "alice");
      expect(invoices.status).toBe(200);
      expect(invoices.text).toContain("2026-11");

      const login = await http().get("/login?user=bob");
      expect(login.status).toBe(303);
      expect(login.headers.location).toBe("/");
      expect(String(login.headers["set-cookie"])).toMatch(/^user=bob; Path=\/; HttpOnly/);
    });

    it("keeps notes per user, through the API and the page's form", async () => {
      const created = await api("alice").add({ text: "buy milk" });
      expect(created.status).toBe(201);
      expect(created.body).toMatchObject({ text: "buy milk" });

      const form = await http().post("/notes").set("X-User", "alice").type("form").send({ text: "call <Bob>" });
      expect(form.status).toBe(303);
      expect(form.headers.location).toBe("/");

      const listed = await api("alice").list();
      expect(listed.status).toBe(200);
      expect(listed.body.notes.map((note: { text: string }) => note.text)).toEqual(["call <Bob>", "buy milk"]);
      expect((await page("/", "alice")).text).toContain("call &lt;Bob&gt;");
      expect((await api("bob").list()).body).toEqual({ notes: [] });

      const invalid = await api("alice").add({ text: " " });
      expect(invalid.status).toBe(400);
      expect(invalid.type).toBe("application/problem+json");
      const anonymous = await api().list();
      expect(anonymous.status).toBe(401);
      expect(anonymous.body).toMatchObject({ status: 401, title: "Not signed in" });
    });

    it("pays an invoice while billing is up", async () => {
      const paid = await http().post("/billing/pay").set("X-User", "alice").type("form").send({ invoice: "alice-2026-09" });
      expect(paid.status).toBe(303);
      expect(paid.headers.location).toBe("/billing/invoices");
      expect((await page("/billing/invoices", "alice")).text).toMatch(/2026-09<\/td><td>[^<]+<\/td><td>paid/);
      const notMine = await http().post("/billing/pay").set("X-User", "bob").set("Accept", JSON_ACCEPT).send({ invoice: "alice-2026-10" });
      expect(notMine.status).toBe(404);
    });

    it("site maintenance: a 503 page for people, problem+json for API clients, /health still up", async () => {
      await app.detour.enable("site", { message: "Upgrading the database", retryAfter: 600 });

      const home = await page("/", "alice");
      expect(home.status).toBe(503);
      expect(home.type).toBe(HTML);
      expect(home.text).toContain("Upgrading the database");
      expect(home.headers["retry-after"]).toBe("600");
      expect(home.headers["cache-control"]).toContain("no-store");

      const listed = await api("alice").list();
      expect(listed.status).toBe(503);
      expect(listed.type).toBe("application/json"); // the problem document, labelled as the client asked
      expect(listed.body).toMatchObject({ status: 503, mode: "maintenance", scope: "site", detail: "Upgrading the database" });
      const problem = await http().get("/api/notes").set("X-User", "alice").set("Accept", "application/problem+json");
      expect(problem.status).toBe(503);
      expect(problem.type).toBe("application/problem+json");
      expect(JSON.parse(problem.text)).toEqual(listed.body);
      expect((await api("alice").add({ text: "x" })).status).toBe(503);

      const health = await http().get("/health");
      expect(health.status).toBe(200);
      expect(health.body).toEqual({ status: "ok" });

      await app.detour.disable("site");
      expect((await page("/", "alice")).status).toBe(200);
    });

    it("billing maintenance: the billing routes are blocked, the rest of the site works", async () => {
      await app.detour.enable("billing", { message: "Billing is moving" });

      const invoices = await page("/billing/invoices", "alice");
      expect(invoices.status).toBe(503);
      expect(invoices.headers["detour-mode"]).toBe("maintenance");
      expect(invoices.text).toContain("Billing is moving");
      const pay = await http().post("/billing/pay").set("X-User", "alice").set("Accept", JSON_ACCEPT).send({ invoice: "alice-2026-09" });
      expect(pay.status).toBe(503);
      expect(pay.body).toMatchObject({ mode: "maintenance", scope: "feature" });

      expect((await page("/", "alice")).status).toBe(200);
      expect((await api("alice").add({ text: "still works" })).status).toBe(201);

      await app.detour.disable("billing");
      expect((await page("/billing/invoices", "alice")).status).toBe(200);
    });

    it("per-user read-only: reads pass with a banner and no forms, writes get a 503, other users are untouched", async () => {
      await api("bob").add({ text: "before the move" });
      await app.detour.enable("site", { users: ["bob"], message: "Moving your notes to the new cluster." });

      const home = await http().get("/").set("Cookie", "user=bob");
      expect(home.status).toBe(200);
      expect(home.text).toContain("Read-only for now");
      expect(home.text).toContain("Moving your notes to the new cluster.");
      expect(home.text).not.toContain('action="/notes"');
      expect(home.text).toContain("before the move");
      const invoices = await page("/billing/invoices", "bob");
      expect(invoices.status).toBe(200);
      expect(invoices.text).not.toContain('action="/billing/pay"');

      expect((await api("bob").list()).status).toBe(200);
      const write = await api("bob").add({ text: "during the move" });
      expect(write.status).toBe(503);
      expect(write.body).toMatchObject({ mode: "read-only", scope: "user" });
      const form = await http().post("/notes").set("X-User", "bob").set("Accept", HTML).type("form").send({ text: "during the move" });
      expect(form.status).toBe(503);
      expect(form.type).toBe(HTML);
      expect((await http().get("/health").set("X-User", "bob")).status).toBe(200);

      const alice = await page("/", "alice");
      expect(alice.text).not.toContain("Read-only for now");
      expect((await api("alice").add({ text: "business as usual" })).status).toBe(201);

      await app.detour.disable("site", { users: ["bob"] });
      expect((await api("bob").add({ text: "after the move" })).status).toBe(201);
    });

    it("sees a flag turned on by another process (as the CLI does) without a restart", async () => {
      expect((await page("/")).status).toBe(200);
      const operator = createDetour({ store: fileStore(storePath, { create: true }) });
      try {
        await operator.enable("site", { message: "Back soon" });
      } finally {
        await operator.close();
      }
      await vi.waitFor(async () => expect((await page("/")).status).toBe(503), { timeout: 5000, interval: 50 });
    });
  });
}
