/**
 * The whole move, smaller: 40 users with notes in the old cluster, the API
 * under load all along, the real `detour` binary moving the rollout and
 * guarding the backfill, then a rollback. Real PostgreSQL: two databases made
 * for this run and dropped afterwards.
 */
import { writeFile } from "node:fs/promises";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { fileStore, type FileStore } from "@detour/core";
import { listenHttp } from "@detour/example-shared";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
// The CLI's own test helpers: the real binary, bundled from the current sources, run as a child process.
import { detour, readJson, temporaryDirectory, waitFor, type Result } from "@detour/test-support/cli";
import { BACKFILL_FLAG, buildApp } from "../src/app.js";
import { checkConsistency } from "../src/check.js";
import { startLoad, type Load } from "../src/load.js";
import { seed } from "../src/setup.js";
import { STAGES, type Stage, type Storage } from "../src/storage.js";
import { userIds } from "../src/users.js";
import { createTestClusters, type TestClusters } from "./databases.js";

const example = fileURLToPath(new URL("..", import.meta.url));
const USERS = userIds(40);
const rank = (stage: Stage) => STAGES.indexOf(stage);

/** `[old, dual, new-verify, new]` percentages → the CLI's arguments, always all four and in the flag's order. */
const split = ([old, dual, verify, neu]: readonly number[]) => [`old=${old}`, `dual=${dual}`, `new-verify=${verify}`, `new=${neu}`];

// Each phase moves one stage from 0 to 25, 50 and 100%: cumulative slots shrink from the front, so users only move forward.
const TO_DUAL = [[75, 25, 0, 0], [50, 50, 0, 0], [0, 100, 0, 0]];
const TO_VERIFY = [[0, 75, 25, 0], [0, 50, 50, 0], [0, 0, 100, 0]];
const TO_NEW = [[0, 0, 75, 25], [0, 0, 50, 50]];

let db: TestClusters;
let dir: string;
let cleanup: () => Promise<void>;
let storePath: string;
let store: FileStore;
let app: ReturnType<typeof buildApp>;
let server: { port: number; close(): Promise<void> };
let load: Load | undefined;
const warnings: string[] = [];

beforeAll(async () => {
  [db, { dir, cleanup }] = await Promise.all([createTestClusters("run"), temporaryDirectory()]);
  await seed({ clusters: db, users: USERS, notesPerUser: 3 });
  await writeFile(join(dir, "users.txt"), `${USERS.join("\n")}\n`);
  storePath = join(dir, "detour.json");
  const imported = await cli(["import", join(example, "flags.json")]);
  expect(imported.code, imported.stderr).toBe(0);
  store = fileStore(storePath, { pollIntervalMs: 100 });
  app = buildApp({ store, clusters: { old: db.old, new: db.new }, log: (line) => warnings.push(line) });
  server = await listenHttp(app, 0);
});

afterAll(async () => {
  await load?.stop();
  await server?.close();
  await app?.locals.detour.close();
  await db?.drop();
  await cleanup?.();
});

/** Runs the real `detour` binary on this run's store, with the clusters' URLs for the commands it guards. */
function cli(args: readonly string[], timeoutMs = 15_000): Promise<Result> {
  return detour(["--store", `file:${storePath}`, ...args], {
    cwd: dir,
    timeoutMs,
    env: { OLD_DATABASE_URL: db.urls.old, NEW_DATABASE_URL: db.urls.new },
  });
}

/** Waits until the app's snapshot has the store's latest revision. */
async function applied(): Promise<void> {
  const { revision = 0 } = await readJson<{ revision?: number }>(storePath);
  await waitFor(() => (store.snapshot()?.revision ?? -1) >= revision, 5000, `the app to load revision ${revision}`);
}

/** `detour rollout storage-cluster ...`, then waits for the app to route by it. */
async function rollout(percentages: readonly number[]): Promise<void> {
  const result = await cli(["rollout", "storage-cluster", ...split(percentages)]);
  expect(result.code, result.stderr).toBe(0);
  await applied();
}

