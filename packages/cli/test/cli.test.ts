import { join } from "node:path";
import { describe, expect, it } from "vitest";
import type { DetourStatus } from "@detour/core";
import { detour, emptyStore, readJson, temporaryDirectory, useWorkspace, writeJson } from "@detour/test-support/cli";

const ws = useWorkspace();
let counter = 0;

/** A store file of its own for each test. */
/** An empty store file of its own for each test (as the app creates it). */
function storeFile(): { path: string; arg: string } {
  const path = join(ws.dir, `store-${++counter}.json`);
  return { path, arg: emptyStore(path) };
}

describe("help and usage", () => {
  it.each([[[]], [["status"]], [["on"]], [["off"]], [["rollout"]], [["guard"]], [["export"]], [["import"]]])("%j --help exits 0 with usage", async (args) => {
    const result = await detour([...args, "--help"], { cwd: ws.dir });
    expect(result.code).toBe(0);
    expect(result.stdout).toMatch(/^Usage: detour/);
    expect(result.stdout).toContain("--store");
  });

  it("prints the exit codes in the main help", async () => {
    const result = await detour(["--help"], { cwd: ws.dir });
    expect(result.stdout).toContain("Exit codes:");
    expect(result.stdout).toMatch(/2 {2}the store could not be read or written/);
  });

  it("no command: help on stderr, exit 1", async () => {
    const result = await detour([], { cwd: ws.dir });
    expect(result.code).toBe(1);
    expect(result.stderr).toContain("Usage: detour");
  });

  it.each([
    [["frobnicate"], /^detour: unknown command 'frobnicate'/],
    [["on"], /^detour: missing required argument 'flag'/],
    [["on", "site", "--mode", "sideways"], /^detour: option '--mode <mode>' argument 'sideways' is invalid/],
    [["on", "site", "--percent", "140"], /expected a percentage from 0 to 100, got "140"/],
    [["on", "site", "--retry-after", "soon"], /expected whole seconds >= 0/],
    [["on", "site", "--until", "tomorrow"], /expected an RFC 3339 time/],
    [["on", "site", "--from", "+2h", "--until", "+1h"], /^detour: --until .* must be after --from/],
    [["on", "bad flag!"], /^detour: flag: expected a flag key/],
    [["status", "--bogus"], /^detour: unknown option '--bogus'/],
    [["status", "--store", "http://example.com"], /^detour: --store: unsupported store "http:\/\/example.com"/],
    [["status", "--store", "redis://127.0.0.1:6379/zero"], /the Redis database must be a number/],
    [["status", "--prefix", "x"], /^detour: --prefix: only applies to a redis:\/\/ store/],
  ])("%j exits 1 with one line on stderr", async (args, message) => {
    const { arg } = storeFile();
    const withStore = args.includes("--store") || args.includes("--prefix") ? args : [...args, "--store", arg];
    const result = await detour(withStore, { cwd: ws.dir });
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(message);
    expect(result.stderr.trimEnd().split("\n")).toHaveLength(1);
    expect(result.stderr).not.toMatch(/\n\s+at /);
  });
});

