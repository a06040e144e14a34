/// <reference lib="dom" />
/**
 * The console in real Chromium, on an Express app with the admin mounted:
 * sign in, switch site maintenance on from the console, see the app answer
 * 503 in another page, switch it off, read the audit log, see a change made
 * elsewhere arrive live. The page must make no request outside its origin.
 * `npm run docs:screenshots` saves docs/admin-console.png; `npm test` saves it
 * to a temporary directory.
 */
import { existsSync } from "node:fs";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createDetour, fileStore, type Detour, type DetourRequest } from "@detour/core";
import { detour as expressDetour } from "@detour/express";
import { expressAdmin } from "@detour/express/admin";
import express from "express";
import { chromium, type Browser, type BrowserContext, type Page } from "playwright-core";
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, test } from "vitest";
import { textContrasts } from "@detour/test-support/pixels";
import { screenshotPath } from "@detour/test-support/screenshots";
import { bearerToken, createAdmin, type Admin } from "../src/index.js";

const CHROMIUM = "/usr/bin/chromium";
const SCREENSHOT = screenshotPath("admin-console.png");
const TOKEN = "browser-test-token-0123456789abcdef";

let browser: Browser;
let server: Server;
let origin: string;
let file: string;
let dir: string;
let admin: Admin;
let instance: Detour;
/** Another Detour instance on the same file: what the CLI does. */
let cli: Detour<DetourRequest>;

beforeAll(async () => {
  if (!existsSync(CHROMIUM)) {
    throw new Error(`Chromium is not installed at ${CHROMIUM}: the console must be checked in a real browser (apt-get install -y chromium; CI installs it).`);
  }
  dir = await mkdtemp(join(tmpdir(), "detour-console-"));
  file = join(dir, "detour.json");
  const maintenance = expressDetour({ store: fileStore(file, { create: true, debounceMs: 10, pollIntervalMs: 250 }) });
  instance = maintenance.instance as unknown as Detour;
  admin = createAdmin({ detour: maintenance.instance, auth: (req) => (bearerToken(req, TOKEN) ? "admin:ops" : null), title: "Acme Shop" });
  const app = express();
  app.use(maintenance);
  app.use(expressAdmin(admin));
  app.get("/", (_req, res) => void res.type("html").send("<!doctype html><title>Acme</title><h1>Welcome to Acme</h1>"));
  server = createServer(app);
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  await maintenance.instance.ready;
  cli = createDetour<DetourRequest>({ store: fileStore(file, { debounceMs: 10, pollIntervalMs: 250 }) });
  await cli.ready;
  browser = await chromium.launch({
    executablePath: CHROMIUM,
    args: ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update", "--disable-sync", "--no-first-run"],
  });
});

afterAll(async () => {
  await browser?.close();
  admin?.close();
  await new Promise<void>((resolve) => (server ? (server.closeAllConnections(), server.close(() => resolve())) : resolve()));
  await instance?.close();
  await cli?.close();
  if (dir) await rm(dir, { recursive: true, force: true });
});

let context: BrowserContext;
let console: Page;
let requests: string[];
let problems: string[];

beforeEach(async () => {
  await instance.replace({ flags: {} }, { actor: "test:reset" });
  requests = [];
  problems = [];
  context = await browser.newContext({ viewport: { width: 1360, height: 900 }, deviceScaleFactor: 2 });
  context.on("request", (request) => requests.push(request.url()));
  context.on("weberror", (error) => problems.push(`page error: ${error.error().message}`));
  console = await context.newPage();
  console.on("console", (message) => {
    if (message.type() === "error" && !/Failed to load resource: the server responded with a status of 40[01]/.test(message.text())) problems.push(`console: ${message.text()}`);
  });
  console.on("dialog", (dialog) => void dialog.accept());
});

afterEach(async () => {
  await context?.close();
  expect(problems).toEqual([]);
  // Nothing but the app's own origin: no CDN, font, favicon or analytics request.
  expect(requests.filter((url) => !url.startsWith(`${origin}/`))).toEqual([]);
});

async function signIn(page: Page): Promise<void> {
  await page.goto(`${origin}/_detour/`);
  const token = page.getByLabel("Admin token");
  await token.waitFor();
  // Keyboard only: the field is focused, Enter submits.
  await expect.poll(() => page.evaluate(() => document.activeElement?.id)).toBe("token");
  await page.keyboard.type(TOKEN);
  await page.keyboard.press("Enter");
  await page.getByRole("heading", { name: /Whole site/ }).waitFor();
  await expect.poll(() => page.locator("#live-text").textContent()).toBe("Live");
}

