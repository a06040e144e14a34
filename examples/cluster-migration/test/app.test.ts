import type { FlagDocument } from "@detour/core";
import request from "supertest";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { BACKFILL_FLAG, buildApp } from "../src/app.js";
import { backfillUser } from "../src/backfill.js";
import { checkConsistency } from "../src/check.js";
import type { Note } from "../src/cluster.js";
import { createTestClusters, type TestClusters } from "./databases.js";

/** `storage-cluster` (a six-stage migration flag) with one user targeted at each stage; everyone else on the fallthrough, `off`. */
function flags(): FlagDocument {
  return {
    flags: {
      "storage-cluster": {
        key: "storage-cluster",
        on: true,
        version: 1,
        variations: ["off", "dualwrite", "shadow", "live", "rampdown", "complete"],
        offVariation: 0,
        targets: [
          { variation: 0, values: ["olga"] },
          { variation: 1, values: ["dana"] },
          { variation: 2, values: ["sam"] },
          { variation: 3, values: ["liv"] },
          { variation: 4, values: ["ramon"] },
          { variation: 5, values: ["nina"] },
        ],
        fallthrough: { variation: 0 },
        salt: "storage-cluster",
        migration: { checkRatio: 1 },
      },
    },
  };
}

let db: TestClusters;
let app: ReturnType<typeof buildApp>;
const warnings: string[] = [];

beforeAll(async () => {
  db = await createTestClusters("app");
});
afterAll(async () => {
  await app?.locals.detour.close();
  await db?.drop();
});
beforeEach(async () => {
  await app?.locals.detour.close();
  await db.old.pool.query("TRUNCATE notes");
  await db.new.pool.query("TRUNCATE notes");
  warnings.length = 0;
  app = buildApp({ store: flags(), clusters: { old: db.old, new: db.new }, log: (message) => warnings.push(message) });
});

const post = (user: string, text: string) => request(app).post("/api/notes").set("x-user", user).send({ text });
const list = (user: string) => request(app).get("/api/notes").set("x-user", user);
const ids = (notes: readonly Note[]) => notes.map((note) => note.id);

function note(user: string, text: string, version = 1): Note {
  const at = new Date().toISOString();
  return { id: crypto.randomUUID(), user, text, version, createdAt: at, updatedAt: at };
}