describe("store selection and exit code 2", () => {
  it("an unreachable Redis exits 2 with one line and no stack trace", async () => {
    const result = await detour(["on", "site", "--store", "redis://127.0.0.1:1/0"], { cwd: ws.dir });
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(/^detour: .*Redis unreachable.*ECONNREFUSED/);
    expect(result.stderr.trimEnd().split("\n")).toHaveLength(1);
  });

  it("--debug adds the stack trace", async () => {
    const result = await detour(["status", "--store", "redis://127.0.0.1:1/0", "--debug"], { cwd: ws.dir });
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(/\n\s+at /);
  });

  it("a file store that cannot be created exits 2", async () => {
    const blocker = join(ws.dir, `not-a-ws.dir-${++counter}`);
    await writeJson(blocker, {});
    const result = await detour(["on", "site", "--store", `file:${join(blocker, "detour.json")}`], { cwd: ws.dir });
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(/^detour: .*not a directory/i);
  });

  it("defaults to file:./detour.json in the working directory", async () => {
    const { dir: cwd, cleanup: done } = await temporaryDirectory();
    try {
      emptyStore(join(cwd, "detour.json"));
      expect((await detour(["on", "site"], { cwd })).code).toBe(0);
      const doc = await readJson(join(cwd, "detour.json"));
      expect(doc.flags?.site?.on).toBe(true);
    } finally {
      await done();
    }
  });

  it("reads DETOUR_STORE; --store wins over it", async () => {
    const env = storeFile();
    const flag = storeFile();
    expect((await detour(["on", "from-env"], { cwd: ws.dir, env: { DETOUR_STORE: env.arg } })).code).toBe(0);
    expect((await detour(["on", "from-flag", "--store", flag.arg], { cwd: ws.dir, env: { DETOUR_STORE: env.arg } })).code).toBe(0);
    expect(Object.keys((await readJson(env.path)).flags ?? {})).toEqual(["from-env"]);
    expect(Object.keys((await readJson(flag.path)).flags ?? {})).toEqual(["from-flag"]);
  });

  it("a file store that does not exist (a typo) is an error naming it for every command but on --create and import; nothing is created", async () => {
    const { existsSync } = await import("node:fs");
    const path = join(ws.dir, `detuor-${++counter}.json`);
    for (const args of [["status"], ["on", "site"], ["off", "site"], ["down"], ["up"], ["export"], ["rollout", "x", "a=100"], ["guard", "-f", "site", "--", "true"]]) {
      const result = await detour([args[0]!, "--store", `file:${path}`, ...args.slice(1)], { cwd: ws.dir });
      expect(result.code, args.join(" ")).toBe(2);
      expect(result.stderr).toContain(
        `no flag store at ${path}: the file does not exist. Check --store (or DETOUR_STORE); the app creates its store when it starts, or create it here with: detour on <flag> --create --store file:${path}`,
      );
      expect(result.stderr.trimEnd().split("\n")).toHaveLength(1);
      expect(existsSync(path)).toBe(false);
    }
    expect((await detour(["on", "site", "--create", "--store", `file:${path}`], { cwd: ws.dir })).code).toBe(0);
    expect((await readJson(path)).flags?.site?.on).toBe(true);
  });
});

