import {
  ArgumentError,
  OptionsError,
  type EvaluationContext as DetourContext,
  type EvaluationResult,
  type Snapshot,
  type Store,
  type StoreEvent,
} from "@detour/core";
import {
  ErrorCode,
  GeneralError,
  OpenFeatureEventEmitter,
  ProviderEvents,
  ProviderFatalError,
  StandardResolutionReasons,
  type EvaluationContext,
  type FlagValueType,
  type JsonValue,
  type Provider,
  type ResolutionDetails,
} from "@openfeature/server-sdk";
import { changedFlags } from "./changes.js";
import { toDetourContext } from "./context.js";
import { resolutionOf } from "./resolution.js";

/**
 * What the provider needs of a Detour instance: any `createDetour()` result
 * fits, whatever its request type.
 */
export interface DetourLike {
  readonly store: Store;
  /** Resolves once the store has loaded or failed to; never rejects. */
  readonly ready: Promise<unknown>;
  explain(flagKey: string, context: DetourContext): EvaluationResult;
  close(): Promise<void>;
}

/** Options of {@link DetourProvider}. */
export interface DetourProviderOptions {
  /**
   * Close what the provider was given when OpenFeature shuts the provider
   * down (`OpenFeature.close()`, or another provider set in its place).
   * Default: `true` for a store (the provider is then its only user), `false`
   * for a Detour instance (it usually serves your web framework too).
   */
  closeStore?: boolean;
  /**
   * While the store is stale, check its health this often (milliseconds) and
   * report the provider READY again once the store is current. Stores emit a
   * new snapshot when the document changed while they were unreachable, but a
   * store that comes back with the same document only says so through
   * `health()`. 0 turns the check off. Default 1000.
   */
  healthCheckIntervalMs?: number;
}

type State = "NOT_READY" | "READY" | "STALE" | "ERROR";

const NOT_LOADED: EvaluationResult = Object.freeze({
  value: null,
  variationIndex: null,
  reason: Object.freeze({ kind: "ERROR", errorKind: "STORE_UNAVAILABLE" }),
});

/**
 * An OpenFeature server provider backed by Detour: evaluates the flags of a
 * Detour instance or of a store (memory, file, Redis) synchronously on the
 * snapshot in force, and turns store events into provider events.
 *
 * ```ts
 * await OpenFeature.setProviderAndWait(new DetourProvider(fileStore("./flags.json")));
 * const enabled = await OpenFeature.getClient().getBooleanValue("new-checkout", false, { targetingKey: "user-17" });
 * ```
 */
export class DetourProvider implements Provider {
  readonly metadata = Object.freeze({ name: "detour" as const });
  readonly runsOn = "server" as const;
  readonly events = new OpenFeatureEventEmitter();
  /** The store flags are read from (the Detour instance's store when given one). */
  readonly store: Store;
  readonly #detour: DetourLike | undefined;
  readonly #closeStore: boolean;
  readonly #healthCheckIntervalMs: number;
  #state: State = "NOT_READY";
  /** The snapshot the last ConfigurationChanged was computed against. */
  #snapshot: Snapshot | undefined;
  #unsubscribe: (() => void) | undefined;
  #healthCheck: NodeJS.Timeout | undefined;
  #pendingStale: NodeJS.Timeout | undefined;

