import { createDetour, memoryStore, OptionsError, type Detour, type DetourOptions, type DetourRequest, type EvaluationContext, type Flag, type FlagDocument } from "@detour/core";
import { afterEach, describe, expect, it } from "vitest";
import { createMigration, MIGRATION_STAGES, migrationError, migrationSuccess, MigrationStageError, type MigrationOpEvent, type MigrationStage } from "../src/index.js";

function stageFlag(key: string, stage: MigrationStage, extra: Partial<Flag> = {}): Flag {
  return { key, on: true, variations: [...MIGRATION_STAGES], fallthrough: { variation: MIGRATION_STAGES.indexOf(stage) }, ...extra };
}

const detours: Detour<DetourRequest>[] = [];
afterEach(async () => {
  await Promise.all(detours.splice(0).map((d) => d.store.close()));
});

async function detourWith(document: FlagDocument, options: Partial<DetourOptions<DetourRequest>> = {}) {
  const detour = createDetour<DetourRequest>({ ...options, store: memoryStore(document) });
  detours.push(detour);
  await detour.ready;
  return detour;
}

function recording() {
  const calls: string[] = [];
  const make = (name: string, produce: (payload: unknown) => unknown) => (payload: unknown) => {
    calls.push(name);
    return produce(payload);
  };
  return { calls, make };
}

