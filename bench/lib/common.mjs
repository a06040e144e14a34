// Small things every bench shares: names, the request headers, option parsing.
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";

export const FRAMEWORK_NAMES = { express: "Express 5", koa: "Koa 3", fastify: "Fastify 5" };

/** The request headers of every measured request (callgrind client, autocannon, outage). */
export const HEADERS = {
  accept: "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8",
  "user-agent": "detour-bench/1",
  "x-user": "user-777",
  "x-org": "org-777",
};

/**
 * Parses a bench script's options when it is run directly, and returns the
 * defaults when it is imported (bench/run.mjs imports the renderers), plus a
 * progress logger on stderr that `--quiet` silences.
 */
export function cli(importMetaUrl, options) {
  const isMain = process.argv[1] === fileURLToPath(importMetaUrl);
  const { values: args } = parseArgs({
    args: isMain ? process.argv.slice(2) : [],
    options: { ...options, json: { type: "string" }, quiet: { type: "boolean", default: false } },
    allowNegative: true,
  });
  const log = (...m) => {
    if (!args.quiet) console.error(...m);
  };
  return { isMain, args, log };
}

/** Prints a section's Markdown, writes its JSON when asked (--json), returns the result. */
export function emit(result, render, args) {
  console.log(render(result));
  if (args.json) writeFileSync(args.json, JSON.stringify(result, null, 2));
  return result;
}

/** The installed LaunchDarkly SDK's version (its package.json is not exported, so walk up from its entry). */
export function launchDarklyVersion() {
  let dir = dirname(createRequire(import.meta.url).resolve("@launchdarkly/node-server-sdk"));
  while (dir !== dirname(dir)) {
    const file = join(dir, "package.json");
    if (existsSync(file)) {
      const pkg = JSON.parse(readFileSync(file, "utf8"));
      if (pkg.name === "@launchdarkly/node-server-sdk") return pkg.version;
    }
    dir = dirname(dir);
  }
  return "?";
}
