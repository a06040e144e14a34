/// <reference lib="dom" />
/**
 * The console's Migrations panel in real Chromium: operations run by the app
 * show up live (over the event stream, no reload) per flag, stage and origin,
 * with error rate, p50/p99 and consistency, and follow a stage change.
 */
import { existsSync } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileStore, type Detour } from "@detour/core";
import { detour as expressDetour } from "@detour/express";
import { expressAdmin } from "@detour/express/admin";
import { createMigration, MIGRATION_STAGES, migrationMetrics, type Migration } from "@detour/migrate";
import express from "express";
import { chromium, type Browser } from "playwright-core";
import { afterAll, beforeAll, expect, test } from "vitest";
import { bearerToken, createAdmin, type Admin } from "../src/index.js";

const CHROMIUM = "/usr/bin/chromium";
const TOKEN = "browser-migrations-token-0123456789";

let browser: Browser;
let server: Server;
let origin: string;
let dir: string;
let admin: Admin;
let instance: Detour;
let notes: Migration<number, { v: number }, number, number>;
let newIsDown = false;

const storageFlag = (stage: string) => ({
  key: "storage",
  on: true,
  variations: [...MIGRATION_STAGES],
  fallthrough: { variation: MIGRATION_STAGES.indexOf(stage as never) },
  migration: { checkRatio: 1 },
});

beforeAll(async () => {
  if (!existsSync(CHROMIUM)) throw new Error(`Chromium is not installed at ${CHROMIUM}`);
  dir = await mkdtemp(join(tmpdir(), "detour-console-migrations-"));
  const maintenance = expressDetour({ store: fileStore(join(dir, "detour.json"), { create: true, debounceMs: 10 }) });
  instance = maintenance.instance as unknown as Detour;
  await instance.ready;
  await instance.replace({ flags: { storage: storageFlag("shadow") } });
  admin = createAdmin({ detour: maintenance.instance, auth: (req) => (bearerToken(req, TOKEN) ? "admin:ops" : null), migrations: migrationMetrics(instance) });
  notes = createMigration(instance, {
    readOld: (id: number) => ({ v: id }),
    readNew: (id: number) => {
      if (newIsDown) throw new Error("new cluster down");
      return { v: id % 4 === 0 ? -1 : id };
    },
    writeOld: (id: number) => id,
    writeNew: (id: number) => id,
    check: (a, b) => a.v === b.v,
  });
  const app = express();
  app.use(maintenance);
  app.use(expressAdmin(admin));
  server = createServer(app);
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  browser = await chromium.launch({ executablePath: CHROMIUM, args: ["--headless", "--no-sandbox", "--disable-gpu", "--no-first-run"] });
});

afterAll(async () => {
  await browser?.close();
  admin?.close();
  await new Promise<void>((resolve) => (server ? (server.closeAllConnections(), server.close(() => resolve())) : resolve()));
  await instance?.close();
  if (dir) await rm(dir, { recursive: true, force: true });
});

test("the Migrations panel shows live figures per stage and origin, and follows a stage change", async () => {
  const context = await browser.newContext();
  const problems: string[] = [];
  context.on("weberror", (error) => problems.push(error.error().message));
  const page = await context.newPage();
  await page.goto(`${origin}/_detour/`);
  await page.getByLabel("Admin token").fill(TOKEN);
  await page.keyboard.press("Enter");
  await expect.poll(() => page.locator("#live-text").textContent()).toBe("Live");
  await expect.poll(() => page.locator("#migrations").isVisible()).toBe(true);
  await expect.poll(() => page.locator("#migrations-empty").isVisible()).toBe(true);

  // 8 reads in shadow: ids 0 and 4 read differently on the new side (2 of 8 inconsistent).
  for (let id = 0; id < 8; id++) await notes.read("storage", { key: `user-${id}` }, "off", id);
  const oldRow = page.locator('#migrations-body tr[data-migration="storage/shadow/old"]');
  const newRow = page.locator('#migrations-body tr[data-migration="storage/shadow/new"]');
  await oldRow.waitFor({ timeout: 5000 });
  await expect.poll(() => newRow.locator('[data-cell="consistency"]').textContent(), { timeout: 5000 }).toBe("75.0% of 8");
  expect(await newRow.locator('[data-cell="error-rate"]').textContent()).toBe("0%");
  expect(await oldRow.locator('[data-cell="p99"]').textContent()).toMatch(/\d+(\.\d)? (µs|ms)$/);

  // The new side fails for the next 8 reads: its error rate moves live to 50 %.
  newIsDown = true;
  for (let id = 0; id < 8; id++) await notes.read("storage", { key: `user-${id}` }, "off", id);
  await expect.poll(() => newRow.locator('[data-cell="error-rate"]').textContent(), { timeout: 5000 }).toBe("50.0%");
  expect(await newRow.locator('[data-cell="error-rate"]').getAttribute("class")).toMatch(/\bbad\b/);

  // Moving the flag to live: its operations appear under the new stage.
  newIsDown = false;
  await instance.replace({ flags: { storage: storageFlag("live") } });
  await notes.write("storage", { key: "user-1" }, "off", 1);
  await page.locator('#migrations-body tr[data-migration="storage/live/new"]').waitFor({ timeout: 5000 });
  expect(problems).toEqual([]);
  await context.close();
});
