import { spawn, type ChildProcess } from "node:child_process";
import { createHash, randomUUID } from "node:crypto";
import { existsSync, writeFileSync } from "node:fs";
import { mkdir, mkdtemp, readdir, readFile, rename, rm, stat, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { build, type Plugin } from "esbuild";
import { Redis } from "ioredis";
import { afterAll, beforeAll } from "vitest";
import type { FlagDocument } from "@detour/core";

const root = fileURLToPath(new URL("../..", import.meta.url));
export const REDIS_URL = "redis://127.0.0.1:6379";

async function sourceFiles(dir: string): Promise<string[]> {
  const out: string[] = [];
  for (const entry of await readdir(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) out.push(...(await sourceFiles(path)));
    else if (entry.name.endsWith(".ts")) out.push(path);
  }
  return out.sort();
}

/** Resolves `@detour/*` to package sources, so the binary under test is the code as it is now, not a stale dist. */
const workspaceSources: Plugin = {
  name: "detour-workspace-sources",
  setup(b) {
    // Subpath entries too (`@detour/core/store`): from dist/ they would be a second copy of core beside the sources.
    b.onResolve({ filter: /^@detour\/[a-z-]+(\/[a-z-]+)?$/ }, (args) => {
      const [name = "", sub] = args.path.slice("@detour/".length).split("/");
      const src = join(root, "packages", name, "src");
      return { path: sub === undefined ? join(src, "index.ts") : [join(src, `${sub}.ts`), join(src, sub, "index.ts")].find(existsSync)! };
    });
  },
};

let binary: Promise<string> | undefined;

/**
 * The real `detour` binary, bundled from the current sources of cli, core
 * and redis with esbuild (a few hundred ms). The bundle is keyed by a hash of
 * the sources and of this file, so test files running in parallel share it and a source change
 * always rebuilds.
 */
export function cliBinary(): Promise<string> {
  binary ??= (async () => {
    const files = (await Promise.all(["cli", "core", "redis", "migrate"].map((p) => sourceFiles(join(root, "packages", p, "src"))))).flat();
    const hash = createHash("sha256");
    // This file too: how it bundles (the resolver below) is part of the binary.
    hash.update(await readFile(fileURLToPath(import.meta.url)));
    for (const file of files) hash.update(file).update(await readFile(file));
    const dir = join(tmpdir(), "detour-cli-test");
    const out = join(dir, `detour-${hash.digest("hex").slice(0, 16)}.cjs`);
    if (existsSync(out)) return out;
    await mkdir(dir, { recursive: true });
    const temporary = `${out}.${process.pid}.${randomUUID()}.tmp`;
    await build({
      entryPoints: [join(root, "packages/cli/src/cli.ts")],
      bundle: true,
      platform: "node",
      format: "cjs",
      target: "node20",
      outfile: temporary,
      plugins: [workspaceSources],
      logLevel: "silent",
    });
    await rename(temporary, out);
    // Bundles of older sources pile up as the code changes: drop the ones nobody built today.
    for (const name of await readdir(dir)) {
      const path = join(dir, name);
      const info = await stat(path).catch(() => undefined);
      if (info && path !== out && Date.now() - info.mtimeMs > 86_400_000) await rm(path, { force: true });
    }
    return out;
  })();
  return binary;
}

export interface Result {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

export interface RunOptions {
  cwd: string;
  env?: Record<string, string | undefined>;
  input?: string;
  timeoutMs?: number;
}

function childEnv(extra: Record<string, string | undefined> = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env };
  delete env.DETOUR_STORE;
  delete env.DETOUR_DEBUG;
  for (const [key, value] of Object.entries(extra)) {
    if (value === undefined) delete env[key];
    else env[key] = value;
  }
  return env;
}

/** Starts the binary; `result` resolves when it exits; `output()` is what it printed so far. */
export async function start(
  args: readonly string[],
  options: RunOptions,
): Promise<{ child: ChildProcess; result: Promise<Result>; output: () => { stdout: string; stderr: string } }> {
  const bin = await cliBinary();
  const child = spawn(process.execPath, [bin, ...args], { cwd: options.cwd, env: childEnv(options.env), stdio: ["pipe", "pipe", "pipe"] });
  let stdout = "";
  let stderr = "";
  child.stdout!.setEncoding("utf8").on("data", (chunk: string) => (stdout += chunk));
  child.stderr!.setEncoding("utf8").on("data", (chunk: string) => (stderr += chunk));
  child.stdin!.end(options.input ?? "");
  const result = new Promise<Result>((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill("SIGKILL");
      reject(new Error(`detour ${args.join(" ")} did not exit within ${options.timeoutMs ?? 15_000} ms\nstdout: ${stdout}\nstderr: ${stderr}`));
    }, options.timeoutMs ?? 15_000);
    child.once("error", reject);
    child.once("close", (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal, stdout, stderr });
    });
  });
  return { child, result, output: () => ({ stdout, stderr }) };
}

