#!/usr/bin/env node
// Instructions per call of decide() and variation() on the rollout cases, for
// two versions of core: what the wall clock of a shared machine cannot resolve.
//
//   node bench/evaluation/ir.mjs [--base main] [--cases d-1000,d-131072] [--impls variation,decide] [--n 20000] [--windows 3]
//
// Each (version, implementation, case) runs in its own process under
// `valgrind --tool=callgrind --smc-check=all-non-file` with
// `node --single-threaded --predictable` and a young generation big enough
// that no scavenge falls in a window: warm-up, then windows of N calls
// (`callgrind_control -z` before, `-d` after, Ir total ÷ N). The first window
// still holds compilation; the figure is the last one. `--base` is a git ref,
// bundled from `git archive` as bench/evaluation/ab.mjs does.
import { execFileSync, spawn } from "node:child_process";
import { mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { cpus, loadavg, tmpdir } from "node:os";
import { join } from "node:path";
import { createInterface } from "node:readline";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import { bundleVersions } from "./versions.mjs";
import { fmt } from "../lib/stats.mjs";

const { values: args } = parseArgs({
  options: {
    base: { type: "string", default: "main" },
    cases: { type: "string", default: "d-1000,d-131072" },
    impls: { type: "string", default: "variation,decide" },
    n: { type: "string", default: "20000" },
    windows: { type: "string", default: "3" },
  },
});
const GUEST = fileURLToPath(new URL("./ir-guest.mjs", import.meta.url));
const work = mkdtempSync(join(tmpdir(), "detour-eval-ir-"));
process.on("exit", () => rmSync(work, { recursive: true, force: true }));

const built = await bundleVersions(args.base, work);
const versions = { [`base ${args.base} (${built.commit})`]: built.base, "working tree": built.head };

/** Ir per call in each window of one process. */
async function measure(file, impl, id) {
  const dir = mkdtempSync(join(work, "cg-"));
  const child = spawn(
    "valgrind",
    ["--tool=callgrind", "--smc-check=all-non-file", `--callgrind-out-file=${dir}/cg.out`,
      "node", "--single-threaded", "--predictable", "--min-semi-space-size=64", "--max-semi-space-size=64", GUEST, file, impl, id, args.n, args.windows],
    { stdio: ["pipe", "pipe", "ignore"] },
  );
  const newest = () => {
    const dumps = readdirSync(dir).filter((f) => f.startsWith("cg.out.")).sort((a, b) => Number(a.split(".").pop()) - Number(b.split(".").pop()));
    return Number(/^(?:summary|totals): (\d+)/m.exec(readFileSync(join(dir, dumps.at(-1)), "utf8"))[1]);
  };
  const windows = [];
  for await (const line of createInterface({ input: child.stdout })) {
    if (line === "ready") execFileSync("callgrind_control", ["-z", String(child.pid)], { stdio: "ignore" });
    if (line === "done") {
      execFileSync("callgrind_control", ["-d", String(child.pid)], { stdio: "ignore" });
      windows.push(newest() / Number(args.n));
    }
    child.stdin.write("\n");
  }
  return windows;
}

console.log(`\n${cpus()[0]?.model?.trim()}, node ${process.version}, load average ${loadavg().map((x) => x.toFixed(2)).join(" / ")}; Ir per call, every window (the last is the figure).\n`);
console.log("| case | implementation | version | Ir per call | windows |\n|---|---|---|---:|---|");
for (const id of args.cases.split(",")) {
  for (const impl of args.impls.split(",")) {
    for (const [version, file] of Object.entries(versions)) {
      const windows = await measure(file, impl, id);
      console.log(`| ${id} | ${impl}() | ${version} | ${fmt.int(windows.at(-1))} | ${windows.map((x) => fmt.int(x)).join(", ")} |`);
    }
  }
}
