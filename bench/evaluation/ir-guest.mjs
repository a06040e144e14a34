// The process bench/evaluation/ir.mjs runs under callgrind: one implementation
// (decide or variation) of one version of core on case (d) of the evaluation
// section, warmed up, then windows of N calls, each between a "ready" and a
// "done" line on stdout (the controller zeroes and dumps the counters there).
//
//   node ir-guest.mjs <bundle.mjs> <decide|variation> <case id> <N> <windows>
import { createInterface } from "node:readline";
import { pathToFileURL } from "node:url";
import { cases } from "../evaluation-compare/run.mjs";

const [bundle, impl, id, n, windows] = process.argv.slice(2);
const c = cases.find((x) => x.id === id);
const N = Number(n);
const { createDetour } = await import(pathToFileURL(bundle).href);
const users = c.users.length;
const contexts = c.users.map((key) => ({ key }));
const requests = c.users.map((key) => ({ method: "GET", path: "/", ip: "10.1.2.3", headers: {}, user: key }));
const detour = createDetour({ store: { flags: { site: c.flag } }, user: (req) => req.user });
await detour.ready;
let j = 0;
let sink = 0;
const run =
  impl === "decide"
    ? (count) => {
        for (let i = 0; i < count; i++) {
          if (detour.decide(requests[j]).mode === "maintenance") sink++;
          if (++j === users) j = 0;
        }
      }
    : (count) => {
        for (let i = 0; i < count; i++) {
          if (detour.variation("site", contexts[j], "available") === "maintenance") sink++;
          if (++j === users) j = 0;
        }
      };
run(Math.max(60_000, users));
const lines = createInterface({ input: process.stdin })[Symbol.asyncIterator]();
for (let w = 0; w < Number(windows); w++) {
  process.stdout.write("ready\n");
  await lines.next();
  run(N);
  process.stdout.write("done\n");
  await lines.next();
}
process.exit(sink === -1 ? 1 : 0);
