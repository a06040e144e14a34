import { randomUUID } from "node:crypto";
import { markNewPeriods } from "./bypass/period.js";
import type { FlagDocument, JsonValue } from "./document/types.js";
import { validateDocument } from "./validation/validate.js";
import { ArgumentError, ValidationError } from "./errors.js";
import type { EvaluationContext, EvaluationResult } from "./evaluation/types.js";
import type { Decision } from "./decision/types.js";
import { Policy } from "./policy/policy.js";
import { appendAudit } from "./operations/audit.js";
import {
  auditedContexts,
  enabledMode,
  disableFlag,
  enableFlag,
  mergeDocument,
  setRollout,
  type DisableOptions,
  type EnableOptions,
  type OperationContext,
} from "./operations/edits.js";
import { normalizeOptions, type DetourOptions, type NormalizedOptions } from "./options.js";
import { isStore } from "./stores/is-store.js";
import { plainRequest, type DetourRequest, type FeatureNames, type RequestAccessor } from "./request.js";
import { statusOf, type DetourStatus } from "./operations/status.js";
import type { HttpResponse } from "./decision/types.js";
import type { Snapshot } from "./snapshot.js";
import { fileStore, memoryStore } from "./stores/index.js";
import { cloneDocument, tracksTargets } from "./stores/spi/lazy-draft.js";
import type { AuditEntry } from "./document/types.js";
import type { Store, StoreListener } from "./stores/types.js";

/** Distinct store error messages remembered, so that each is logged once. */
const MAX_REPORTED = 100;

const NOT_LOADED: EvaluationResult = Object.freeze({
  value: null,
  variationIndex: null,
  reason: Object.freeze({ kind: "ERROR", errorKind: "STORE_UNAVAILABLE" }),
});

/** Who made a change, for the audit log. */
export interface ChangeOptions {
  /** Default `"api"`. The CLI uses `cli:<user>@<host>`, the admin its authenticated actor. */
  actor?: string;
}

/** What `retarget()` takes out of a flag and puts in, each naming `users` or `contexts`. */
export interface RetargetOptions {
  /** Put in the flag's mode, as `enable(flag, on)` does. */
  on?: EnableOptions;
  /** Taken out, as `disable(flag, off)` does (before `on` is applied). */
  off?: DisableOptions;
}

/** How `replace()` applies a document. */
export interface ReplaceOptions extends ChangeOptions {
  /** Upsert the document's flags, flagValues and segments by key and keep the rest (default: replace them all). */
  merge?: boolean;
  /**
   * Called inside the atomic write with the newest document and the one that
   * would replace it; throw to refuse (nothing is written). `detour import`
   * uses it to require `--yes` before flags in force change.
   */
  confirm?: (before: Readonly<FlagDocument>, after: Readonly<FlagDocument>) => void;
}

/**
 * One Detour instance: a store, the policy built from your options, and the
 * operations that change flags. Adapters wrap it; you can also use it directly.
 */
export class Detour<Req = DetourRequest> {
  readonly store: Store;
  /** Resolves once the store has loaded (or failed to: the fail mode then applies). Never rejects. */
  readonly ready: Promise<void>;
  readonly #options: NormalizedOptions<Req>;
  readonly #policy: Policy<Req>;
  readonly #unsubscribe: () => void;
  /** Identifies the store outage in progress (a snapshot is in force but the store cannot be read), else `null`. */
  #outage: string | null = null;
  #loaded = false;
  /** Store error messages already logged (when there is no `onStoreError`): each once, the newest MAX_REPORTED. */
  readonly #reported = new Set<string>();
  /** The problems of the last snapshot reported, one line each. */
  #problems = "";

