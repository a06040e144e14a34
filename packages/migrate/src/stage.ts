import type { Detour, EvaluationContext, EvaluationReason } from "@detour/core";
import { isMigrationStage, MigrationStageError, type MigrationStage } from "./stages.js";

/** A request's decision (`req.detour`, `ctx.state.detour`, `request.detour`): its flags evaluate on the request's snapshot. */
export interface RequestFlags {
  readonly context: EvaluationContext;
  explain(flagKey: string): { value: unknown; variationIndex: number | null; reason: EvaluationReason };
}

/** Whom the migration runs for: an evaluation context, or a request's `detour` decision. */
export type MigrationContext = EvaluationContext | RequestFlags;

export type StageReason = EvaluationReason | { readonly kind: "ERROR"; readonly errorKind: "WRONG_TYPE" };

/** The stage a context is on, with what LaunchDarkly's `migrationVariation` also reports. */
export interface StageEvaluation {
  stage: MigrationStage;
  defaultStage: MigrationStage;
  reason: StageReason;
  variation: number | undefined;
  version: number | undefined;
  /** The flag's `migration.checkRatio` (undefined: every read is checked). */
  checkRatio: number | undefined;
  samplingRatio: number | undefined;
  context: EvaluationContext;
}

const WRONG_TYPE: StageReason = Object.freeze({ kind: "ERROR", errorKind: "WRONG_TYPE" });

function isRequestFlags(context: MigrationContext): context is RequestFlags {
  return typeof (context as Partial<RequestFlags>).explain === "function" && typeof context.context === "object";
}

/**
 * The stage is the flag's variation; a missing flag, an off flag without an
 * off variation, or a value that is not a stage gives `defaultStage`, as in
 * LaunchDarkly (which reports WRONG_TYPE for the last).
 */
export function evaluateStage(detour: Detour<never>, flagKey: string, context: MigrationContext, defaultStage: unknown): StageEvaluation {
  if (!isMigrationStage(defaultStage)) throw new MigrationStageError(defaultStage);
  const request = isRequestFlags(context);
  const result = request ? context.explain(flagKey) : detour.explain(flagKey, context);
  const flag = detour.store.snapshot()?.definition(flagKey);
  const migration = flag?.migration as { checkRatio?: number } | undefined;
  const valid = isMigrationStage(result.value);
  // One literal of one shape (not a spread of a shared base): this runs on every operation.
  return {
    stage: valid ? (result.value as MigrationStage) : defaultStage,
    defaultStage,
    reason: valid || result.value === null ? result.reason : WRONG_TYPE,
    variation: valid ? (result.variationIndex ?? undefined) : undefined,
    version: flag?.version,
    checkRatio: migration?.checkRatio ?? undefined,
    samplingRatio: typeof flag?.samplingRatio === "number" ? flag.samplingRatio : undefined,
    context: request ? context.context : context,
  };
}
