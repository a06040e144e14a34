// A tiny keep-alive HTTP client, run as its own process so that only the
// server is instrumented. One connection, one request at a time.
//
//   node client.mjs <port>
//   stdin:  "<n>\n"  → sends n sequential GET / requests on the same connection
//   stdout: "done <n> <ms> <non200>\n"
//
// Every variant gets exactly the same request bytes.
import http from "node:http";
import { createInterface } from "node:readline";
import { HEADERS } from "../lib/common.mjs";

const port = Number(process.argv[2]);
const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });

function once() {
  return new Promise((resolve, reject) => {
    const req = http.request({ host: "127.0.0.1", port, path: "/", method: "GET", agent, headers: HEADERS }, (res) => {
      let body = "";
      res.setEncoding("utf8");
      res.on("data", (c) => (body += c));
      res.on("end", () => resolve(res.statusCode === 200 && body === "hello world" ? 0 : 1));
      res.on("error", reject);
    });
    req.on("error", reject);
    req.end();
  });
}

const lines = createInterface({ input: process.stdin });
lines.on("line", async (line) => {
  const n = Number(line);
  const t0 = performance.now();
  let bad = 0;
  for (let i = 0; i < n; i++) bad += await once();
  process.stdout.write(`done ${n} ${(performance.now() - t0).toFixed(0)} ${bad}\n`);
});
lines.on("close", () => {
  agent.destroy();
  process.exit(0);
});