  constructor(options?: DetourOptions<Req>) {
    this.#options = normalizeOptions(options);
    const store = options?.store;
    this.store = store === undefined ? fileStore("./detour.json", { create: true }) : isStore(store) ? store : memoryStore(store as FlagDocument);
    this.#policy = new Policy(this.#options, () => this.store.snapshot(), () => this.#outage);
    this.#unsubscribe = this.store.subscribe((event) => {
      if (event.type === "snapshot") {
        this.#outage = null;
        this.#loaded = true;
        this.#reportProblems(event.snapshot);
      } else {
        // A new outage gets a new identity: bypass cookies of fail-closed flags are bound to it.
        this.#outage ??= randomUUID();
        this.#report(event.error);
      }
    });
    this.ready = this.store.load().then(
      () => {
        this.#loaded = true;
        const snapshot = this.store.snapshot();
        if (snapshot !== undefined) this.#reportProblems(snapshot);
      },
      (error: unknown) => this.#report(error instanceof Error ? error : new Error(String(error))),
    );
  }

  /**
   * A document loaded with problems (flags LaunchDarkly's SDK tolerates, flags
   * Detour cannot represent) goes to `onStoreError` as a `ValidationError`
   * naming each, once per distinct set of problems.
   */
  #reportProblems(snapshot: Snapshot): void {
    const problems = snapshot.problems;
    const key = problems.map((p) => `${p.path}: ${p.message}`).join("\n");
    if (key === this.#problems) return;
    this.#problems = key;
    if (problems.length > 0) this.#report(new ValidationError(problems, "loaded with problems"));
  }

  #report(error: Error): void {
    if (this.#options.onStoreError) {
      this.#options.onStoreError(error);
    } else if (!this.#reported.has(error.message)) {
      // Messages can carry changing details (a path, an address): keep the newest few, not all forever.
      if (this.#reported.size >= MAX_REPORTED) this.#reported.delete(this.#reported.values().next().value!);
      this.#reported.add(error.message);
      console.warn(`[detour] store error: ${error.message}`);
    }
  }

  /** True once a snapshot is in force. */
  get isReady(): boolean {
    return this.#loaded || this.store.snapshot() !== undefined;
  }

  /** The site flag's key. */
  get siteFlag(): string {
    return this.#options.siteFlag;
  }

  /** Decides a framework-free request (see `DetourRequest`). Synchronous; never does I/O. */
  decide(this: Detour<DetourRequest>, request: DetourRequest, options?: { feature?: string | readonly string[] }): Decision {
    return this.#policy.decide(plainRequest, request, options?.feature);
  }

  /** Adapters: decides a framework request through the adapter's accessor. */
  decideWith(accessor: RequestAccessor<Req>, req: Req, feature?: string | readonly string[]): Decision {
    return this.#policy.decide(accessor, req, feature);
  }

  /** The HTTP answer for a `block` or `redirect` decision of a framework-free request (maintenance page, problem+json, bypass redirect). */
  respond(this: Detour<DetourRequest>, decision: Decision, request: DetourRequest): HttpResponse {
    return this.#policy.respond(decision, plainRequest, request);
  }

  /** Adapters: `respond()` for a framework request, read through the adapter's accessor. */
  respondWith(decision: Decision, accessor: RequestAccessor<Req>, req: Req): HttpResponse {
    return this.#policy.respond(decision, accessor, req);
  }

  /**
   * Makes a route guard's features known, so their flags are watched, and
   * returns them in the form `decideWith()` takes. Adapters call it once per guard.
   */
  guard(names: FeatureNames): string | readonly string[] {
    const list = typeof names === "string" ? [names] : [...names];
    if (list.length === 0) throw new ArgumentError("feature", "expected at least one feature name");
    for (const name of list) this.registerFeature(name);
    return list.length === 1 ? list[0]! : list;
  }

  /** Makes a route-guard feature known, so its flag is watched. Adapters call it once per guard. */
  registerFeature(name: string): void {
    if (typeof name !== "string" || name === "") throw new ArgumentError("feature", "expected a non-empty feature name");
    this.#policy.registerFeature(name);
  }

  /**
   * Never blocks this path: an exact path or anchored glob, like `allow.paths`
   * (`/_detour/**` is `/_detour` and everything under it). For code that
   * mounts its own routes, such as `@detour/admin`, which exempts its base path
   * so that a site in maintenance can still be brought back from its console.
   */
  allowPath(pattern: string): void {
    if (typeof pattern !== "string" || !pattern.startsWith("/")) throw new ArgumentError("pattern", 'expected a path or glob starting with "/"');
    this.#policy.allowPath(pattern);
  }

  /** The evaluation context Detour builds for a framework request. */
  contextOf(accessor: RequestAccessor<Req>, req: Req): EvaluationContext {
    return this.#policy.context(accessor, req);
  }

  /** Evaluates any flag for a context, with the reason. */
  explain(flagKey: string, context: EvaluationContext): EvaluationResult {
    const snapshot = this.store.snapshot();
    return snapshot ? snapshot.evaluate(flagKey, context) : NOT_LOADED;
  }

  /** Evaluates any flag for a context; `defaultValue` when missing, off without a value, or broken. */
  variation<T extends JsonValue>(flagKey: string, context: EvaluationContext, defaultValue: T): T | JsonValue {
    const value = this.explain(flagKey, context).value;
    return value === null ? defaultValue : value;
  }

  #context(change: ChangeOptions | undefined): OperationContext {
    const actor = change?.actor ?? "api";
    if (typeof actor !== "string" || actor === "") throw new ArgumentError("actor", "expected a non-empty string");
    return { actor, now: this.#options.now() };
  }

  async #write(change: ChangeOptions | undefined, edit: (doc: FlagDocument, context: OperationContext) => void): Promise<DetourStatus> {
    const context = this.#context(change);
    // Detour's operations edit target lists through the helpers that let a draft track them (a user added to a million copies none).
    await this.store.write(tracksTargets((doc: FlagDocument) => edit(doc, context)));
    return this.status();
  }

  /** Turns a mode on (whole flag, users, contexts such as tenants, or a percentage); the audit entry is written with it. */
  enable(flag: string, options: EnableOptions = {}, change?: ChangeOptions): Promise<DetourStatus> {
    return this.#write(change, (doc, context) => enableAudited(doc, flag, options, context));
  }

  /** Turns a flag off, or takes some users or contexts (tenants) out of it. */
  disable(flag: string, options: DisableOptions = {}, change?: ChangeOptions): Promise<DetourStatus> {
    return this.#write(change, (doc, context) => disableAudited(doc, flag, options, context));
  }

  /**
   * Takes some users or contexts out of a flag and puts others in, in one
   * atomic write: `disable(flag, off)` then `enable(flag, on)`, with the
   * audit entry of each. Both must name users or contexts (the group commit
   * of `detour guard --concurrency`: the keys whose commands are done go
   * out, the keys whose commands start come in).
   */
  async retarget(flag: string, halves: RetargetOptions, change?: ChangeOptions): Promise<DetourStatus> {
    const { on, off } = halves;
    for (const [name, half] of [["on", on], ["off", off]] as const) {
      if (half !== undefined && half.users === undefined && half.contexts === undefined) throw new ArgumentError(name, "expected users or contexts");
    }
    return await this.#write(change, (doc, context) => {
      if (off !== undefined) disableAudited(doc, flag, off, context);
      if (on !== undefined) enableAudited(doc, flag, on, context);
    });
  }

  /** Sets a percentage split between a flag's variations, e.g. `{ old: 75, new: 25 }`. */
  rollout(flag: string, split: Readonly<Record<string, number>>, change?: ChangeOptions): Promise<DetourStatus> {
    return this.#write(change, (doc, context) => {
      setRollout(doc, flag, split);
      appendAudit(doc, context, "rollout", flag, { split: { ...split } });
    });
  }

  /**
   * Replaces the whole document, or with `merge` upserts its flags, flagValues
   * and segments (validated first; nothing changes when it is refused). The
   * audit log is kept. A maintenance flag it brings into force starts a new
   * maintenance period: bypass cookies of earlier periods stop working.
   */
  async replace(document: unknown, change?: ReplaceOptions): Promise<DetourStatus> {
    const validated = validateDocument(document);
    return this.#write(change, (doc, context) => {
      const before = change?.confirm ? cloneDocument(doc) : doc;
      const next = structuredClone(validated);
      markNewPeriods(doc, next, context.now);
      const audit = doc.audit;
      if (change?.merge) {
        mergeDocument(doc, next);
      } else {
        for (const key of Object.keys(doc) as (keyof FlagDocument)[]) delete doc[key];
        Object.assign(doc, next);
      }
      doc.audit = audit;
      change?.confirm?.(before, doc);
      appendAudit(doc, context, change?.merge ? "merge" : "replace", null, { flags: Object.keys(next.flags ?? {}).length });
    });
  }

  /** Every maintenance flag in force, and the store's health. */
  status(): DetourStatus {
    return statusOf(this.store.snapshot(), this.store.health(), this.#options.siteFlag, this.#options.now());
  }

  /** The audit log, newest first. */
  audit(limit = 100): AuditEntry[] {
    return (this.store.snapshot()?.document.audit ?? []).slice(0, limit) as AuditEntry[];
  }

  /** The current document (frozen), or `undefined` before the store loads. */
  document(): Readonly<FlagDocument> | undefined {
    return this.store.snapshot()?.document;
  }

  /** Snapshot changes and store errors. */
  subscribe(listener: StoreListener): () => void {
    return this.store.subscribe(listener);
  }

  /** The snapshot in force. */
  snapshot(): Snapshot | undefined {
    return this.store.snapshot();
  }

  /** Stops listening and closes the store. */
  async close(): Promise<void> {
    this.#unsubscribe();
    await this.store.close();
  }
}

