import type { Flag } from "@detour/core";
import { isMigrationStage, MIGRATION_STAGES, type MigrationStage } from "@detour/migrate";
import { UsageError } from "../errors.js";

/** LaunchDarkly's migration flag templates: 2 stages (no running both), 4 (both at once), 6 (reads and writes moved apart). */
export const TEMPLATES: Readonly<Record<"2" | "4" | "6", readonly MigrationStage[]>> = {
  "2": ["off", "complete"],
  "4": ["off", "dualwrite", "rampdown", "complete"],
  "6": MIGRATION_STAGES,
};

/** A new migration flag: everyone on the first stage. */
export function migrationFlag(key: string, stages: readonly MigrationStage[], checkRatio: number | undefined): Flag {
  const flag: Flag = { key, on: true, salt: key, variations: [...stages], offVariation: 0, fallthrough: { variation: 0 } };
  if (checkRatio !== undefined) flag.migration = { checkRatio };
  return flag;
}

/**
 * The stages of a migration flag, in variation order; a flag whose variations
 * are not stages in LaunchDarkly's order is refused (cohorts only move
 * forward because rollout slots follow that order).
 */
export function stagesOf(flag: Readonly<Flag>, command: string): MigrationStage[] {
  const variations = flag.variations;
  const bad = variations.find((v) => !isMigrationStage(v));
  if (bad !== undefined) throw new UsageError(`${command}: "${flag.key}" is not a migration flag: its variation ${JSON.stringify(bad)} is not a stage (${MIGRATION_STAGES.join(", ")})`);
  const stages = variations as MigrationStage[];
  for (let i = 1; i < stages.length; i++) {
    if (MIGRATION_STAGES.indexOf(stages[i]!) <= MIGRATION_STAGES.indexOf(stages[i - 1]!)) {
      throw new UsageError(`${command}: "${flag.key}" lists its stages out of order (${stages.join(", ")}); expected them in the order ${MIGRATION_STAGES.join(", ")}`);
    }
  }
  return stages;
}
