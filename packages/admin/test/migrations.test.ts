import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createDetour, fileStore, type DetourRequest, type Flag } from "@detour/core";
import { createMigration, MIGRATION_STAGES, migrationMetrics, type MigrationStage } from "@detour/migrate";
import { describe, expect, it } from "vitest";
import { bearerToken, createAdmin } from "../src/index.js";
import { call, onCleanup, openStream, parse, TOKEN } from "./helpers.js";

function stageFlag(key: string, stage: MigrationStage): Flag {
  return { key, on: true, variations: [...MIGRATION_STAGES], fallthrough: { variation: MIGRATION_STAGES.indexOf(stage) }, migration: { checkRatio: 1 } };
}

async function setupWithMigrations(options: { metrics?: boolean } = {}) {
  const dir = await mkdtemp(join(tmpdir(), "detour-admin-migrations-"));
  onCleanup(() => rm(dir, { recursive: true, force: true }));
  const detour = createDetour<DetourRequest>({ store: fileStore(join(dir, "detour.json"), { create: true, debounceMs: 10 }) });
  onCleanup(() => detour.close());
  await detour.ready;
  await detour.replace({ flags: { storage: stageFlag("storage", "shadow") } });
  const admin = createAdmin({ detour, auth: (req) => (bearerToken(req, TOKEN) ? "admin:test" : null), heartbeatMs: 60_000, migrations: migrationMetrics(detour), ...options });
  onCleanup(() => admin.close());
  let failNew = false;
  const notes = createMigration(detour, {
    readOld: (id: number) => ({ id, v: 1 }),
    readNew: (id: number) => {
      if (failNew) throw new Error("new cluster down");
      return { id, v: id % 2 ? 1 : 2 };
    },
    writeOld: () => 1,
    writeNew: () => 1,
    check: (a: { v: number }, b: { v: number }) => a.v === b.v,
  });
  return { admin, detour, notes, failNew: (value: boolean) => (failNew = value) };
}

describe("migrations in the admin", () => {
  it("serves Prometheus counters and a latency histogram per flag, stage, operation and origin, and consistency checks", async () => {
    const { admin, notes } = await setupWithMigrations({ metrics: true });
    for (let id = 0; id < 4; id++) await notes.read("storage", { key: `u${id}` }, "off", id);
    await notes.write("storage", { key: "u0" }, "off", 0);
    const body = (await call(admin, { path: "metrics" })).body!;
    expect(body).toContain('detour_migration_operations_total{flag="storage",stage="shadow",operation="read",origin="old"} 4');
    expect(body).toContain('detour_migration_operations_total{flag="storage",stage="shadow",operation="read",origin="new"} 4');
    expect(body).toContain('detour_migration_operations_total{flag="storage",stage="shadow",operation="write",origin="new"} 1');
    expect(body).toContain('detour_migration_consistency_checks_total{flag="storage",stage="shadow",result="consistent"} 2');
    expect(body).toContain('detour_migration_consistency_checks_total{flag="storage",stage="shadow",result="inconsistent"} 2');
    expect(body).toMatch(/^detour_migration_latency_seconds_count\{flag="storage",stage="shadow",operation="read",origin="old"\} 4$/m);
    expect(body).toMatch(/^detour_migration_latency_seconds_bucket\{le="\+Inf",flag="storage",stage="shadow",operation="read",origin="new"\} 4$/m);
  });

  it("answers GET /api/migrations with the live figures, and refuses a bad window", async () => {
    const { admin, notes, failNew } = await setupWithMigrations();
    await notes.read("storage", { key: "a" }, "off", 1);
    failNew(true);
    await notes.read("storage", { key: "b" }, "off", 1);
    const summary = parse(await call(admin, { path: "api/migrations?minutes=2" }));
    expect(summary.minutes).toBe(2);
    const shadow = summary.flags[0].stages[0];
    expect(shadow.stage).toBe("shadow");
    expect(shadow.origins.map((o: { origin: string; errorRate: number }) => [o.origin, o.errorRate])).toEqual([["new", 0.5], ["old", 0]]);
    expect(shadow.checks).toMatchObject({ consistent: 1, inconsistent: 0, consistencyRate: 1 });
    expect((await call(admin, { path: "api/migrations?minutes=60" })).status).toBe(400);
    expect((await call(admin, { path: "api/migrations", anonymous: true })).status).toBe(401);
  });

  it("pushes the figures over the event stream when operations happen", async () => {
    const { admin, notes } = await setupWithMigrations();
    const stream = openStream(await call(admin, { path: "api/events" }));
    await stream.until(() => stream.events().some((e) => e.event === "migrations"));
    expect(stream.events().find((e) => e.event === "migrations")!.data.flags).toEqual([]);
    await notes.read("storage", { key: "a" }, "off", 1);
    await stream.until(() => stream.events().filter((e) => e.event === "migrations").length >= 2);
    const last = stream.events().filter((e) => e.event === "migrations").at(-1)!.data;
    expect(last.flags[0].flag).toBe("storage");
  });

  it("refuses a migrations option that is not migrationMetrics()", async () => {
    const detour = createDetour<DetourRequest>({ store: { flags: {} } });
    onCleanup(() => detour.close());
    expect(() => createAdmin({ detour, auth: () => "x", migrations: {} as never })).toThrow(/^migrations: expected migrationMetrics\(detour\) from @detour\/migrate$/);
  });
});
