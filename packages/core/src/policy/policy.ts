import { randomUUID } from "node:crypto";
import { LRUCache } from "lru-cache";
import {
  compileIpMatcher,
  compilePathMatcher,
  decodedReadings,
  issueBypassCookie,
  compileSecretPathMatcher,
  readRequestPaths,
  targetPath,
  tokenMatcher,
  verifyBypassCookie,
  type RequestPaths,
} from "../bypass/index.js";
import { failClosedPeriod, periodOf } from "../bypass/period.js";
import type { DetourFlagSettings, Mode } from "../document/types.js";
import { MAX_MATCH_INPUT } from "../evaluation/regex.js";
import type { EvaluationContext, EvaluationReason, EvaluationResult, UserContext } from "../evaluation/types.js";
import { respond } from "../respond/index.js";
import { lookupOf, type Snapshot } from "../snapshot.js";
import { evaluateCompiled } from "../evaluation/evaluate.js";
import { mayContain } from "../evaluation/key-filter.js";
import type { TargetGroup } from "../evaluation/compile.js";
import { RequestDecision, flagOutcome, passOutcome, secretVisitOutcome, type ContextFactory, type Outcome } from "../decision/decision.js";
import { matchesFlagSecret } from "../bypass/flag-secret.js";
import { isSafeMethod, stricter } from "../document/modes.js";
import type { NormalizedOptions } from "../options.js";
import { keyOfInput, multiKind, withPart, type GivenContexts } from "./contexts.js";
import { strictestReading } from "./path-rules.js";
import type { RequestAccessor } from "../request.js";
import { pickedBy } from "./picked.js";
import type { Decision, DecisionAction, DecisionReason, HttpResponse, PickedContext, Scope } from "../decision/types.js";
import { buildView, type ModeFlag, type PolicyView } from "./view.js";
import { ALL_KINDS, type KindsRead } from "./kinds.js";

const ANONYMOUS = "anonymous";

/** Whether `result` picked this request out (a target, a rule, a split rollout's bucket) rather than the whole flag deciding. */
function picksOut(flag: ModeFlag, result: EvaluationResult): boolean {
  const kind = result.reason.kind;
  return kind === "TARGET_MATCH" || kind === "RULE_MATCH" || (kind === "FALLTHROUGH" && flag.splitRollout);
}

/**
 * Per-user modes add restrictions: a picked `mode` gives way to the flag's
 * stricter whole mode (a user targeted read-only does not escape the whole
 * flag's maintenance; a user targeted "available" still does, as an exemption).
 */
function yieldsToWhole(flag: ModeFlag, mode: Mode): boolean {
  return flag.wholeMode !== null && stricter(flag.wholeMode, mode);
}

const NO_CONTEXT: EvaluationContext = Object.freeze({ key: ANONYMOUS });


/** The state of one request's decision before any flag is considered. */
function newPending<Req>(accessor: RequestAccessor<Req>, req: Req, snapshot: Snapshot, view: PolicyView, outage: string | null): Pending<Req> {
  return {
    accessor, req, snapshot, view, outage,
    context: undefined, withKinds: false, keyContext: undefined, keyKinds: undefined, customContext: undefined, paths: undefined, ruleReadings: undefined, verdict: null, blocking: null,
  };
}

/** What the strictest flag so far says for this request. */
interface Verdict {
  readonly mode: Mode;
  readonly scope: Scope;
  readonly flag: ModeFlag | null;
  readonly key: string;
  readonly evaluation: EvaluationReason | null;
  readonly reason: DecisionReason;
  readonly picked: PickedContext | null;
}

/** Per-request state while deciding; lives on the stack of `decide`. */
interface Pending<Req> {
  readonly accessor: RequestAccessor<Req>;
  readonly req: Req;
  readonly snapshot: Snapshot;
  readonly view: PolicyView;
  /** The store outage in progress when fail-closed flags are known, else `null`. */
  readonly outage: string | null;
  context: EvaluationContext | undefined;
  /** Whether `context` holds the request's other kinds that flags in force read (`contexts`), or the user alone. */
  withKinds: boolean;
  /** `{ key }` alone, for flags that read nothing else (no client address computed, no callbacks but user()). */
  keyContext: EvaluationContext | undefined;
  /** The same with the request's other kinds, for key-only flags that read them (tenant targets). */
  keyKinds: EvaluationContext | undefined;
  /** `{ key, ...context(req) }`, for flags that read none of the attributes Detour reads off the request (`ip`, `path`, `method`). */
  customContext: EvaluationContext | undefined;
  /** Guard mode's readings of the request's URLs, once something needs them. */
  paths: RequestPaths | undefined;
  /** The same, decoded, for rules on `path`. */
  ruleReadings: readonly string[] | undefined;
  verdict: Verdict | null;
  /** Keys of every flag that blocks this request (a cookie must open each), `null` while none does. */
  blocking: string[] | null;
}

