/**
 * Every package as a user gets it: `npm pack` each one, `npm install` the
 * tarballs into a temporary project (third-party dependencies from the npm
 * cache when it has them, else the registry), then import each package as
 * ESM and as CJS and type-check a file that uses them, once as ESM (`.mts`,
 * the `import` conditions and `.d.ts`) and once as CJS (`.cts`, the `require`
 * conditions and `.d.cts`), with `moduleResolution: node16` — so a broken
 * `exports` map, a missing `.d.cts`, a file left out of the tarball or an
 * undeclared dependency fails here.
 */
import { readFileSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { PACKAGE_DIRS, ROOT, ensureBuilt, run } from "@detour/test-support/build";

interface Manifest {
  name: string;
  version: string;
  exports?: Record<string, unknown>;
  bin?: string | Record<string, string>;
  dependencies?: Record<string, string>;
  peerDependencies?: Record<string, string>;
}

interface Packed {
  name: string;
  filename: string;
  files: { path: string }[];
}

const manifests = PACKAGE_DIRS.map((dir) => JSON.parse(readFileSync(join(ROOT, "packages", dir, "package.json"), "utf8")) as Manifest);
const names = manifests.map((manifest) => manifest.name);
/** Every entry point: the packages and their subpaths (`@detour/core/adapter`, `@detour/express/admin`...). */
const entries = manifests.flatMap((manifest) => [
  manifest.name,
  ...Object.keys(manifest.exports ?? {})
    .filter((key) => key !== "." && !key.endsWith(".json"))
    .map((key) => `${manifest.name}/${key.slice(2)}`),
]);

/** Exports each package must have, whichever way it is loaded. */
const EXPECTED: Readonly<Record<string, readonly string[]>> = {
  "@detour/core": ["createDetour", "Detour", "fileStore", "memoryStore", "evaluate", "validateDocument", "Snapshot"],
  "@detour/core/adapter": ["decisionHandler", "toDetour", "isDetour", "pathOf", "headerOf"],
  "@detour/core/store": ["StoreBase", "StoreState", "applyMutation", "parseDocument", "writeAtomically", "Snapshot"],
  "@detour/express": ["detour", "expressRequest", "default"],
  "@detour/express/admin": ["expressAdmin", "expressAdminRequest"],
  "@detour/koa": ["detour", "koaRequest", "default"],
  "@detour/koa/admin": ["koaAdmin", "koaAdminRequest"],
  "@detour/fastify": ["detour", "fastifyRequest", "default"],
  "@detour/fastify/admin": ["fastifyAdmin", "fastifyAdminRequest"],
  "@detour/redis": ["redisStore", "redisKeys"],
  "@detour/cli": ["run", "parseStoreUrl"],
  "@detour/openfeature": ["DetourProvider"],
  "@detour/migrate": ["createMigration", "migrationSuccess", "migrationError", "MigrationStageError", "migrationMetrics"],
};

/** What users install next to the packages: their peers, and the types of the frameworks. The root's versions, which the npm cache has. */
const USER_DEPENDENCIES = ["express", "koa", "fastify", "@openfeature/server-sdk", "@types/express", "@types/koa", "@types/node"];

/** npm, without the settings of an `npm test` it may run under (which name the monorepo as the project). */
const npmEnv = Object.fromEntries(
  Object.entries(process.env).filter(([key]) => !/^npm_/i.test(key) || /^npm_config_(cache|registry|userconfig)$/i.test(key)),
);
const npm = (args: string[], cwd: string) => run("npm", args, { cwd, env: npmEnv, timeout: 150_000, maxBuffer: 16 * 1024 * 1024 });

/** A script that loads every package with `load` and prints their export names, then exercises them a little. */
function loader(load: string): string {
  return `${load}
(async () => {
  const names = ${JSON.stringify(entries)};
  const exports = {};
  for (const name of names) exports[name] = Object.keys(await load(name)).filter((key) => key !== "__esModule").sort();

  const { createDetour } = await load("@detour/core");
  const detour = createDetour({ store: { flags: {} }, user: (req) => req.headers["x-user"] });
  await detour.ready;
  await detour.enable("site", { users: ["u1"] });
  const decisions = [["POST", "u1"], ["GET", "u1"], ["POST", "u2"]].map(([method, user]) => {
    const decision = detour.decide({ method, path: "/", headers: { "x-user": user } });
    return \`\${decision.action} \${decision.mode}\`;
  });
  await detour.close();

  const express = (await load("express")).default ?? (await load("express"));
  const app = express();
  app.use((await load("@detour/express")).detour({ store: { flags: {} } }));
  const Koa = (await load("koa")).default ?? (await load("koa"));
  new Koa().use((await load("@detour/koa")).detour({ store: { flags: {} } }));
  const fastifyModule = await load("fastify");
  const fastify = (fastifyModule.default ?? fastifyModule)();
  await fastify.register((await load("@detour/fastify")).detour({ store: { flags: {} } }));
  await fastify.ready();
  await fastify.close();
  console.log(JSON.stringify({ exports, decisions }));
})().catch((error) => {
  console.error(error);
  process.exit(1);
});
`;
}

/** Uses each package's types; checked as ESM (esm.mts) and as CJS (cjs.cts). */
const USAGE = `import express from "express";
import Koa from "koa";
import Fastify from "fastify";
import { createDetour, fileStore, memoryStore, type Decision, type Detour, type FlagDocument } from "@detour/core";
import { detour as expressDetour } from "@detour/express";
import { detour as koaDetour } from "@detour/koa";
import { detour as fastifyDetour } from "@detour/fastify";
import { redisStore } from "@detour/redis";
import { run } from "@detour/cli";
import { DetourProvider } from "@detour/openfeature";
import * as admin from "@detour/admin";
import { expressAdmin } from "@detour/express/admin";
import { koaAdmin } from "@detour/koa/admin";
import { fastifyAdmin } from "@detour/fastify/admin";
import { decisionHandler, pathOf, type FrameworkBinding, type RequestAccessor } from "@detour/core/adapter";
import { StoreBase, type StoreState } from "@detour/core/store";
import { createMigration, migrationSuccess, type MigrationReadResult } from "@detour/migrate";

const document: FlagDocument = { flags: {} };
const instance: Detour = createDetour({ store: memoryStore(document), user: (req) => String(req.headers?.["x-user"] ?? "") });
const mode: Decision["mode"] = instance.decide({ method: "GET", path: "/" }).mode;

const app = express();
const maintenance = expressDetour({ store: fileStore("./detour.json"), user: (req) => req.get("x-user") });
app.use(maintenance);
app.post("/billing/pay", maintenance.feature("billing"), (req, res) => {
  const seen: Decision["mode"] | undefined = req.detour?.mode;
  res.send(seen);
});

const koa = new Koa();
koa.use(koaDetour({ store: document, user: (ctx) => ctx.get("x-user") }));
koa.use((ctx) => {
  ctx.body = ctx.state.detour?.mode ?? "available";
});

const fastify = Fastify();
void fastify.register(fastifyDetour({ store: document }));
fastify.get("/billing", { config: { detour: { feature: "billing" } } }, async (request) => request.detour?.mode);

const shared: Detour = createDetour({ store: redisStore({ url: "redis://localhost:6379/0", prefix: "app" }) });
const provider = new DetourProvider(instance);
const exitCode: Promise<number> = run(["status", "--json"]);
const notes = createMigration(instance, { readOld: async (id: string) => migrationSuccess(id), readNew: (id: string) => id, writeOld: () => 1, writeNew: () => 1 });
const read: Promise<MigrationReadResult<unknown>> = notes.read("storage", { key: "u" }, "off", "id-1");

const mounted = admin.createAdmin({ detour: instance, auth: (req) => (admin.bearerToken(req, "a-token") ? "ops" : null) });
app.use(expressAdmin(mounted));
koa.use(koaAdmin(mounted));
void fastify.register(fastifyAdmin(mounted));

/** An adapter for a framework whose handler is (request, done), as a third-party author would write it. */
interface Plain { method: string; url: string; headers: Record<string, string> }
const plainRequest: RequestAccessor<Plain> = {
  method: (req) => req.method,
  path: (req) => pathOf(req.url),
  ip: () => undefined,
  header: (req, name) => req.headers[name],
  secure: () => false,
};
const binding: FrameworkBinding<Plain, (status: number) => void, undefined, void> = {
  accessor: plainRequest,
  attach: () => undefined,
  pass: (_req, done) => done(200),
  send: (response, _req, done) => done(response.status),
};
const plainHandler: (req: Plain, done: (status: number) => void, unused: undefined) => void = decisionHandler(createDetour<Plain>(), undefined, binding);
const storeState: StoreState | undefined = undefined;
const storeBase: typeof StoreBase = StoreBase;

export { mode, shared, provider, exitCode, admin, read, plainHandler, storeState, storeBase };
`;

/**
 * One program per module system, as a user has one or the other (a program
 * holding both would merge the .d.ts and .d.cts augmentations and hide a
 * missing one). `node16` refuses a CJS file whose `require` resolves to ESM
 * types. Third-party types are not checked (skipLibCheck): not ours to fix.
 */
const tsconfig = (file: string) => ({
  compilerOptions: {
    module: "node16",
    moduleResolution: "node16",
    target: "es2022",
    strict: true,
    noEmit: true,
    esModuleInterop: true,
    skipLibCheck: true,
    types: ["node"],
  },
  files: [file],
});

describe("the packed packages, installed as a user would", () => {
  let project: string;
  let packed: Packed[];

  beforeAll(async () => {
    await ensureBuilt(PACKAGE_DIRS);
    project = mkdtempSync(join(tmpdir(), "detour-pack-"));
    const { stdout } = await npm(["pack", "--json", "--pack-destination", project, ...PACKAGE_DIRS.flatMap((dir) => ["-w", `packages/${dir}`])], ROOT);
    packed = JSON.parse(stdout) as Packed[];

    writeFileSync(join(project, "package.json"), `${JSON.stringify({ name: "detour-user", version: "1.0.0", private: true }, null, 2)}\n`);
    const peers = USER_DEPENDENCIES.map((name) => {
      const { version } = JSON.parse(readFileSync(join(ROOT, "node_modules", name, "package.json"), "utf8")) as Manifest;
      return `${name}@${version}`;
    });
    const tarballs = packed.map((pack) => `./${pack.filename}`);
    await npm(["install", "--no-audit", "--no-fund", "--prefer-offline", "--ignore-scripts", "--loglevel=error", ...tarballs, ...peers], project);
    writeFileSync(join(project, "load.mjs"), loader("const load = (name) => import(name);"));
    writeFileSync(join(project, "load.cjs"), loader("const load = async (name) => require(name);"));
    writeFileSync(join(project, "esm.mts"), USAGE);
    writeFileSync(join(project, "cjs.cts"), USAGE);
    writeFileSync(join(project, "tsconfig.esm.json"), JSON.stringify(tsconfig("esm.mts"), null, 2));
    writeFileSync(join(project, "tsconfig.cjs.json"), JSON.stringify(tsconfig("cjs.cts"), null, 2));
  }, 5 * 60_000);

  afterAll(() => {
    if (project) rmSync(project, { recursive: true, force: true });
  });

  it("packs every package with its entry points and nothing but dist/, the manifest and docs", () => {
    expect(packed.map((pack) => pack.name).sort()).toEqual([...names].sort());
    for (const pack of packed) {
      const files = pack.files.map((file) => file.path);
      expect(files, pack.name).toEqual(expect.arrayContaining(["package.json", "dist/index.js", "dist/index.cjs", "dist/index.d.ts", "dist/index.d.cts"]));
      // A bin may be a committed launcher outside dist/ (the CLI's bin/detour.js loads its build).
      const manifest = manifests.find((m) => m.name === pack.name);
      const bins = Object.values(typeof manifest?.bin === "string" ? { bin: manifest.bin } : (manifest?.bin ?? {})).map((bin) => bin.replace(/^\.\//, ""));
      expect(files.filter((file) => !bins.includes(file) && !/^(dist\/|package\.json$|README\.md$|LICENSE|CHANGELOG\.md$)/.test(file)), pack.name).toEqual([]);
    }
  });

  it("loads every package as ESM (import) and as CJS (require), with the same exports both ways", async () => {
    const load = async (script: string) =>
      JSON.parse((await run(process.execPath, [script], { cwd: project, timeout: 60_000 })).stdout) as { exports: Record<string, string[]>; decisions: string[] };
    const esm = await load("load.mjs");
    const cjs = await load("load.cjs");
    for (const name of entries) {
      expect(esm.exports[name], name).toEqual(expect.arrayContaining([...(EXPECTED[name] ?? [])]));
      expect(cjs.exports[name], `${name}: CJS exports the same names as ESM`).toEqual(esm.exports[name]);
    }
    for (const loaded of [esm, cjs]) expect(loaded.decisions).toEqual(["block read-only", "pass read-only", "pass available"]);
  }, 120_000);

  it.each(["esm", "cjs"])("type-checks a program using every package, as %s (node16 resolution: .d.ts for import, .d.cts for require)", async (kind) => {
    const tsc = join(ROOT, "node_modules", "typescript", "bin", "tsc");
    const output = await run(process.execPath, [tsc, "-p", `tsconfig.${kind}.json`], { cwd: project, timeout: 120_000 }).then(
      ({ stdout }) => stdout,
      (error: { stdout?: string; stderr?: string; message: string }) => `${error.stdout ?? ""}${error.stderr ?? ""}` || error.message,
    );
    expect(output).toBe("");
  }, 150_000);

  it.each(["express", "koa", "fastify"])("@detour/%s loads without the console; only its /admin entry loads @detour/admin", async (framework) => {
    // ESM: a resolve hook that refuses @detour/admin; CJS: what require() put in its cache.
    writeFileSync(join(project, "no-admin-hooks.mjs"), `export async function resolve(specifier, context, next) {
  if (/^@detour\\/admin(\\/|$)/.test(specifier)) throw new Error("@detour/admin imported by " + context.parentURL);
  return next(specifier, context);
}
`);
    writeFileSync(join(project, "no-admin.mjs"), `import { register } from "node:module";\nregister("./no-admin-hooks.mjs", import.meta.url);\n`);
    const esm = (entry: string) =>
      run(process.execPath, ["--import", "./no-admin.mjs", "--input-type=module", "-e", `await import(${JSON.stringify(entry)}); console.log("loaded");`], { cwd: project, timeout: 60_000 }).then(
        ({ stdout }) => stdout.trim(),
        (error: { stderr?: string }) => error.stderr ?? "",
      );
    expect(await esm(`@detour/${framework}`)).toBe("loaded");
    expect(await esm(`@detour/${framework}/admin`)).toMatch(/@detour\/admin imported by/);

    const cjs = async (entry: string) => {
      const script = `require(${JSON.stringify(entry)}); console.log(Object.keys(require.cache).some((file) => file.includes("/node_modules/@detour/admin/")));`;
      return (await run(process.execPath, ["-e", script], { cwd: project, timeout: 60_000 })).stdout.trim();
    };
    expect(await cjs(`@detour/${framework}`)).toBe("false");
    expect(await cjs(`@detour/${framework}/admin`)).toBe("true");
  }, 120_000);

  it("installs the CLI's bin", async () => {
    const withBin = manifests.filter((manifest) => manifest.bin !== undefined);
    expect(withBin.map((manifest) => manifest.name)).toContain("@detour/cli");
    for (const manifest of withBin) {
      const bins = typeof manifest.bin === "string" ? [manifest.name.replace(/^@[^/]+\//, "")] : Object.keys(manifest.bin ?? {});
      for (const bin of bins) {
        const { stdout } = await run(join(project, "node_modules", ".bin", bin), ["--version"], { cwd: project, timeout: 30_000 });
        expect(stdout.trim(), bin).toContain(manifest.version);
      }
    }
  }, 60_000);
});
