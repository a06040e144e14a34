import { OptionsError, type DetourStatus, type FlagDocument, type StoreEvent } from "@detour/core";
import type * as Prom from "prom-client";
import type { MigrationOpSeen, MigrationsSource } from "./migrations.js";

/** The part of a prom-client `Registry` Detour uses (so that prom-client stays an optional peer). */
export interface PromRegistry {
  readonly contentType: string;
  metrics(): Promise<string>;
  registerMetric(metric: never): void;
}

export interface DetourMetricsOptions {
  /**
   * A prom-client `Registry` to put the metrics in, e.g. your app's `register`
   * when it already serves `/metrics`. Default: a registry of their own,
   * served by the admin at `GET <basePath>/metrics`.
   */
  registry?: PromRegistry;
  /** Metric name prefix; default `detour_`. */
  prefix?: string;
}

/** The fields of a decision that are counted. */
export interface CountedDecision {
  readonly action: string;
  readonly mode: string;
  readonly scope: string | null;
  readonly flag: string | null;
}

/** What the metrics read from the admin's Detour instance. */
export interface MetricsSource {
  status(): DetourStatus;
  document(): Readonly<FlagDocument> | undefined;
  subscribe(listener: (event: StoreEvent) => void): () => void;
  now(): number;
  migrations?: MigrationsSource | null;
}

const LAG_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30];
const MIGRATION_LATENCY_BUCKETS = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];
/** Migration operations seen before prom-client has loaded are kept, up to this many. */
const MAX_PENDING_OPS = 10_000;

/**
 * Prometheus metrics for one Detour instance, through prom-client (an optional
 * peer dependency, loaded when the admin starts): decisions by
 * action/mode/scope/flag, the store's age, staleness and revision, the flags
 * in force, and the propagation lag of changes (from the audit entry's time to
 * this instance's new snapshot).
 *
 * Decisions are counted only when you hand `onDecision` to Detour:
 * ```ts
 * const metrics = detourMetrics();
 * const maintenance = detour({ store, onDecision: metrics.onDecision });
 * app.use(expressAdmin(createAdmin({ detour: maintenance.instance, auth, metrics })));
 * ```
 */
export class DetourMetrics {
  readonly #prefix: string;
  readonly #decisions = new Map<string, number>();
  #registry: PromRegistry | undefined;
  #attached = false;
  #ready: Promise<PromRegistry> | undefined;
  #source: MetricsSource | undefined;
  /** The newest audit entry seen; `null` until a snapshot is in force. */
  #newestAudit: string | null = null;
  #lag: Prom.Histogram | undefined;
  #pendingOps: MigrationOpSeen[] | null = [];
  #observeOp: ((op: MigrationOpSeen) => void) | undefined;

  constructor(options: DetourMetricsOptions = {}) {
    if (typeof options !== "object" || options === null) throw new OptionsError("metrics", "expected { registry?, prefix? }");
    const prefix = options.prefix ?? "detour_";
    if (typeof prefix !== "string" || !/^[a-zA-Z_:][a-zA-Z0-9_:]*$/.test(prefix)) {
      throw new OptionsError("metrics.prefix", "expected a Prometheus metric name prefix such as detour_");
    }
    const registry = options.registry;
    if (registry !== undefined && (typeof registry !== "object" || registry === null || typeof registry.registerMetric !== "function")) {
      throw new OptionsError("metrics.registry", "expected a prom-client Registry");
    }
    this.#prefix = prefix;
    this.#registry = registry;
  }

  /** Counts one decision. Pass it as Detour's `onDecision` option; it costs one map update per request. */
  readonly onDecision = (decision: CountedDecision): void => {
    const key = `${decision.action}\u0000${decision.mode}\u0000${decision.scope ?? ""}\u0000${decision.flag ?? ""}`;
    this.#decisions.set(key, (this.#decisions.get(key) ?? 0) + 1);
  };

