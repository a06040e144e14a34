// @ts-check
/**
 * `npm run demo`: the Express example (examples/express) on the embedded file
 * store (examples/express/detour.json, or DETOUR_STORE), on PORT (default
 * 3000; 0 picks a free port), with the commands that toggle it from another
 * terminal. The root script builds the packages it needs first; this file
 * expects them built. Ctrl-C (SIGINT) or SIGTERM stops it.
 */
import { randomBytes } from "node:crypto";
import { serve } from "@detour/example-shared";
import { listen } from "./express/src/server.js";

// The admin console needs a token: without DETOUR_ADMIN_TOKEN the demo makes one up and prints it.
const adminToken = process.env.DETOUR_ADMIN_TOKEN || (process.env.DETOUR_ADMIN_TOKEN = randomBytes(18).toString("base64url"));
const running = await serve("Express", listen);
const store = running.store.includes(" ") ? `'${running.store}'` : running.store;
/**
 * A CLI line, `npx @detour/cli <command> --store <this server's store> [options]`. It names the
 * package, so npx runs this repository's `detour` (linked by npm install; built by npm run demo)
 * and can never fetch the unrelated npm package called `detour`; it works as printed from the
 * repository root.
 */
const detour = (/** @type {string} */ command, options = "") => `npx @detour/cli ${command} --store ${store}${options && ` ${options}`}`;
const api = `${running.url}/api/notes`;

console.log(`
Open ${running.url} and sign in as alice (or: curl -H 'X-User: alice' ${api}).

Admin console: ${running.url}/_detour/ (token: ${adminToken})

From another terminal, from this directory (changes reach the running server without a restart):
  # the whole site down: a 503 page for people, problem+json for the API
  ${detour("on site", '--message "Upgrading the database" --retry-after 600')}
  curl -i -H 'X-User: alice' ${api}
  ${detour("off site")}
  # only the billing feature (/billing/*)
  ${detour("on billing")}
  ${detour("off billing")}
  # alice read-only: she can look around, but her writes are refused
  ${detour("on site", "--user alice")}
  curl -i -H 'X-User: alice' -H 'Content-Type: application/json' -d '{"text":"hello"}' ${api}
  ${detour("off site")}
  # what is in force
  ${detour("status")}

Ctrl-C stops it.`);
