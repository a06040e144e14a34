/**
 * Parity with LaunchDarkly's `createMigration` (@launchdarkly/node-server-sdk,
 * offline on its file data source): the same flag data and the same four
 * methods go through both, and for every operation both must call the same
 * methods in the same order, return the same result, run `check` the same
 * times, and report the same `migration_op` measurements (latency values aside).
 *
 * Covered: every stage, a percentage rollout across all six stages, checkRatio
 * absent, 1, 0 and 3, concurrent, serial and serial-random execution, reads
 * and writes failing on either side (thrown, rejected, migrationError), a
 * check that throws, a flag that is missing, off without an off variation,
 * or serves a value that is not a stage. Both sides draw from the same seeded
 * `Math.random` sequence (reset before each operation), so checkRatio 3 and
 * serial-random are compared draw for draw.
 */
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createDetour, memoryStore, type Flag, type FlagDocument } from "@detour/core";
import {
  createMigration as ldCreateMigration,
  init,
  integrations,
  LDConcurrentExecution,
  LDExecutionOrdering,
  LDMigrationError,
  LDMigrationStage,
  LDMigrationSuccess,
  LDSerialExecution,
  type LDClient,
} from "@launchdarkly/node-server-sdk";
import { seededRandom as seeded } from "@detour/test-support/random";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { createMigration, MIGRATION_STAGES, migrationError, migrationSuccess, type MigrationExecution, type MigrationOpEvent } from "../src/index.js";

const silentLogger = { error() {}, warn() {}, info() {}, debug() {} };
const STAGES = [...MIGRATION_STAGES];

function stageFlag(key: string, fallthrough: Flag["fallthrough"], extra: Partial<Flag> = {}): Flag {
  return { key, on: true, version: 7, salt: key, variations: STAGES, offVariation: 0, fallthrough, ...extra };
}

const flags: Record<string, Flag> = {
  // Every stage on its own, with every checkRatio form.
  ...Object.fromEntries(STAGES.map((stage, i) => [`fixed-${stage}`, stageFlag(`fixed-${stage}`, { variation: i })])),
  ...Object.fromEntries(
    [1, 0, 3].flatMap((ratio) => ["shadow", "live"].map((stage) => [`ratio${ratio}-${stage}`, stageFlag(`ratio${ratio}-${stage}`, { variation: STAGES.indexOf(stage as never) }, { migration: { checkRatio: ratio } })])),
  ),
  // A rollout across the six stages, and one of checkRatio 3.
  rollout: stageFlag("rollout", { rollout: { variations: STAGES.map((_, i) => ({ variation: i, weight: i < 4 ? 16667 : 16666 })), bucketBy: "key" } }),
  "rollout-ratio3": stageFlag("rollout-ratio3", { rollout: { variations: [{ variation: 2, weight: 50000 }, { variation: 3, weight: 50000 }] } }, { migration: { checkRatio: 3 } }),
  // Targeting: a user on live ahead of everyone.
  targeted: stageFlag("targeted", { variation: 0 }, { targets: [{ variation: 3, values: ["user-3"] }] }),
  // Off with and without an off variation; a value that is not a stage.
  "off-with-variation": stageFlag("off-with-variation", { variation: 3 }, { on: false, offVariation: 4 }),
  "off-no-variation": stageFlag("off-no-variation", { variation: 3 }, { on: false, offVariation: undefined }),
  "not-a-stage": { key: "not-a-stage", on: true, version: 2, variations: ["sideways", "live"], fallthrough: { variation: 0 } },
};
const document: FlagDocument = { flags };
const flagKeys = [...Object.keys(flags), "missing"];

type Failure = "none" | "readOld-throws" | "readNew-rejects" | "readOld-error" | "readNew-throws-sync" | "writeOld-throws" | "writeNew-error" | "writeOld-error" | "writeNew-rejects" | "check-throws" | "inconsistent";
const FAILURES: Failure[] = ["none", "readOld-throws", "readNew-rejects", "readOld-error", "readNew-throws-sync", "writeOld-throws", "writeNew-error", "writeOld-error", "writeNew-rejects", "check-throws", "inconsistent"];

interface Log {
  calls: string[];
  checks: number;
}

/** The four methods and the check, logging what runs; the same code serves both sides (each gets its own result constructors). */
function methods(failure: Failure, log: Log, success: (v: unknown) => unknown, error: (e: Error) => unknown) {
  const method = (name: "readOld" | "readNew" | "writeOld" | "writeNew") => (payload: unknown) => {
    log.calls.push(`${name}(${String(payload)})`);
    if (failure === `${name}-throws-sync`) throw new Error(`${name} threw`);
    return (async () => {
      await Promise.resolve();
      log.calls.push(`${name} done`);
      if (failure === `${name}-throws`) throw new Error(`${name} threw`);
      if (failure === `${name}-rejects`) return Promise.reject(new Error(`${name} rejected`));
      if (failure === `${name}-error`) return error(new Error(`${name} failed`));
      const value = failure === "inconsistent" && name === "readNew" ? "different" : `${name.startsWith("read") ? "value" : name}:${String(payload)}`;
      return success(value);
    })();
  };
  return {
    readOld: method("readOld"),
    readNew: method("readNew"),
    writeOld: method("writeOld"),
    writeNew: method("writeNew"),
    check: (a: unknown, b: unknown) => {
      log.checks++;
      if (failure === "check-throws") throw new Error("check threw");
      return a === b;
    },
  };
}

function ldExecution(execution: MigrationExecution) {
  if (execution === "concurrent") return new LDConcurrentExecution();
  return new LDSerialExecution(execution === "serial" ? LDExecutionOrdering.Fixed : LDExecutionOrdering.Random);
}

