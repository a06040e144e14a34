import type { EvaluationContext } from "@detour/core";
import type { MigrationOrigin } from "./results.js";
import type { StageEvaluation, StageReason } from "./stage.js";
import type { MigrationStage } from "./stages.js";

export type MigrationOperation = "read" | "write";

/** One measurement of a `migration_op` event, as LaunchDarkly sends it. */
export type MigrationMeasurement =
  | { key: "invoked"; values: { old?: true; new?: true } }
  | { key: "consistent"; value: boolean; samplingRatio: number }
  | { key: "latency_ms"; values: { old?: number; new?: number } }
  | { key: "error"; values: { old?: true; new?: true } };

/**
 * One operation's record, with LaunchDarkly's `migration_op` event fields
 * (`contextKeys` in place of the whole context). `checkError` is Detour's:
 * what a `check` threw (LaunchDarkly only logs it; the event then has no
 * `consistent` measurement).
 */
export interface MigrationOpEvent {
  kind: "migration_op";
  operation: MigrationOperation;
  creationDate: number;
  contextKeys: Record<string, string>;
  evaluation: {
    key: string;
    value: MigrationStage;
    default: MigrationStage;
    reason: StageReason;
    variation?: number;
    version?: number;
  };
  measurements: MigrationMeasurement[];
  samplingRatio: number;
  checkError?: unknown;
}

/** What one operation did, filled in as it runs; the event and the metrics are built from it. */
export class OpRecord {
  readonly flagKey: string;
  readonly evaluation: StageEvaluation;
  operation: MigrationOperation = "read";
  readonly invoked = { old: false, new: false };
  readonly errors = { old: false, new: false };
  readonly latency = { old: Number.NaN, new: Number.NaN };
  /** undefined: not checked. */
  consistent: boolean | undefined;
  checkError: unknown;
  checkThrew = false;

  constructor(flagKey: string, evaluation: StageEvaluation) {
    this.flagKey = flagKey;
    this.evaluation = evaluation;
  }

  toEvent(): MigrationOpEvent {
    const { evaluation: e } = this;
    const measurements: MigrationMeasurement[] = [{ key: "invoked", values: flags(this.invoked) }];
    if (this.consistent !== undefined) measurements.push({ key: "consistent", value: this.consistent, samplingRatio: e.checkRatio ?? 1 });
    const latency: { old?: number; new?: number } = {};
    if (!Number.isNaN(this.latency.new)) latency.new = this.latency.new;
    if (!Number.isNaN(this.latency.old)) latency.old = this.latency.old;
    if (latency.old !== undefined || latency.new !== undefined) measurements.push({ key: "latency_ms", values: latency });
    if (this.errors.old || this.errors.new) measurements.push({ key: "error", values: flags(this.errors) });
    const event: MigrationOpEvent = {
      kind: "migration_op",
      operation: this.operation,
      creationDate: Date.now(),
      contextKeys: contextKeys(e.context),
      evaluation: { key: this.flagKey, value: e.stage, default: e.defaultStage, reason: e.reason },
      measurements,
      samplingRatio: e.samplingRatio ?? 1,
    };
    if (e.variation !== undefined) event.evaluation.variation = e.variation;
    if (e.version !== undefined) event.evaluation.version = e.version;
    if (this.checkThrew) event.checkError = this.checkError;
    return event;
  }
}

function flags(set: { old: boolean; new: boolean }): { old?: true; new?: true } {
  const values: { old?: true; new?: true } = {};
  if (set.old) values.old = true;
  if (set.new) values.new = true;
  return values;
}

/** `{ kind: key }` for each kind of the context (a legacy flat user is kind `user`). */
export function contextKeys(context: EvaluationContext): Record<string, string> {
  const kind = context.kind;
  if (kind !== "multi") return { [typeof kind === "string" ? kind : "user"]: String(context.key) };
  const keys: Record<string, string> = {};
  for (const [name, part] of Object.entries(context)) {
    if (name !== "kind" && typeof part === "object" && part !== null && "key" in part) keys[name] = String((part as { key: unknown }).key);
  }
  return keys;
}