/** Every user's stage, as the API reports it (`GET /api/storage`). */
async function routing(): Promise<Map<string, Stage>> {
  const answers = await Promise.all(
    USERS.map(async (user) => {
      const response = await fetch(`http://127.0.0.1:${server.port}/api/storage`, { headers: { "x-user": user } });
      return [user, ((await response.json()) as { cluster: Stage }).cluster] as const;
    }),
  );
  return new Map(answers);
}

const count = (map: Map<string, Stage>) => Object.fromEntries(STAGES.map((stage) => [stage, [...map.values()].filter((s) => s === stage).length]));
/** What the app's data layer counted so far (reads and writes per stage, verified reads, mismatches, copy errors). */
const stats = () => (app.locals.storage as Storage).stats;
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * Runs `detour guard -f notes-backfill --users-from FILE -- node scripts/backfill.js [...]` and, meanwhile,
 * catches one user while the guard has them read-only and checks that the API refuses their write.
 */
async function guardedBackfill(usersFile: string, extra: readonly string[]) {
  let probe: { user: string; status: number; mode: string | null } | undefined;
  let running = true;
  const prober = (async () => {
    while (running && !probe) {
      const user = USERS.find((u) => app.locals.detour.variation(BACKFILL_FLAG, { key: u }, "available") === "read-only");
      if (user) {
        const response = await fetch(`http://127.0.0.1:${server.port}/api/notes`, {
          method: "POST",
          headers: { "x-user": user, "content-type": "application/json", accept: "application/json" },
          body: JSON.stringify({ text: "written during my own backfill" }),
        });
        probe = { user, status: response.status, mode: response.headers.get("detour-mode") };
      } else {
        await sleep(5);
      }
    }
  })();
  const command = [process.execPath, join(example, "scripts/backfill.js"), "--settle", "30", ...extra];
  const result = await cli(["guard", "-f", BACKFILL_FLAG, "--users-from", usersFile, "--", ...command], 80_000);
  running = false;
  await prober;
  return { result, probe };
}