describe("routing by the storage-cluster flag", () => {
  it("off: reads and writes the old cluster only", async () => {
    const created = await post("olga", "hello").expect(201);
    expect(created.headers["storage-cluster"]).toBe("off");
    expect(ids(await db.old.list("olga"))).toEqual([created.body.id]);
    expect(await db.new.list("olga")).toEqual([]);
    expect((await list("olga").expect(200)).body.notes).toEqual([created.body]);
  });

  it("dualwrite: writes both, reads old only", async () => {
    const created = await post("dana", "hello").expect(201);
    expect(created.headers["storage-cluster"]).toBe("dualwrite");
    expect(await db.old.list("dana")).toEqual([created.body]);
    expect(await db.new.list("dana")).toEqual([created.body]);
    await db.new.put(note("dana", "only in new"));
    expect((await list("dana")).body.notes).toEqual([created.body]);
    expect(app.locals.storage.stats).toMatchObject({ verified: 0 });
  });

  it("shadow: writes both, reads old, compared with new", async () => {
    const created = await post("sam", "hello").expect(201);
    expect(created.headers["storage-cluster"]).toBe("shadow");
    expect(await db.new.list("sam")).toEqual([created.body]);
    expect((await list("sam")).body.notes).toEqual([created.body]);
    expect(app.locals.storage.stats).toMatchObject({ verified: 1, mismatches: 0 });
    await db.new.put(note("sam", "only in new"));
    expect((await list("sam")).body.notes).toEqual([created.body]);
    expect(app.locals.storage.stats).toMatchObject({ verified: 2, mismatches: 1, mismatchedUsers: ["sam"] });
    expect(warnings).toEqual([expect.stringContaining("sam: old and new differ (shadow)")]);
  });

  it("live: writes both, reads new, compared with old", async () => {
    const created = await post("liv", "hello").expect(201);
    expect(created.headers["storage-cluster"]).toBe("live");
    expect(await db.old.list("liv")).toEqual([created.body]);
    expect(await db.new.list("liv")).toEqual([created.body]);
    await db.old.put(note("liv", "only in old"));
    expect((await list("liv")).body.notes).toEqual([created.body]);
    expect(app.locals.storage.stats).toMatchObject({ verified: 1, mismatches: 1, mismatchedUsers: ["liv"] });
    expect((await request(app).get("/migration/stats").expect(200)).body).toMatchObject({ mismatches: 1 });
  });

  it("rampdown: writes both, reads new only", async () => {
    const created = await post("ramon", "hello").expect(201);
    expect(created.headers["storage-cluster"]).toBe("rampdown");
    expect(await db.old.list("ramon")).toEqual([created.body]);
    await db.old.put(note("ramon", "only in old"));
    expect((await list("ramon")).body.notes).toEqual([created.body]);
    expect(app.locals.storage.stats).toMatchObject({ verified: 0 });
  });

  it("complete: reads and writes the new cluster only", async () => {
    const created = await post("nina", "hello").expect(201);
    expect(created.headers["storage-cluster"]).toBe("complete");
    expect(await db.old.list("nina")).toEqual([]);
    expect(await db.new.list("nina")).toEqual([created.body]);
  });

  it("falls back to off when the flag is missing, and says why in /api/storage", async () => {
    await app.locals.detour.close();
    app = buildApp({ store: {}, clusters: { old: db.old, new: db.new } });
    const answer = await request(app).get("/api/storage").set("x-user", "liv").expect(200);
    expect(answer.body).toEqual({ user: "liv", cluster: "off", reason: { kind: "ERROR", errorKind: "FLAG_NOT_FOUND" } });
    expect((await request(app).get("/api/storage").set("x-user", "nina")).body).toMatchObject({ cluster: "off" });
  });

  it("a write whose authority fails is a 500; one whose copy fails is counted, not failed", async () => {
    const broken = { ...db.new, put: async () => Promise.reject(new Error("new cluster is down")) };
    await app.locals.detour.close();
    app = buildApp({ store: flags(), clusters: { old: db.old, new: broken }, log: (message) => warnings.push(message) });
    const created = await post("dana", "copied?").expect(201);
    expect(app.locals.storage.stats.copyErrors).toBe(1);
    expect(await db.old.list("dana")).toEqual([created.body]);
    await post("nina", "lost?").expect(500);
    expect(warnings.some((line) => line.includes("copy to new for dana failed: new cluster is down"))).toBe(true);
  });

  it("updates are a compare-and-set on the authority, copied with their version", async () => {
    const created = (await post("dana", "v1").expect(201)).body as Note;
    const updated = await request(app).put(`/api/notes/${created.id}`).set("x-user", "dana").send({ text: "v2", version: 1 }).expect(200);
    expect(updated.body).toMatchObject({ id: created.id, text: "v2", version: 2 });
    expect(await db.new.list("dana")).toEqual(await db.old.list("dana"));

    const stale = await request(app).put(`/api/notes/${created.id}`).set("x-user", "dana").send({ text: "v2 again", version: 1 }).expect(409);
    expect(stale.body).toMatchObject({ status: 409, version: 2 });
    await request(app).put(`/api/notes/${created.id}`).set("x-user", "olga").send({ text: "not mine", version: 2 }).expect(404);
    await request(app).put(`/api/notes/${crypto.randomUUID()}`).set("x-user", "dana").send({ text: "x", version: 1 }).expect(404);
    await request(app).put(`/api/notes/${created.id}`).set("x-user", "dana").send({ text: "x" }).expect(400);
    await request(app).post("/api/notes").set("x-user", "dana").set("content-type", "application/json").send("{").expect(400);
    await request(app).get("/api/notes").expect(401);

    // A copy that arrives late never replaces a newer note.
    expect(await db.new.put({ ...created, text: "late copy" })).toBe(false);
    expect((await db.new.list("dana"))[0]).toMatchObject({ text: "v2", version: 2 });
  });

  it("refuses the writes of a user in the backfill (read-only), not their reads, nor other users' writes", async () => {
    await app.locals.detour.enable(BACKFILL_FLAG, { users: ["dana"] });
    const refused = await post("dana", "during the copy").set("accept", "application/json").expect(503);
    expect(refused.headers["detour-mode"]).toBe("read-only");
    expect(refused.body).toMatchObject({ status: 503, mode: "read-only", scope: "user" });
    await list("dana").expect(200);
    await post("olga", "someone else").expect(201);
    expect(await db.old.list("dana")).toEqual([]);
  });
});

