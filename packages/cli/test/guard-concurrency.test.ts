/**
 * `detour guard --users-from --concurrency N [--journal FILE [--resume]]`
 * through the real binary, on a file store and on Redis. The guarded
 * command is fixtures/guard-worker.cjs: it logs when it starts and ends
 * (monotonic clock, shared by all processes), checks in the store that its
 * own user is in the mode while it runs, and can fail, hold until released,
 * or wait until N commands run at once. Nothing here sleeps for a fixed
 * time: every wait is on a condition.
 */
import { spawnSync } from "node:child_process";
import { existsSync } from "node:fs";
import { mkdir, readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import type { DetourStatus } from "@detour/core";
import { readJournal } from "../src/guard/journal.js";
import { REDIS_URL, detour, emptyStore, start, useWorkspace, waitFor } from "@detour/test-support/cli";

const WORKER = fileURLToPath(new URL("./fixtures/guard-worker.cjs", import.meta.url));
const ws = useWorkspace();
let counter = 0;

type Kind = "file" | "redis";

interface Run {
  store: string;
  dir: string;
  users: string;
  env: Record<string, string>;
}

/** A fresh store, a fresh directory for the worker, and a user list u1..uN. */
async function fresh(kind: Kind, count: number, env: Record<string, string> = {}): Promise<Run> {
  const n = ++counter;
  const dir = join(ws.dir, `run-${kind}-${n}`);
  await mkdir(join(dir, "running"), { recursive: true });
  const store = kind === "file" ? emptyStore(join(dir, "detour.json")) : `${REDIS_URL}/0?prefix=${encodeURIComponent(ws.redisPrefix())}`;
  const users = join(dir, "users.txt");
  await writeFile(users, `${Array.from({ length: count }, (_, i) => `u${i + 1}`).join("\n")}\n`);
  return { store, dir, users, env: { GUARD_DIR: dir, GUARD_STORE: store, DETOUR_BIN: ws.bin, GUARD_TOTAL: String(count), ...env } };
}

const worker = [process.execPath, WORKER];

async function status(run: Run): Promise<DetourStatus> {
  const result = await detour(["status", "--json", "--store", run.store], { cwd: run.dir });
  expect(result.code, result.stderr).toBe(0);
  return JSON.parse(result.stdout) as DetourStatus;
}

/** The users the flag holds in its mode now. */
async function usersOn(run: Run): Promise<string[]> {
  const flag = (await status(run)).flags.find((f) => f.key === "billing");
  return flag === undefined ? [] : [...flag.users].sort(byNumber);
}

function byNumber(a: string, b: string): number {
  return Number(a.slice(1)) - Number(b.slice(1));
}

interface LogLine {
  event: string;
  user: string;
  value: string;
}

async function log(run: Run): Promise<LogLine[]> {
  const path = join(run.dir, "log");
  if (!existsSync(path)) return [];
  return (await readFile(path, "utf8"))
    .split("\n")
    .filter(Boolean)
    .map((line) => {
      const [event, user, value = ""] = line.split(" ");
      return { event: event!, user: user!, value };
    });
}

const started = (lines: LogLine[]) => lines.filter((l) => l.event === "start").map((l) => l.user);

/** The most commands whose logged [start, end] intervals overlap (they lie inside the processes' lifetimes). */
function maxOverlap(lines: LogLine[]): number {
  const points = lines
    .filter((l) => l.event === "start" || l.event === "end")
    .map((l) => ({ at: BigInt(l.value), delta: l.event === "start" ? 1 : -1 }))
    .sort((a, b) => (a.at === b.at ? a.delta - b.delta : a.at < b.at ? -1 : 1));
  let now = 0;
  let max = 0;
  for (const p of points) {
    now += p.delta;
    max = Math.max(max, now);
  }
  return max;
}

/** Runs a printed `detour guard ...` line through a shell, `detour` being the binary under test. */
function runPrinted(line: string, run: Run, env: Record<string, string> = {}): { status: number | null; stderr: string } {
  const result = spawnSync("sh", ["-c", `detour() { "${process.execPath}" "${ws.bin}" "$@"; }; ${line}`], {
    cwd: run.dir,
    encoding: "utf8",
    env: { ...process.env, ...run.env, ...env, DETOUR_STORE: "" },
    timeout: 60_000,
  });
  return { status: result.status, stderr: result.stderr };
}

const guardArgs = (run: Run, ...extra: string[]) => ["guard", "-f", "billing", "--users-from", run.users, "--store", run.store, ...extra, "--", ...worker];

describe.each<Kind>(["file", "redis"])("guard --users-from --concurrency (%s store)", (kind) => {
  it("runs N commands at once and never more; each user is in the mode only while its own command runs", async () => {
    const run = await fresh(kind, 10, { GUARD_BARRIER: "3", GUARD_CHECK: "1" });
    const result = await detour(guardArgs(run, "--concurrency", "3"), { cwd: run.dir, env: run.env, timeoutMs: 90_000 });
    expect(result.code, result.stderr).toBe(0);
    const lines = await log(run);
    expect(started(lines).sort(byNumber)).toEqual(["u1", "u2", "u3", "u4", "u5", "u6", "u7", "u8", "u9", "u10"]);
    // Every command waited until 3 ran at once (or all that were left), and none timed out waiting.
    expect(lines.filter((l) => l.event === "timeout")).toEqual([]);
    expect(maxOverlap(lines)).toBe(3);
    // Seen by each command in the store while it ran: its own user in the mode, and at most 3 users in it.
    const seen = lines.filter((l) => l.event === "seen");
    expect(seen).toHaveLength(10);
    for (const line of seen) {
      const [self, count] = line.value.split(":");
      expect(self, `${line.user} saw itself in the mode`).toBe("in");
      expect(Number(count), `${line.user} saw ${count} users in the mode`).toBeLessThanOrEqual(3);
      expect(Number(count)).toBeGreaterThanOrEqual(1);
    }
    expect(await usersOn(run)).toEqual([]);
    expect(result.stderr).toContain('done: the command succeeded for 10 users; "billing" is off for each');
  }, 90_000);

  it("group commit: the users starting together are turned on in one write; each write carries at most N users a side", async () => {
    const run = await fresh(kind, 8, { GUARD_BARRIER: "4", GUARD_CHECK: "1" });
    const result = await detour(guardArgs(run, "--concurrency", "4", "--debug"), { cwd: run.dir, env: run.env, timeoutMs: 90_000 });
    expect(result.code, result.stderr).toBe(0);
    const exported = await detour(["export", "--store", run.store], { cwd: run.dir });
    const audit = (JSON.parse(exported.stdout) as { audit: { at: string; action: string; details: { users?: string[] } }[] }).audit.slice().reverse();
    // The first 4 users start in the same moment: one write turns them all on, before any command runs.
    expect(audit[0]).toMatchObject({ action: "enable", details: { users: ["u1", "u2", "u3", "u4"] } });
    // Every user is turned on once and off once, each write carrying at most 4 users a side.
    const each = (action: string) => audit.filter((e) => e.action === action).flatMap((e) => e.details.users ?? []);
    expect(each("enable").sort(byNumber)).toEqual(["u1", "u2", "u3", "u4", "u5", "u6", "u7", "u8"]);
    expect(each("disable").sort(byNumber)).toEqual(["u1", "u2", "u3", "u4", "u5", "u6", "u7", "u8"]);
    for (const entry of audit) expect(entry.details.users!.length).toBeLessThanOrEqual(4);
    // Fewer writes than changes: the --debug line counts them (16 changes; the first write alone carries 4).
    const [, writes, changes] = /(\d+) store writes for (\d+) changes/.exec(result.stderr) ?? [];
    expect(Number(changes)).toBe(16);
    expect(Number(writes)).toBeLessThanOrEqual(13);
    // And still: each command saw its own user in the mode while it ran.
    expect((await log(run)).filter((l) => l.event === "seen").map((l) => l.value.split(":")[0])).toEqual(Array(8).fill("in"));
    expect(await usersOn(run)).toEqual([]);
  }, 90_000);

  it("on the first failure starts no new user, lets the running ones finish, and prints a command for exactly the users not done", async () => {
    const run = await fresh(kind, 9, { GUARD_FAIL: "u2", GUARD_HOLD: "u1,u3" });
    const { result, output } = await start(guardArgs(run, "--concurrency", "3"), { cwd: run.dir, env: run.env, timeoutMs: 60_000 });
    // u1 and u3 are held until detour has seen u2 fail, so they are surely running at that moment.
    await waitFor(() => output().stderr.includes('stopping (the command failed for user "u2")'), 30_000, "detour to stop after u2");
    await writeFile(join(run.dir, "release"), "");
    const outcome = await result;
    expect(outcome.code, outcome.stderr).toBe(5);
    const lines = await log(run);
    expect(started(lines).sort(byNumber)).toEqual(["u1", "u2", "u3"]);
    expect(lines.filter((l) => l.event === "end").map((l) => l.user).sort(byNumber)).toEqual(["u1", "u2", "u3"]);
    expect(await usersOn(run)).toEqual(["u2"]);
    expect(outcome.stderr).toContain('failed for user "u2" (2 of 9): the command exited with status 5; "billing" left on for "u2"');
    expect(outcome.stderr).toContain("not done: 7 of 9 users: 1 failed (u2); 6 never started (u4, u5, …, u9 (6))");
    // u3 succeeded after u2 failed: --resume-from u2 would run it again, so the users not done are written out.
    const unfinished = join(run.dir, "users.unfinished.txt");
    expect(await readFile(unfinished, "utf8")).toBe("u2\nu4\nu5\nu6\nu7\nu8\nu9\n");
    const hint = /^detour: to resume with exactly the 7 users not done \(written to (.*)\): (detour guard .*)$/m.exec(outcome.stderr);
    expect(hint?.[1]).toBe(unfinished);
    expect(hint?.[2]).toContain(`--users-from ${unfinished} --concurrency 3 --`);

    await writeFile(join(run.dir, "fixed"), "");
    const resumed = runPrinted(hint![2]!, run);
    expect(resumed.status, resumed.stderr).toBe(0);
    expect(started((await log(run)).slice(lines.length)).sort(byNumber)).toEqual(["u2", "u4", "u5", "u6", "u7", "u8", "u9"]);
    expect(await usersOn(run)).toEqual([]);
  }, 90_000);

  it("a failure whose in-flight neighbours also fail or are the rest of the list resumes with --resume-from", async () => {
    const run = await fresh(kind, 4, { GUARD_FAIL: "u3,u4" });
    const result = await detour(guardArgs(run, "--concurrency", "4"), { cwd: run.dir, env: run.env, timeoutMs: 60_000 });
    expect(result.code).toBe(5);
    expect(await usersOn(run)).toEqual(["u3", "u4"]);
    expect(result.stderr).toContain("not done: 2 of 4 users: 2 failed (u3, u4)");
    expect(result.stderr).toMatch(/to resume from "u3": detour guard .*--users-from \S+ --concurrency 4 --resume-from u3 --/);
    expect(existsSync(join(run.dir, "users.unfinished.txt"))).toBe(false);
  }, 90_000);

  it("SIGTERM is passed to every running command, leaves their users on, and --resume with the journal runs exactly the rest", async () => {
    const run = await fresh(kind, 8, { GUARD_HOLD: "u2,u3,u4" });
    const journal = join(run.dir, "run.journal");
    const { child, result } = await start(guardArgs(run, "--concurrency", "3", "--journal", journal), { cwd: run.dir, env: run.env, timeoutMs: 60_000 });
    // u1 succeeds at once; u2, u3, u4 hold (with a SIGTERM handler installed) until the signal.
    await waitFor(async () => (await log(run)).filter((l) => l.event === "holding").length === 3, 30_000, "u2, u3 and u4 to hold");
    child.kill("SIGTERM");
    const outcome = await result;
    expect(outcome.code, outcome.stderr).toBe(143);
    const lines = await log(run);
    expect(lines.filter((l) => l.event === "signal").map((l) => `${l.user} ${l.value}`).sort()).toEqual(["u2 SIGTERM", "u3 SIGTERM", "u4 SIGTERM"]);
    expect(started(lines).sort(byNumber)).toEqual(["u1", "u2", "u3", "u4"]);
    expect(outcome.stderr).toContain("received SIGTERM; passed it to the 3 running commands");
    expect(outcome.stderr).toContain('interrupted by SIGTERM; "billing" left on for 3 users: u2, u3, u4');
    expect(await usersOn(run)).toEqual(["u2", "u3", "u4"]);
    const state = await readJournal(journal);
    expect(Object.fromEntries(state.last)).toEqual({ u1: "off", u2: "interrupted", u3: "interrupted", u4: "interrupted" });
    const hint = /^detour: to resume: (detour guard .*)$/m.exec(outcome.stderr)?.[1];
    expect(hint).toContain(`--concurrency 3 --journal ${journal} --resume --`);

    await writeFile(join(run.dir, "release"), "");
    const resumed = runPrinted(hint!, run);
    expect(resumed.status, resumed.stderr).toBe(0);
    expect(resumed.stderr).toContain(`resuming ${journal}: 1 of 8 users succeeded before (skipped); running the other 7 (3 were running when detour stopped)`);
    expect(started((await log(run)).slice(lines.length)).sort(byNumber)).toEqual(["u2", "u3", "u4", "u5", "u6", "u7", "u8"]);
    expect(await usersOn(run)).toEqual([]);
    const after = await readJournal(journal);
    expect(after.runs).toBe(2);
    expect([...after.last.values()].every((event) => event === "off")).toBe(true);
  }, 90_000);

  it("after a crash (SIGKILL of detour), --resume runs the users that were in flight and those never started, and skips the rest", async () => {
    const run = await fresh(kind, 6, { GUARD_HOLD: "u2,u3,u4" });
    const journal = join(run.dir, "crash.journal");
    const { child, result } = await start(guardArgs(run, "--concurrency", "3", "--journal", journal), { cwd: run.dir, env: run.env, timeoutMs: 60_000 });
    await waitFor(async () => (await log(run)).filter((l) => l.event === "holding").length === 3, 30_000, "u2, u3 and u4 to hold");
    child.kill("SIGKILL");
    await waitFor(() => child.signalCode !== null, 10_000, "detour to die");
    expect(child.signalCode).toBe("SIGKILL");
    // Nothing can forward SIGKILL: the commands are still running, and their users still in the mode (the safe state).
    expect(await usersOn(run)).toEqual(["u2", "u3", "u4"]);
    // They hold detour's stdout and stderr open: `result` settles once they are released and exit.
    await writeFile(join(run.dir, "release"), "");
    await result;
    await waitFor(async () => (await log(run)).filter((l) => l.event === "end").length === 4, 30_000, "the orphaned commands to end");
    const before = (await log(run)).length;

    const resumed = await detour(guardArgs(run, "--concurrency", "3", "--journal", journal, "--resume"), { cwd: run.dir, env: run.env, timeoutMs: 60_000 });
    expect(resumed.code, resumed.stderr).toBe(0);
    expect(resumed.stderr).toContain(`resuming ${journal}: 1 of 6 users succeeded before (skipped); running the other 5`);
    expect(started((await log(run)).slice(before)).sort(byNumber)).toEqual(["u2", "u3", "u4", "u5", "u6"]);
    expect(await usersOn(run)).toEqual([]);
  }, 90_000);

  it("--resume turns off a user whose command succeeded but whose flag the journal does not record as off, without running it again", async () => {
    const run = await fresh(kind, 3);
    const journal = join(run.dir, "half.journal");
    const header = { journal: "detour-guard", version: 1, event: "run", at: new Date().toISOString(), flag: "billing", noun: "user", list: run.users, command: worker, concurrency: 1, pid: 1 };
    // As a crash leaves it: u1 succeeded and was not turned off; u2 was being written when the machine went down.
    await writeFile(journal, `${JSON.stringify(header)}\n${JSON.stringify({ event: "start", key: "u1" })}\n${JSON.stringify({ event: "ok", key: "u1" })}\n{"event":"ok","ke`);
    expect((await detour(["on", "billing", "--user", "u1", "--store", run.store], { cwd: run.dir })).code).toBe(0);
    const resumed = await detour(guardArgs(run, "--journal", journal, "--resume"), { cwd: run.dir, env: run.env, timeoutMs: 60_000 });
    expect(resumed.code, resumed.stderr).toBe(0);
    expect(resumed.stderr).toContain('turned "billing" off for 1 user whose command had succeeded but whose flag was still on: u1');
    expect(started(await log(run))).toEqual(["u2", "u3"]);
    expect(await usersOn(run)).toEqual([]);
    // The torn line was cut off before the new lines: the journal reads back whole.
    const state = await readJournal(journal);
    expect(state.torn).toBe(false);
    expect(Object.fromEntries(state.last)).toEqual({ u1: "off", u2: "off", u3: "off" });
  }, 90_000);
});

describe("guard --users-from when the store breaks mid-loop", () => {
  it("stops, says which user's flag is still on and how to turn it off, and --resume turns it off without running that user again", async () => {
    const run = await fresh("file", 4, { GUARD_BREAK_STORE: "u2" });
    const journal = join(run.dir, "broken.journal");
    const result = await detour(guardArgs(run, "--journal", journal), { cwd: run.dir, env: run.env, timeoutMs: 60_000 });
    expect(result.code, result.stderr).toBe(2);
    expect(started(await log(run))).toEqual(["u1", "u2"]);
    expect(result.stderr).toMatch(/the command succeeded for user "u2" but "billing" could not be turned off: .*is not valid JSON.*; it is still on \(turn it off with: detour off billing --user u2 --store file:\S+\)/);
    expect(result.stderr).toContain(`to resume: detour guard --store ${run.store} -f billing --users-from ${run.users} --journal ${journal} --resume --`);
    expect(Object.fromEntries((await readJournal(journal)).last)).toEqual({ u1: "off", u2: "ok" });

    // The operator mends the store (here: puts back a document with u2 still on), then resumes.
    await writeFile(run.store.slice("file:".length), `${JSON.stringify({ flags: {} })}\n`);
    expect((await detour(["on", "billing", "--user", "u2", "--store", run.store], { cwd: run.dir })).code).toBe(0);
    const resumed = await detour(guardArgs(run, "--journal", journal, "--resume"), { cwd: run.dir, env: { ...run.env, GUARD_BREAK_STORE: "" }, timeoutMs: 60_000 });
    expect(resumed.code, resumed.stderr).toBe(0);
    expect(resumed.stderr).toContain('turned "billing" off for 1 user whose command had succeeded but whose flag was still on: u2');
    expect(started(await log(run))).toEqual(["u1", "u2", "u3", "u4"]);
    expect(await usersOn(run)).toEqual([]);
  }, 90_000);
});

describe("guard --journal and --concurrency: bad input runs nothing", () => {
  it("refuses a journal that records a run (without --resume), another flag's journal, a file that is not a journal, and --resume without one", async () => {
    const run = await fresh("file", 2);
    const journal = join(run.dir, "j.journal");
    const first = await detour(guardArgs(run, "--journal", journal), { cwd: run.dir, env: run.env });
    expect(first.code, first.stderr).toBe(0);
    const again = await detour(guardArgs(run, "--journal", journal), { cwd: run.dir, env: run.env });
    expect(again.code).toBe(1);
    expect(again.stderr).toContain(`--journal: ${journal} already records a guard run; add --resume to continue it, or choose a new file`);
    const other = await detour(["guard", "-f", "checkout", "--users-from", run.users, "--store", run.store, "--journal", journal, "--resume", "--", ...worker], { cwd: run.dir, env: run.env });
    expect(other.code).toBe(1);
    expect(other.stderr).toContain(`--journal: ${journal} records a guard of "billing", not "checkout"; nothing was run`);
    const notJournal = join(run.dir, "notes.txt");
    await writeFile(notJournal, "hello\n");
    const wrong = await detour(guardArgs(run, "--journal", notJournal, "--resume"), { cwd: run.dir, env: run.env });
    expect(wrong.code).toBe(1);
    expect(wrong.stderr).toContain(`--journal: ${notJournal} is not a detour guard journal`);
    const missing = await detour(guardArgs(run, "--journal", join(run.dir, "none.journal"), "--resume"), { cwd: run.dir, env: run.env });
    expect(missing.code).toBe(1);
    expect(missing.stderr).toContain("there is no journal at");
    const done = await detour(guardArgs(run, "--journal", journal, "--resume"), { cwd: run.dir, env: run.env });
    expect(done.code).toBe(0);
    expect(done.stderr).toContain("nothing to do: the command succeeded for every user");
    // Only the first run ran anything.
    expect(started(await log(run))).toEqual(["u1", "u2"]);
  }, 90_000);

  it("refuses a bad --concurrency and the loop options without --users-from", async () => {
    const run = await fresh("file", 1);
    for (const bad of ["0", "1025", "two", "1.5"]) {
      const result = await detour(guardArgs(run, "--concurrency", bad), { cwd: run.dir, env: run.env });
      expect(result.code).toBe(1);
      expect(result.stderr).toContain(`option '--concurrency <n>' argument '${bad}' is invalid. expected a whole number of commands from 1 to 1024`);
    }
    for (const [option, ...value] of [["--concurrency", "2"], ["--journal", "j"], ["--resume"]] as const) {
      const result = await detour(["guard", "-f", "billing", "-u", "u1", option, ...value, "--store", run.store, "--", ...worker], { cwd: run.dir, env: run.env });
      expect(result.code).toBe(1);
      expect(result.stderr).toContain(`guard: ${option} needs --users-from`);
    }
    const resumeAlone = await detour(guardArgs(run, "--resume"), { cwd: run.dir, env: run.env });
    expect(resumeAlone.stderr).toContain("--resume needs --journal FILE");
    const both = await detour(guardArgs(run, "--journal", "j", "--resume", "--resume-from", "u1"), { cwd: run.dir, env: run.env });
    expect(both.stderr).toContain("either --resume (the journal knows where to go on) or --resume-from");
    expect(await log(run)).toEqual([]);
  }, 90_000);
});