describe("moving the notes from the old cluster to the new one", () => {
  it("ramps 0→25→50→100% through dual, backfill, new-verify and new under load, rolls back, and loses no write", async () => {
    const started = performance.now();
    let lap = started;
    const phases: string[] = [];
    const mark = (phase: string) => {
      const at = performance.now();
      phases.push(`${phase} ${((at - lap) / 1000).toFixed(1)} s`);
      lap = at;
    };
    const history = new Map<string, Stage[]>(USERS.map((user) => [user, []]));
    const step = async (percentages: readonly number[] | null) => {
      if (percentages) await rollout(percentages);
      const now = await routing();
      for (const [user, stage] of now) history.get(user)!.push(stage);
      await sleep(400); // let the load run on this split
      return now;
    };

    const start = await step(null);
    expect(count(start)).toMatchObject({ old: 40 });
    load = startLoad({ url: `http://127.0.0.1:${server.port}`, users: USERS, concurrency: 8, rate: 30 });
    // Each session reads its notes first; wait for some writes on old before the move begins.
    await waitFor(() => load!.report.acked >= 10, 15_000, "10 writes on old");

    // 1. Dual-write, a quarter of the users at a time.
    let now = start;
    for (const percentages of TO_DUAL) now = await step(percentages);
    expect(count(now)).toMatchObject({ dual: 40 });
    mark("dual");

    // 2. Backfill every user, each read-only while copied.
    const forward = await guardedBackfill(join(dir, "users.txt"), []);
    expect(forward.result.code, forward.result.stderr).toBe(0);
    expect(forward.result.stdout.match(/identical/g)).toHaveLength(40);
    expect(forward.probe).toMatchObject({ status: 503, mode: "read-only" });
    mark("backfill");

    // 3. Read from new, compare with old; 4. new only, for half of the users.
    for (const percentages of [...TO_VERIFY, ...TO_NEW]) now = await step(percentages);
    // Some writes only new has, for the rollback to bring back.
    await waitFor(() => (load!.report.ackedBy.new ?? 0) >= 5, 15_000, "5 writes on new");
    // A 50/50 split of 40 users by hash: about half each (LaunchDarkly's bucketing, not an exact count).
    const half = count(now);
    expect(half["new-verify"]! + half.new!).toBe(40);
    expect(half.new).toBeGreaterThan(5);
    expect(half["new-verify"]).toBeGreaterThan(5);
    const forwardEnds = Date.now();

    // Users only ever moved forward, never back: at every step, as the API routed them...
    for (const [user, stages] of history) {
      const ranks = stages.map(rank);
      expect(ranks, `${user}: ${stages.join(" → ")}`).toEqual([...ranks].sort((a, b) => a - b));
    }
    // ...and in every request the load made.
    for (const [user, seen] of load.observations) {
      const ranks = seen.filter((o) => o.at < forwardEnds).map((o) => rank(o.cluster));
      expect(ranks, `${user}'s requests`).toEqual([...ranks].sort((a, b) => a - b));
    }
    // A user's bucket is fixed, so the quarter that led the move to dual also leads to new-verify and to new:
    // three groups (first 25%, next 25%, the rest), each with one path.
    expect(new Set([...history.values()].map((stages) => stages.join(" → "))).size).toBe(3);

    // Reading from new while comparing with old found no difference: the backfill and the dual writes left nothing behind.
    expect(stats()).toMatchObject({ mismatches: 0, copyErrors: 0 });
    expect(stats().verified).toBeGreaterThan(0);
    mark("verify and new");

    // 5. Roll back. Users on `new` go back to writing both (new-verify: still reading new, which has their latest
    // notes); comparing with old now shows them different, as it should, until their new-only writes are copied back.
    const onNew = USERS.filter((user) => now.get(user) === "new");
    await writeFile(join(dir, "users-on-new.txt"), `${onNew.join("\n")}\n`);
    now = await step([0, 0, 100, 0]);
    expect(count(now)).toMatchObject({ "new-verify": 40 });
    const reverse = await guardedBackfill(join(dir, "users-on-new.txt"), ["--reverse"]);
    expect(reverse.result.code, reverse.result.stderr).toBe(0);
    expect(reverse.result.stdout.match(/new→old: .* identical/g)).toHaveLength(onNew.length);
    mark("reverse backfill");
    // Only users who had been on `new` ever differed, and once copied back nobody differs any more.
    const differed = stats().mismatches;
    expect(stats().mismatchedUsers.filter((user) => !onNew.includes(user))).toEqual([]);
    const verifiedBefore = stats().verified;
    await sleep(600);
    expect(stats().verified).toBeGreaterThan(verifiedBefore);
    expect(stats().mismatches).toBe(differed);
    // Everyone reads old again, and still writes both: the kill switch can be flipped either way from here.
    now = await step([0, 100, 0, 0]);
    expect(count(now)).toMatchObject({ dual: 40 });
    mark("rollback");

    const report = await load.stop();
    const consistency = await checkConsistency({ clusters: db, users: USERS, journal: load.journal });
    const counted = stats();
    const seconds = ((performance.now() - started) / 1000).toFixed(1);
    console.log(
      `cluster migration: ${seconds} s; ${report.acked} writes acknowledged (${Object.entries(report.ackedBy).map(([s, n]) => `${s} ${n}`).join(", ")}), ` +
        `${report.refused} refused during backfill, ${report.reads} reads (${report.staleReads} stale); ` +
        `${counted.verified} verified reads, ${counted.mismatches} mismatches, ${counted.copyErrors} copy errors; ` +
        `${consistency.lost.length} lost writes, ${consistency.differing.length} users differing; ` +
        `old ${consistency.notes.old} notes, new ${consistency.notes.new}; ${phases.join(", ")}`,
    );

    expect(report.problems).toEqual([]);
    expect(report).toMatchObject({ staleReads: 0, errors: 0, conflicts: 0 });
    expect(report.acked).toBeGreaterThan(200);
    for (const stage of STAGES) expect(report.ackedBy[stage], `writes acknowledged on ${stage}`).toBeGreaterThan(0);
    expect(counted.copyErrors).toBe(0);
    expect(warnings.every((line) => onNew.some((user) => line.includes(`${user}: new and old differ`)))).toBe(true);
    expect(consistency.lost).toEqual([]);
    expect(consistency.differing).toEqual([]);
    expect(consistency.notes.new).toBe(consistency.notes.old);
    expect(consistency.notes.old).toBeGreaterThan(USERS.length * 3);
  }, 90_000);
});
