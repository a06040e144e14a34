/**
 * Where the browser tests save their screenshots: docs/ only when asked to
 * (`npm run docs:screenshots` sets DETOUR_SCREENSHOTS=docs), a temporary
 * directory otherwise, so that `npm test` never rewrites tracked files.
 */
import { mkdirSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { fileURLToPath } from "node:url";

const ROOT = fileURLToPath(new URL("../..", import.meta.url));

/** The path to save the screenshot `name` (e.g. `maintenance-page.png`) at; its directory exists. */
export function screenshotPath(name: string): string {
  const wanted = process.env.DETOUR_SCREENSHOTS;
  const dir = wanted ? resolve(ROOT, wanted) : join(tmpdir(), `detour-screenshots-${process.pid}`);
  mkdirSync(dir, { recursive: true });
  return join(dir, name);
}
