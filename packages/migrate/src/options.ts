import { OptionsError } from "@detour/core";
import type { MigrationOpEvent } from "./op-record.js";

/** `concurrent` (default): both reads start together; `serial`: old then new; `serial-random`: either order, at random. */
export type MigrationExecution = "concurrent" | "serial" | "serial-random";

export interface MigrationOptions<TReadPayload = unknown, TReadResult = unknown, TWritePayload = unknown, TWriteResult = unknown> {
  /** Each method may return `migrationSuccess(v)`, `migrationError(e)`, a plain value (a success), or throw. */
  readOld(payload: TReadPayload): unknown;
  readNew(payload: TReadPayload): unknown;
  writeOld(payload: TWritePayload): unknown;
  writeNew(payload: TWritePayload): unknown;
  /** The consistency of two successful reads, sampled by the flag's `migration.checkRatio`. A throw is caught and reported. */
  check?: (oldResult: TReadResult, newResult: TReadResult) => boolean;
  execution?: MigrationExecution;
  /** Measure each origin's latency (default true). */
  latencyTracking?: boolean;
  /** Count each origin's errors (default true). */
  errorTracking?: boolean;
  /** Receives each operation's record (LaunchDarkly's `migration_op` event fields), e.g. for logging. A throw is ignored. */
  onMigrationOp?: (event: MigrationOpEvent) => void;
  /** The random source of `serial-random` and of check sampling, in [0, 1) (default `Math.random`). */
  random?: () => number;
}

const EXECUTIONS: readonly MigrationExecution[] = ["concurrent", "serial", "serial-random"];
const METHODS = ["readOld", "readNew", "writeOld", "writeNew"] as const;

export interface NormalizedOptions<TReadResult> {
  readonly readOld: (payload: never) => unknown;
  readonly readNew: (payload: never) => unknown;
  readonly writeOld: (payload: never) => unknown;
  readonly writeNew: (payload: never) => unknown;
  readonly check: ((a: TReadResult, b: TReadResult) => boolean) | undefined;
  readonly execution: MigrationExecution;
  readonly latencyTracking: boolean;
  readonly errorTracking: boolean;
  readonly onMigrationOp: ((event: MigrationOpEvent) => void) | undefined;
  readonly random: () => number;
}

function optionalFunction<F>(value: unknown, name: string): F | undefined {
  if (value !== undefined && typeof value !== "function") throw new OptionsError(name, `expected a function, got ${typeof value}`);
  return value as F | undefined;
}

function optionalBoolean(value: unknown, name: string): boolean {
  if (value !== undefined && typeof value !== "boolean") throw new OptionsError(name, `expected true or false, got ${typeof value}`);
  return value !== false;
}

export function normalizeOptions<TReadResult>(options: MigrationOptions<never, TReadResult, never, unknown>): NormalizedOptions<TReadResult> {
  if (typeof options !== "object" || options === null) throw new OptionsError("options", "expected an object with readOld, readNew, writeOld and writeNew");
  for (const name of METHODS) {
    if (typeof options[name] !== "function") throw new OptionsError(name, `expected a function, got ${typeof options[name]}`);
  }
  const execution = options.execution ?? "concurrent";
  if (!EXECUTIONS.includes(execution)) throw new OptionsError("execution", `expected one of ${EXECUTIONS.join(", ")}, got ${JSON.stringify(execution)}`);
  const random = optionalFunction<() => number>(options.random, "random");
  // Methods are called with the options object as `this`, as LaunchDarkly binds them to its config.
  return {
    readOld: options.readOld.bind(options),
    readNew: options.readNew.bind(options),
    writeOld: options.writeOld.bind(options),
    writeNew: options.writeNew.bind(options),
    check: optionalFunction<(a: TReadResult, b: TReadResult) => boolean>(options.check, "check")?.bind(options),
    execution,
    latencyTracking: optionalBoolean(options.latencyTracking, "latencyTracking"),
    errorTracking: optionalBoolean(options.errorTracking, "errorTracking"),
    onMigrationOp: optionalFunction<(event: MigrationOpEvent) => void>(options.onMigrationOp, "onMigrationOp"),
    random: random ?? (() => Math.random()),
  };
}