/**
 * The decision engine: all maintenance policy, for every adapter. Synchronous
 * and free of I/O: it reads the store's in-memory snapshot only.
 */
export class Policy<Req> implements ContextFactory<Req> {
  readonly #options: NormalizedOptions<Req>;
  readonly #snapshot: () => Snapshot | undefined;
  readonly #outage: () => string | null;
  /** Identifies this instance's life before its first snapshot, for fail-closed bypass cookies. */
  #neverLoaded: string | undefined;
  readonly #featureNames = new Set<string>();
  readonly #pathFeatures: { name: string; match: (path: string) => boolean }[] = [];
  readonly #featuresByPath = new LRUCache<string, readonly string[]>({ max: 2000 });
  readonly #allowPaths: string[];
  #allowPath: ((path: string) => boolean) | null;
  readonly #allowIp: ((ip: string | undefined) => boolean) | null;
  readonly #token: ((token: string) => boolean) | null;
  readonly #secretPath: ((path: string) => boolean) | null;
  #view: PolicyView | undefined;
  readonly #notInForce: Outcome;
  /** The last shareable outcome of a flag's decision, with the view it was decided in (see `#decision`). */
  #shared: { view: PolicyView; outcome: Outcome } | null = null;
  readonly #failOpen: Outcome;
  /** `contexts` is one function for every kind (or absent), not a function per kind. */
  readonly #contextsAtOnce: boolean;

  /** `outage`: an identifier of the store outage in progress (the snapshot in force is stale), or `null`. */
  constructor(options: NormalizedOptions<Req>, snapshot: () => Snapshot | undefined, outage: () => string | null) {
    this.#options = options;
    this.#snapshot = snapshot;
    this.#outage = outage;
    this.#notInForce = passOutcome("NOT_IN_FORCE", options.status);
    this.#failOpen = passOutcome("FAIL_OPEN", options.status);
    this.#contextsAtOnce = typeof options.contexts !== "object";
    for (const [name, patterns] of options.features) {
      this.#featureNames.add(name);
      if (patterns.length > 0) {
        // Guard mode: a path belongs to a feature under any reading a router could give it (case, encoding).
        this.#pathFeatures.push({ name, match: compilePathMatcher(patterns, `features.${name}`, { mode: "guard" }) });
      }
    }
    this.#allowPaths = [...options.allowPaths];
    this.#allowPath = options.allowPaths.length > 0 ? compilePathMatcher(options.allowPaths, "allow.paths") : null;
    this.#allowIp = options.allowIps.length > 0 ? compileIpMatcher(options.allowIps, "allow.ips") : null;
    this.#token = options.tokens.length > 0 ? tokenMatcher(options.tokens) : null;
    this.#secretPath = options.secret?.path ? compileSecretPathMatcher(options.secret.path) : null;
  }

