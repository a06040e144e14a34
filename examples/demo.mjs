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
/** A CLI line: `npx detour <command> --store <this server's store> [options]`. */
const detour = (/** @type {string} */ command, options = "") => `npx detour ${command} --store ${store}${options && ` ${options}`}`;

console.log(`
Open ${running.url} and sign in as alice (or: curl -H 'X-User: alice' ${running.url}/api/notes).

Admin console: ${running.url}/_detour/ (token: ${adminToken})

From another terminal (changes reach the running server without a restart):
  # the whole site: a 503 page for people, problem+json for API clients
  ${detour("on site", '--message "Upgrading the database" --retry-after 600')}
  # only the billing feature (/billing/*)
  ${detour("on billing")}
  # alice read-only: she can look around but not write
  ${detour("on site", "--user alice")}
  # back to normal, and what is in force
  ${detour("off site")}
  ${detour("off billing")}
  ${detour("status")}

Ctrl-C stops it.`);
