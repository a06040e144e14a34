import type { Detour } from "@detour/core";
import type { OpRecord } from "../op-record.js";
import type { MigrationOrigin } from "../results.js";
import { MIGRATION_STAGES, type MigrationStage } from "../stages.js";
import { addTo, type SparseHistogram } from "./histogram.js";
import { summarize, type MigrationSummary } from "./summary.js";

const ORIGINS = ["old", "new"] as const;

/** Prometheus histogram bounds (seconds) of the per-origin latency. */
export const LATENCY_BOUNDS_S = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];
/** One window slot per minute; the last WINDOW_SLOTS minutes are kept for the live figures. */
export const SLOT_MS = 60_000;
export const WINDOW_SLOTS = 15;

/** Totals since start for one flag, stage, operation and origin. */
export interface OriginTotals {
  flag: string;
  stage: MigrationStage;
  operation: "read" | "write";
  origin: MigrationOrigin;
  invocations: number;
  errors: number;
  /** Cumulative counts per LATENCY_BOUNDS_S, then +Inf. */
  latencyBuckets: number[];
  latencySumSeconds: number;
  latencyCount: number;
}

export interface ConsistencyTotals {
  flag: string;
  stage: MigrationStage;
  consistent: number;
  inconsistent: number;
  checkErrors: number;
}

/** One minute of one flag/stage/origin, mergeable across instances. */
export interface SlotFigures {
  invocations: number;
  errors: number;
  latency: SparseHistogram;
}

/** One minute of one flag/stage, mergeable across instances. */
export interface WindowSlot {
  /** Start of the minute (epoch ms). */
  start: number;
  /** `flag\u0000stage\u0000origin` → figures. */
  origins: Record<string, SlotFigures>;
  /** `flag\u0000stage` → checks. */
  checks: Record<string, { consistent: number; inconsistent: number; checkErrors: number }>;
}

/** What a listener learns of each operation. */
export type MigrationOpRecord = Pick<OpRecord, "flagKey" | "operation" | "invoked" | "errors" | "latency" | "consistent" | "checkThrew"> & {
  readonly evaluation: { readonly stage: MigrationStage };
};

export type RecorderListener = (record: MigrationOpRecord) => void;

/**
 * Every migration of one Detour instance records into one recorder: totals
 * (for Prometheus) and per-minute slots of the last minutes (for the console
 * and for aggregation across instances).
 */
/** One flag/stage/operation/origin: its totals, and its figures in the current slot (cached, so that recording builds no key). */
interface Series {
  readonly totals: OriginTotals;
  readonly slotKey: string;
  slotStart: number;
  figures: SlotFigures | undefined;
}

/** One flag/stage: its check totals and its checks in the current slot. */
interface CheckSeries {
  readonly totals: ConsistencyTotals;
  readonly slotKey: string;
  slotStart: number;
  figures: WindowSlot["checks"][string] | undefined;
}

const STAGE_INDEX: Readonly<Record<string, number>> = Object.fromEntries(MIGRATION_STAGES.map((stage, i) => [stage, i]));

/**
 * Every migration of one Detour instance records into one recorder: totals
 * (for Prometheus) and per-minute slots of the last minutes (for the console
 * and for aggregation across instances).
 */
export class MigrationRecorder {
  /** Per flag: series indexed by (stage, operation, origin). */
  readonly #series = new Map<string, (Series | undefined)[]>();
  /** Per flag: check series indexed by stage. */
  readonly #checks = new Map<string, (CheckSeries | undefined)[]>();
  readonly #slots: WindowSlot[] = [];
  readonly #listeners = new Set<RecorderListener>();
  readonly #now: () => number;

  constructor(now: () => number = Date.now) {
    this.#now = now;
  }