  /**
   * Adds an allowed path (exact or anchored glob, as in `allow.paths`) after
   * construction: mounts such as the admin console exempt their own paths.
   * The pattern is checked before anything changes.
   */
  allowPath(pattern: string): void {
    if (this.#allowPaths.includes(pattern)) return;
    const patterns = [...this.#allowPaths, pattern];
    this.#allowPath = compilePathMatcher(patterns, "allow.paths");
    this.#allowPaths.push(pattern);
  }

  /** Makes a feature known (route guards call this once, at setup). */
  registerFeature(name: string): void {
    if (!this.#featureNames.has(name)) {
      this.#featureNames.add(name);
      this.#view = undefined;
    }
  }

  #register(features: string | readonly string[]): void {
    if (typeof features === "string") {
      if (!this.#featureNames.has(features)) this.registerFeature(features);
    } else {
      for (const name of features) if (!this.#featureNames.has(name)) this.registerFeature(name);
    }
  }

  #currentView(snapshot: Snapshot): PolicyView {
    let view = this.#view;
    if (view === undefined || view.snapshot !== snapshot || (view.expires !== Infinity && this.#options.now() >= view.expires)) {
      view = buildView(snapshot, this.#options.siteFlag, this.#featureNames, this.#options.now());
      this.#view = view;
    }
    return view;
  }

  #userKey(req: Req): string {
    const user = this.#options.user ? this.#options.user(req) : undefined;
    if (typeof user === "string") return user.length === 0 ? ANONYMOUS : user;
    return user === undefined || user === null ? ANONYMOUS : String(user);
  }

  /**
   * The context of a request: the user `{ key, ip, path, method, ...custom }`,
   * and with `withKinds` (and a `contexts` option) the multi-kind context of
   * the user and the request's other kinds.
   */
  context(accessor: RequestAccessor<Req>, req: Req, withKinds = true): EvaluationContext {
    const user = this.#userContext(accessor, req);
    return withKinds ? this.#withKinds(user, req) : user;
  }

  #userContext(accessor: RequestAccessor<Req>, req: Req): UserContext {
    const target = accessor.path(req);
    return this.#withCustom(
      {
        key: this.#userKey(req),
        ip: accessor.ip(req),
        path: targetPath(target) ?? target,
        method: accessor.method(req),
      },
      req,
    );
  }

  /** `context` with the attributes of the `context(req)` option added (they win over Detour's own, never over `key` and `kind`). */
  #withCustom(context: UserContext, req: Req): UserContext {
    const custom = this.#options.context;
    if (custom) {
      const extra = custom(req);
      // for…in with Object.hasOwn reads the same keys as Object.keys (own, enumerable, string) without an array per request.
      if (extra) for (const name in extra) if (name !== "key" && name !== "kind" && Object.hasOwn(extra, name)) context[name] = extra[name];
    }
    return context;
  }

