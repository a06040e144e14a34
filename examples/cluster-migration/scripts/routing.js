#!/usr/bin/env node
// @ts-check
/**
 * Which cluster serves each user right now, from the flag store the app
 * uses (DETOUR_STORE or --store, as the CLI takes it).
 *
 *   node scripts/routing.js --users users.txt              # a count per stage
 *   node scripts/routing.js --users users.txt --on complete   # the users on `complete`, one per line
 */
import { parseArgs } from "node:util";
import { createDetour } from "@detour/core";
import { openStore } from "@detour/example-shared";
import { routingOf } from "../src/routing.js";
import { STAGES } from "../src/storage.js";
import { readUsers } from "../src/users.js";

const { values } = parseArgs({ options: { users: { type: "string", default: "users.txt" }, store: { type: "string" }, on: { type: "string" } } });
if (values.on !== undefined && !(/** @type {readonly string[]} */ (STAGES)).includes(values.on)) {
  throw new Error(`--on: expected one of ${STAGES.join(", ")}, got ${JSON.stringify(values.on)}`);
}
const { store } = await openStore(values.store ?? process.env.DETOUR_STORE, { defaultPath: new URL("../detour.json", import.meta.url).pathname });
const detour = createDetour({ store });
try {
  await detour.ready;
  const routing = routingOf(detour, readUsers(values.users));
  if (values.on !== undefined) {
    for (const [user, stage] of routing) if (stage === values.on) console.log(user);
  } else {
    /** @type {Record<string, number>} */
    const counts = Object.fromEntries(STAGES.map((stage) => [stage, 0]));
    for (const stage of routing.values()) counts[stage] = (counts[stage] ?? 0) + 1;
    console.log(STAGES.map((stage) => `${stage} ${counts[stage]}`).join(", "));
  }
} finally {
  await detour.close();
}
