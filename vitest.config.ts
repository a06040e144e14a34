import { existsSync, readFileSync, readdirSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { configDefaults, defineConfig } from "vitest/config";

const root = fileURLToPath(new URL(".", import.meta.url));
const packages = readdirSync(`${root}packages`).filter((name) =>
  existsSync(`${root}packages/${name}/src/index.ts`),
);

/** A package's entry points other than its main one (`@detour/express/admin`), from its `exports`, as source files. */
function subpaths(name: string): { find: string; source: string }[] {
  const manifest = JSON.parse(readFileSync(`${root}packages/${name}/package.json`, "utf8")) as { exports?: Record<string, unknown> };
  return Object.keys(manifest.exports ?? {})
    .filter((key) => key !== "." && !key.endsWith(".json"))
    .map((key) => key.slice(2))
    .map((sub) => ({ find: `@detour/${name}/${sub}`, source: [`src/${sub}.ts`, `src/${sub}/index.ts`].map((file) => `${root}packages/${name}/${file}`).find(existsSync)! }))
    .filter((entry) => entry.source !== undefined);
}

// Tests import package sources, never dist/: no build is needed to run them. Exact names, so that subpaths resolve on their own.
const alias = packages.flatMap((name) => [
  ...subpaths(name).map(({ find, source }) => ({ find: new RegExp(`^${find}$`), replacement: source })),
  { find: new RegExp(`^@detour/${name}$`), replacement: `${root}packages/${name}/src/index.ts` },
]);

const suites = [
  ...packages.map((name) => ({ name: `@detour/${name}`, dir: `packages/${name}/test` })),
  // Every workspace under test/ that holds tests (conformance, packages, newcomer...) is a
  // project of its own; test/support only holds helpers the others import.
  ...readdirSync(`${root}test`)
    .filter((name) => existsSync(`${root}test/${name}/package.json`) && name !== "support")
    .map((name) => ({ name, dir: `test/${name}` })),
  ...(existsSync(`${root}examples`) ? readdirSync(`${root}examples`) : [])
    .filter((name) => existsSync(`${root}examples/${name}/test`))
    .map((name) => ({ name: `example-${name}`, dir: `examples/${name}/test` })),
].filter((suite) => existsSync(`${root}${suite.dir}`));

/**
 * `npm run test:fast` (DETOUR_TESTS=fast) is the edit loop's tier: core and the
 * adapters in process, so no Chromium (`*.browser.test.ts`), no child process
 * (`*.process.test.ts`), no Redis (`*.redis.test.ts`) or PostgreSQL. `npm test`
 * runs everything.
 */
const fast = process.env.DETOUR_TESTS === "fast";
const FAST_SUITES = new Set(["@detour/core", "@detour/express", "@detour/koa", "@detour/fastify", "conformance"]);
const NOT_FAST = ["**/*.browser.test.ts", "**/*.process.test.ts", "**/*.redis.test.ts"];

export default defineConfig({
  resolve: { alias },
  test: {
    testTimeout: 20_000,
    hookTimeout: 30_000,
    projects: suites
      .filter((suite) => !fast || FAST_SUITES.has(suite.name))
      .map((suite) => ({
        extends: true,
        test: {
          name: suite.name,
          include: [`${suite.dir}/**/*.test.ts`],
          ...(fast ? { exclude: [...configDefaults.exclude, ...NOT_FAST] } : {}),
        },
      })),
  },
});
