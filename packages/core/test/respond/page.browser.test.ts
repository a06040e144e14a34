// page.evaluate() callbacks run in the browser.
/// <reference lib="dom" />
/**
 * The built-in page in real Chromium: it renders, escapes, needs no other
 * request, works in dark mode and on a phone. `npm run docs:screenshots` saves
 * docs/maintenance-page.png; `npm test` saves it to a temporary directory.
 */
import { existsSync } from "node:fs";
import { type Server, createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { type Browser, type Page, chromium } from "playwright-core";
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, test } from "vitest";
import type { Decision } from "../../src/decision/types.js";
import { type RespondOptions, respond } from "../../src/respond/index.js";
import { textContrasts } from "@detour/test-support/pixels";
import { screenshotPath } from "@detour/test-support/screenshots";
import { NOW, XSS, blocked, now } from "./fixtures.js";

const CHROMIUM = "/usr/bin/chromium";
const SCREENSHOT = screenshotPath("maintenance-page.png");
const UNTIL = new Date(NOW + 45 * 60_000);

let browser: Browser;
let server: Server;
let origin: string;
/** What the server answers with; each test sets it. */
let decision: Decision = blocked();
/** The responder's options; auto-refresh off unless a test wants it, so no page reloads mid-test. */
let options: RespondOptions = {};
/** Every URL the server was asked for. */
let served: string[] = [];

