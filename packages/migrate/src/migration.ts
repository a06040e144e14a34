import type { Detour } from "@detour/core";
import { OpRecord } from "./op-record.js";
import { normalizeOptions, type MigrationOptions, type NormalizedOptions } from "./options.js";
import { settle, type MigrationOrigin, type MigrationReadResult, type MigrationResult, type MigrationWriteResult } from "./results.js";
import { shouldSample } from "./sampling.js";
import { evaluateStage, type MigrationContext } from "./stage.js";
import type { MigrationStage } from "./stages.js";
import { recorderOf, type MigrationRecorder } from "./metrics/recorder.js";

type Method = (payload: never) => unknown;

/** Which origins a stage reads (and which result it returns), and in which order it writes. */
const READS: Record<MigrationStage, { both: boolean; returned: MigrationOrigin }> = {
  off: { both: false, returned: "old" },
  dualwrite: { both: false, returned: "old" },
  shadow: { both: true, returned: "old" },
  live: { both: true, returned: "new" },
  rampdown: { both: false, returned: "new" },
  complete: { both: false, returned: "new" },
};
const WRITES: Record<MigrationStage, readonly MigrationOrigin[]> = {
  off: ["old"],
  dualwrite: ["old", "new"],
  shadow: ["old", "new"],
  live: ["new", "old"],
  rampdown: ["new", "old"],
  complete: ["new"],
};

/**
 * Reads and writes routed by a migration flag's stage for each context, as
 * LaunchDarkly's `createMigration` does on the same flag data.
 */
export class Migration<TReadPayload = unknown, TReadResult = unknown, TWritePayload = unknown, TWriteResult = unknown> {
  readonly #detour: Detour<never>;
  readonly #options: NormalizedOptions<TReadResult>;
  readonly #recorder: MigrationRecorder;

  constructor(detour: Detour<never>, options: MigrationOptions<TReadPayload, TReadResult, TWritePayload, TWriteResult>) {
    this.#detour = detour;
    this.#options = normalizeOptions(options as MigrationOptions<never, TReadResult, never, unknown>);
    this.#recorder = recorderOf(detour);
  }

  /** Reads for `context` at its stage of `flagKey` (`defaultStage` when the flag gives none). Never rejects once the stage is known. */
  async read(flagKey: string, context: MigrationContext, defaultStage: MigrationStage, payload?: TReadPayload): Promise<MigrationReadResult<TReadResult>> {
    const record = new OpRecord(flagKey, evaluateStage(this.#detour, flagKey, context, defaultStage));
    record.operation = "read";
    const { both, returned } = READS[record.evaluation.stage];
    const o = this.#options;
    let result: MigrationResult<TReadResult>;
    if (!both) {
      result = await this.#run<TReadResult>(record, returned, returned === "old" ? o.readOld : o.readNew, payload);
    } else {
      const [fromOld, fromNew] = await this.#readBoth(record, payload);
      if (o.check && fromOld.success && fromNew.success) this.#check(record, fromOld.result, fromNew.result);
      result = returned === "old" ? fromOld : fromNew;
    }
    this.#finish(record);
    return result;
  }

  /** Writes for `context` at its stage: the authoritative origin first, the other only when that succeeded. */
  async write(flagKey: string, context: MigrationContext, defaultStage: MigrationStage, payload?: TWritePayload): Promise<MigrationWriteResult<TWriteResult>> {
    const record = new OpRecord(flagKey, evaluateStage(this.#detour, flagKey, context, defaultStage));
    record.operation = "write";
    const [first, second] = WRITES[record.evaluation.stage];
    const o = this.#options;
    const authoritative = await this.#run<TWriteResult>(record, first!, first === "old" ? o.writeOld : o.writeNew, payload);
    let write: MigrationWriteResult<TWriteResult> = { authoritative };
    if (second !== undefined && authoritative.success) {
      write = { authoritative, nonAuthoritative: await this.#run<TWriteResult>(record, second, second === "old" ? o.writeOld : o.writeNew, payload) };
    }
    this.#finish(record);
    return write;
  }

  async #readBoth(record: OpRecord, payload: unknown): Promise<[MigrationResult<TReadResult>, MigrationResult<TReadResult>]> {
    const o = this.#options;
    if (o.execution === "concurrent") {
      return Promise.all([this.#run<TReadResult>(record, "old", o.readOld, payload), this.#run<TReadResult>(record, "new", o.readNew, payload)]);
    }
    if (o.execution === "serial-random" && Math.floor(o.random() * 2) !== 0) {
      const fromNew = await this.#run<TReadResult>(record, "new", o.readNew, payload);
      return [await this.#run<TReadResult>(record, "old", o.readOld, payload), fromNew];
    }
    const fromOld = await this.#run<TReadResult>(record, "old", o.readOld, payload);
    return [fromOld, await this.#run<TReadResult>(record, "new", o.readNew, payload)];
  }

  async #run<T>(record: OpRecord, origin: MigrationOrigin, method: Method, payload: unknown): Promise<MigrationResult<T>> {
    record.invoked[origin] = true;
    const o = this.#options;
    let result: MigrationResult<T>;
    if (o.latencyTracking) {
      const start = performance.now();
      result = await settle<T>(origin, method, payload);
      record.latency[origin] = performance.now() - start;
    } else {
      result = await settle<T>(origin, method, payload);
    }
    if (!result.success && o.errorTracking) record.errors[origin] = true;
    return result;
  }

  #check(record: OpRecord, oldResult: TReadResult, newResult: TReadResult): void {
    const ratio = record.evaluation.checkRatio ?? 1;
    if (!shouldSample(ratio, this.#options.random)) return;
    try {
      record.consistent = Boolean(this.#options.check!(oldResult, newResult));
    } catch (error) {
      record.checkThrew = true;
      record.checkError = error;
    }
  }

  #finish(record: OpRecord): void {
    this.#recorder.record(record);
    const hook = this.#options.onMigrationOp;
    if (hook) {
      try {
        hook(record.toEvent());
      } catch {
        // A logging hook must not turn a completed operation into a failure.
      }
    }
  }
}

/** LaunchDarkly's `createMigration(client, config)` over a Detour instance. */
export function createMigration<TReadPayload = unknown, TReadResult = unknown, TWritePayload = unknown, TWriteResult = unknown>(
  detour: Detour<never> | Detour<any>,
  options: MigrationOptions<TReadPayload, TReadResult, TWritePayload, TWriteResult>,
): Migration<TReadPayload, TReadResult, TWritePayload, TWriteResult> {
  return new Migration(detour as Detour<never>, options);
}
