#!/usr/bin/env node
// The `detour` command. This file is committed (the build is not), so that
// `npm install` links node_modules/.bin/detour on a fresh clone, before
// anything is built; it runs the build in dist/.
import { existsSync } from "node:fs";

const entry = new URL("../dist/cli.js", import.meta.url);
if (!existsSync(entry)) {
  process.stderr.write(
    "detour: @detour/cli is not built yet (packages/cli/dist/cli.js is missing).\n" +
      "Build it from the repository root with `npm run build` (or `npm run demo`, which builds what it needs), then try again.\n",
  );
  process.exit(1);
}
await import(entry.href);
