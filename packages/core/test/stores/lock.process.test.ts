import { spawn } from "node:child_process";
import { readFile, readdir, utimes, writeFile } from "node:fs/promises";
import { writeFileSync } from "node:fs";
import { hostname } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { StoreUnavailableError, WriteConflictError } from "../../src/errors.js";
import { acquireFileLock, fileStore } from "../../src/stores/index.js";
import { sampleDocument, temporaryDirectory } from "./helpers.js";

let dir: string;
let cleanup: () => Promise<void>;
let path: string;

beforeEach(async () => {
  ({ dir, cleanup } = await temporaryDirectory());
  path = join(dir, "detour.json");
  await writeFile(path, JSON.stringify(sampleDocument()));
});

afterEach(async () => {
  await cleanup();
});

/** The pid of a process that has exited. */
async function deadPid(): Promise<number> {
  const child = spawn(process.execPath, ["-e", ""], { stdio: "ignore" });
  await new Promise((resolve) => child.once("exit", resolve));
  if (child.pid === undefined) throw new Error("no pid");
  return child.pid;
}

function lockFile(owner: { pid: number; hostname?: string; acquiredAt?: number }): string {
  return JSON.stringify({ hostname: hostname(), acquiredAt: Date.now(), token: "someone-else", ...owner });
}

async function increment(options: Parameters<typeof fileStore>[1] = {}): Promise<number> {
  const store = fileStore(path, options);
  try {
    const snapshot = await store.write((draft) => {
      const counter = draft.flags!.counter!;
      counter.version = (counter.version ?? 0) + 1;
    });
    return snapshot.revision;
  } finally {
    await store.close();
  }
}

describe("file lock", () => {
  it("breaks a lock left by a dead process at once", async () => {
    await writeFile(`${path}.lock`, lockFile({ pid: await deadPid() }));
    const started = Date.now();
    expect(await increment({ lock: { timeoutMs: 2_000, staleMs: 60_000 } })).toBe(1);
    expect(Date.now() - started).toBeLessThan(1_000);
    expect(await readdir(dir)).toEqual(["detour.json"]);
  });

  it("waits for a live holder, then gives up with a clear error and writes nothing", async () => {
    await writeFile(`${path}.lock`, lockFile({ pid: process.pid }));
    const before = await readFile(path);
    const failure = increment({ lock: { timeoutMs: 200, staleMs: 60_000 } });
    await expect(failure).rejects.toBeInstanceOf(WriteConflictError);
    await expect(failure).rejects.toThrow(`could not lock ${path}.lock within 200 ms (held by pid ${process.pid}`);
    expect((await readFile(path)).equals(before)).toBe(true);
  });

  it("breaks a lock older than staleMs even when its holder runs (or runs elsewhere)", async () => {
    await writeFile(`${path}.lock`, lockFile({ pid: process.pid, acquiredAt: Date.now() - 60_000 }));
    expect(await increment({ lock: { timeoutMs: 2_000, staleMs: 10_000 } })).toBe(1);
    await writeFile(`${path}.lock`, lockFile({ pid: 1, hostname: "elsewhere", acquiredAt: Date.now() - 60_000 }));
    expect(await increment({ lock: { timeoutMs: 2_000, staleMs: 10_000 } })).toBe(2);
  });

  it("does not judge a pid from another host", async () => {
    await writeFile(`${path}.lock`, lockFile({ pid: await deadPid(), hostname: "elsewhere" }));
    await expect(increment({ lock: { timeoutMs: 150 } })).rejects.toBeInstanceOf(WriteConflictError);
  });

  it("judges an unreadable (half-created) lock file by its age", async () => {
    await writeFile(`${path}.lock`, "");
    await expect(increment({ lock: { timeoutMs: 150, staleMs: 5_000 } })).rejects.toBeInstanceOf(WriteConflictError);
    const old = new Date(Date.now() - 60_000);
    await utimes(`${path}.lock`, old, old);
    expect(await increment({ lock: { timeoutMs: 2_000, staleMs: 5_000 } })).toBe(1);
  });

  it("hands the lock over when it is released, and release never removes someone else's lock", async () => {
    const lockPath = `${path}.lock`;
    const first = await acquireFileLock(lockPath);
    expect(JSON.parse(await readFile(lockPath, "utf8"))).toMatchObject({ pid: process.pid, hostname: hostname() });
    let secondAcquired = false;
    const second = acquireFileLock(lockPath, { timeoutMs: 5_000 }).then((lock) => {
      secondAcquired = true;
      return lock;
    });
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(secondAcquired).toBe(false);
    await first.release();
    const held = await second;
    expect(await held.stillHeld()).toBe(true);
    await first.release(); // idempotent, and not ours any more
    expect(await held.stillHeld()).toBe(true);

    await writeFile(lockPath, lockFile({ pid: process.pid })); // as if our lock was broken and retaken
    expect(await held.stillHeld()).toBe(false);
    await held.release();
    expect(await readFile(lockPath, "utf8")).toContain("someone-else");
  });

  it("a write whose lock was broken meanwhile writes nothing", async () => {
    const before = await readFile(path);
    const store = fileStore(path);
    const failure = store.write((draft) => {
      draft.flags!.site!.on = true;
      // Simulates a breaker that judged this writer stale and a new holder.
      writeFileSync(`${path}.lock`, lockFile({ pid: process.pid }));
    });
    await expect(failure).rejects.toBeInstanceOf(StoreUnavailableError);
    await expect(failure).rejects.toThrow(/broken as stale/);
    await store.close();
    expect((await readFile(path)).equals(before)).toBe(true);
    expect((await readdir(dir)).sort()).toEqual(["detour.json", "detour.json.lock"]);
  });
});