describe("the admin console", () => {
  test("switches site maintenance on and off, the app follows, and the audit log shows it", async () => {
    await signIn(console);
    await expect.poll(() => console.locator("#site-pill").textContent()).toBe("Available");

    await console.getByLabel("Message for visitors").fill("Upgrading the database");
    await console.getByRole("button", { name: "Start maintenance" }).click();
    await expect.poll(() => console.locator("#site-pill").textContent()).toBe("Maintenance");
    await expect.poll(() => console.locator("#site-message").textContent()).toBe("Upgrading the database");

    const visitor = await context.newPage();
    const down = await visitor.goto(`${origin}/`);
    expect(down?.status()).toBe(503);
    expect(await visitor.textContent("body")).toContain("Upgrading the database");
    // The console itself is exempt: it still loads while the site is down.
    expect((await visitor.goto(`${origin}/_detour/`))?.status()).toBe(200);

    await console.getByRole("button", { name: "End maintenance" }).click();
    await expect.poll(() => console.locator("#site-pill").textContent()).toBe("Available");
    const up = await visitor.goto(`${origin}/`);
    expect(up?.status()).toBe(200);
    expect(await visitor.textContent("h1")).toBe("Welcome to Acme");

    const rows = console.locator("#audit-body tr");
    await expect.poll(() => rows.count()).toBeGreaterThanOrEqual(2);
    expect(await rows.nth(0).innerText()).toMatch(/admin:ops\s+disable\s+site/);
    expect(await rows.nth(1).innerText()).toMatch(/admin:ops\s+enable\s+site[\s\S]*Upgrading the database/);
  });

  test("shows a change made from the CLI within a second, without reload", async () => {
    await signIn(console);
    const started = Date.now();
    await cli.enable("billing", { mode: "maintenance", message: "Moving billing to the new provider" }, { actor: "cli:alice@ops-1" });
    await console.locator('#flags-body tr[data-flag="billing"]').waitFor({ timeout: 2000 });
    expect(Date.now() - started).toBeLessThan(1500);
    expect(await console.locator('#flags-body tr[data-flag="billing"]').innerText()).toMatch(/Maintenance[\s\S]*Whole feature[\s\S]*Moving billing/);
    await expect.poll(() => console.locator("#audit-body tr").first().innerText()).toMatch(/cli:alice@ops-1/);
  });

  test("adds and removes read-only users, sets a percentage, and turns a feature off", async () => {
    await signIn(console);
    await console.getByLabel("Keys (user ids, organization keys…), comma-separated").fill("user-17, user-42");
    await console.getByRole("button", { name: "Make read-only" }).click();
    const site = console.locator('#flags-body tr[data-flag="site"]');
    await expect.poll(() => site.innerText()).toMatch(/Read-only[\s\S]*Some users[\s\S]*user-17[\s\S]*user-42/);
    await console.getByRole("button", { name: "Remove user-17 from site" }).click();
    await expect.poll(() => site.innerText()).not.toMatch(/user-17/);
    await expect.poll(() => instance.status().flags[0]?.users).toEqual(["user-42"]);
    // The other instance on the file (the CLI) sees the change too.
    await expect.poll(() => cli.status().flags[0]?.users).toEqual(["user-42"]);

    await console.locator("#percent-key").fill("search");
    await console.getByLabel("Percent", { exact: true }).fill("25");
    await console.getByRole("button", { name: "Apply percentage" }).click();
    await expect.poll(() => console.locator('#flags-body tr[data-flag="search"]').innerText()).toMatch(/25%/);

    await console.locator("#feature-key").fill("search");
    await console.getByRole("button", { name: "Turn off", exact: true }).first().click();
    await console.getByRole("button", { name: "Turn search off" }).click();
    await expect.poll(() => console.locator('#flags-body tr[data-flag="search"]').count()).toBe(0);
  });

  test("puts a tenant read-only by kind, shows it by kind, audits the kind, and takes it out", async () => {
    await signIn(console);
    await console.getByLabel("Context kind").fill("organization");
    await console.getByLabel("Keys (user ids, organization keys…), comma-separated").fill("acme");
    await console.getByRole("button", { name: "Make read-only" }).click();
    const site = console.locator('#flags-body tr[data-flag="site"]');
    await expect.poll(() => site.innerText()).toMatch(/Read-only[\s\S]*organization: acme/);
    await expect.poll(() => instance.status().flags[0]?.contexts).toEqual({ organization: ["acme"] });
    await expect.poll(() => console.locator("#audit-body tr").first().innerText()).toMatch(/contexts organization:acme/);
    await console.getByRole("button", { name: "Remove organization acme from site" }).click();
    await expect.poll(() => instance.status().flags.length).toBe(0);
  });

  test("asks for the token again when it is refused, and reports bad input", async () => {
    await console.goto(`${origin}/_detour/`);
    await console.getByLabel("Admin token").fill("wrong-token");
    await console.getByRole("button", { name: "Sign in" }).click();
    await expect.poll(() => console.locator("#signin-error").isVisible()).toBe(true);
    await signIn(console);
    await console.locator("#percent-key").fill("site");
    await console.getByLabel("Percent", { exact: true }).fill("100");
    await console.evaluate(() => ((document.getElementById("percent-value") as HTMLInputElement).value = "140"));
    // Past the browser's own check (max="100"): the server's refusal is what the page shows.
    await console.evaluate(() => document.getElementById("percent-form")!.dispatchEvent(new Event("submit", { cancelable: true })));
    await expect.poll(() => console.locator("#alert").textContent()).toMatch(/percent/);
  });

  test("labels every control and follows the dark colour scheme", async () => {
    await signIn(console);
    const unlabelled = await console.evaluate(() =>
      Array.from(document.querySelectorAll("input, select, textarea")).filter((el) => (el as HTMLInputElement).labels?.length === 0).map((el) => el.id),
    );
    expect(unlabelled).toEqual([]);
    const light = await console.evaluate(() => getComputedStyle(document.body).backgroundColor);
    await console.emulateMedia({ colorScheme: "dark" });
    const dark = await console.evaluate(() => getComputedStyle(document.body).backgroundColor);
    expect(dark).not.toBe(light);
  });

  test("screenshot: admin-console.png (docs/ with npm run docs:screenshots) shows the site, the flags and the audit log, readable", async () => {
    // A fresh document, audit log included, written by hand as an operator might.
    await writeFile(file, `${JSON.stringify({ flags: {} })}\n`);
    await expect.poll(() => instance.audit().length).toBe(0);
    await cli.enable("site", { users: ["user-17", "user-42", "user-1093"] }, { actor: "cli:alice@ops-1" });
    await cli.enable("search", { percent: 20, message: "Reindexing" }, { actor: "admin:bob" });
    await cli.enable(
      "billing",
      { mode: "maintenance", message: "Moving billing to the new provider", window: { start: new Date(Date.now() - 600_000), end: new Date(Date.now() + 45 * 60_000 + 30_000) } },
      { actor: "cli:alice@ops-1" },
    );
    await signIn(console);
    await console.getByLabel("Message for visitors").fill("Upgrading the database, back at 03:00 UTC");
    await console.getByLabel("Ends", { exact: true }).first().selectOption("3600");
    await console.getByRole("button", { name: "Start maintenance" }).click();
    await expect.poll(() => console.locator("#site-pill").textContent()).toBe("Maintenance");
    await console.getByLabel("Message for visitors").fill("");
    await console.locator("#feature-key").fill("reports");
    await console.evaluate(() => (document.activeElement as HTMLElement | null)?.blur());
    await console.waitForTimeout(300);
    const png = await console.screenshot({ path: SCREENSHOT, fullPage: true });
    // What the screenshot shows, read back from it: the state of the site, the flags and the audit log, readable in
    // the saved pixels. (afterEach checks that the page asked nothing of another origin.)
    const shown = {
      "#site-pill": /^Maintenance$/,
      "#site-message": /^Upgrading the database, back at 03:00 UTC$/,
      "#flags-title": /^Flags in force$/,
      '#flags-body tr[data-flag="search"]': /Read-only[\s\S]*20%[\s\S]*Reindexing/,
      '#flags-body tr[data-flag="billing"]': /Maintenance[\s\S]*Moving billing to the new provider/,
      "#audit-body tr:first-child": /admin:ops\s+enable\s+site/,
    };
    for (const [selector, text] of Object.entries(shown)) expect(await console.locator(selector).innerText(), selector).toMatch(text);
    const selectors = ["#site-pill", "#site-message", "#flags-title", "#audit-title", "#audit-body tr:first-child td:first-child"];
    const scroll = await console.evaluate(() => ({ x: window.scrollX, y: window.scrollY }));
    const boxes = await Promise.all(
      selectors.map(async (selector) => {
        const box = (await console.locator(selector).boundingBox())!;
        return { ...box, x: box.x + scroll.x, y: box.y + scroll.y };
      }),
    );
    const ratios = await textContrasts(browser, png, boxes, 2);
    selectors.forEach((selector, i) => expect(ratios[i], `contrast of ${selector} in the screenshot`).toBeGreaterThanOrEqual(4.5));
  });
});
