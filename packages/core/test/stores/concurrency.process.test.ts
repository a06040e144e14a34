import { fork, type ChildProcess } from "node:child_process";
import { readFile, readdir, writeFile } from "node:fs/promises";
import { hostname } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { build } from "esbuild";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Snapshot } from "../../src/snapshot.js";
import type { FlagDocument } from "../../src/document/types.js";
import { sampleDocument, temporaryDirectory } from "./helpers.js";

const PROCESSES = 10;
const INCREMENTS = 20;

let dir: string;
let cleanup: () => Promise<void>;
let child: string;

// Tests import sources through vitest; a child process cannot, so the store is bundled for it.
beforeAll(async () => {
  ({ dir, cleanup } = await temporaryDirectory());
  child = join(dir, "increment-child.cjs");
  await build({
    entryPoints: [fileURLToPath(new URL("./fixtures/increment-child.ts", import.meta.url))],
    bundle: true,
    platform: "node",
    format: "cjs",
    target: "node20",
    outfile: child,
    logLevel: "silent",
  });
});

afterAll(async () => {
  await cleanup();
});

interface ChildReport {
  type: "done";
  seen: number[];
}

async function race(path: string): Promise<ChildReport[]> {
  const children: ChildProcess[] = [];
  const exits: Promise<number | null>[] = [];
  const ready: Promise<void>[] = [];
  const reports: Promise<ChildReport>[] = [];
  for (let i = 0; i < PROCESSES; i++) {
    const proc = fork(child, [path, String(INCREMENTS)], { stdio: ["ignore", "inherit", "inherit", "ipc"] });
    children.push(proc);
    exits.push(new Promise((resolve) => proc.once("exit", (code) => resolve(code))));
    ready.push(new Promise((resolve) => proc.once("message", () => resolve())));
    reports.push(
      new Promise((resolve, reject) => {
        proc.on("message", (message: unknown) => {
          if ((message as { type?: string }).type === "done") resolve(message as ChildReport);
        });
        proc.once("exit", (code) => reject(new Error(`child exited with ${code} before reporting`)));
      }),
    );
  }
  await Promise.all(ready);
  // Everyone starts at once, so the writes really contend.
  for (const proc of children) proc.send("go");
  const done = await Promise.all(reports);
  expect(await Promise.all(exits)).toEqual(Array(PROCESSES).fill(0));
  return done;
}

describe("fileStore across processes", () => {
  it(`${PROCESSES} processes × ${INCREMENTS} increments lose no update`, { timeout: 120_000 }, async () => {
    const path = join(dir, "counter.json");
    await writeFile(path, JSON.stringify(sampleDocument()));
    const reports = await race(path);

    const doc = JSON.parse(await readFile(path, "utf8")) as FlagDocument;
    expect(doc.flags?.counter?.version).toBe(PROCESSES * INCREMENTS);
    expect(doc.revision).toBe(PROCESSES * INCREMENTS);
    expect(() => Snapshot.from(doc)).not.toThrow();
    // Every value was seen by exactly one writer: no two read-modify-writes overlapped.
    const seen = reports.flatMap((r) => r.seen).sort((a, b) => a - b);
    expect(seen).toEqual(Array.from({ length: PROCESSES * INCREMENTS }, (_, i) => i));
    expect((await readdir(dir)).filter((name) => name.startsWith("counter.json"))).toEqual(["counter.json"]);
  });

  it("processes racing to break the same dead lock still lose no update", { timeout: 120_000 }, async () => {
    const path = join(dir, "broken-lock.json");
    await writeFile(path, JSON.stringify(sampleDocument()));
    const dead = fork(child, [], { stdio: "ignore" }); // exits at once: no arguments
    await new Promise((resolve) => dead.once("exit", resolve));
    await writeFile(
      `${path}.lock`,
      JSON.stringify({ pid: dead.pid, hostname: hostname(), acquiredAt: Date.now(), token: "dead" }),
    );
    const reports = await race(path);
    const doc = JSON.parse(await readFile(path, "utf8")) as FlagDocument;
    expect(doc.flags?.counter?.version).toBe(PROCESSES * INCREMENTS);
    expect(reports.flatMap((r) => r.seen).sort((x, y) => x - y)).toEqual(Array.from({ length: PROCESSES * INCREMENTS }, (_, i) => i));
    expect((await readdir(dir)).filter((name) => name.startsWith("broken-lock.json"))).toEqual(["broken-lock.json"]);
  });
});
