// Bundles the Detour sources (core, the three adapters, the Redis store) into
// one ESM file with esbuild, so every bench runs from the TypeScript sources
// without `npm run build`, and all adapters share one copy of core.
// Third-party packages stay external and resolve from the repository's
// node_modules (the bundle is written under node_modules/.cache for that).
import { build } from "esbuild";
import { mkdirSync, renameSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";

export const root = fileURLToPath(new URL("../..", import.meta.url));
const cacheDir = join(root, "node_modules/.cache/detour-bench");

/** The source entry of each workspace import, subpaths included (one copy of core per bundle). */
export const SOURCES = {
  "@detour/core": "packages/core/src/index.ts",
  "@detour/core/adapter": "packages/core/src/adapter/index.ts",
  "@detour/core/store": "packages/core/src/store.ts",
  "@detour/express": "packages/express/src/index.ts",
  "@detour/koa": "packages/koa/src/index.ts",
  "@detour/fastify": "packages/fastify/src/index.ts",
  "@detour/redis": "packages/redis/src/index.ts",
  "@detour/migrate": "packages/migrate/src/index.ts",
};

const sourcesPlugin = {
  name: "detour-sources",
  setup(b) {
    // @detour/* from sources; every other bare import stays external.
    b.onResolve({ filter: /^[^./]/ }, (args) => {
      if (SOURCES[args.path]) return { path: join(root, SOURCES[args.path]) };
      if (args.kind === "entry-point") return undefined;
      return { path: args.path, external: true };
    });
  },
};

/**
 * Builds the bundle (once per process) and returns its file path.
 * `parts`: which packages to include (default all but redis, which needs ioredis).
 */
export async function bundlePath(parts = ["core", "express", "koa", "fastify", "redis"]) {
  mkdirSync(cacheDir, { recursive: true });
  const name = parts.join("-");
  const entry = join(cacheDir, `${name}.entry.mjs`);
  const outfile = join(cacheDir, `${name}.mjs`);
  const lines = [];
  if (parts.includes("core")) lines.push(`export * from "@detour/core";`);
  if (parts.includes("express")) lines.push(`export { detour as expressDetour } from "@detour/express";`);
  if (parts.includes("koa")) lines.push(`export { detour as koaDetour } from "@detour/koa";`);
  if (parts.includes("fastify")) lines.push(`export { detour as fastifyDetour } from "@detour/fastify";`);
  if (parts.includes("redis")) lines.push(`export { redisStore } from "@detour/redis";`);
  if (parts.includes("migrate")) lines.push(`export * from "@detour/migrate";`);
  writeFileSync(entry, lines.join("\n") + "\n");
  await build({
    entryPoints: [entry],
    bundle: true,
    format: "esm",
    platform: "node",
    target: "node20",
    outfile,
    write: false,
    plugins: [sourcesPlugin],
    logLevel: "warning",
  }).then((result) => {
    // Written atomically: benches started in parallel may build at the same time.
    const tmp = `${outfile}.${process.pid}.tmp`;
    writeFileSync(tmp, result.outputFiles[0].contents);
    renameSync(tmp, outfile);
  });
  return outfile;
}

/** Builds and imports the bundle. */
export async function loadDetour(parts) {
  return import(pathToFileURL(await bundlePath(parts)).href);
}

