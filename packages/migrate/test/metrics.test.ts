import { createDetour, memoryStore } from "@detour/core";
import { describe, expect, it } from "vitest";
import { createMigration, MIGRATION_STAGES, MigrationRecorder, migrationMetrics, quantile, summarize, type MigrationStage } from "../src/index.js";
import type { OpRecord } from "../src/op-record.js";

function op(flag: string, stage: MigrationStage, figures: { old?: number; new?: number; failed?: ("old" | "new")[]; consistent?: boolean; checkThrew?: boolean }): OpRecord {
  return {
    flagKey: flag,
    operation: "read",
    evaluation: { stage } as OpRecord["evaluation"],
    invoked: { old: figures.old !== undefined, new: figures.new !== undefined },
    errors: { old: figures.failed?.includes("old") ?? false, new: figures.failed?.includes("new") ?? false },
    latency: { old: figures.old ?? Number.NaN, new: figures.new ?? Number.NaN },
    consistent: figures.consistent,
    checkThrew: figures.checkThrew ?? false,
  } as OpRecord;
}

describe("migration metrics", () => {
  it("summarizes per flag, stage and origin: error rate, consistency rate, p50 and p99", () => {
    const recorder = new MigrationRecorder(() => 1_000_000);
    for (let i = 1; i <= 100; i++) recorder.record(op("m", "shadow", { old: i, new: 2 * i, failed: i % 10 === 0 ? ["new"] : [], consistent: i % 4 !== 0 }));
    recorder.record(op("m", "shadow", { old: 1, new: 1, checkThrew: true }));
    const [flag] = recorder.summary().flags;
    expect(flag!.flag).toBe("m");
    const shadow = flag!.stages[0]!;
    expect(shadow.checks).toEqual({ consistent: 75, inconsistent: 25, checkErrors: 1, consistencyRate: 0.75 });
    const [newer, older] = shadow.origins;
    expect(newer).toMatchObject({ origin: "new", invocations: 101, errors: 10 });
    expect(older).toMatchObject({ origin: "old", invocations: 101, errors: 0, errorRate: 0 });
    // Log buckets 4.5 % wide: the quantile is the bucket's upper bound, within 4.5 % above the exact one.
    expect(older!.p50Ms).toBeGreaterThanOrEqual(50);
    expect(older!.p50Ms).toBeLessThanOrEqual(50 * 1.046);
    expect(older!.p99Ms).toBeGreaterThanOrEqual(99);
    expect(older!.p99Ms).toBeLessThanOrEqual(99 * 1.046);
    expect(newer!.p99Ms).toBeGreaterThanOrEqual(198);
  });

  it("keeps the last minutes only, and adds many instances' windows together", () => {
    let now = 0;
    const a = new MigrationRecorder(() => now);
    const b = new MigrationRecorder(() => now);
    a.record(op("m", "live", { old: 5, new: 5, failed: ["old"] }));
    now = 10 * 60_000;
    a.record(op("m", "live", { old: 5, new: 1 }));
    b.record(op("m", "live", { old: 5, new: 3, failed: ["new"] }));
    expect(a.summary(5).flags[0]!.stages[0]!.origins.find((o) => o.origin === "old")).toMatchObject({ invocations: 1, errors: 0 });
    const merged = summarize([...a.window(5), ...b.window(5)], 5, 2);
    const origins = merged.flags[0]!.stages[0]!.origins;
    expect(merged.instances).toBe(2);
    expect(origins.find((o) => o.origin === "new")).toMatchObject({ invocations: 2, errors: 1, errorRate: 0.5 });
    expect(a.window(15).length).toBe(2);
  });

  it("counts totals per operation for Prometheus, and tells listeners of each operation", async () => {
    const detour = createDetour({ store: memoryStore({ flags: { m: { key: "m", on: true, variations: [...MIGRATION_STAGES], fallthrough: { variation: 1 } } } }) });
    await detour.ready;
    const seen: string[] = [];
    const metrics = migrationMetrics(detour);
    metrics.subscribe((record) => seen.push(`${record.flagKey}:${record.evaluation.stage}:${record.operation}`));
    const notes = createMigration(detour, { readOld: () => 1, readNew: () => 1, writeOld: () => 1, writeNew: () => migrationFailure() });
    await notes.write("m", { key: "u" }, "off");
    await notes.read("m", { key: "u" }, "off");
    expect(seen).toEqual(["m:dualwrite:write", "m:dualwrite:read"]);
    const totals = metrics.originTotals().map((t) => [t.operation, t.origin, t.invocations, t.errors, t.latencyBuckets.at(-1)]);
    expect(totals).toEqual([
      ["read", "old", 1, 0, 1],
      ["write", "old", 1, 0, 1],
      ["write", "new", 1, 1, 1],
    ]);
    expect(migrationMetrics(detour)).toBe(metrics);
    await detour.store.close();
  });

  it("quantile of an empty histogram is null", () => {
    expect(quantile({}, 0.5)).toBeNull();
  });
});

function migrationFailure(): never {
  throw new Error("new cluster refused the write");
}
