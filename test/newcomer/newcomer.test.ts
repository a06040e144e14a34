/**
 * What a newcomer does, on a fresh clone of this repository: `npm install`,
 * `npm run demo` (with PORT=0), then every command the demo prints, exactly
 * as printed, through a shell, from the root of the clone. After each, the
 * server must answer as the demo's comments say (the site's 503 page and
 * problem+json, the billing feature's 503, a read-only user's refused
 * write, back to 200). It also checks that neither `npm install` nor the
 * demo changes a tracked file.
 *
 * It clones HEAD: commit what you want it to see. It takes a minute or two
 * (an install and a build); every wait is on a condition, never a fixed sleep.
 */
import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import { mkdtempSync } from "node:fs";
import { rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

const ROOT = fileURLToPath(new URL("../..", import.meta.url));
const MINUTES = 60_000;

/** A newcomer's environment: nothing Detour-specific, no store, no CI-only settings of this run. */
function newcomerEnv(): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env, PORT: "0", TURBO_TELEMETRY_DISABLED: "1", NO_UPDATE_NOTIFIER: "1" };
  for (const name of Object.keys(env)) if (/^(DETOUR_|VITEST|npm_)/.test(name) || name === "NODE_ENV") delete env[name];
  return env;
}

function run(command: string, args: string[], cwd: string, timeout: number): { status: number | null; output: string } {
  const result = spawnSync(command, args, { cwd, env: newcomerEnv(), encoding: "utf8", timeout, maxBuffer: 64 * 1024 * 1024 });
  if (result.error) throw result.error;
  return { status: result.status, output: `${result.stdout}${result.stderr}` };
}

function gitStatus(cwd: string): string {
  return run("git", ["status", "--porcelain"], cwd, 60_000).output.trim();
}

