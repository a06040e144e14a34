import type { MigrationOrigin } from "../results.js";
import { MIGRATION_STAGES, type MigrationStage } from "../stages.js";
import { mergeInto, quantile, type SparseHistogram } from "./histogram.js";
import type { WindowSlot } from "./recorder.js";

export interface OriginSummary {
  origin: MigrationOrigin;
  invocations: number;
  errors: number;
  /** errors ÷ invocations, null without invocations. */
  errorRate: number | null;
  p50Ms: number | null;
  p99Ms: number | null;
}

export interface StageSummary {
  stage: MigrationStage;
  origins: OriginSummary[];
  checks: { consistent: number; inconsistent: number; checkErrors: number; consistencyRate: number | null };
}

/** The live figures of the last minutes, per flag, stage and origin (the console's Migrations panel). */
export interface MigrationSummary {
  /** Minutes covered, the current one included. */
  minutes: number;
  /** Instances whose slots were added together (1 for one process). */
  instances: number;
  flags: Array<{ flag: string; stages: StageSummary[] }>;
}

/**
 * Adds slots together (of one instance's minutes, or of many instances'
 * windows) and summarizes them. Slots merge by adding counts, histograms
 * bucket by bucket, so p50/p99 of many instances are those of all their
 * operations together, not an average of percentiles.
 */
export function summarize(slots: readonly WindowSlot[], minutes: number, instances = 1): MigrationSummary {
  const origins = new Map<string, { invocations: number; errors: number; latency: SparseHistogram }>();
  const checks = new Map<string, { consistent: number; inconsistent: number; checkErrors: number }>();
  for (const slot of slots) {
    for (const [key, figures] of Object.entries(slot.origins)) {
      let sum = origins.get(key);
      if (!sum) origins.set(key, (sum = { invocations: 0, errors: 0, latency: {} }));
      sum.invocations += figures.invocations;
      sum.errors += figures.errors;
      mergeInto(sum.latency, figures.latency);
    }
    for (const [key, figures] of Object.entries(slot.checks)) {
      let sum = checks.get(key);
      if (!sum) checks.set(key, (sum = { consistent: 0, inconsistent: 0, checkErrors: 0 }));
      sum.consistent += figures.consistent;
      sum.inconsistent += figures.inconsistent;
      sum.checkErrors += figures.checkErrors;
    }
  }
  const byFlag = new Map<string, Map<MigrationStage, StageSummary>>();
  const stageOf = (flag: string, stage: MigrationStage): StageSummary => {
    let stages = byFlag.get(flag);
    if (!stages) byFlag.set(flag, (stages = new Map()));
    let summary = stages.get(stage);
    if (!summary) stages.set(stage, (summary = { stage, origins: [], checks: { consistent: 0, inconsistent: 0, checkErrors: 0, consistencyRate: null } }));
    return summary;
  };
  for (const [key, sum] of origins) {
    const [flag, stage, origin] = key.split("\u0000") as [string, MigrationStage, MigrationOrigin];
    stageOf(flag, stage).origins.push({
      origin,
      invocations: sum.invocations,
      errors: sum.errors,
      errorRate: sum.invocations ? sum.errors / sum.invocations : null,
      p50Ms: quantile(sum.latency, 0.5),
      p99Ms: quantile(sum.latency, 0.99),
    });
  }
  for (const [key, sum] of checks) {
    const [flag, stage] = key.split("\u0000") as [string, MigrationStage];
    const checked = sum.consistent + sum.inconsistent;
    stageOf(flag, stage).checks = { ...sum, consistencyRate: checked ? sum.consistent / checked : null };
  }
  const flags = [...byFlag.entries()]
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([flag, stages]) => ({
      flag,
      stages: [...stages.values()]
        .sort((a, b) => MIGRATION_STAGES.indexOf(a.stage) - MIGRATION_STAGES.indexOf(b.stage))
        .map((s) => ({ ...s, origins: s.origins.sort((a, b) => a.origin.localeCompare(b.origin)) })),
    }));
  return { minutes, instances, flags };
}
