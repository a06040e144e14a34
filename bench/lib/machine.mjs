// The machine a result was measured on; recorded with every result.
import { execFileSync } from "node:child_process";
import { cpus, totalmem, release, platform, loadavg } from "node:os";

function tryRun(cmd, args) {
  try {
    return execFileSync(cmd, args, { encoding: "utf8", stdio: ["ignore", "pipe", "ignore"] }).trim();
  } catch {
    return null;
  }
}

export function machine() {
  const list = cpus();
  const model = list[0]?.model?.trim() ?? "unknown";
  return {
    cpu: model,
    cores: list.length,
    memoryGiB: Math.round(totalmem() / 2 ** 30),
    os: `${platform()} ${release()}`,
    node: process.version,
    v8: process.versions.v8,
    loadavg: loadavg().map((x) => Number(x.toFixed(2))),
    date: new Date().toISOString(),
  };
}

export function valgrindVersion() {
  return tryRun("valgrind", ["--version"]);
}

/** One line for tables: "AMD EPYC, 2 cores, node v20.20.2, linux 6.1". */
export function machineLine(m) {
  return `${m.cpu}, ${m.cores} cores, ${m.memoryGiB} GiB, node ${m.node} (V8 ${m.v8}), ${m.os}; load average at start ${m.loadavg.join(" / ")}; ${m.date.slice(0, 16).replace("T", " ")} UTC`;
}


