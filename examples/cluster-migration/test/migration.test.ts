/**
 * The whole move, smaller: 40 users with notes in the old cluster, the API
 * under load all along, the real `detour` binary moving the users through
 * the six stages of the migration flag a quarter at a time
 * (`detour migrate storage-cluster <stage> --percent N`) and guarding the
 * backfill. Real PostgreSQL: two databases made for this run and dropped
 * afterwards. At the end no acknowledged write is lost and, once the old
 * cluster has been brought up to date from the new one (the writes made on
 * `complete` went to new only), both hold the same notes.
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

const STEPS = [25, 50, 75, 100];

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

/** `detour migrate storage-cluster <stage> --percent N`, then waits for the app to route by it. */
async function migrate(stage: Stage, percent: number): Promise<void> {
  const result = await cli(["migrate", "storage-cluster", stage, "--percent", String(percent)]);
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
  it("moves everyone through the six stages in 25 % steps under load, backfilled under read-only, and loses no write", async () => {
    const started = performance.now();
    let lap = started;
    const phases: string[] = [];
    const mark = (phase: string) => {
      const at = performance.now();
      phases.push(`${phase} ${((at - lap) / 1000).toFixed(1)} s`);
      lap = at;
    };
    const history = new Map<string, Stage[]>(USERS.map((user) => [user, []]));
    const step = async (move: [Stage, number] | null) => {
      if (move) await migrate(...move);
      const now = await routing();
      for (const [user, stage] of now) history.get(user)!.push(stage);
      await sleep(300); // let the load run on this split
      return now;
    };
    const through = async (stage: Stage) => {
      let now = new Map<string, Stage>();
      for (const percent of STEPS) now = await step([stage, percent]);
      expect(count(now)).toMatchObject({ [stage]: 40 });
      mark(stage);
    };

    expect(count(await step(null))).toMatchObject({ off: 40 });
    load = startLoad({ url: `http://127.0.0.1:${server.port}`, users: USERS, concurrency: 8, rate: 30 });
    // Each session reads its notes first; wait for some writes on off before the move begins.
    await waitFor(() => load!.report.acked >= 10, 15_000, "10 writes on off");

    // 1. Dual writes, a quarter of the users at a time; 2. the backfill, every user read-only while copied.
    await through("dualwrite");
    const forward = await guardedBackfill(join(dir, "users.txt"), []);
    expect(forward.result.code, forward.result.stderr).toBe(0);
    expect(forward.result.stdout.match(/identical/g)).toHaveLength(40);
    expect(forward.probe).toMatchObject({ status: 503, mode: "read-only" });
    mark("backfill");

    // 3. Shadow (reads old, compared with new), live (reads new, compared with old), rampdown (reads new, writes both).
    for (const stage of ["shadow", "live", "rampdown"] as const) {
      await through(stage);
      await waitFor(() => (load!.report.ackedBy[stage] ?? 0) >= 3, 15_000, `writes on ${stage}`);
    }
    // Every compared read agreed: the backfill and the dual writes left nothing behind.
    expect(stats()).toMatchObject({ mismatches: 0, copyErrors: 0 });
    expect(stats().verified).toBeGreaterThan(0);

    // 4. Complete: new only.
    await through("complete");
    await waitFor(() => (load!.report.ackedBy.complete ?? 0) >= 5, 15_000, "5 writes on complete");
    const report = await load.stop();
    const forwardEnds = Date.now();

    // Users only ever moved forward: at every step, as the API routed them...
    for (const [user, stages] of history) {
      const ranks = stages.map(rank);
      expect(ranks, `${user}: ${stages.join(" → ")}`).toEqual([...ranks].sort((a, b) => a - b));
    }
    // ...and in every request the load made.
    for (const [user, seen] of load.observations) {
      const ranks = seen.filter((o) => o.at < forwardEnds).map((o) => rank(o.cluster));
      expect(ranks, `${user}'s requests`).toEqual([...ranks].sort((a, b) => a - b));
    }
    // A user's bucket is fixed: the quarter that led to dualwrite leads to every later stage (at most four paths).
    expect(new Set([...history.values()].map((stages) => stages.join(" → "))).size).toBeLessThanOrEqual(4);

    // Every acknowledged write is in new, the authority at the end.
    const onNew = await checkConsistency({ clusters: db, users: USERS, journal: load.journal, only: "new" });
    expect(onNew.lost).toEqual([]);

    // 5. The writes on complete went to new only: bring old up to date (each user read-only while copied), so it stays a fallback.
    const reverse = await guardedBackfill(join(dir, "users.txt"), ["--reverse"]);
    expect(reverse.result.code, reverse.result.stderr).toBe(0);
    mark("reverse backfill");

    const consistency = await checkConsistency({ clusters: db, users: USERS, journal: load.journal });
    const counted = stats();
    const seconds = ((performance.now() - started) / 1000).toFixed(1);
    // The run's figures (quoted in the README): DETOUR_EXAMPLE_REPORT=1; a passing test prints nothing otherwise.
    if (process.env.DETOUR_EXAMPLE_REPORT === "1") console.log(
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
    expect(warnings).toEqual([]);
    expect(consistency.lost).toEqual([]);
    expect(consistency.differing).toEqual([]);
    expect(consistency.notes.new).toBe(consistency.notes.old);
    expect(consistency.notes.old).toBeGreaterThan(USERS.length * 3);
  }, 300_000);
});
