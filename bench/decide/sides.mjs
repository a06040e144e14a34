// What bench/decide/compare.mjs and bench/decide/callgrind.mjs share: core bundled from the
// working tree and from a git ref, and the request shapes they decide.
import { execFileSync } from "node:child_process";
import { mkdirSync, rmSync } from "node:fs";
import { join } from "node:path";
import { build } from "esbuild";
import { root } from "../lib/bundle.mjs";

// Bundles go under node_modules/.cache so that core's dependencies resolve from the repository.
const cache = join(root, "node_modules/.cache/detour-bench");

async function bundleCore(sourceRoot, outfile) {
  await build({
    entryPoints: [join(sourceRoot, "packages/core/src/index.ts")],
    bundle: true, format: "esm", platform: "node", target: "node20", outfile, logLevel: "warning",
    packages: "external",
  });
  return outfile;
}

/**
 * Core bundled from `ref`'s sources (`git archive`) and from the working tree's:
 * `{ base, tree, commit }`, the bundles' paths, removed when the process exits.
 */
export async function bundleSides(ref) {
  const dir = join(cache, `decide-${process.pid}`);
  const baseDir = join(dir, "base");
  mkdirSync(baseDir, { recursive: true });
  process.on("exit", () => rmSync(dir, { recursive: true, force: true }));
  execFileSync("sh", ["-c", `git -C "${root}" archive "${ref}" packages/core/src | tar -x -C "${baseDir}"`]);
  const commit = execFileSync("git", ["-C", root, "rev-parse", "--short", ref], { encoding: "utf8" }).trim();
  return {
    base: await bundleCore(baseDir, join(dir, "base.mjs")),
    tree: await bundleCore(root, join(dir, "tree.mjs")),
    commit,
  };
}

const MODES = ["available", "read-only", "maintenance"];
const modeFlag = (fields) => ({ key: "site", on: true, version: 1, variations: MODES, offVariation: 0, fallthrough: { variation: 0 }, salt: "site", ...fields });
const COUNTRIES = ["DE", "FR", "NL", "BE", "AT", "CH", "IT", "ES", "PT", "PL"];
/** Requests are taken in turn, `requests[i & MASK]`. */
export const MASK = 1023;
const users = Array.from({ length: MASK + 1 }, (_, i) => `user-${i}`);
const country = (i) => (i % 2 === 0 ? COUNTRIES[i % COUNTRIES.length] : ["US", "BR", "JP", "IN", "CA"][i % 5]);
const requestsOf = (method, path, extra = () => ({})) => users.map((user, i) => ({ method, path, ip: "10.1.2.3", headers: {}, user, ...extra(i) }));
const bypassOptions = { allow: { secret: "s".repeat(32), token: "t".repeat(32), paths: ["/health"] } };
const countryRule = modeFlag({ rules: [{ id: "eu", clauses: [{ attribute: "country", op: "in", values: COUNTRIES }], variation: 1 }] });

/** The flag, the requests and the options of each case; (b) and (e) are bench/evaluation-compare's. */
export const cases = {
  a: { name: "(a) no flag in force (site flag off)", flag: modeFlag({ on: false }), requests: requestsOf("GET", "/") },
  b: { name: "(b) site flag on (maintenance for everyone), blocked", flag: modeFlag({ fallthrough: { variation: 2 } }), requests: requestsOf("GET", "/") },
  "b-bypass": {
    name: "(b) the same, POST, with allowed paths, a secret and a token configured (none sent)",
    flag: modeFlag({ fallthrough: { variation: 2 } }),
    requests: requestsOf("POST", "/orders"),
    options: bypassOptions,
  },
  "b-cookie": {
    name: "(b) the same, with a browser's Cookie header (a session, no bypass cookie) and a query string",
    flag: modeFlag({ fallthrough: { variation: 2 } }),
    requests: requestsOf("POST", "/orders/new?step=2", () => ({ headers: { cookie: "sid=s%3A8f1c2e9a7b6d5c4e3f2a1b0c9d8e7f6a.Zx9; theme=dark; _ga=GA1.2.1234567890.1700000000; consent=yes" } })),
    options: bypassOptions,
  },
  e: {
    name: "(e) rule with an `in` clause (country in 10 values, half match), context() callback",
    flag: countryRule,
    requests: requestsOf("GET", "/", (i) => ({ country: country(i) })),
    options: { context: (req) => ({ country: req.country }) },
  },
  "e-post": {
    name: "(e) the same rule, POST (the read-only half blocked)",
    flag: countryRule,
    requests: requestsOf("POST", "/", (i) => ({ country: country(i) })),
    options: { context: (req) => ({ country: req.country }) },
  },
};

/** A Detour instance of `core` for case `c`, loaded. */
export async function detourFor(core, c) {
  const detour = core.createDetour({ store: { flags: { site: structuredClone(c.flag) } }, user: (req) => req.user, ...c.options });
  await detour.ready;
  return detour;
}

/** A fresh loop per call site, so each side and case keeps its own type feedback. */
export const loopFor = () =>
  new Function("detour", "requests", "n", `let s = 0; for (let i = 0; i < n; i++) s += detour.decide(requests[i & ${MASK}]).status; return s;`);