  /**
   * @param detourOrStore a Detour instance (`createDetour()`) or a store (`memoryStore()`, `fileStore()`, `redisStore()`).
   * @throws ArgumentError when `detourOrStore` is neither; OptionsError when an option is wrong.
   */
  constructor(detourOrStore: DetourLike | Store, options: DetourProviderOptions = {}) {
    if (isStore(detourOrStore)) {
      this.store = detourOrStore;
      this.#detour = undefined;
    } else if (isDetourLike(detourOrStore)) {
      this.store = detourOrStore.store;
      this.#detour = detourOrStore;
    } else {
      throw new ArgumentError("detourOrStore", "expected a Detour instance (createDetour()) or a store (memoryStore(), fileStore(), redisStore())");
    }
    if (options === null || typeof options !== "object") throw new OptionsError("options", "expected an object");
    if (options.closeStore !== undefined && typeof options.closeStore !== "boolean") {
      throw new OptionsError("closeStore", `expected a boolean, got ${typeof options.closeStore}`);
    }
    const interval = options.healthCheckIntervalMs ?? 1000;
    if (typeof interval !== "number" || !Number.isFinite(interval) || interval < 0) {
      throw new OptionsError("healthCheckIntervalMs", `expected a number of milliseconds >= 0, got ${String(interval)}`);
    }
    this.#closeStore = options.closeStore ?? this.#detour === undefined;
    this.#healthCheckIntervalMs = interval;
  }