describe("on, off, status", () => {
  it("status --json has the documented shape", async () => {
    const { arg } = storeFile();
    await detour(["on", "site", "--message", "Upgrading the database", "--retry-after", "600", "--until", "+1h", "--store", arg], { cwd: ws.dir });
    await detour(["on", "billing", "--user", "u1,u2", "--user", "u3", "--store", arg], { cwd: ws.dir });
    await detour(["on", "checkout", "--percent", "25", "--store", arg], { cwd: ws.dir });
    const result = await detour(["status", "--json", "--store", arg], { cwd: ws.dir });
    expect(result.code).toBe(0);
    const status = JSON.parse(result.stdout) as DetourStatus;
    expect(status.store).toMatchObject({ kind: "file", revision: 3, stale: false });
    expect(typeof status.store.ageMs).toBe("number");
    const byKey = Object.fromEntries(status.flags.map((f) => [f.key, f]));
    expect(Object.keys(byKey)).toEqual(["site", "billing", "checkout"]);
    for (const flag of status.flags) {
      expect(Object.keys(flag)).toEqual(expect.arrayContaining(["key", "on", "mode", "scope", "users", "percent", "since", "until", "message"]));
      expect(flag.by).toMatch(/^cli:.+@.+$/);
    }
    expect(byKey.site).toMatchObject({ on: true, mode: "maintenance", scope: "site", users: [], percent: null, message: "Upgrading the database" });
    expect(Date.parse(byKey.site!.until!) - Date.parse(byKey.site!.since!)).toBeGreaterThan(59 * 60_000);
    expect(byKey.billing).toMatchObject({ mode: "read-only", scope: "user", users: ["u1", "u2", "u3"], percent: null });
    expect(byKey.checkout).toMatchObject({ mode: "read-only", scope: "user", percent: 25 });
  });

  it("status prints a table with the store line", async () => {
    const { arg } = storeFile();
    await detour(["on", "site", "--message", "Back soon", "--store", arg], { cwd: ws.dir });
    await detour(["on", "billing", "-u", "u7", "--mode", "maintenance", "--store", arg], { cwd: ws.dir });
    const result = await detour(["status", "--store", arg], { cwd: ws.dir });
    const lines = result.stdout.split("\n");
    expect(lines[0]).toMatch(/^store: file:.*store-\d+\.json · revision 2$/);
    expect(result.stdout).toMatch(/FLAG +STATE +MODE +SCOPE +WHO +FROM +UNTIL +MESSAGE +BY/);
    expect(result.stdout).toMatch(/site +in force +maintenance +site +everyone +\d{4}-\d\d-\d\d \d\d:\d\d:\d\dZ +- +Back soon +cli:/);
    expect(result.stdout).toMatch(/billing +in force +maintenance +user +1 user: u7 /);
  });

  it("--user adds and removes users without touching the others; the audit names the CLI user", async () => {
    const { path, arg } = storeFile();
    await detour(["on", "billing", "--user", "a,b", "--store", arg], { cwd: ws.dir });
    await detour(["on", "billing", "--user", "c", "--store", arg], { cwd: ws.dir });
    const off = await detour(["off", "billing", "--user", "b", "--store", arg], { cwd: ws.dir });
    expect(off.code).toBe(0);
    expect(off.stdout).toContain('removed b from "billing"');
    const status = JSON.parse((await detour(["status", "--json", "--store", arg], { cwd: ws.dir })).stdout) as DetourStatus;
    expect(status.flags[0]!.users.sort()).toEqual(["a", "c"]);
    const doc = await readJson(path);
    expect(doc.audit?.map((entry) => entry.action)).toEqual(["disable", "enable", "enable"]);
    expect(doc.audit?.[0]?.actor).toMatch(/^cli:[^@]+@.+/);
  });

  it("off turns the whole flag off; off on a flag that does not exist is an error with a suggestion", async () => {
    const { arg } = storeFile();
    await detour(["on", "site", "--store", arg], { cwd: ws.dir });
    expect((await detour(["off", "site", "--store", arg], { cwd: ws.dir })).stdout).toContain('"site" is off');
    const status = JSON.parse((await detour(["status", "--json", "--store", arg], { cwd: ws.dir })).stdout) as DetourStatus;
    expect(status.flags).toEqual([]);
    const typo = await detour(["off", "stie", "--store", arg], { cwd: ws.dir });
    expect(typo).toMatchObject({ code: 1, stderr: 'detour: off: no flag "stie"; did you mean site?\n' });
    const missing = await detour(["off", "nosuch", "--store", arg], { cwd: ws.dir });
    expect(missing).toMatchObject({ code: 1, stderr: 'detour: off: no flag "nosuch" (its flags: site)\n' });
  });

  it("--from/--until set a window; --ttl sets an expiry", async () => {
    const { path, arg } = storeFile();
    const result = await detour(["on", "site", "--from", "2030-01-01T02:00:00Z", "--until", "2030-01-01T03:00:00Z", "--store", arg], { cwd: ws.dir });
    expect(result.code).toBe(0);
    expect(result.stdout).toBe('"site" is maintenance for everyone (site), from 2030-01-01 02:00:00Z, until 2030-01-01 03:00:00Z (scheduled: not in force yet)\n');
    await detour(["on", "feature-x", "--ttl", "120", "--store", arg], { cwd: ws.dir });
    const doc = await readJson(path);
    expect(doc.flags?.site?.detour?.window).toEqual({ start: "2030-01-01T02:00:00.000Z", end: "2030-01-01T03:00:00.000Z" });
    expect(doc.flags?.["feature-x"]?.detour?.ttl).toBe(120);
    const table = (await detour(["status", "--store", arg], { cwd: ws.dir })).stdout;
    expect(table).toMatch(/site +scheduled +maintenance +site +everyone +2030-01-01 02:00:00Z +2030-01-01 03:00:00Z /);
  });
});

describe("bin/detour.js, the committed launcher", () => {
  it("says how to build when the build is missing, instead of a stack trace (exit 1)", async () => {
    const { spawnSync } = await import("node:child_process");
    const { copyFileSync, mkdirSync, writeFileSync } = await import("node:fs");
    const { fileURLToPath } = await import("node:url");
    const { dir, cleanup } = await temporaryDirectory();
    try {
      // The package's layout without dist/.
      mkdirSync(join(dir, "bin"));
      copyFileSync(fileURLToPath(new URL("../bin/detour.js", import.meta.url)), join(dir, "bin", "detour.js"));
      writeFileSync(join(dir, "package.json"), JSON.stringify({ type: "module" }));
      const result = spawnSync(process.execPath, [join(dir, "bin", "detour.js"), "status"], { encoding: "utf8" });
      expect(result.status).toBe(1);
      expect(result.stderr).toMatch(/^detour: @detour\/cli is not built yet \(packages\/cli\/dist\/cli\.js is missing\)\.\nBuild it from the repository root with `npm run build`/);
      expect(result.stderr).not.toMatch(/\n\s+at /);
    } finally {
      await cleanup();
    }
  });
});