  #seriesOf(flag: string, stage: MigrationStage, operation: "read" | "write", origin: MigrationOrigin): Series {
    let list = this.#series.get(flag);
    if (!list) this.#series.set(flag, (list = []));
    const index = (STAGE_INDEX[stage]! * 2 + (operation === "read" ? 0 : 1)) * 2 + (origin === "old" ? 0 : 1);
    return (list[index] ??= {
      totals: { flag, stage, operation, origin, invocations: 0, errors: 0, latencyBuckets: new Array<number>(LATENCY_BOUNDS_S.length + 1).fill(0), latencySumSeconds: 0, latencyCount: 0 },
      slotKey: `${flag}\u0000${stage}\u0000${origin}`,
      slotStart: Number.NaN,
      figures: undefined,
    });
  }

  #checksOf(flag: string, stage: MigrationStage): CheckSeries {
    let list = this.#checks.get(flag);
    if (!list) this.#checks.set(flag, (list = []));
    return (list[STAGE_INDEX[stage]!] ??= {
      totals: { flag, stage, consistent: 0, inconsistent: 0, checkErrors: 0 },
      slotKey: `${flag}\u0000${stage}`,
      slotStart: Number.NaN,
      figures: undefined,
    });
  }

  record(record: MigrationOpRecord): void {
    const { flagKey: flag, evaluation, operation } = record;
    const stage = evaluation.stage;
    const slot = this.#slot();
    for (const origin of ORIGINS) {
      if (!record.invoked[origin]) continue;
      const series = this.#seriesOf(flag, stage, operation, origin);
      const totals = series.totals;
      if (series.slotStart !== slot.start) {
        series.figures = slot.origins[series.slotKey] ??= { invocations: 0, errors: 0, latency: {} };
        series.slotStart = slot.start;
      }
      const figures = series.figures!;
      totals.invocations++;
      figures.invocations++;
      if (record.errors[origin]) {
        totals.errors++;
        figures.errors++;
      }
      const ms = record.latency[origin];
      if (!Number.isNaN(ms)) {
        const seconds = ms / 1000;
        totals.latencySumSeconds += seconds;
        totals.latencyCount++;
        for (let i = 0; i < LATENCY_BOUNDS_S.length; i++) if (seconds <= LATENCY_BOUNDS_S[i]!) totals.latencyBuckets[i]!++;
        totals.latencyBuckets[LATENCY_BOUNDS_S.length]!++;
        addTo(figures.latency, ms);
      }
    }
    if (record.consistent !== undefined || record.checkThrew) {
      const series = this.#checksOf(flag, stage);
      if (series.slotStart !== slot.start) {
        series.figures = slot.checks[series.slotKey] ??= { consistent: 0, inconsistent: 0, checkErrors: 0 };
        series.slotStart = slot.start;
      }
      const field = record.checkThrew ? "checkErrors" : record.consistent ? "consistent" : "inconsistent";
      series.totals[field]++;
      series.figures![field]++;
    }
    for (const listener of this.#listeners) listener(record);
  }

  #slot(): WindowSlot {
    const start = Math.floor(this.#now() / SLOT_MS) * SLOT_MS;
    const last = this.#slots.at(-1);
    if (last && last.start === start) return last;
    const slot: WindowSlot = { start, origins: {}, checks: {} };
    this.#slots.push(slot);
    while (this.#slots.length > 0 && this.#slots[0]!.start <= start - WINDOW_SLOTS * SLOT_MS) this.#slots.shift();
    return slot;
  }

  /** Totals since start, per flag, stage, operation and origin. */
  originTotals(): OriginTotals[] {
    return [...this.#series.values()].flatMap((list) => list.filter((s): s is Series => s !== undefined).map((s) => s.totals));
  }

  consistencyTotals(): ConsistencyTotals[] {
    return [...this.#checks.values()].flatMap((list) => list.filter((s): s is CheckSeries => s !== undefined).map((s) => s.totals));
  }

  /** The slots of the last `minutes` minutes (copies: safe to serialize or merge). */
  window(minutes = WINDOW_SLOTS): WindowSlot[] {
    const since = Math.floor(this.#now() / SLOT_MS) * SLOT_MS - (minutes - 1) * SLOT_MS;
    return structuredClone(this.#slots.filter((slot) => slot.start >= since));
  }

  /** The live figures of the last `minutes` minutes (default 5). */
  summary(minutes = 5): MigrationSummary {
    return summarize(this.window(minutes), minutes);
  }

  /** Called after each operation is recorded (the console pushes live figures from it). */
  subscribe(listener: RecorderListener): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }
}

const recorders = new WeakMap<object, MigrationRecorder>();

/** The recorder every migration on this Detour instance records into. */
export function recorderOf(detour: Detour<never> | Detour<any>): MigrationRecorder {
  let recorder = recorders.get(detour);
  if (!recorder) recorders.set(detour, (recorder = new MigrationRecorder()));
  return recorder;
}