  /**
   * Called by OpenFeature when the provider is set. Resolves once the store
   * has a snapshot (OpenFeature then reports READY). Rejects when the store
   * cannot load (OpenFeature reports ERROR; the provider reports READY later
   * if the store loads after all), or with a fatal error when it is closed.
   */
  async initialize(): Promise<void> {
    this.#state = "NOT_READY";
    this.#unsubscribe ??= this.store.subscribe((event) => this.#onStoreEvent(event));
    let snapshot: Snapshot;
    try {
      if (this.#detour !== undefined) await this.#detour.ready;
      // load() answers the snapshot in force at once, and rejects for a closed store.
      snapshot = await this.store.load();
    } catch (error) {
      if (this.#unsubscribe === undefined) throw new GeneralError("the provider was closed while it initialized");
      this.#state = "ERROR";
      const message = `the ${this.store.kind} store could not load: ${describe(error)}`;
      if (hasCode(error, "DETOUR_STORE_CLOSED")) throw new ProviderFatalError(message);
      throw new GeneralError(message);
    }
    if (this.#unsubscribe === undefined) throw new GeneralError("the provider was closed while it initialized");
    this.#snapshot = this.store.snapshot() ?? snapshot;
    this.#state = "READY";
    const health = this.store.health();
    if (health.stale) {
      // OpenFeature marks the provider READY when this promise resolves: report the staleness right after.
      this.#pendingStale = setTimeout(() => {
        this.#pendingStale = undefined;
        if (this.#state === "READY" && this.store.health().stale) this.#becomeStale(health.error ?? "the store is stale");
      }, 0);
      this.#pendingStale.unref();
    }
  }

  /** Called by OpenFeature on shutdown: stops listening to the store, and closes it when `closeStore` says so. */
  async onClose(): Promise<void> {
    this.#unsubscribe?.();
    this.#unsubscribe = undefined;
    this.#stopHealthCheck();
    clearTimeout(this.#pendingStale);
    this.#pendingStale = undefined;
    this.#state = "NOT_READY";
    this.#snapshot = undefined;
    if (this.#closeStore) await (this.#detour !== undefined ? this.#detour.close() : this.store.close());
  }

  resolveBooleanEvaluation(flagKey: string, defaultValue: boolean, context: EvaluationContext): Promise<ResolutionDetails<boolean>> {
    return Promise.resolve(this.resolve(flagKey, "boolean", defaultValue, context));
  }

  resolveStringEvaluation(flagKey: string, defaultValue: string, context: EvaluationContext): Promise<ResolutionDetails<string>> {
    return Promise.resolve(this.resolve(flagKey, "string", defaultValue, context));
  }

  resolveNumberEvaluation(flagKey: string, defaultValue: number, context: EvaluationContext): Promise<ResolutionDetails<number>> {
    return Promise.resolve(this.resolve(flagKey, "number", defaultValue, context));
  }

  resolveObjectEvaluation<T extends JsonValue>(flagKey: string, defaultValue: T, context: EvaluationContext): Promise<ResolutionDetails<T>> {
    return Promise.resolve(this.resolve(flagKey, "object", defaultValue, context));
  }

  /**
   * The synchronous evaluation behind the four `resolve*Evaluation` methods
   * (OpenFeature's server `Provider` interface wants promises; this is for
   * callers that do not). Never throws: any failure is the default value with
   * an error code. Object values are frozen (they are the document's own).
   */
  resolve<T extends JsonValue>(flagKey: string, type: FlagValueType, defaultValue: T, context: EvaluationContext = {}): ResolutionDetails<T> {
    try {
      const translated = toDetourContext(context);
      if (!translated.ok) {
        return {
          value: defaultValue,
          reason: StandardResolutionReasons.ERROR,
          errorCode: ErrorCode.INVALID_CONTEXT,
          errorMessage: translated.message,
        };
      }
      const snapshot = this.store.snapshot();
      const result =
        this.#detour !== undefined
          ? this.#detour.explain(flagKey, translated.context)
          : snapshot !== undefined
            ? snapshot.evaluate(flagKey, translated.context)
            : NOT_LOADED;
      return resolutionOf(result, type, defaultValue, flagKey, snapshot);
    } catch (error) {
      return {
        value: defaultValue,
        reason: StandardResolutionReasons.ERROR,
        errorCode: ErrorCode.GENERAL,
        errorMessage: `evaluating "${flagKey}" failed: ${describe(error)}`,
      };
    }
  }

  #onStoreEvent(event: StoreEvent): void {
    // Until initialize() settles, its own outcome is what OpenFeature reports.
    if (this.#state === "NOT_READY") return;
    if (event.type === "snapshot") {
      const before = this.#snapshot;
      this.#snapshot = event.snapshot;
      if (this.#state !== "READY") {
        this.#state = "READY";
        this.#stopHealthCheck();
        this.events.emit(ProviderEvents.Ready, { message: "the store is current again", metadata: { revision: event.snapshot.revision } });
      }
      if (before !== undefined && before !== event.snapshot) {
        const flagsChanged = changedFlags(before, event.snapshot);
        if (flagsChanged.length > 0) {
          this.events.emit(ProviderEvents.ConfigurationChanged, { flagsChanged, metadata: { revision: event.snapshot.revision } });
        }
      }
    } else if (this.#state === "READY" && this.store.snapshot() !== undefined) {
      this.#becomeStale(event.error.message);
    }
  }

  #becomeStale(message: string): void {
    this.#state = "STALE";
    this.events.emit(ProviderEvents.Stale, { message });
    if (this.#healthCheckIntervalMs > 0 && this.#healthCheck === undefined) {
      this.#healthCheck = setInterval(() => this.#checkHealth(), this.#healthCheckIntervalMs);
      this.#healthCheck.unref();
    }
  }

  #checkHealth(): void {
    if (this.#state !== "STALE") return this.#stopHealthCheck();
    let stale: boolean;
    try {
      stale = this.store.health().stale;
    } catch {
      return; // a store whose health() throws is not current
    }
    if (stale) return;
    this.#state = "READY";
    this.#stopHealthCheck();
    this.events.emit(ProviderEvents.Ready, { message: "the store is current again" });
  }

  #stopHealthCheck(): void {
    clearInterval(this.#healthCheck);
    this.#healthCheck = undefined;
  }
}

function isStore(value: unknown): value is Store {
  const s = value as Partial<Store> | null;
  return (
    typeof s === "object" &&
    s !== null &&
    typeof s.load === "function" &&
    typeof s.snapshot === "function" &&
    typeof s.subscribe === "function" &&
    typeof s.health === "function"
  );
}

function isDetourLike(value: unknown): value is DetourLike {
  const d = value as Partial<DetourLike> | null;
  return typeof d === "object" && d !== null && isStore(d.store) && typeof d.explain === "function" && typeof d.close === "function";
}

function describe(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

function hasCode(error: unknown, code: string): boolean {
  return error !== null && typeof error === "object" && (error as { code?: unknown }).code === code;
}
