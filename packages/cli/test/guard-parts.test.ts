/**
 * The guard loop's parts on their own: batched writes, the journal's
 * reader and writer, the rate meter and the plain progress lines. The
 * whole loop is tested through the binary in guard-concurrency.test.ts.
 */
import { existsSync } from "node:fs";
import { appendFile, readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { StoreUnavailableError } from "@detour/core";
import { EventEmitter } from "node:events";
import { BatchedWrites } from "../src/guard/batch.js";
import { SignalTrap } from "../src/guard/child.js";
import { Spawner } from "../src/guard/spawner.js";
import { JournalWriter, readJournal } from "../src/guard/journal.js";
import { createProgress } from "../src/guard/progress.js";
import { RateMeter, formatRate } from "../src/guard/rate.js";
import type { LoopTarget } from "../src/guard/targets.js";
import { isSuffix, keyList, unfinishedPath } from "../src/guard/unfinished.js";
import { planFrom } from "../src/guard/plan.js";
import { temporaryDirectory, waitFor } from "@detour/test-support/cli";

let dir = "";
let cleanup: (() => Promise<void>) | undefined;
beforeAll(async () => {
  ({ dir, cleanup } = await temporaryDirectory());
});
afterAll(async () => cleanup?.());

/** A target that records its writes and lets the test decide when each one completes. */
function recordingTarget(): LoopTarget & { writes: string[]; release(): void; fail?: unknown; failures: number } {
  const gates: (() => void)[] = [];
  const target = {
    flag: "billing",
    noun: "user",
    writes: [] as string[],
    fail: undefined as unknown,
    failures: 0,
    offArgs: (keys: readonly string[]) => ["off", "billing", "--user", keys.join(",")],
    release() {
      gates.shift()?.();
    },
    /** Recorded as `on a,b off c`: the halves the write carries. */
    async retarget(on: readonly string[], off: readonly string[]) {
      const halves = [on.length > 0 ? `on ${on.join(",")}` : "", off.length > 0 ? `off ${off.join(",")}` : ""];
      target.writes.push(halves.filter(Boolean).join(" "));
      await new Promise<void>((resolve) => gates.push(resolve));
      if (target.failures > 0) {
        target.failures--;
        throw target.fail;
      }
    },
  };
  return target;
}

describe("BatchedWrites", () => {
  it("group commit: the requests made while a write is in flight, of both kinds, go into the next write together", async () => {
    const target = recordingTarget();
    const writes = new BatchedWrites(target);
    const done: string[] = [];
    const track = (label: string, promise: Promise<void>) => promise.then(() => done.push(label));
    const first = [track("on a", writes.enable("a")), track("on b", writes.enable("b")), track("on c", writes.enable("c"))];
    await waitFor(() => target.writes.length === 1, 2000, "the first write");
    expect(target.writes).toEqual(["on a,b,c"]);
    // While it is in flight: an "off" first, then more "on".
    const second = [track("off a", writes.disable("a")), track("on d", writes.enable("d")), track("off b", writes.disable("b")), track("on e", writes.enable("e"))];
    await new Promise((resolve) => setImmediate(resolve));
    // Nothing resolves before its write is committed.
    expect(done).toEqual([]);
    target.release();
    await Promise.all(first);
    expect(done).toEqual(["on a", "on b", "on c"]);
    await waitFor(() => target.writes.length === 2, 2000, "the second write");
    expect(done).toHaveLength(3);
    target.release();
    await Promise.all(second);
    expect(target.writes).toEqual(["on a,b,c", "on d,e off a,b"]);
    expect(writes.stats).toMatchObject({ writes: 2, keys: 7 });
  });

  it("keeps each write to its bound, oldest requests first", async () => {
    const target = recordingTarget();
    const writes = new BatchedWrites(target, undefined, 2);
    const all = ["a", "b", "c", "d", "e"].map((key) => writes.enable(key));
    for (let n = 1; n <= 3; n++) {
      await waitFor(() => target.writes.length === n, 2000, `write ${n}`);
      target.release();
    }
    await Promise.all(all);
    expect(target.writes).toEqual(["on a,b", "on c,d", "on e"]);
  });

  it("retries a batch when the store is unavailable; a batch that fails for good rejects its own requests only", async () => {
    const target = recordingTarget();
    target.fail = new StoreUnavailableError("redis: connection lost");
    target.failures = 1;
    const writes = new BatchedWrites(target);
    const retried = writes.enable("a");
    await waitFor(() => target.writes.length === 1, 2000, "the first attempt");
    target.release();
    await waitFor(() => target.writes.length === 2, 2000, "the retry");
    target.release();
    await retried;
    expect(target.writes).toEqual(["on a", "on a"]);

    target.fail = new Error("not a store outage");
    target.failures = 1;
    const outcome = (p: Promise<void>) => p.then(() => "ok", (error: Error) => error.message);
    const failing = [outcome(writes.disable("a")), outcome(writes.enable("b"))];
    await waitFor(() => target.writes.length === 3, 2000, "the failing write");
    // Queued while the failing write is in flight: the next write, which succeeds.
    const next = [outcome(writes.enable("c")), outcome(writes.disable("d"))];
    target.release();
    expect(await Promise.all(failing)).toEqual(["not a store outage", "not a store outage"]);
    await waitFor(() => target.writes.length === 4, 2000, "the next write");
    target.release();
    expect(await Promise.all(next)).toEqual(["ok", "ok"]);
    expect(target.writes).toEqual(["on a", "on a", "on b off a", "on c off d"]);
  });
});

describe("Spawner (the helper processes that start commands)", () => {
  it("reports exit statuses, signals and commands that cannot start as runCommand does, and passes the trap's signals on", async () => {
    const signals = new EventEmitter();
    const notified: string[] = [];
    const trap = new SignalTrap(signals, (signal, count) => notified.push(`${signal} to ${count}`));
    const spawner = new Spawner(process.env, dir, 2);
    const stats = { spawns: 0, ms: 0 };
    const options = { env: process.env, cwd: dir, trap, stats };
    try {
      const node = (code: string) => [process.execPath, "-e", code];
      expect(await spawner.run(node("process.exit(3)"), options)).toEqual({ kind: "exit", code: 3 });
      expect(await spawner.run(node(""), options)).toEqual({ kind: "exit", code: 0 });
      expect(await spawner.run([join(dir, "no-such-program")], options)).toEqual({ kind: "error", code: 127, message: expect.stringContaining("command not found") });
      // A command that waits: the trap's SIGTERM reaches it through the helper.
      const ready = join(dir, "spawner-ready");
      const waiting = spawner.run(node(`require("fs").writeFileSync(${JSON.stringify(ready)}, "");setInterval(() => {}, 1000)`), options);
      await waitFor(() => existsSync(ready), 10_000, "the command to start");
      signals.emit("SIGTERM", "SIGTERM");
      expect(await waiting).toEqual({ kind: "signal", signal: "SIGTERM" });
      expect(notified).toEqual(["SIGTERM to 1"]);
      expect(stats.spawns).toBe(4);
    } finally {
      spawner.close();
      trap.dispose();
    }
    expect(await spawner.run([process.execPath], options)).toMatchObject({ kind: "error", code: 126 });
  });
});

describe("the journal", () => {
  const header = { journal: "detour-guard", version: 1, event: "run", at: "2026-12-01T00:00:00.000Z", flag: "billing", noun: "user", list: "users.txt", command: ["./x"], concurrency: 2, pid: 1 };

  it("reads back what JournalWriter wrote, every line synced before record() resolves", async () => {
    const path = join(dir, "written.journal");
    const journal = await JournalWriter.open(path);
    await journal.run({ flag: "billing", noun: "user", list: "users.txt", command: ["./x"], concurrency: 2, pid: 1 });
    await Promise.all([journal.record({ event: "start", key: "u1" }), journal.record({ event: "start", key: "u2" })]);
    await journal.record({ event: "ok", key: "u1" });
    // Durable means on disk now, before close.
    expect((await readFile(path, "utf8")).split("\n").filter(Boolean)).toHaveLength(4);
    await journal.record({ event: "fail", key: "u2", status: 5, why: "the command exited with status 5" });
    await journal.close();
    const state = await readJournal(path);
    expect(state.first).toMatchObject({ journal: "detour-guard", version: 1, flag: "billing", command: ["./x"] });
    expect(Object.fromEntries(state.last)).toEqual({ u1: "ok", u2: "fail" });
    expect(state.torn).toBe(false);
  });

  it("ignores a half-written last line and reports where it ends, so --resume can cut it off", async () => {
    const path = join(dir, "torn.journal");
    const whole = `${JSON.stringify(header)}\n${JSON.stringify({ event: "ok", key: "u1" })}\n`;
    await writeFile(path, `${whole}{"event":"ok","key":"u2"}`);
    const state = await readJournal(path);
    expect(Object.fromEntries(state.last)).toEqual({ u1: "ok" });
    expect(state).toMatchObject({ torn: true, validBytes: Buffer.byteLength(whole) });
    const journal = await JournalWriter.open(path, { truncateTo: state.validBytes });
    await journal.record({ event: "off", key: "u1" });
    await journal.close();
    expect(Object.fromEntries((await readJournal(path)).last)).toEqual({ u1: "off" });
  });

  it("refuses a broken line in the middle, naming the file and line, and files that are not journals", async () => {
    const path = join(dir, "broken.journal");
    await writeFile(path, `${JSON.stringify(header)}\n{"event":"ok","key"\n${JSON.stringify({ event: "ok", key: "u1" })}\n`);
    await expect(readJournal(path)).rejects.toThrow(`--journal: ${path} line 2 is not valid JSON`);
    await writeFile(path, `${JSON.stringify(header)}\n${JSON.stringify({ event: "teleport", key: "u1" })}\n`);
    await expect(readJournal(path)).rejects.toThrow(`--journal: ${path} line 2 is not a journal entry`);
    await writeFile(path, `${JSON.stringify({ ...header, version: 9 })}\n`);
    await expect(readJournal(path)).rejects.toThrow("is a version 9 journal; this detour reads version 1");
    await writeFile(path, `{"flags":{}}\n`);
    await expect(readJournal(path)).rejects.toThrow("is not a detour guard journal");
    await writeFile(path, "");
    await expect(readJournal(path)).rejects.toThrow("holds no complete line");
    await appendFile(path, "partial");
    await expect(readJournal(path)).rejects.toThrow("holds no complete line");
  });
});

describe("progress", () => {
  it("RateMeter: completions per second over the recent window, and the time left", () => {
    let now = 0;
    const meter = new RateMeter(() => now);
    expect(meter.perSecond(0)).toBeUndefined();
    for (let second = 1; second <= 10; second++) {
      now = second * 1000;
      meter.update(second * 50);
    }
    expect(meter.perSecond(500)).toBeCloseTo(50, 5);
    expect(meter.etaMs(500, 1000)).toBeCloseTo(20_000, 0);
    // It follows a slowdown: 40 s at 10/s later, the early 50/s is out of the window.
    for (let second = 11; second <= 50; second++) {
      now = second * 1000;
      meter.update(500 + (second - 10) * 10);
    }
    expect(meter.perSecond(900)).toBeCloseTo(10, 0);
    expect(formatRate(52.4, "user")).toBe("52 users/s");
    expect(formatRate(0.84, "user")).toBe("0.8 users/s");
    expect(formatRate(undefined, "user")).toBe("-- users/s");
  });

  it("without a terminal and with several commands at once: a summary line now and then, with the rate and the ETA", async () => {
    let text = "";
    let now = 0;
    const stream = { write: (chunk: string) => (text += chunk), isTTY: false };
    const progress = createProgress(stream, { flag: "billing", noun: "user", total: 100, skipped: 10, concurrency: 4, intervalMs: 10, now: () => now });
    for (let i = 0; i < 4; i++) progress.started(10 + i, `u${i}`);
    now = 1000;
    progress.finished(10, "u0", true, 5);
    now = 2000;
    progress.finished(11, "u1", true, 5);
    await waitFor(() => text.includes("\n"), 5000, "a progress line");
    progress.stop();
    expect(text.split("\n")[0]).toBe("detour: [12/100] users done, 2 running, 1.0 users/s, ETA 1m28s");
  });

  it("one command at a time without a terminal: a line per user with the rate", () => {
    let text = "";
    let now = 0;
    const progress = createProgress({ write: (chunk: string) => (text += chunk) }, { flag: "billing", noun: "user", total: 3, skipped: 0, concurrency: 1, now: () => now });
    progress.started(0, "u1");
    now = 500;
    progress.finished(0, "u1", true, 400);
    progress.stop();
    expect(text).toBe("detour: [1/3] u1: running\ndetour: [1/3] u1: ok in 0.4s, 2.0 users/s, ETA 1.0s\n");
  });
});

describe("what the resume hint names", () => {
  it("--resume-from only when the users not done are the rest of the list", () => {
    const plan = planFrom(["a", "b", "c", "d"], 1);
    const items = (...keys: string[]) => plan.todo.filter((item) => keys.includes(item.key));
    expect(isSuffix(plan, items("b", "c", "d"))).toBe(true);
    expect(isSuffix(plan, items("c", "d"))).toBe(true);
    expect(isSuffix(plan, items("b", "d"))).toBe(false);
    expect(isSuffix(plan, [])).toBe(false);
  });

  it("writes the list of users not done next to the list, as the operator typed its path", () => {
    expect(unfinishedPath("users.txt", "billing")).toBe("users.unfinished.txt");
    expect(unfinishedPath("./users.txt", "billing")).toBe("users.unfinished.txt");
    expect(unfinishedPath("/srv/lists/users", "billing")).toBe("/srv/lists/users.unfinished");
    expect(unfinishedPath("lists/users.unfinished.txt", "billing")).toBe("lists/users.unfinished.txt");
    expect(unfinishedPath("-", "billing/eu")).toBe("detour-guard-billing_eu.unfinished.txt");
    expect(keyList(["a", "b"])).toBe("a, b");
    expect(keyList(["a", "b", "c", "d"], 3)).toBe("a, b, …, d (4)");
  });
});
