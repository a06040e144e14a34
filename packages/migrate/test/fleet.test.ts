import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createDetour, fileStore, OptionsError, type Flag } from "@detour/core";
import { afterEach, describe, expect, it } from "vitest";
import { createMigration, fleetSummary, MIGRATION_STAGES, shareMigrationFigures, type MigrationFleet } from "../src/index.js";

const cleanups: (() => Promise<unknown>)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

const flag: Flag = { key: "storage", on: true, variations: [...MIGRATION_STAGES], fallthrough: { variation: 2 }, migration: { checkRatio: 1 } };

/** One app instance: its own Detour on the shared flag file, its figures shared through the figures file. */
async function instance(dir: string, name: string, newFails: boolean) {
  const detour = createDetour({ store: fileStore(join(dir, "flags.json"), { create: true }) });
  const figures = fileStore(join(dir, "figures.json"), { create: true });
  await detour.ready;
  await figures.load();
  const fleet = shareMigrationFigures(detour, { store: figures, instance: name, intervalMs: 60_000 });
  cleanups.push(async () => {
    await fleet.close();
    await figures.close();
    await detour.close();
  });
  const notes = createMigration(detour, {
    readOld: () => 1,
    readNew: () => {
      if (newFails) throw new Error("down");
      return 1;
    },
    writeOld: () => 1,
    writeNew: () => 1,
    check: (a, b) => a === b,
  });
  return { detour, fleet, notes, figures };
}

describe("migration figures shared through a store", () => {
  it("adds up the instances' figures: each instance sees the fleet, and so does a reader of the store", async () => {
    const dir = await mkdtemp(join(tmpdir(), "detour-fleet-"));
    cleanups.push(() => rm(dir, { recursive: true, force: true }));
    const writer = createDetour({ store: fileStore(join(dir, "flags.json"), { create: true }) });
    await writer.ready;
    await writer.replace({ flags: { storage: flag } });
    await writer.close();

    const a = await instance(dir, "a", false);
    const b = await instance(dir, "b", true);
    await expect.poll(() => a.detour.document()?.flags?.storage?.key).toBe("storage");
    await expect.poll(() => b.detour.document()?.flags?.storage?.key).toBe("storage");
    for (let i = 0; i < 3; i++) await a.notes.read("storage", { key: `u${i}` }, "off");
    await b.notes.read("storage", { key: "v" }, "off");
    await a.fleet.publish();
    await b.fleet.publish();

    const shadowOf = (fleet: MigrationFleet | null, store = a.figures) => (fleet ? fleet.summary(5) : fleetSummary(store, 5));
    await expect.poll(() => shadowOf(a.fleet).instances).toBe(2);
    for (const summary of [shadowOf(a.fleet), shadowOf(null)]) {
      expect(summary.instances).toBe(2);
      const stage = summary.flags[0]!.stages[0]!;
      expect(stage.stage).toBe("shadow");
      expect(stage.origins.find((o) => o.origin === "new")).toMatchObject({ invocations: 4, errors: 1, errorRate: 0.25 });
      expect(stage.checks).toMatchObject({ consistent: 3, consistencyRate: 1 });
    }
    // An instance that closes takes its figures away.
    await b.fleet.close();
    await expect.poll(() => fleetSummary(a.figures, 5).instances).toBe(1);
  });

  it("refuses a missing store", async () => {
    const detour = createDetour({ store: { flags: {} } });
    cleanups.push(() => detour.close());
    expect(() => shareMigrationFigures(detour, {} as never)).toThrow(OptionsError);
  });
});
