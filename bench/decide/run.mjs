// ns/op of detour.decide() for the request shapes that matter on the hot path.
// Run: node bench/decide/run.mjs   (bundles the core sources, no build needed)
import { build } from "esbuild";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";

const root = fileURLToPath(new URL("../..", import.meta.url));
const out = join(mkdtempSync(join(tmpdir(), "detour-bench-")), "core.mjs");
await build({ entryPoints: [join(root, "packages/core/src/index.ts")], bundle: true, format: "esm", platform: "node", outfile: out, logLevel: "warning" });
const { createDetour } = await import(out);

const modeFlag = (key, fields) => ({
  key, on: true, variations: ["available", "read-only", "maintenance"], offVariation: 0, fallthrough: { variation: 0 }, salt: key, ...fields,
});
const users = Array.from({ length: 131072 }, (_, i) => `user-${i}`);
const targeted = Array.from({ length: 1000 }, (_, i) => `other-${i}`);
const orgs = Array.from({ length: 1024 }, (_, i) => `org-${i}`);

const cases = {
  "no flag in force": { flags: {} },
  "site flag off": { flags: { site: modeFlag("site", { on: false }) } },
  "read-only targets 1,000 other users": { flags: { site: modeFlag("site", { targets: [{ variation: 1, values: targeted }] }) } },
  // The same flag for tenants: the request's multi-kind context (user + organization) is built for it.
  "read-only targets 1,000 other organizations (multi-kind context)": {
    flags: { site: modeFlag("site", { contextTargets: [{ contextKind: "organization", variation: 1, values: targeted }] }) },
  },
  "25% read-only rollout (131,072 users)": {
    flags: { site: modeFlag("site", { fallthrough: { rollout: { variations: [{ variation: 1, weight: 25000 }, { variation: 0, weight: 75000 }] } } }) },
  },
  "site maintenance (blocked)": { flags: { site: modeFlag("site", { fallthrough: { variation: 2 } }) } },
};

const requests = users.map((user, i) => ({ method: "GET", path: "/", ip: "127.0.0.1", headers: {}, user, org: orgs[i & 1023] }));

function measure(detour, n) {
  let sink = 0;
  const start = process.hrtime.bigint();
  for (let i = 0; i < n; i++) sink += detour.decide(requests[i & 131071]).status;
  const ns = Number(process.hrtime.bigint() - start) / n;
  if (sink === 42) console.log("");
  return ns;
}

const detours = {};
for (const [name, document] of Object.entries(cases)) {
  detours[name] = createDetour({ store: document, user: (req) => req.user, contexts: (req) => ({ organization: req.org }) });
  await detours[name].ready;
}
const results = Object.fromEntries(Object.keys(cases).map((name) => [name, []]));
for (let round = 0; round < 7; round++) {
  for (const [name, detour] of Object.entries(detours)) results[name].push(measure(detour, 300_000));
}
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
console.log(`node ${process.version}, ${(await import("node:os")).cpus()[0].model}`);
console.log("| case | decide() ns/op (median of 7 rounds) |\n|---|---:|");
for (const name of Object.keys(cases)) console.log(`| ${name} | ${median(results[name].slice(1)).toFixed(0)} |`);