describe("backfill and check", () => {
  it("copies a user idempotently, never over a newer note, and fails when the target has notes the source lacks", async () => {
    const first = note("u1", "one");
    const second = note("u1", "two", 3);
    await db.old.put(first);
    await db.old.put(second);
    await db.new.put({ ...second, text: "newer", version: 4 });

    const run = await backfillUser({ from: db.old, to: db.new, user: "u1", settleMs: 0, attempts: 1 });
    expect(run).toMatchObject({ identical: false, notes: 2, written: 1 });
    expect(run.difference).toContain(`${second.id} is v3 in old, v4 in new`);

    await db.old.put({ ...second, text: "newer", version: 4 });
    expect(await backfillUser({ from: db.old, to: db.new, user: "u1", settleMs: 0 })).toMatchObject({ identical: true, written: 0, attempts: 1 });

    await db.new.put(note("u1", "only in new"));
    expect(await backfillUser({ from: db.old, to: db.new, user: "u1", settleMs: 0, attempts: 2 })).toMatchObject({
      identical: false,
      attempts: 2,
      difference: "1 only in new",
    });
    // The other way round repairs it.
    expect(await backfillUser({ from: db.new, to: db.old, user: "u1", settleMs: 0 })).toMatchObject({ identical: true, written: 1 });
  });

  it("reports lost acknowledged writes and users that differ", async () => {
    const kept = note("u1", "kept", 2);
    const behind = note("u2", "acked at v2");
    await db.old.put(kept);
    await db.new.put(kept);
    await db.old.put(behind);
    const journal = [
      { at: kept.createdAt, user: "u1", id: kept.id, version: 2, text: "kept", cluster: "dualwrite" },
      { at: behind.createdAt, user: "u2", id: behind.id, version: 2, text: "acked at v2", cluster: "old" },
    ];
    const report = await checkConsistency({ clusters: db, users: ["u1", "u2"], journal, recheckMs: 1 });
    expect(report.ok).toBe(false);
    expect(report.lost).toEqual([
      { user: "u2", id: behind.id, version: 2, cluster: "old", found: 'v1 "acked at v2"' },
      { user: "u2", id: behind.id, version: 2, cluster: "new", found: "nothing" },
    ]);
    expect(report.differing).toEqual([{ user: "u2", difference: "1 only in old" }]);
    expect((await checkConsistency({ clusters: db, users: ["u1"], journal: journal.slice(0, 1) })).ok).toBe(true);
  });

  it("reads a differing user again, so a write between its two stores is not reported", async () => {
    const inFlight = note("u3", "written to old, on its way to new");
    await db.old.put(inFlight);
    const copy = new Promise((resolve) => setTimeout(resolve, 50)).then(() => db.new.put(inFlight));
    const report = await checkConsistency({ clusters: db, users: ["u3"], journal: [], recheckMs: 100 });
    await copy;
    expect(report).toMatchObject({ ok: true, differing: [], notes: { old: 1, new: 0 } });
  });
});
