import { ArgumentError } from "@detour/core";

/** LaunchDarkly's migration stages, in the order a migration moves through them. */
export const MIGRATION_STAGES = ["off", "dualwrite", "shadow", "live", "rampdown", "complete"] as const;

export type MigrationStage = (typeof MIGRATION_STAGES)[number];

const STAGE_SET: ReadonlySet<unknown> = new Set(MIGRATION_STAGES);

export function isMigrationStage(value: unknown): value is MigrationStage {
  return STAGE_SET.has(value);
}

/** `read()`/`write()` was given a `defaultStage` that is not one of the six stages; no method ran. */
export class MigrationStageError extends ArgumentError {
  readonly stage: unknown;

  constructor(stage: unknown) {
    super("defaultStage", `${describe(stage)} is not a migration stage; expected one of ${MIGRATION_STAGES.join(", ")}`);
    this.stage = stage;
  }
}

function describe(value: unknown): string {
  return typeof value === "string" ? JSON.stringify(value) : value === null ? "null" : typeof value;
}
