import { spawnSync } from "node:child_process";
import { existsSync } from "node:fs";
import { readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import type { DetourStatus } from "@detour/core";
import { detour, emptyStore, nodeCommand, start, useWorkspace, waitFor } from "@detour/test-support/cli";

const ws = useWorkspace();
let counter = 0;

function fresh(): { arg: string; log: string; users: string } {
  const n = ++counter;
  return { arg: emptyStore(join(ws.dir, `store-${n}.json`)), log: join(ws.dir, `log-${n}.txt`), users: join(ws.dir, `users-${n}.txt`) };
}

async function status(arg: string): Promise<DetourStatus> {
  return JSON.parse((await detour(["status", "--json", "--store", arg], { cwd: ws.dir })).stdout) as DetourStatus;
}

/**
 * Appends "<user> <users in the flag while it runs>" to `log`; fails for
 * `failFor` unless the file `fixed` exists.
 */
function migration(arg: string, log: string, failFor: string, fixed: string): string[] {
  return nodeCommand(
    `const fs=require("fs");const {execFileSync}=require("child_process");const user=process.argv[process.argv.length-1];` +
      `const s=JSON.parse(execFileSync(process.execPath,[${JSON.stringify(ws.bin)},"status","--json","--store",${JSON.stringify(arg)}]).toString());` +
      `const f=s.flags.find(f=>f.key==="billing");fs.appendFileSync(${JSON.stringify(log)},user+" "+(f?f.users.join(","):"-")+"\\n");` +
      `if(user===${JSON.stringify(failFor)}&&!fs.existsSync(${JSON.stringify(fixed)}))process.exit(5)`,
  );
}

describe("guard --users-from", () => {
  it("runs user by user, halts at the first failure, prints the resume command, and resumes from that user", async () => {
    const { arg, log, users } = fresh();
    const fixed = join(ws.dir, `fixed-${counter}`);
    await writeFile(users, "u1\nu2\n# a comment\n\nu3\n  u4  \nu5\nu2\n");
    const command = migration(arg, log, "u3", fixed);
    const first = await detour(["guard", "-f", "billing", "--users-from", users, "--store", arg, "--", ...command], { cwd: ws.dir });

    expect(first.code).toBe(5);
    expect(await readFile(log, "utf8")).toBe("u1 u1\nu2 u2\nu3 u3\n");
    expect(first.stderr).toContain('detour: failed for user "u3" (3 of 5): the command exited with status 5; "billing" left on for "u3"');
    expect((await status(arg)).flags).toEqual([expect.objectContaining({ key: "billing", users: ["u3"] })]);
    // Plain progress lines, no terminal escapes, when stderr is not a TTY.
    expect(first.stderr).toContain("detour: [2/5] u2: ok in");
    expect(first.stderr).not.toContain("\u001b[");

    const resumeLine = /^detour: to resume from "u3": (detour guard .*)$/m.exec(first.stderr)?.[1];
    expect(resumeLine).toBeDefined();
    expect(resumeLine).toContain("--resume-from u3");

    // Run the printed command exactly as printed, through a shell, with `detour` being the binary under test.
    await writeFile(fixed, "");
    const resumed = spawnSync("sh", ["-c", `detour() { "${process.execPath}" "${ws.bin}" "$@"; }; ${resumeLine}`], { cwd: ws.dir, encoding: "utf8" });
    expect(resumed.stderr).toContain('resuming from "u3" (2 of 5 users skipped)');
    expect(resumed.status).toBe(0);
    expect(await readFile(log, "utf8")).toBe("u1 u1\nu2 u2\nu3 u3\nu3 u3\nu4 u4\nu5 u5\n");
    expect(resumed.stderr).toContain('done: the command succeeded for 3 users; "billing" is off for each');
    expect((await status(arg)).flags).toEqual([]);
  });

  it("reads the users from stdin with -", async () => {
    const { arg, log } = fresh();
    const result = await detour(
      ["guard", "-f", "billing", "--users-from", "-", "--store", arg, "--", ...nodeCommand(`require("fs").appendFileSync(${JSON.stringify(log)}, process.argv[1]+"\\n")`)],
      { cwd: ws.dir, input: "a\nb\nc\n" },
    );
    expect(result.code).toBe(0);
    expect(await readFile(log, "utf8")).toBe("a\nb\nc\n");
  });

  it("the resume command keeps the store, mode, message and a quoted command", async () => {
    const { arg, users } = fresh();
    await writeFile(users, "x1\nx2\n");
    const result = await detour(
      ["guard", "--store", arg, "-f", "billing", "--mode", "maintenance", "--message", "Moving your data", "--users-from", users, "--", "sh", "-c", 'test "$0" != x2'],
      { cwd: ws.dir },
    );
    expect(result.code).toBe(1);
    const line = /to resume from "x2": (.*)$/m.exec(result.stderr)?.[1];
    expect(line).toBe(
      `detour guard --store ${arg} -f billing --mode maintenance --message 'Moving your data' --users-from ${users} --resume-from x2 -- sh -c 'test "$0" != x2'`,
    );
    expect((await status(arg)).flags).toEqual([expect.objectContaining({ mode: "maintenance", users: ["x2"], message: "Moving your data" })]);
  });

  it("--resume-from a user not in the list, or an empty list, is a usage error that runs nothing", async () => {
    const { arg, users, log } = fresh();
    await writeFile(users, "a\nb\n");
    const touch = nodeCommand(`require("fs").writeFileSync(${JSON.stringify(log)},"ran")`);
    const missing = await detour(["guard", "-f", "billing", "--users-from", users, "--resume-from", "zz", "--store", arg, "--", ...touch], { cwd: ws.dir });
    expect(missing.code).toBe(1);
    expect(missing.stderr).toMatch(/--resume-from: user "zz" is not in/);
    await writeFile(users, "# nobody\n\n");
    const empty = await detour(["guard", "-f", "billing", "--users-from", users, "--store", arg, "--", ...touch], { cwd: ws.dir });
    expect(empty.code).toBe(1);
    expect(empty.stderr).toContain("lists no user ids");
    const absent = await detour(["guard", "-f", "billing", "--users-from", join(ws.dir, "nope.txt"), "--store", arg, "--", ...touch], { cwd: ws.dir });
    expect(absent.code).toBe(1);
    expect(existsSync(log)).toBe(false);
  });

  it("a store failure mid-loop stops before running the command and prints the resume command", async () => {
    const { users, log } = fresh();
    await writeFile(users, "a\nb\n");
    const result = await detour(
      ["guard", "-f", "billing", "--users-from", users, "--store", "redis://127.0.0.1:1/0", "--", ...nodeCommand(`require("fs").writeFileSync(${JSON.stringify(log)},"ran")`)],
      { cwd: ws.dir },
    );
    expect(result.code).toBe(2);
    expect(result.stderr).toContain('could not turn "billing" on for user "a"');
    expect(result.stderr).toMatch(/to resume from "a": detour guard --store redis:\/\/127.0.0.1:1\/0 .*--resume-from a --/);
    expect(existsSync(log)).toBe(false);
  });

  it("SIGTERM mid-loop is passed to the command, leaves the flag on for that user, and prints the resume command", async () => {
    const { arg, users, log } = fresh();
    await writeFile(users, "s1\ns2\ns3\n");
    const ready = `${log}.ready`;
    const script =
      `const fs=require("fs");const user=process.argv[1];fs.appendFileSync(${JSON.stringify(log)},user+"\\n");` +
      `if(user!=="s2")process.exit(0);process.on("SIGTERM",()=>{fs.appendFileSync(${JSON.stringify(log)},"got SIGTERM\\n");process.exit(0)});` +
      `fs.writeFileSync(${JSON.stringify(ready)},"");setInterval(()=>{},1000)`;
    const { child, result } = await start(["guard", "-f", "billing", "--users-from", users, "--store", arg, "--", ...nodeCommand(script)], { cwd: ws.dir });
    await waitFor(() => existsSync(ready), 10_000, "the command for s2 to start");
    child.kill("SIGTERM");
    const outcome = await result;
    expect(outcome.code).toBe(143);
    expect(await readFile(log, "utf8")).toBe("s1\ns2\ngot SIGTERM\n");
    expect(outcome.stderr).toContain('interrupted by SIGTERM; "billing" left on for user "s2"');
    expect(outcome.stderr).toMatch(/to resume from "s2": detour guard .*--resume-from s2 --/);
    expect((await status(arg)).flags).toEqual([expect.objectContaining({ key: "billing", users: ["s2"] })]);
  });

  it.skipIf(!existsSync("/usr/bin/script") || process.platform !== "linux")("draws a progress bar with the rate and an ETA on a terminal", async () => {
    const { arg, users } = fresh();
    await writeFile(users, "t1\nt2\nt3\n");
    const inner = [process.execPath, ws.bin, "guard", "-f", "billing", "--users-from", users, "--store", arg, "--", "true"].map((a) => `'${a}'`).join(" ");
    const result = spawnSync("script", ["-qec", inner, "/dev/null"], { cwd: ws.dir, encoding: "utf8", timeout: 15_000 });
    expect(result.status).toBe(0);
    expect(result.stdout).toMatch(/guard billing \[[█░]+\] 3\/3 users \| [\d.]+ users\/s \| ETA [\d.]+s \| t3 done/);
    expect(result.stdout).toContain("running t2");
    expect(result.stdout).toContain('done: the command succeeded for 3 users');
  });

  it.skipIf(!existsSync("/usr/bin/script") || process.platform !== "linux")("with --concurrency, the bar counts the commands running", async () => {
    const { arg, users } = fresh();
    await writeFile(users, "t1\nt2\nt3\nt4\nt5\nt6\n");
    const inner = [process.execPath, ws.bin, "guard", "-f", "billing", "--users-from", users, "--concurrency", "3", "--store", arg, "--", "true"].map((a) => `'${a}'`).join(" ");
    const result = spawnSync("script", ["-qec", inner, "/dev/null"], { cwd: ws.dir, encoding: "utf8", timeout: 15_000 });
    expect(result.status).toBe(0);
    expect(result.stdout).toMatch(/guard billing \[[█░]+\] 6\/6 users \| [\d.]+ users\/s \| ETA [\d.]+s \| 0 running/);
    expect(result.stdout).toContain('done: the command succeeded for 6 users');
    // No "stopping" line and no per-user lines on a terminal.
    expect(result.stdout).not.toContain("detour: [");
  });
});