describe("createMigration", () => {
  it("takes plain values as successes and turns synchronous throws and rejections into error results", async () => {
    const detour = await detourWith({ flags: { m: stageFlag("m", "shadow") } });
    const boom = new Error("old is down");
    const notes = createMigration(detour, {
      readOld: () => {
        throw boom;
      },
      readNew: (id) => ({ id, from: "new" }),
      writeOld: async () => Promise.reject("not an Error"),
      writeNew: () => 42,
    });
    const unhandled: unknown[] = [];
    const onUnhandled = (reason: unknown) => unhandled.push(reason);
    process.on("unhandledRejection", onUnhandled);
    try {
      expect(await notes.read("m", { key: "u" }, "off", 7)).toEqual({ success: false, origin: "old", error: boom });
      expect(await notes.write("m", { key: "u" }, "off", {})).toEqual({ authoritative: { success: false, origin: "old", error: "not an Error" } });
      await new Promise((resolve) => setImmediate(resolve));
    } finally {
      process.off("unhandledRejection", onUnhandled);
    }
    expect(unhandled).toEqual([]);
  });

  it("returns the new read in live and writes new first, then old", async () => {
    const detour = await detourWith({ flags: { m: stageFlag("m", "live") } });
    const { calls, make } = recording();
    const notes = createMigration(detour, {
      readOld: make("readOld", () => migrationSuccess("o")),
      readNew: make("readNew", () => migrationSuccess("n")),
      writeOld: make("writeOld", () => "wo"),
      writeNew: make("writeNew", () => "wn"),
      execution: "serial",
    });
    expect(await notes.read("m", { key: "u" }, "off")).toEqual({ success: true, origin: "new", result: "n" });
    expect(await notes.write("m", { key: "u" }, "off")).toEqual({
      authoritative: { success: true, origin: "new", result: "wn" },
      nonAuthoritative: { success: true, origin: "old", result: "wo" },
    });
    expect(calls).toEqual(["readOld", "readNew", "writeNew", "writeOld"]);
  });

  it("skips the non-authoritative write when the authoritative one fails", async () => {
    const detour = await detourWith({ flags: { m: stageFlag("m", "dualwrite") } });
    const { calls, make } = recording();
    const notes = createMigration(detour, {
      readOld: make("readOld", () => 1),
      readNew: make("readNew", () => 1),
      writeOld: make("writeOld", () => migrationError(new Error("full"))),
      writeNew: make("writeNew", () => 1),
    });
    const write = await notes.write("m", { key: "u" }, "off");
    expect(write.nonAuthoritative).toBeUndefined();
    expect(write.authoritative).toMatchObject({ success: false, origin: "old" });
    expect(calls).toEqual(["writeOld"]);
  });

  it("refuses a defaultStage that is not a stage with a named error, before any method runs", async () => {
    const detour = await detourWith({ flags: {} });
    const { calls, make } = recording();
    const notes = createMigration(detour, { readOld: make("readOld", () => 1), readNew: make("readNew", () => 1), writeOld: make("writeOld", () => 1), writeNew: make("writeNew", () => 1) });
    const read = notes.read("missing", { key: "u" }, "sideways" as MigrationStage);
    await expect(read).rejects.toThrow(MigrationStageError);
    await expect(read).rejects.toThrow('defaultStage: "sideways" is not a migration stage; expected one of off, dualwrite, shadow, live, rampdown, complete');
    await expect(notes.write("missing", { key: "u" }, undefined as never)).rejects.toMatchObject({ name: "MigrationStageError", code: "DETOUR_INVALID_ARGUMENT" });
    expect(calls).toEqual([]);
  });

  it("uses defaultStage for a missing flag and for a value that is not a stage", async () => {
    const detour = await detourWith({ flags: { odd: { key: "odd", on: true, variations: ["sideways"], fallthrough: { variation: 0 } } } });
    const events: MigrationOpEvent[] = [];
    const notes = createMigration(detour, { readOld: () => "o", readNew: () => "n", writeOld: () => 1, writeNew: () => 1, onMigrationOp: (e) => events.push(e) });
    expect(await notes.read("missing", { key: "u" }, "complete")).toMatchObject({ origin: "new" });
    expect(await notes.read("odd", { key: "u" }, "rampdown")).toMatchObject({ origin: "new" });
    expect(events.map((e) => [e.evaluation.value, e.evaluation.reason])).toEqual([
      ["complete", { kind: "ERROR", errorKind: "FLAG_NOT_FOUND" }],
      ["rampdown", { kind: "ERROR", errorKind: "WRONG_TYPE" }],
    ]);
  });

  it("routes a request's decision (req.detour) by its own context, so per-user targeting applies", async () => {
    const flag = stageFlag("storage", "off", { targets: [{ variation: 5, values: ["alice"] }] });
    const detour = await detourWith({ flags: { storage: flag } }, { user: (req) => req.headers?.["x-user"] as string | undefined });
    const notes = createMigration(detour, { readOld: () => "old", readNew: () => "new", writeOld: () => 1, writeNew: () => 1 });
    const alice = detour.decide({ method: "GET", path: "/notes", headers: { "x-user": "alice" } });
    const bob = detour.decide({ method: "GET", path: "/notes", headers: { "x-user": "bob" } });
    expect(await notes.read("storage", alice, "off")).toEqual({ success: true, origin: "new", result: "new" });
    expect(await notes.read("storage", bob, "off")).toEqual({ success: true, origin: "old", result: "old" });
  });

  it("reports a check that throws without failing the read, and hook errors never reach the caller", async () => {
    const detour = await detourWith({ flags: { m: stageFlag("m", "shadow") } });
    const events: MigrationOpEvent[] = [];
    const problem = new Error("cannot compare");
    const notes = createMigration(detour, {
      readOld: () => ({ v: 1 }),
      readNew: () => ({ v: 1 }),
      writeOld: () => 1,
      writeNew: () => 1,
      check: () => {
        throw problem;
      },
      onMigrationOp: (e) => {
        events.push(e);
        throw new Error("logger broke");
      },
    });
    expect(await notes.read("m", { kind: "org", key: "acme" }, "off")).toEqual({ success: true, origin: "old", result: { v: 1 } });
    expect(events).toHaveLength(1);
    expect(events[0]).toMatchObject({ kind: "migration_op", operation: "read", contextKeys: { org: "acme" }, checkError: problem });
    expect(events[0]!.measurements.map((m) => m.key)).toEqual(["invoked", "latency_ms"]);
  });

  it("records what ran: invoked origins, errors, consistency, per flag and stage", async () => {
    const detour = await detourWith({ flags: { m: stageFlag("m", "live", { migration: { checkRatio: 1 } }) } });
    const events: MigrationOpEvent[] = [];
    const notes = createMigration(detour, {
      readOld: () => migrationError("old down"),
      readNew: () => "n",
      writeOld: () => 1,
      writeNew: () => 1,
      check: (a, b) => a === b,
      onMigrationOp: (e) => events.push(e),
      latencyTracking: false,
    });
    // A multi-kind context, as LaunchDarkly-shaped callers pass one: the typings only admit flat user contexts.
    await notes.read("m", { kind: "multi", user: { key: "u1" }, org: { key: "o1" } } as unknown as EvaluationContext, "off");
    expect(events[0]).toMatchObject({
      contextKeys: { user: "u1", org: "o1" },
      evaluation: { key: "m", value: "live", default: "off", variation: 3 },
      measurements: [{ key: "invoked", values: { old: true, new: true } }, { key: "error", values: { old: true } }],
    });
  });

  it("refuses options it cannot use, naming them", async () => {
    const detour = await detourWith({ flags: {} });
    const base = { readOld: () => 1, readNew: () => 1, writeOld: () => 1, writeNew: () => 1 };
    expect(() => createMigration(detour, { ...base, writeNew: undefined as never })).toThrow(new OptionsError("writeNew", "expected a function, got undefined"));
    expect(() => createMigration(detour, { ...base, execution: "parallel" as never })).toThrow(/^execution: expected one of concurrent, serial, serial-random, got "parallel"$/);
    expect(() => createMigration(detour, { ...base, check: "yes" as never })).toThrow(/^check: expected a function/);
    expect(() => createMigration(detour, { ...base, latencyTracking: 1 as never })).toThrow(/^latencyTracking: expected true or false/);
  });
});