/** Runs the binary to completion. */
export async function detour(args: readonly string[], options: RunOptions): Promise<Result> {
  return (await start(args, options)).result;
}

/** A fresh temporary directory. */
export async function temporaryDirectory(): Promise<{ dir: string; cleanup: () => Promise<void> }> {
  const dir = await mkdtemp(join(tmpdir(), "detour-cli-"));
  return { dir, cleanup: () => rm(dir, { recursive: true, force: true }) };
}

export async function readJson<T = FlagDocument>(path: string): Promise<T> {
  return JSON.parse(await readFile(path, "utf8")) as T;
}

/**
 * An empty flag store at `path`, as the app leaves it when it starts (the CLI
 * creates a missing file store only with `on --create` or `import`).
 * Returns the `--store` argument.
 */
export function emptyStore(path: string): string {
  writeFileSync(path, `${JSON.stringify({ flags: {} })}\n`);
  return `file:${path}`;
}

export async function writeJson(path: string, value: unknown): Promise<void> {
  await writeFile(path, `${JSON.stringify(value, null, 2)}\n`);
}

/** `process.execPath` + a script: a command the guard can run on any machine with node. */
export function nodeCommand(script: string, ...args: string[]): string[] {
  return [process.execPath, "-e", script, ...args];
}

export function uniquePrefix(): string {
  return `detour-cli-test:${randomUUID()}`;
}

export async function deleteRedisKeys(prefix: string): Promise<void> {
  const redis = new Redis(REDIS_URL, { maxRetriesPerRequest: 0, lazyConnect: true });
  try {
    await redis.connect();
    await redis.del(`${prefix}:document`, `${prefix}:revision`);
  } finally {
    redis.disconnect();
  }
}

export async function redisDocument(prefix: string): Promise<FlagDocument | null> {
  const redis = new Redis(REDIS_URL, { maxRetriesPerRequest: 0, lazyConnect: true });
  try {
    await redis.connect();
    const raw = await redis.get(`${prefix}:document`);
    return raw === null ? null : (JSON.parse(raw) as FlagDocument);
  } finally {
    redis.disconnect();
  }
}

/** Waits until `check` is truthy. */
export async function waitFor<T>(check: () => T | Promise<T>, timeoutMs = 5000, what = "condition"): Promise<NonNullable<T>> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value) return value as NonNullable<T>;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

/** What a test file works in: a temporary directory, the built binary, Redis prefixes to delete afterwards. */
export interface Workspace {
  readonly dir: string;
  readonly bin: string;
  /** A unique Redis key prefix, deleted after the file's tests. */
  redisPrefix(): string;
}

/** Registers beforeAll/afterAll hooks that build the binary, make a temporary directory and clean both up. */
export function useWorkspace(): Workspace {
  let dir = "";
  let bin = "";
  let cleanup: (() => Promise<void>) | undefined;
  const prefixes: string[] = [];
  beforeAll(async () => {
    bin = await cliBinary();
    ({ dir, cleanup } = await temporaryDirectory());
  });
  afterAll(async () => {
    await Promise.all(prefixes.map((prefix) => deleteRedisKeys(prefix)));
    await cleanup?.();
  });
  return {
    get dir() {
      return dir;
    },
    get bin() {
      return bin;
    },
    redisPrefix() {
      const prefix = uniquePrefix();
      prefixes.push(prefix);
      return prefix;
    },
  };
}
