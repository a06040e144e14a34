/**
 * Tests that use the packages as users get them (packed tarballs, `node`
 * without vitest's aliases) need `dist/`. The root `npm test` builds first;
 * run on their own, these tests build what is missing, one build at a time.
 */
import { execFile } from "node:child_process";
import { existsSync, mkdirSync, readdirSync, rmSync, statSync } from "node:fs";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";

export const ROOT = fileURLToPath(new URL("../..", import.meta.url));
export const run = promisify(execFile);

/** The directory names under packages/ that hold a package. */
export const PACKAGE_DIRS = readdirSync(join(ROOT, "packages"))
  .filter((name) => existsSync(join(ROOT, "packages", name, "package.json")))
  .sort();

const OUTPUTS = ["index.js", "index.cjs", "index.d.ts", "index.d.cts"];
const LOCK = join(ROOT, ".tmp", "test-build.lock");
const LOCK_STALE_MS = 5 * 60_000;

/** Packages (directory names) whose dist/ lacks an entry point. */
export function unbuilt(dirs: readonly string[]): string[] {
  return dirs.filter((dir) => OUTPUTS.some((file) => !existsSync(join(ROOT, "packages", dir, "dist", file))));
}

async function lock(): Promise<void> {
  mkdirSync(join(ROOT, ".tmp"), { recursive: true });
  for (const deadline = Date.now() + LOCK_STALE_MS; ; ) {
    try {
      mkdirSync(LOCK);
      return;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== "EEXIST") throw error;
      const age = Date.now() - (statSync(LOCK, { throwIfNoEntry: false })?.mtimeMs ?? Date.now());
      if (age > LOCK_STALE_MS) rmSync(LOCK, { recursive: true, force: true });
      else if (Date.now() > deadline) throw new Error(`timed out waiting for ${LOCK}`);
      else await sleep(250);
    }
  }
}

/** Builds the packages (and what they depend on) that have no dist/ yet. */
export async function ensureBuilt(dirs: readonly string[]): Promise<void> {
  if (unbuilt(dirs).length === 0) return;
  await lock();
  try {
    const missing = unbuilt(dirs);
    if (missing.length === 0) return;
    const filters = missing.map((dir) => `--filter=./packages/${dir}`);
    await run(join(ROOT, "node_modules", ".bin", "turbo"), ["run", "build", ...filters, "--output-logs=errors-only"], {
      cwd: ROOT,
      timeout: 4 * 60_000,
    });
  } finally {
    rmSync(LOCK, { recursive: true, force: true });
  }
}