  /**
   * The multi-kind context of `user` and the request's other kinds; `user`
   * alone when there are none. Of a per-kind `contexts` option, only `kinds`
   * are computed (all of them for `ALL_KINDS`).
   */
  #withKinds(user: UserContext, req: Req, kinds: KindsRead = ALL_KINDS): EvaluationContext {
    const source = this.#options.contexts;
    if (source === undefined) return user;
    if (typeof source === "function") return multiKind(user, source(req));
    let multi: Record<string, unknown> | undefined;
    for (const kind of kinds === ALL_KINDS ? Object.keys(source) : kinds) {
      const get = source[kind];
      if (get !== undefined) multi = withPart(multi, user, kind, get(req));
    }
    return multi === undefined ? user : (multi as EvaluationContext);
  }

  /**
   * For a flag that reads only its target lists (`keyTargets`): `null` when
   * the request's keys are in none of them, told without building a context
   * (each list's filter turns most keys away on a few characters); else the
   * context `#firstContext` builds for it, with `user()` and `contexts()`
   * still called at most once. Only while `contexts` is one function (or
   * absent): a per-kind option is left to `#firstContext`.
   */
  #targetedContext(flag: ModeFlag, groups: readonly TargetGroup[], req: Req): EvaluationContext | null {
    let user: string | undefined;
    let read = false;
    let given: GivenContexts;
    for (let i = 0; i < groups.length; i++) {
      const group = groups[i]!;
      let key: string | undefined;
      if (group.kind === "user") key = user ??= this.#userKey(req);
      else {
        if (!read) {
          given = this.#givenContexts(req);
          read = true;
        }
        // Read as any property: a kind `multiKind` would leave out at most costs the context built below.
        key = given ? keyOfInput(given[group.kind]) : undefined;
      }
      if (key !== undefined && mayContain(group.filter, key) && group.keys.has(key)) {
        const context: UserContext = { key: user ?? this.#userKey(req) };
        if (!flag.otherKinds) return context;
        return multiKind(context, read ? given : this.#givenContexts(req));
      }
    }
    return null;
  }

  /** What the `contexts` option (one function, or none) gives for `req`. */
  #givenContexts(req: Req): GivenContexts {
    const source = this.#options.contexts;
    return typeof source === "function" ? source(req) : undefined;
  }

  /** The context built while deciding, when it is the one `decision.variation()` needs (every kind); else `undefined`, built on demand. */
  #fullContext(pending: Pending<Req>): EvaluationContext | undefined {
    return this.#complete(pending.context, pending.withKinds, pending.view);
  }

  /** `context` (the user's `{ key, ip, path, method, ...custom }`, multi-kind with `withKinds`) when it is the whole context of the request. */
  #complete(context: EvaluationContext | undefined, withKinds: boolean, view: PolicyView): EvaluationContext | undefined {
    const source = this.#options.contexts;
    if (source === undefined) return context;
    return withKinds && (typeof source === "function" || view.kinds === ALL_KINDS) ? context : undefined;
  }

  /**
   * The context a flag is evaluated with, before any per-request state exists:
   * none for a flag that answers everyone alike, `{ key }` (with the other
   * kinds it reads) for a key-only flag, `{ key, ...custom }` for a flag that
   * reads nothing Detour reads off the request, else the user's whole context
   * (with the other kinds it reads). `#keep` files it where `#consider` looks.
   */
  #firstContext(flag: ModeFlag, accessor: RequestAccessor<Req>, req: Req, view: PolicyView): EvaluationContext {
    switch (flag.needs) {
      case "none":
        return NO_CONTEXT;
      case "key":
        return { key: this.#userKey(req) };
      case "key-kinds":
        return this.#withKinds({ key: this.#userKey(req) }, req, view.kinds);
      case "custom":
        return this.#withCustom({ key: this.#userKey(req) }, req);
      case "user": {
        const user = this.#userContext(accessor, req);
        return flag.otherKinds ? this.#withKinds(user, req, view.kinds) : user;
      }
    }
  }

  #keep(pending: Pending<Req>, flag: ModeFlag, context: EvaluationContext): void {
    switch (flag.needs) {
      case "none":
        return;
      case "key":
        pending.keyContext = context;
        return;
      case "key-kinds":
        pending.keyKinds = context;
        return;
      case "custom":
        pending.customContext = context;
        return;
      case "user":
        pending.context = context;
        pending.withKinds = flag.otherKinds;
    }
  }

  /** The request's context for a flag: built once per request, with the other kinds once a flag reads them. */
  #contextFor(pending: Pending<Req>, otherKinds: boolean): EvaluationContext {
    const context = pending.context;
    if (context !== undefined && (pending.withKinds || !otherKinds)) return context;
    const user = context === undefined ? this.#userContext(pending.accessor, pending.req) : (context as UserContext);
    pending.withKinds = otherKinds;
    return (pending.context = otherKinds ? this.#withKinds(user, pending.req, pending.view.kinds) : user);
  }

  /**
   * Decides one request. `features` are a route guard's features; the global
   * middleware passes none, and features then come from path patterns.
   */
  decide(accessor: RequestAccessor<Req>, req: Req, features?: string | readonly string[]): Decision {
    if (features !== undefined) this.#register(features);
    const snapshot = this.#snapshot();
    if (snapshot === undefined) return this.#failMode(accessor, req);
    const view = this.#currentView(snapshot);
    const outage = view.failClosed.size > 0 ? this.#outage() : null;
    if (view.quiet && outage === null && view.brokenClosed.size === 0) return this.#finish(this.#pass(snapshot, accessor, req, undefined), req);
    const siteOnly = view.features.size === 0 && outage === null && view.brokenClosed.size === 0;
    const site = view.site;
    let pending: Pending<Req>;
    if (siteOnly && site !== null && site.pathRules === null) {
      // The site flag alone, not on the path: no per-request state unless it applies (or a secret URL may be visited).
      const targets = site.keyTargets;
      const context = targets !== null && this.#contextsAtOnce ? this.#targetedContext(site, targets.groups, req) : this.#firstContext(site, accessor, req, view);
      if (context === null) {
        // In none of its target lists: the flag puts this request in no mode (`keyTargets`).
        if (!this.#visitsAnySecret(accessor, req, view)) return this.#finish(this.#pass(snapshot, accessor, req, undefined), req);
        pending = newPending(accessor, req, snapshot, view, outage);
      } else {
        const result = evaluateCompiled(site.compiled, context, lookupOf(snapshot));
        const index = result.variationIndex;
        const mode = index === null ? null : site.modes[index];
        if ((!mode || mode === "available") && !this.#visitsAnySecret(accessor, req, view)) {
          const whole = site.needs === "user" ? this.#complete(context, site.otherKinds, view) : undefined;
          return this.#finish(this.#pass(snapshot, accessor, req, whole), req);
        }
        const alone = this.#siteAlone(site, result, context, accessor, req, snapshot, view);
        if (alone !== null) return this.#finish(alone, req);
        pending = newPending(accessor, req, snapshot, view, outage);
        this.#keep(pending, site, context);
        this.#apply(pending, site, this.#options.siteFlag, "site", result, context);
      }
    } else {
      pending = newPending(accessor, req, snapshot, view, outage);
      this.#consider(pending, site, this.#options.siteFlag, "site");
    }
    if (!siteOnly) {
      if (features !== undefined) {
        if (typeof features === "string") this.#consider(pending, view.features.get(features) ?? null, features, "feature");
        else for (const name of features) this.#consider(pending, view.features.get(name) ?? null, name, "feature");
      } else if (this.#pathFeatures.length > 0) {
        for (const name of this.#featuresOf(pending)) this.#consider(pending, view.features.get(name) ?? null, name, "feature");
      }
    }
    const verdict = pending.verdict;
    if (verdict === null || pending.blocking === null) {
      // Nothing blocks this request, but something is in force: the secret URL still hands out a cookie for it.
      if (this.#visitsAnySecret(accessor, req, view)) return this.#finish(this.#secretVisit(pending), req);
      if (verdict === null) return this.#finish(this.#pass(snapshot, accessor, req, this.#fullContext(pending)), req);
      return this.#finish(this.#decision("pass", verdict, "SAFE_METHOD", pending), req);
    }
    const bypass = this.#bypass(accessor, req, verdict.flag?.settings, pending, null);
    const action: DecisionAction = bypass === null ? "block" : bypass === "BYPASS_SECRET" ? "redirect" : "pass";
    return this.#finish(this.#decision(action, verdict, bypass ?? verdict.reason, pending), req);
  }

  /**
   * The decision of a request the site flag alone puts in a mode (no features, no outage), without the
   * per-request state of the general path; `null` where that path must decide (a secret URL visit).
   */
  #siteAlone(
    site: ModeFlag,
    result: EvaluationResult,
    context: EvaluationContext,
    accessor: RequestAccessor<Req>,
    req: Req,
    snapshot: Snapshot,
    view: PolicyView,
  ): Decision | null {
    let mode = site.modes[result.variationIndex!];
    if (!mode || mode === "available") return null;
    let picked = picksOut(site, result);
    if (picked && yieldsToWhole(site, mode)) {
      mode = site.wholeMode!;
      picked = false;
    }
    let action: DecisionAction;
    let reason: DecisionReason;
    if (mode === "read-only" && isSafeMethod(accessor.method(req))) {
      if (this.#visitsAnySecret(accessor, req, view)) return null;
      action = "pass";
      reason = "SAFE_METHOD";
    } else {
      const bypass = this.#bypass(accessor, req, site.settings, null, null, view);
      if (bypass === "BYPASS_SECRET") return null;
      action = bypass === null ? "block" : "pass";
      reason = bypass ?? "FLAG";
    }
    const by = picked ? pickedBy(site.compiled, site.ruleKinds, result, context, snapshot) : null;
    const scope: Scope = by === null ? "site" : by.kind === "user" ? "user" : "context";
    const whole = site.needs === "user" ? this.#complete(context, site.otherKinds, view) : undefined;
    return this.#decisionOf(action, mode, scope, site, this.#options.siteFlag, result.reason, reason, by, view, snapshot, accessor, req, whole, null);
  }

  #consider(pending: Pending<Req>, flag: ModeFlag | null, key: string, scope: Scope): void {
    const current = pending.verdict;
    if ((pending.outage !== null && pending.view.failClosed.has(key)) || pending.view.brokenClosed.has(key)) {
      this.#blocks(pending, key, "maintenance");
      if (current === null || current.mode !== "maintenance") {
        pending.verdict = { mode: "maintenance", scope, flag, key, evaluation: null, reason: "FAIL_CLOSED", picked: null };
      }
      return;
    }
    if (flag === null) return;
    // A flag that answers everyone alike reads no context: user() is not called for it.
    let context: EvaluationContext;
    switch (flag.needs) {
      case "none":
        context = NO_CONTEXT;
        break;
      case "key":
        context = pending.context ?? (pending.keyContext ??= { key: this.#userKey(pending.req) });
        break;
      case "key-kinds":
        context = pending.withKinds ? pending.context! : (pending.keyKinds ??= this.#withKinds({ key: this.#userKey(pending.req) }, pending.req, pending.view.kinds));
        break;
      case "custom":
        context = pending.context ?? (pending.customContext ??= this.#withCustom({ key: this.#userKey(pending.req) }, pending.req));
        break;
      case "user":
        context = this.#contextFor(pending, flag.otherKinds);
    }
    const lookup = lookupOf(pending.snapshot);
    let result = evaluateCompiled(flag.compiled, context, lookup);
    const rules = flag.pathRules;
    if (rules !== null) {
      const readings = (pending.ruleReadings ??= decodedReadings(this.#paths(pending).paths));
      const unreadable = pending.paths!.unreadable || readings.some((path) => path.length > MAX_MATCH_INPUT);
      result = strictestReading(flag.compiled, rules, flag.modes, context, readings, unreadable, lookup, result);
    }
    this.#apply(pending, flag, key, scope, result, context);
  }

  /** What flag `key` evaluated to (`result`, for `context`) means for the request: its mode, if stricter than the verdict so far. */
  #apply(pending: Pending<Req>, flag: ModeFlag, key: string, scope: Scope, result: EvaluationResult, context: EvaluationContext): void {
    const current = pending.verdict;
    const index = result.variationIndex;
    let mode = index === null ? null : flag.modes[index];
    if (!mode || mode === "available") return;
    let picked = picksOut(flag, result);
    if (picked && yieldsToWhole(flag, mode)) {
      mode = flag.wholeMode!;
      picked = false;
    }
    this.#blocks(pending, key, mode);
    if (current !== null && !stricter(mode, current.mode)) return;
    const by = picked ? pickedBy(flag.compiled, flag.ruleKinds, result, context, pending.snapshot) : null;
    pending.verdict = { mode, scope: by === null ? scope : by.kind === "user" ? "user" : "context", flag, key, evaluation: result.reason, reason: "FLAG", picked: by };
  }

  /** Records that flag `key` puts this request in `mode`, when that mode refuses the request's method. */
  #blocks(pending: Pending<Req>, key: string, mode: Mode): void {
    if (mode === "read-only" && isSafeMethod(pending.accessor.method(pending.req))) return;
    // Most requests have one blocking flag: a one-slot array, not an empty one grown by push.
    if (pending.blocking === null) pending.blocking = [key];
    else pending.blocking.push(key);
  }

  #paths(pending: Pending<Req>): RequestPaths {
    const { accessor, req } = pending;
    return (pending.paths ??= readRequestPaths(accessor.path(req), accessor.alternatePath?.(req)));
  }

  /** The path features of this request: of any of its readings, or all of them when it has an unreadable one. */
  #featuresOf(pending: Pending<Req>): readonly string[] {
    const readings = this.#paths(pending);
    if (readings.unreadable) return this.#pathFeatures.map((feature) => feature.name);
    const paths = readings.paths;
    if (paths.length === 1) return this.#featuresFor(paths[0]!);
    const names = new Set<string>();
    for (const path of paths) for (const name of this.#featuresFor(path)) names.add(name);
    return [...names];
  }

  #featuresFor(path: string): readonly string[] {
    let names = this.#featuresByPath.get(path);
    if (names === undefined) {
      names = this.#pathFeatures.filter((feature) => feature.match(path)).map((feature) => feature.name);
      this.#featuresByPath.set(path, names);
    }
    return names;
  }

  /** The period of flag `key` for this request: its own, or the outage's when its fail mode holds it. */
  #periodOf(pending: Pending<Req>, key: string): string {
    const view = pending.view;
    if (pending.outage !== null && view.failClosed.has(key)) return failClosedPeriod(key, pending.outage);
    return this.#viewPeriod(view, key);
  }

  #viewPeriod(view: PolicyView, key: string): string {
    let period = view.periods.get(key);
    if (period === undefined) {
      period = periodOf(key, view.snapshot.definition(key));
      view.periods.set(key, period);
    }
    return period;
  }

  /** Every period in force now: what a cookie issued now opens. */
  #periodsInForce(pending: Pending<Req>): string[] {
    const { view } = pending;
    const keys = new Set<string>();
    if (view.site !== null) keys.add(this.#options.siteFlag);
    for (const key of view.features.keys()) keys.add(key);
    if (pending.outage !== null) for (const key of view.failClosed) keys.add(key);
    return [...keys].map((key) => this.#periodOf(pending, key));
  }

  /**
   * The bypass that lets a blocked request through, if any. `settings`: the
   * blocking flag's, for its own secret. A bypass cookie must open the period
   * of every flag that blocks `pending`, or `periods` when there is no pending
   * decision (the fail mode before any load).
   */
  #bypass(
    accessor: RequestAccessor<Req>,
    req: Req,
    settings: DetourFlagSettings | undefined,
    pending: Pending<Req> | null,
    periods: readonly string[] | null,
    siteView?: PolicyView,
  ): DecisionReason | null {
    if (this.#allowPath !== null && this.#allowed(accessor, req)) return "ALLOWED_PATH";
    if (this.#allowIp !== null && this.#allowIp(accessor.ip(req))) return "ALLOWED_IP";
    const secret = this.#options.secret;
    if (secret !== null) {
      const cookie = accessor.header(req, "cookie");
      if (cookie) {
        const open =
          pending !== null
            ? (pending.blocking ?? []).map((key) => this.#periodOf(pending, key))
            : siteView !== undefined
              ? [this.#viewPeriod(siteView, this.#options.siteFlag)]
              : (periods ?? []);
        if (verifyBypassCookie(cookie, { secret: secret.value, periods: open, now: this.#options.now() })) return "BYPASS_COOKIE";
      }
    }
    if (this.#token !== null) {
      const token = accessor.header(req, "detour-bypass");
      if (token && this.#token(token)) return "BYPASS_TOKEN";
    }
    if (this.#isSecretVisit(accessor, req)) return "BYPASS_SECRET";
    // A flag's own secret (`detour down --secret`) issues the same cookie, signed with the app's key: no key, no door.
    if (secret !== null && settings?.secret && matchesFlagSecret(this.#target(accessor, req), settings.secret)) return "BYPASS_SECRET";
    return null;
  }

  /** The request target's path (an absolute-form target's path), or the target itself when it has none. */
  #target(accessor: RequestAccessor<Req>, req: Req): string {
    const target = accessor.path(req);
    return targetPath(target) ?? target;
  }

  #isSecretVisit(accessor: RequestAccessor<Req>, req: Req): boolean {
    return this.#secretPath !== null && this.#secretPath(this.#target(accessor, req));
  }

  /** A visit to the app's secret URL or to the own secret of a flag in force, for a request nothing blocks. */
  #visitsAnySecret(accessor: RequestAccessor<Req>, req: Req, view: PolicyView): boolean {
    if (this.#secretPath === null && (this.#options.secret === null || !view.flagSecrets)) return false;
    if (this.#isSecretVisit(accessor, req)) return true;
    if (this.#options.secret === null) return false;
    let path: string | undefined;
    for (const flag of view.site === null ? view.features.values() : [view.site, ...view.features.values()]) {
      const own = flag.settings?.secret;
      if (own && matchesFlagSecret((path ??= this.#target(accessor, req)), own)) return true;
    }
    return false;
  }

  /** Allowed paths: the request's URL (and its other URL, when a rewrite changed it) must be allowed. */
  #allowed(accessor: RequestAccessor<Req>, req: Req): boolean {
    const allow = this.#allowPath!;
    if (!allow(accessor.path(req))) return false;
    const alternate = accessor.alternatePath?.(req);
    return alternate === undefined || allow(alternate);
  }

  #pass(snapshot: Snapshot, accessor: RequestAccessor<Req>, req: Req, context: EvaluationContext | undefined): Decision {
    return new RequestDecision(this.#notInForce, snapshot, this, accessor, req, context);
  }

  #secretVisit(pending: Pending<Req>): Decision {
    const outcome = secretVisitOutcome(this.#options.status, this.#periodsInForce(pending));
    return new RequestDecision(outcome, pending.snapshot, this, pending.accessor, pending.req, this.#fullContext(pending));
  }

  #decision(action: DecisionAction, verdict: Verdict, reason: DecisionReason, pending: Pending<Req>): Decision {
    return this.#decisionOf(
      action, verdict.mode, verdict.scope, verdict.flag, verdict.key, verdict.evaluation, reason, verdict.picked,
      pending.view, pending.snapshot, pending.accessor, pending.req, this.#fullContext(pending),
      action === "redirect" ? this.#periodsInForce(pending) : null,
    );
  }

  #decisionOf(
    action: DecisionAction,
    mode: Mode,
    scope: Scope,
    flag: ModeFlag | null,
    key: string,
    evaluation: EvaluationReason | null,
    reason: DecisionReason,
    picked: PickedContext | null,
    view: PolicyView,
    snapshot: Snapshot,
    accessor: RequestAccessor<Req>,
    req: Req,
    context: EvaluationContext | undefined,
    periods: readonly string[] | null,
  ): Decision {
    const settings = flag?.settings;
    const until = flag?.until ?? null;
    const retryAt = flag?.retryAt ?? null;
    // An outcome with nothing of its request in it (no picked context, no clock, no cookie periods) is shared by the requests decided alike.
    const shareable = retryAt === null && picked === null && action !== "redirect";
    const last = this.#shared;
    if (shareable && last !== null && last.view === view) {
      const o = last.outcome;
      if (o.action === action && o.reason === reason && o.flag === key && o.mode === mode && o.scope === scope && o.evaluation === evaluation && o.picked === null) {
        return new RequestDecision(o, snapshot, this, accessor, req, context);
      }
    }
    const retryAfter = retryAt !== null ? Math.max(0, Math.ceil((retryAt - this.#options.now()) / 1000)) : (settings?.retryAfter ?? this.#options.retryAfter);
    const outcome = flagOutcome(
      action, mode, scope, key, reason, evaluation,
      { message: settings?.message ?? null, retryAfter, until, status: settings?.status ?? this.#options.status },
      periods,
      picked,
    );
    if (shareable) this.#shared = { view, outcome };
    return new RequestDecision(outcome, snapshot, this, accessor, req, context);
  }

  #failMode(accessor: RequestAccessor<Req>, req: Req): Decision {
    const options = this.#options;
    if (options.failMode === "open") return this.#finish(new RequestDecision(this.#failOpen, undefined, this, accessor, req, undefined), req);
    // Nothing ever loaded: one outage per instance, and cookies are bound to it.
    const periods = [failClosedPeriod(options.siteFlag, (this.#neverLoaded ??= randomUUID()))];
    const bypass = this.#bypass(accessor, req, undefined, null, periods);
    const action: DecisionAction = bypass === null ? "block" : bypass === "BYPASS_SECRET" ? "redirect" : "pass";
    const outcome = flagOutcome(
      action, "maintenance", "site", options.siteFlag, bypass ?? "FAIL_CLOSED", null,
      { message: null, retryAfter: options.retryAfter, until: null, status: options.status },
      periods,
      null,
    );
    return this.#finish(new RequestDecision(outcome, undefined, this, accessor, req, undefined), req);
  }

  #finish(decision: Decision, req: Req): Decision {
    if (this.#options.onDecision) this.#options.onDecision(decision, req);
    return decision;
  }

  /** The complete HTTP answer for a `block` or `redirect` decision. */
  respond(decision: Decision, accessor: RequestAccessor<Req>, req: Req): HttpResponse {
    const options = this.#options;
    if (decision.action === "redirect" && options.secret !== null) {
      const cookie = issueBypassCookie({
        secret: options.secret.value,
        periods: RequestDecision.periodsOf(decision),
        now: options.now(),
        ttlSeconds: options.secret.ttl,
        secure: accessor.secure(req),
      });
      return { status: 302, headers: { location: options.secret.redirectTo, "set-cookie": cookie, "cache-control": "no-store" }, body: null };
    }
    const path = accessor.path(req);
    return respond(
      decision,
      { method: accessor.method(req), accept: accessor.header(req, "accept"), path, contentType: accessor.header(req, "content-type"), referer: accessor.header(req, "referer") },
      {
        render: options.render, template: options.template, refresh: options.refresh, now: options.now,
        json: options.jsonPath !== null && options.jsonPath(path),
        settings: decision.flag === null ? undefined : this.#snapshot()?.definition(decision.flag)?.detour,
      },
    );
  }
}