/** Waits until `check` resolves truthy; the last value is in the error. */
async function until<T>(what: string, check: () => Promise<T>, timeoutMs = 20_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const value = await check();
      if (value) return value;
      last = value;
    } catch (error) {
      last = error;
    }
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what} (last: ${String(last)})`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

let dir: string;
let clone: string;
let demo: ChildProcess | undefined;
let output = "";

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), "detour-newcomer-"));
  clone = join(dir, "detour");
});

afterAll(async () => {
  if (demo?.pid !== undefined && demo.exitCode === null) {
    try {
      process.kill(-demo.pid, "SIGKILL");
    } catch {
      // already gone
    }
  }
  // The clone holds a whole node_modules: removing it takes tens of seconds on a busy machine.
  await rm(dir, { recursive: true, force: true, maxRetries: 3 });
}, 300_000);

/** What the server must answer after each printed command: `check` runs until it passes. */
interface Expectation {
  readonly matches: RegExp;
  readonly what: string;
  check(url: string, printed: string): Promise<boolean>;
}

const html = { accept: "text/html" };
const alice = { "x-user": "alice" };
const note = (user: string) => ({ method: "POST", headers: { "x-user": user, "content-type": "application/json" }, body: JSON.stringify({ text: "from the newcomer test" }) });

const EXPECTATIONS: readonly Expectation[] = [
  {
    matches: /^npx @detour\/cli on site --store \S+ --message "Upgrading the database" --retry-after 600$/,
    what: "the site's 503 page with the message, and problem+json for the API",
    async check(url) {
      const page = await fetch(url, { headers: { ...html, ...alice } });
      const api = await fetch(`${url}/api/notes`, { headers: alice });
      return (
        page.status === 503 &&
        (await page.text()).includes("Upgrading the database") &&
        page.headers.get("retry-after") === "600" &&
        api.status === 503 &&
        api.headers.get("content-type") === "application/problem+json; charset=utf-8"
      );
    },
  },
  {
    matches: /^curl -i -H 'X-User: alice' http:\/\/localhost:\d+\/api\/notes$/,
    what: "curl itself shows the 503 as problem+json",
    async check(_url, printed) {
      return /^HTTP\/1\.1 503/m.test(printed) && /content-type: application\/problem\+json/i.test(printed) && printed.includes('"mode":"maintenance"');
    },
  },
  {
    matches: /^npx @detour\/cli off site --store \S+$/,
    what: "everything back to normal: 200, alice can write",
    async check(url) {
      return (await fetch(url, { headers: html })).status === 200 && (await fetch(`${url}/api/notes`, note("alice"))).status === 201;
    },
  },
  {
    matches: /^npx @detour\/cli on billing --store \S+$/,
    what: "billing's 503, the rest of the site up",
    async check(url) {
      const billing = await fetch(`${url}/billing/invoices`, { headers: { ...html, ...alice } });
      return billing.status === 503 && (await billing.text()).includes("This feature is temporarily unavailable") && (await fetch(url, { headers: html })).status === 200;
    },
  },
  {
    matches: /^npx @detour\/cli off billing --store \S+$/,
    what: "billing back",
    async check(url) {
      return (await fetch(`${url}/billing/invoices`, { headers: { ...html, ...alice } })).status === 200;
    },
  },
  {
    matches: /^npx @detour\/cli on site --store \S+ --user alice$/,
    what: "alice reads (with the read-only banner) but her write is refused; bob writes",
    async check(url) {
      const home = await fetch(url, { headers: { ...html, ...alice } });
      return (
        home.status === 200 &&
        (await home.text()).includes("Read-only for now") &&
        (await fetch(`${url}/api/notes`, note("alice"))).status === 503 &&
        (await fetch(`${url}/api/notes`, note("bob"))).status === 201
      );
    },
  },
  {
    matches: /^curl -i -H 'X-User: alice' -H 'Content-Type: application\/json' -d '\{"text":"hello"\}' http:\/\/localhost:\d+\/api\/notes$/,
    what: "curl shows alice's refused write as read-only problem+json",
    async check(_url, printed) {
      return /^HTTP\/1\.1 503/m.test(printed) && printed.includes('"mode":"read-only"');
    },
  },
  {
    matches: /^npx @detour\/cli status --store \S+$/,
    what: "status says nothing is in force",
    async check(_url, printed) {
      return printed.includes("No flag in force.");
    },
  },
];

describe("a newcomer on a fresh clone", () => {
  it("clones, installs without changing a tracked file, runs the demo and every command it prints, as printed", async () => {
    const cloned = run("git", ["clone", "--quiet", ROOT, clone], dir, 2 * MINUTES);
    expect(cloned.status, cloned.output).toBe(0);

    const install = run("npm", ["install", "--prefer-offline", "--no-audit", "--no-fund"], clone, 8 * MINUTES);
    expect(install.status, install.output).toBe(0);
    expect(gitStatus(clone), "npm install changed tracked files").toBe("");

    demo = spawn("npm", ["run", "demo"], { cwd: clone, env: newcomerEnv(), stdio: ["ignore", "pipe", "pipe"], detached: true });
    demo.stdout!.setEncoding("utf8").on("data", (chunk: string) => (output += chunk));
    demo.stderr!.setEncoding("utf8").on("data", (chunk: string) => (output += chunk));
    const exited = new Promise<string>((resolve) => demo!.once("exit", (code, signal) => resolve(signal ?? `exit ${code}`)));
    await until("the demo to print its commands", async () => {
      if (demo!.exitCode !== null) throw new Error(`the demo exited (${demo!.exitCode}):\n${output}`);
      return output.includes("Ctrl-C stops it.");
    }, 8 * MINUTES);

    const url = /^Open (http:\/\/localhost:\d+) /m.exec(output)?.[1];
    expect(url, output).toBeDefined();
    const section = output.slice(output.indexOf("From another terminal"), output.indexOf("Ctrl-C stops it."));
    const commands = section
      .split("\n")
      .slice(1)
      .map((line) => line.trim())
      .filter((line) => line !== "" && !line.startsWith("#"));
    expect(commands.length, section).toBe(EXPECTATIONS.length + 1); // "off site" is printed twice

    for (const command of commands) {
      const expectation = EXPECTATIONS.find((e) => e.matches.test(command));
      expect(expectation, `the demo printed a command this test does not know: ${command}`).toBeDefined();
      const printed = run("sh", ["-c", command], clone, 2 * MINUTES);
      expect(printed.status, `${command}\n${printed.output}`).toBe(0);
      expect(printed.output, command).not.toMatch(/could not determine executable|npm error/);
      await until(`${expectation!.what} after: ${command}\n${printed.output}`, () => expectation!.check(url!, printed.output));
    }

    // Ctrl-C in the terminal: the whole process group gets SIGINT (npm itself may die of it).
    process.kill(-demo.pid!, "SIGINT");
    expect(["exit 0", "SIGINT"]).toContain(await exited);
    await until("the demo to stop cleanly", async () => output.includes("SIGINT: stopping") && (await fetch(url!).then(() => false, () => true)));
    expect(gitStatus(clone), "the demo changed tracked files").toBe("");
  }, 20 * MINUTES);
});