  /** @internal Binds the metrics to the admin's Detour instance and loads prom-client. */
  attach(source: MetricsSource): void {
    if (this.#attached) throw new OptionsError("metrics", "these metrics already belong to another admin");
    this.#attached = true;
    this.#source = source;
    const document = source.document();
    if (document) this.#newestAudit = document.audit?.[0]?.at ?? "";
    source.subscribe((event) => {
      if (event.type === "snapshot") this.#observeLag(event.snapshot.document.audit?.[0]?.at);
    });
    source.migrations?.subscribe((op) => {
      if (this.#observeOp) this.#observeOp(op);
      else if (this.#pendingOps && this.#pendingOps.length < MAX_PENDING_OPS) this.#pendingOps.push(op);
    });
    this.#ready = import("prom-client").then(
      (prom) => this.#register(prom),
      (error: unknown) => {
        throw new Error(`metrics need the prom-client package (npm install prom-client): ${(error as Error).message}`);
      },
    );
    // Reported when scraped; not an unhandled rejection before that.
    this.#ready.catch(() => undefined);
  }

  #observeLag(at: string | undefined): void {
    const newest = this.#newestAudit;
    if (newest !== null && (at === undefined || at <= newest)) return;
    this.#newestAudit = at ?? "";
    // The first snapshot is the state at start-up, not a change that just propagated.
    if (newest === null || at === undefined || !this.#lag) return;
    const lag = (this.#source!.now() - Date.parse(at)) / 1000;
    if (lag >= 0) this.#lag.observe(lag);
  }

  #register(prom: typeof Prom): PromRegistry {
    const registry = (this.#registry ??= new prom.Registry()) as Prom.Registry;
    const name = (suffix: string) => `${this.#prefix}${suffix}`;
    const source = this.#source!;
    const decisions = this.#decisions;
    const reported = new Map<string, number>();
    new prom.Counter({
      name: name("decisions_total"),
      help: "Requests decided by Detour, by action, mode, scope and flag",
      labelNames: ["action", "mode", "scope", "flag"],
      registers: [registry],
      collect() {
        for (const [key, count] of decisions) {
          const delta = count - (reported.get(key) ?? 0);
          if (delta <= 0) continue;
          reported.set(key, count);
          const [action, mode, scope, flag] = key.split("\u0000") as [string, string, string, string];
          this.inc({ action, mode, scope, flag }, delta);
        }
      },
    });
    new prom.Gauge({
      name: name("store_age_seconds"),
      help: "Seconds since the store's snapshot in force was last confirmed current",
      registers: [registry],
      collect() {
        const age = source.status().store.ageMs;
        if (age !== null) this.set(age / 1000);
      },
    });
    new prom.Gauge({
      name: name("store_stale"),
      help: "1 when the store cannot be read and an older snapshot is in force",
      registers: [registry],
      collect() {
        this.set(source.status().store.stale ? 1 : 0);
      },
    });
    new prom.Gauge({
      name: name("store_revision"),
      help: "Revision of the snapshot in force",
      registers: [registry],
      collect() {
        const version = source.status().store.revision;
        if (version !== null) this.set(version);
      },
    });
    new prom.Gauge({
      name: name("flag_in_force"),
      help: "1 for each maintenance or read-only flag in force, by flag, mode and scope",
      labelNames: ["flag", "mode", "scope"],
      registers: [registry],
      collect() {
        this.reset();
        for (const flag of source.status().flags) if (flag.active) this.set({ flag: flag.key, mode: flag.mode, scope: flag.scope }, 1);
      },
    });
    this.#lag = new prom.Histogram({
      name: name("propagation_lag_seconds"),
      help: "Seconds from a change (its audit entry) to this instance's snapshot containing it",
      buckets: LAG_BUCKETS,
      registers: [registry],
    });
    if (source.migrations) this.#registerMigrations(prom, registry, name);
    return registry;
  }

  /** Per flag, stage, operation and origin: operations, errors, latency; per flag and stage: consistency checks. */
  #registerMigrations(prom: typeof Prom, registry: Prom.Registry, name: (suffix: string) => string): void {
    const labelNames = ["flag", "stage", "operation", "origin"];
    const ops = new prom.Counter({ name: name("migration_operations_total"), help: "Migration method calls, by flag, stage, operation (read/write) and origin (old/new)", labelNames, registers: [registry] });
    const errors = new prom.Counter({ name: name("migration_errors_total"), help: "Migration method calls that failed, by flag, stage, operation and origin", labelNames, registers: [registry] });
    const latency = new prom.Histogram({
      name: name("migration_latency_seconds"),
      help: "Latency of migration method calls, by flag, stage, operation and origin",
      labelNames,
      buckets: MIGRATION_LATENCY_BUCKETS,
      registers: [registry],
    });
    const checks = new prom.Counter({
      name: name("migration_consistency_checks_total"),
      help: "Consistency checks of two reads, by flag, stage and result (consistent, inconsistent, error: the check threw)",
      labelNames: ["flag", "stage", "result"],
      registers: [registry],
    });
    this.#observeOp = (op) => {
      for (const origin of ["old", "new"] as const) {
        if (!op.invoked[origin]) continue;
        const labels = { flag: op.flagKey, stage: op.evaluation.stage, operation: op.operation, origin };
        ops.inc(labels);
        if (op.errors[origin]) errors.inc(labels);
        if (!Number.isNaN(op.latency[origin])) latency.observe(labels, op.latency[origin] / 1000);
      }
      if (op.checkThrew) checks.inc({ flag: op.flagKey, stage: op.evaluation.stage, result: "error" });
      else if (op.consistent !== undefined) checks.inc({ flag: op.flagKey, stage: op.evaluation.stage, result: op.consistent ? "consistent" : "inconsistent" });
    };
    for (const op of this.#pendingOps ?? []) this.#observeOp(op);
    this.#pendingOps = null;
  }

  /** @internal The Prometheus text exposition, for `GET /metrics`. */
  async render(): Promise<{ contentType: string; body: string }> {
    if (!this.#ready) throw new Error("metrics are not attached to an admin");
    const registry = await this.#ready;
    return { contentType: registry.contentType, body: await registry.metrics() };
  }
}

/** Creates Prometheus metrics to hand to `createAdmin({ metrics })` (see `DetourMetrics`). */
export function detourMetrics(options?: DetourMetricsOptions): DetourMetrics {
  return new DetourMetrics(options);
}
