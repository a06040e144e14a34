// Child-process helpers shared by the benches.
import { execFile, spawn } from "node:child_process";
import { createServer } from "node:net";
import { createInterface } from "node:readline";

/** Runs a command, resolves with stdout (rejects on a non-zero exit). */
export function run(cmd, args, options = {}) {
  return new Promise((resolve, reject) => {
    execFile(cmd, args, { maxBuffer: 64 * 2 ** 20, ...options }, (error, stdout, stderr) => {
      if (error) reject(Object.assign(error, { stdout, stderr }));
      else resolve(stdout);
    });
  });
}

// Children still running when this process ends (normally, or on SIGINT/SIGTERM/SIGHUP)
// are killed, so an interrupted bench leaves no server (or valgrind) behind.
// Installed on the first spawn, so that merely importing this module changes nothing.
const live = new Set();
let guarded = false;
function guard() {
  if (guarded) return;
  guarded = true;
  process.on("exit", () => {
    for (const child of live) child.kill("SIGKILL");
  });
  for (const [signal, code] of [["SIGINT", 130], ["SIGTERM", 143], ["SIGHUP", 129]]) {
    process.once(signal, () => {
      for (const child of live) child.kill("SIGKILL");
      process.exit(code);
    });
  }
}

/**
 * Spawns a process and lets you wait for stdout lines. `lines` keeps every line;
 * `waitFor(re, ms)` resolves with the first match at or after the current position.
 */
export function spawnLines(cmd, args, options = {}) {
  const child = spawn(cmd, args, { stdio: ["pipe", "pipe", "pipe"], ...options });
  guard();
  live.add(child);
  const lines = [];
  const waiters = new Set();
  let stderr = "";
  child.stderr?.on("data", (d) => {
    stderr += d;
    if (stderr.length > 20000) stderr = stderr.slice(-10000);
  });
  createInterface({ input: child.stdout }).on("line", (line) => {
    lines.push(line);
    for (const w of [...waiters]) w(line);
  });
  let exited = null;
  const exit = new Promise((resolve) =>
    child.on("exit", (code, signal) => {
      live.delete(child);
      resolve((exited = { code, signal }));
    }),
  );
  function waitFor(re, ms = 120_000, from = 0) {
    return new Promise((resolve, reject) => {
      for (let i = from; i < lines.length; i++) {
        const m = re.exec(lines[i]);
        if (m) return resolve(m);
      }
      const timer = setTimeout(() => {
        waiters.delete(w);
        reject(new Error(`timed out after ${ms} ms waiting for ${re} from ${cmd} ${args.join(" ")}\n${stderr.slice(-2000)}`));
      }, ms);
      const w = (line) => {
        const m = re.exec(line);
        if (!m) return;
        clearTimeout(timer);
        waiters.delete(w);
        resolve(m);
      };
      waiters.add(w);
      exit.then((e) => {
        if (!waiters.has(w)) return;
        clearTimeout(timer);
        waiters.delete(w);
        reject(new Error(`${cmd} exited (${e.code ?? e.signal}) before printing ${re}\n${stderr.slice(-2000)}`));
      });
    });
  }
  return {
    child,
    lines,
    exit,
    get exited() {
      return exited;
    },
    get stderr() {
      return stderr;
    },
    waitFor,
    /** Writes a line and waits for the next stdout line matching `re`. */
    async ask(text, re, ms) {
      const from = lines.length;
      child.stdin.write(`${text}\n`);
      return waitFor(re, ms, from);
    },
    kill(signal = "SIGTERM") {
      if (exited === null) child.kill(signal);
      return exit;
    },
  };
}

/** Runs async jobs with at most `limit` at a time, keeping the result order. */
export async function pool(jobs, limit) {
  const results = new Array(jobs.length);
  let next = 0;
  async function worker() {
    while (next < jobs.length) {
      const i = next++;
      results[i] = await jobs[i]();
    }
  }
  await Promise.all(Array.from({ length: Math.min(limit, jobs.length) }, worker));
  return results;
}

/** A TCP port nothing listens on right now (for a server of the bench's own). */
export function freePort() {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once("error", reject);
    s.listen(0, "127.0.0.1", () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
  });
}

/** A redis-server of the bench's own on a free port, without persistence; `kill()` it when done. */
export async function startRedisServer() {
  const port = await freePort();
  const proc = spawnLines("redis-server", ["--port", String(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no", "--protected-mode", "no"]);
  await proc.waitFor(/Ready to accept connections/, 15_000);
  return { proc, port, url: `redis://127.0.0.1:${port}/0` };
}