/** Creates a Detour instance. Options are checked here; errors name the option. */
export function createDetour<Req = DetourRequest>(options?: DetourOptions<Req>): Detour<Req> {
  return new Detour<Req>(options);
}

/** `enableFlag` and its audit entry. */
function enableAudited(doc: FlagDocument, flag: string, options: EnableOptions, context: OperationContext): void {
  enableFlag(doc, flag, options, context);
  appendAudit(doc, context, "enable", flag, {
    mode: enabledMode(options),
    users: options.users ? [...options.users] : undefined,
    contexts: auditedContexts(options.contexts),
    percent: options.percent,
    message: options.message,
    ttl: options.ttl,
    retryAfter: options.retryAfter,
    status: options.status,
    redirect: options.redirect,
    refresh: options.refresh,
    page: options.page === undefined ? undefined : `${Buffer.byteLength(options.page, "utf8")} bytes`,
    // Never the secret itself: the audit log is read by more people than the secret is for.
    secret: options.secret === undefined ? undefined : "set",
  });
}

/** `disableFlag` and its audit entry. */
function disableAudited(doc: FlagDocument, flag: string, options: DisableOptions, context: OperationContext): void {
  disableFlag(doc, flag, options, context);
  appendAudit(doc, context, "disable", flag, { users: options.users ? [...options.users] : undefined, contexts: auditedContexts(options.contexts) });
}