beforeAll(async () => {
  if (!existsSync(CHROMIUM)) {
    throw new Error(
      `Chromium is not installed at ${CHROMIUM}. The maintenance page must be checked in a real browser: ` +
        "install it with `apt-get install -y chromium` (CI installs it too).",
    );
  }
  server = createServer((req, res) => {
    served.push(req.url ?? "");
    const response = respond(decision, { method: req.method ?? "GET", accept: req.headers.accept }, { now, refresh: false, ...options });
    res.writeHead(response.status, response.headers as Record<string, string | string[]>);
    res.end(response.body ?? undefined);
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  browser = await chromium.launch({
    executablePath: CHROMIUM,
    args: ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update", "--disable-sync", "--no-first-run"],
  });
});

afterAll(async () => {
  await browser?.close();
  await new Promise<void>((resolve) => (server ? server.close(() => resolve()) : resolve()));
});

let page: Page;
let requests: string[];
let dialogs: string[];

beforeEach(async () => {
  served = [];
  options = {};
  requests = [];
  dialogs = [];
  page = await browser.newPage({ viewport: { width: 1200, height: 780 }, deviceScaleFactor: 2 });
  page.on("request", (request) => requests.push(request.url()));
  page.on("dialog", (dialog) => {
    dialogs.push(dialog.message());
    void dialog.dismiss();
  });
});

afterEach(async () => {
  await page?.close();
});

async function open(d: Decision): Promise<void> {
  decision = d;
  const response = await page.goto(`${origin}/checkout?step=2`, { waitUntil: "networkidle" });
  expect(response?.status()).toBe(503);
}

/** WCAG contrast ratio of an element's text against the first opaque background behind it. */
function contrastOf(selector: string): Promise<number> {
  return page.evaluate((sel) => {
    const parse = (c: string): number[] => (c.match(/[\d.]+/g) ?? []).map(Number);
    const luminance = ([r, g, b]: readonly (number | undefined)[]) => {
      const [R, G, B] = [r, g, b].map((v) => {
        const s = (v ?? 0) / 255;
        return s <= 0.03928 ? s / 12.92 : ((s + 0.055) / 1.055) ** 2.4;
      });
      return 0.2126 * (R ?? 0) + 0.7152 * (G ?? 0) + 0.0722 * (B ?? 0);
    };
    const el = document.querySelector(sel);
    if (!el) throw new Error(`no ${sel}`);
    const fg = parse(getComputedStyle(el).color);
    // composite translucent backgrounds over the opaque one beneath
    const layers: number[][] = [];
    for (let node: Element | null = el; node; node = node.parentElement) {
      const [r = 0, g = 0, b = 0, alpha = 1] = parse(getComputedStyle(node).backgroundColor);
      if (alpha > 0) layers.push([r, g, b, alpha]);
      if (alpha === 1) break;
    }
    let color = [255, 255, 255];
    for (const [r, g, b, a] of layers.reverse()) color = [r, g, b].map((v, i) => (v ?? 0) * (a ?? 1) + (color[i] ?? 0) * (1 - (a ?? 1)));
    const [l1, l2] = [luminance(fg), luminance(color)].sort((x, y) => y - x) as [number, number];
    return (l1 + 0.05) / (l2 + 0.05);
  }, selector);
}

describe("maintenance page in Chromium", () => {
  test("renders the message as text: no markup, no script, no dialog", async () => {
    await open(blocked({ message: XSS }));
    expect(await page.locator("h1").innerText()).toBe("We\u2019ll be back soon");
    expect(await page.locator(".message").textContent()).toBe(XSS);
    expect(await page.locator(".badge").innerText()).toMatch(/down for maintenance/i);
    expect(await page.evaluate(() => document.querySelectorAll("script, img, iframe, object, embed").length)).toBe(0);
    expect(await page.evaluate(() => document.documentElement.lang)).toBe("en");
    expect(await page.title()).toBe("Service under maintenance");
    expect(dialogs).toEqual([]);
  });

  test("escaping holds without the CSP too (a template-less page served by an adapter that drops headers)", async () => {
    decision = blocked({ message: `${XSS}<script>document.title="pwned"</script>` });
    const html = respond(decision, { method: "GET", accept: "text/html" }, { now }).body ?? "";
    await page.setContent(html, { waitUntil: "load" });
    expect(await page.title()).toBe("Service under maintenance");
    expect(await page.evaluate(() => document.querySelectorAll("script, img").length)).toBe(0);
    expect(dialogs).toEqual([]);
  });

  test("makes exactly one request: the document (no favicon, font, image or stylesheet)", async () => {
    await open(blocked({ until: UNTIL, message: "Upgrading the database" }));
    // give a late /favicon.ico request a chance to show up
    await page.waitForTimeout(300);
    expect(requests).toEqual([`${origin}/checkout?step=2`]);
    expect(served).toEqual(["/checkout?step=2"]);
  });

  test("shows the expected end time", async () => {
    await open(blocked({ until: UNTIL }));
    expect(await page.locator("time").getAttribute("datetime")).toBe("2026-12-01T03:00:00Z");
    expect(await page.locator(".when").innerText()).toMatch(/Expected back\s+03:00 UTC, 1 December 2026\s+in about 45 minutes/i);
  });

  test("light and dark: readable in both, and actually different", async () => {
    const selectors = ["h1", ".message", ".badge", ".label", "footer", "time"];
    const backgrounds: string[] = [];
    for (const colorScheme of ["light", "dark"] as const) {
      await page.emulateMedia({ colorScheme });
      await open(blocked({ mode: "read-only", until: UNTIL }));
      backgrounds.push(await page.evaluate(() => getComputedStyle(document.body).backgroundColor));
      for (const selector of selectors) {
        const ratio = await contrastOf(selector);
        expect(ratio, `${colorScheme} ${selector}`).toBeGreaterThanOrEqual(4.5);
      }
    }
    const brightness = (rgb: string) => (rgb.match(/\d+/g) ?? []).slice(0, 3).reduce((sum, v) => sum + Number(v), 0) / 3;
    expect(brightness(backgrounds[0] ?? "")).toBeGreaterThan(200);
    expect(brightness(backgrounds[1] ?? "")).toBeLessThan(50);
  });

  test("fits a phone without horizontal scrolling", async () => {
    await page.setViewportSize({ width: 360, height: 740 });
    await open(blocked({ until: UNTIL, message: "A-very-long-unbreakable-token-https://status.example.com/incidents/2026-12-01-database-upgrade" }));
    expect(await page.evaluate(() => document.documentElement.scrollWidth <= window.innerWidth)).toBe(true);
  });

  test("screenshot: maintenance-page.png (docs/ with npm run docs:screenshots) shows readable text and fetched nothing else", async () => {
    await page.setViewportSize({ width: 960, height: 640 });
    await page.emulateMedia({ colorScheme: "light" });
    options = { refresh: undefined }; // the default: a 300 s reload, which no test waits for
    const message = "We\u2019re upgrading our database to make everything faster. Your data is safe, and nothing you saved is affected.";
    await open(blocked({ until: UNTIL, message }));
    const png = await page.screenshot({ path: SCREENSHOT });
    // What the screenshot shows, read back from it: the text, and its contrast in the saved pixels.
    const shown = { h1: "We\u2019ll be back soon", ".badge": /down for maintenance/i, ".message": message, ".when": /Expected back\s+03:00 UTC/i };
    for (const [selector, text] of Object.entries(shown)) expect(await page.locator(selector).innerText(), selector).toMatch(text);
    const selectors = Object.keys(shown);
    const boxes = await Promise.all(selectors.map(async (selector) => (await page.locator(selector).boundingBox())!));
    const ratios = await textContrasts(browser, png, boxes, 2);
    selectors.forEach((selector, i) => expect(ratios[i], `contrast of ${selector} in the screenshot`).toBeGreaterThanOrEqual(4.5));
    expect(requests).toEqual([`${origin}/checkout?step=2`]);
  });
});
