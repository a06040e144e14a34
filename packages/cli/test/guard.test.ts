import { existsSync } from "node:fs";
import { readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import type { DetourStatus } from "@detour/core";
import { detour, emptyStore, nodeCommand, readJson, start, useWorkspace, waitFor } from "@detour/test-support/cli";

const ws = useWorkspace();
let counter = 0;

function fresh(): { path: string; arg: string; marker: string } {
  const n = ++counter;
  const path = join(ws.dir, `store-${n}.json`);
  return { path, arg: emptyStore(path), marker: join(ws.dir, `marker-${n}`) };
}

async function status(arg: string): Promise<DetourStatus> {
  return JSON.parse((await detour(["status", "--json", "--store", arg], { cwd: ws.dir })).stdout) as DetourStatus;
}

/** A command that records the flag's state while it runs, then exits with `code`. */
function recordingCommand(store: string, out: string, code: number): string[] {
  return nodeCommand(
    `const {execFileSync}=require("node:child_process");const fs=require("node:fs");` +
      `const s=execFileSync(process.execPath,[process.env.DETOUR_BIN,"status","--json","--store",${JSON.stringify(store)}]).toString();` +
      `fs.writeFileSync(${JSON.stringify(out)},JSON.stringify({argv:process.argv.slice(1),status:JSON.parse(s)}));process.exit(${code})`,
  );
}

describe("guard -f FLAG -- COMMAND", () => {
  it("turns the flag on while the command runs and off when it exits 0", async () => {
    const { arg, marker } = fresh();
    const result = await detour(["guard", "-f", "site", "--message", "Migrating", "--store", arg, "--", ...recordingCommand(arg, marker, 0)], {
      cwd: ws.dir,
      env: { DETOUR_BIN: ws.bin },
    });
    expect(result.code).toBe(0);
    const seen = await readJson<{ status: DetourStatus }>(marker);
    expect(seen.status.flags).toEqual([expect.objectContaining({ key: "site", mode: "maintenance", scope: "site", message: "Migrating" })]);
    expect((await status(arg)).flags).toEqual([]);
    expect(result.stderr).toContain('"site" turned off');
  });

  it("leaves the flag on when the command fails, says so and why, and exits with its status", async () => {
    const { arg, marker } = fresh();
    const result = await detour(["guard", "-f", "site", "--store", arg, "--", ...nodeCommand(`require("fs").writeFileSync(${JSON.stringify(marker)},"ran");process.exit(3)`)], {
      cwd: ws.dir,
    });
    expect(existsSync(marker)).toBe(true);
    expect(result.code).toBe(3);
    expect(result.stderr).toMatch(/detour: the command exited with status 3; "site" left on \(turn it off with: detour off site --store file:.*\)/);
    expect((await status(arg)).flags).toEqual([expect.objectContaining({ key: "site", mode: "maintenance" })]);
  });

  it("a command killed by a signal exits 128+N and leaves the flag on", async () => {
    const { arg } = fresh();
    const result = await detour(["guard", "-f", "site", "--store", arg, "--", ...nodeCommand(`process.kill(process.pid,"SIGKILL")`)], { cwd: ws.dir });
    expect(result.code).toBe(137);
    expect(result.stderr).toContain("the command was killed by SIGKILL");
    expect((await status(arg)).flags).toHaveLength(1);
  });

  it("a command that cannot be found or run is refused before the flag is touched (127, 126)", async () => {
    const { path, arg } = fresh();
    const before = await readFile(path, "utf8");
    const missing = await detour(["guard", "-f", "site", "--store", arg, "--", "detour-test-no-such-command"], { cwd: ws.dir });
    expect(missing.code).toBe(127);
    expect(missing.stderr).toMatch(/^detour: cannot run "detour-test-no-such-command": command not found in PATH; nothing was changed\n$/);
    const typo = await detour(["guard", "-f", "site", "--store", arg, "--", "./nope.sh"], { cwd: ws.dir });
    expect(typo.code).toBe(127);
    expect(typo.stderr).toContain('cannot run "./nope.sh": no such file');
    await writeFile(join(ws.dir, "not-executable.sh"), "#!/bin/sh\nexit 0\n", { mode: 0o644 });
    const plain = await detour(["guard", "-f", "site", "--store", arg, "--", "./not-executable.sh"], { cwd: ws.dir });
    expect(plain.code).toBe(126);
    expect(plain.stderr).toContain("it is not executable (chmod +x ./not-executable.sh)");
    expect(await readFile(path, "utf8")).toBe(before);
  });

  it("refuses a flag name that looks like a typo of an existing flag before running anything; --create overrides", async () => {
    const { arg, marker } = fresh();
    await detour(["on", "site", "--store", arg], { cwd: ws.dir });
    await detour(["off", "site", "--store", arg], { cwd: ws.dir });
    const touch = nodeCommand(`require("fs").writeFileSync(${JSON.stringify(marker)},"ran")`);
    const typo = await detour(["guard", "-f", "stie", "--store", arg, "--", ...touch], { cwd: ws.dir });
    expect(typo.code).toBe(1);
    expect(typo.stderr).toContain("did you mean site? (--create makes a new flag)");
    expect(existsSync(marker)).toBe(false);
    const created = await detour(["guard", "-f", "stie", "--create", "--store", arg, "--", ...touch], { cwd: ws.dir });
    expect(created.code).toBe(0);
    expect(existsSync(marker)).toBe(true);
  });

  it("with -u: turns the flag on for that user only and appends the id as the last argument", async () => {
    const { arg, marker } = fresh();
    const result = await detour(["guard", "-f", "billing", "-u", "user-42", "--store", arg, "--", ...recordingCommand(arg, marker, 0), "first"], {
      cwd: ws.dir,
      env: { DETOUR_BIN: ws.bin },
    });
    expect(result.code).toBe(0);
    const seen = await readJson<{ argv: string[]; status: DetourStatus }>(marker);
    expect(seen.argv).toEqual(["first", "user-42"]);
    expect(seen.status.flags).toEqual([expect.objectContaining({ key: "billing", mode: "read-only", scope: "user", users: ["user-42"] })]);
    expect((await status(arg)).flags).toEqual([]);
  });

  it("with -u: a failure leaves only that user in the mode", async () => {
    const { arg } = fresh();
    await detour(["on", "billing", "--user", "other", "--store", arg], { cwd: ws.dir });
    const result = await detour(["guard", "-f", "billing", "-u", "u9", "--mode", "maintenance", "--store", arg, "--", ...nodeCommand("process.exit(4)")], { cwd: ws.dir });
    expect(result.code).toBe(4);
    expect(result.stderr).toContain('"billing" left on for user "u9"');
    const flags = (await status(arg)).flags;
    expect(flags[0]!.users.sort()).toEqual(["other", "u9"]);
    expect(flags[0]!.mode).toBe("maintenance");
  });

  it("works without -- too, passing the command's own options through", async () => {
    const { arg, marker } = fresh();
    const result = await detour(["guard", "-f", "site", "--store", arg, process.execPath, "-e", `require("fs").writeFileSync(${JSON.stringify(marker)}, process.argv.slice(1).join(" "))`, "--", "--flag"], {
      cwd: ws.dir,
    });
    expect(result.code).toBe(0);
    expect(await import("node:fs/promises").then((fs) => fs.readFile(marker, "utf8"))).toBe("--flag");
  });

  describe("never runs the command when the flag cannot be turned on", () => {
    it("file store in a directory that cannot be written", async () => {
      const { marker } = fresh();
      // Root ignores directory permissions, so make the store's parent a file: no user can create anything under it.
      const blocker = join(ws.dir, `blocker-${counter}`);
      await writeFile(blocker, "");
      const result = await detour(["guard", "-f", "site", "--store", `file:${join(blocker, "detour.json")}`, "--", ...nodeCommand(`require("fs").writeFileSync(${JSON.stringify(marker)},"ran")`)], {
        cwd: ws.dir,
      });
      expect(result.code).toBe(2);
      expect(result.stderr).toMatch(/^detour: could not turn "site" on: .*; the command was not run\n$/);
      expect(existsSync(marker)).toBe(false);
    });

    it.skipIf(process.getuid?.() === 0)("file store in a read-only directory", async () => {
      const { marker } = fresh();
      const { chmod, mkdir } = await import("node:fs/promises");
      const readOnly = join(ws.dir, `read-only-${counter}`);
      await mkdir(readOnly);
      await chmod(readOnly, 0o555);
      try {
        const result = await detour(["guard", "-f", "site", "--store", `file:${join(readOnly, "detour.json")}`, "--", ...nodeCommand(`require("fs").writeFileSync(${JSON.stringify(marker)},"ran")`)], {
          cwd: ws.dir,
        });
        expect(result.code).toBe(2);
        expect(existsSync(marker)).toBe(false);
      } finally {
        await chmod(readOnly, 0o755);
      }
    });

    it("Redis store on a port nothing listens on", async () => {
      const { marker } = fresh();
      const result = await detour(["guard", "-f", "site", "--store", "redis://127.0.0.1:1/0", "--", ...nodeCommand(`require("fs").writeFileSync(${JSON.stringify(marker)},"ran")`)], {
        cwd: ws.dir,
      });
      expect(result.code).toBe(2);
      expect(result.stderr).toMatch(/could not turn "site" on: .*Redis unreachable.*; the command was not run/);
      expect(existsSync(marker)).toBe(false);
    });

    it("a file store holding an invalid document", async () => {
      const { path, arg, marker } = fresh();
      await writeFile(path, "{ not json");
      const result = await detour(["guard", "-f", "site", "--store", arg, "--", ...nodeCommand(`require("fs").writeFileSync(${JSON.stringify(marker)},"ran")`)], { cwd: ws.dir });
      expect(result.code).toBe(2);
      expect(existsSync(marker)).toBe(false);
    });
  });

  it.each(["SIGTERM", "SIGINT"] as const)("%s to detour is passed to the command, the flag stays on, exit 128+signal", async (signal) => {
    const { arg, marker } = fresh();
    const ready = `${marker}.ready`;
    const script =
      `const fs=require("fs");` +
      `process.on(${JSON.stringify(signal)},()=>{fs.writeFileSync(${JSON.stringify(marker)},${JSON.stringify(signal)});process.exit(0)});` +
      `fs.writeFileSync(${JSON.stringify(ready)},"");setInterval(()=>{},1000)`;
    const { child, result } = await start(["guard", "-f", "site", "--store", arg, "--", ...nodeCommand(script)], { cwd: ws.dir });
    await waitFor(() => existsSync(ready), 10_000, "the command to start");
    child.kill(signal);
    const outcome = await result;
    expect(await import("node:fs/promises").then((fs) => fs.readFile(marker, "utf8"))).toBe(signal);
    expect(outcome.code).toBe(signal === "SIGTERM" ? 143 : 130);
    expect(outcome.stderr).toContain(`interrupted by ${signal}; "site" left on`);
    expect((await status(arg)).flags).toEqual([expect.objectContaining({ key: "site", mode: "maintenance" })]);
  });

  it("usage errors: no command, --user with --users-from, --resume-from alone", async () => {
    const { arg } = fresh();
    const none = await detour(["guard", "-f", "site", "--store", arg], { cwd: ws.dir });
    expect(none.code).toBe(1);
    expect(none.stderr).toContain("missing required argument 'command'");
    const both = await detour(["guard", "-f", "site", "-u", "a", "--users-from", "x", "--store", arg, "--", "true"], { cwd: ws.dir });
    expect(both.code).toBe(1);
    expect(both.stderr).toContain("either --user or --users-from");
    const resume = await detour(["guard", "-f", "site", "--resume-from", "a", "--store", arg, "--", "true"], { cwd: ws.dir });
    expect(resume.code).toBe(1);
    expect(resume.stderr).toContain("--resume-from needs --users-from");
    const noFlag = await detour(["guard", "--store", arg, "--", "true"], { cwd: ws.dir });
    expect(noFlag.code).toBe(1);
    expect(noFlag.stderr).toContain("required option '-f, --flag <flag>' not specified");
    expect((await readJson(join(ws.dir, `store-${counter}.json`))).flags).toEqual({});
  });
});