/** What both sides are compared on: the result with errors by message, the event without latency values. */
function comparable(result: unknown): unknown {
  return JSON.parse(JSON.stringify(result, (_key, value: unknown) => (value instanceof Error ? `Error: ${value.message}` : value)));
}

function measurements(event: { measurements: Array<{ key: string; values?: Record<string, unknown> }> } | undefined): unknown {
  if (!event) return undefined;
  return event.measurements.map((m) => (m.key === "latency_ms" ? { key: m.key, origins: Object.keys(m.values ?? {}).sort() } : m));
}

const work = mkdtempSync(join(tmpdir(), "detour-migrate-parity-"));
let ld: LDClient;
const detour = createDetour({ store: memoryStore(document) });

beforeAll(async () => {
  const path = join(work, "flags.json");
  writeFileSync(path, JSON.stringify(document));
  ld = init("sdk-migrate-parity", {
    updateProcessor: new integrations.FileDataSourceFactory({ paths: [path] }).getFactory(),
    sendEvents: false,
    diagnosticOptOut: true,
    logger: silentLogger,
  });
  await ld.waitForInitialization({ timeout: 10 });
  await detour.ready;
});

afterAll(async () => {
  ld.close();
  await detour.store.close();
  rmSync(work, { recursive: true, force: true });
});

interface Outcome {
  log: Log;
  result: unknown;
  measurements: unknown;
  evaluation: unknown;
}

async function throughLaunchDarkly(flag: string, user: string, execution: MigrationExecution, failure: Failure, op: "read" | "write", seed: number): Promise<Outcome> {
  const log: Log = { calls: [], checks: 0 };
  const events: MigrationOpEvent[] = [];
  const client = Object.create(ld, { trackMigration: { value: (event: MigrationOpEvent) => events.push(event) } }) as LDClient;
  const migration = ldCreateMigration(client, { ...methods(failure, log, LDMigrationSuccess, LDMigrationError), execution: ldExecution(execution) } as never);
  vi.spyOn(Math, "random").mockImplementation(seeded(seed));
  try {
    const context = { kind: "user", key: user };
    const result = op === "read" ? await migration.read(flag, context, LDMigrationStage.Off, "p") : await migration.write(flag, context, LDMigrationStage.Off, "p");
    const event = events[0] as unknown as { evaluation: { reason: unknown; value: unknown; variation?: number } } | undefined;
    return { log, result: comparable(result), measurements: measurements(events[0]), evaluation: event && { value: event.evaluation.value, variation: event.evaluation.variation, reason: event.evaluation.reason } };
  } finally {
    vi.restoreAllMocks();
  }
}

async function throughDetour(flag: string, user: string, execution: MigrationExecution, failure: Failure, op: "read" | "write", seed: number): Promise<Outcome> {
  const log: Log = { calls: [], checks: 0 };
  const events: MigrationOpEvent[] = [];
  const migration = createMigration(detour, { ...methods(failure, log, migrationSuccess, migrationError), execution, onMigrationOp: (event) => events.push(event) });
  vi.spyOn(Math, "random").mockImplementation(seeded(seed));
  try {
    const context = { kind: "user", key: user };
    const result = op === "read" ? await migration.read(flag, context, LDMigrationStage.Off, "p") : await migration.write(flag, context, LDMigrationStage.Off, "p");
    const event = events[0];
    return { log, result: comparable(result), measurements: measurements(events[0]), evaluation: event && { value: event.evaluation.value, variation: event.evaluation.variation, reason: event.evaluation.reason } };
  } finally {
    vi.restoreAllMocks();
  }
}

const EXECUTIONS: MigrationExecution[] = ["concurrent", "serial", "serial-random"];
const USERS = Array.from({ length: 12 }, (_, i) => `user-${i}`);

describe("@detour/migrate and LaunchDarkly's createMigration on the same flag data", () => {
  for (const op of ["read", "write"] as const) {
    for (const execution of EXECUTIONS) {
      it(`${op}, ${execution}: same methods, order, results, checks and measurements`, async () => {
        let compared = 0;
        let seed = 1;
        const stagesSeen = new Set<unknown>();
        for (const flag of flagKeys) {
          for (const failure of FAILURES) {
            for (const user of USERS) {
              seed++;
              const expected = await throughLaunchDarkly(flag, user, execution, failure, op, seed);
              const actual = await throughDetour(flag, user, execution, failure, op, seed);
              expect(actual, `${flag} ${failure} ${user} seed ${seed}`).toEqual(expected);
              stagesSeen.add((expected.evaluation as { value: unknown } | undefined)?.value);
              compared++;
            }
          }
        }
        expect(compared).toBe(flagKeys.length * FAILURES.length * USERS.length);
        expect([...stagesSeen].sort()).toEqual([...STAGES].sort());
      });
    }
  }

  it("checkRatio 3 samples about one read in three on both sides, and the same reads", async () => {
    const checked = { ld: 0, detour: 0 };
    const N = 600;
    for (let i = 0; i < N; i++) {
      const ldOutcome = await throughLaunchDarkly("ratio3-shadow", `u${i}`, "concurrent", "none", "read", 1000 + i);
      const detourOutcome = await throughDetour("ratio3-shadow", `u${i}`, "concurrent", "none", "read", 1000 + i);
      expect(detourOutcome.log.checks).toBe(ldOutcome.log.checks);
      checked.ld += ldOutcome.log.checks;
      checked.detour += detourOutcome.log.checks;
    }
    // Binomial(600, 1/3): mean 200, sd ~11.5; 150..250 is more than 4 sd either side.
    expect(checked.detour).toBeGreaterThan(150);
    expect(checked.detour).toBeLessThan(250);
  });
});
