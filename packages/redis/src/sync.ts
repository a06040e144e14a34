/**
 * Keeping the snapshot in step with Redis: the first load (with the
 * bootstrap fallback), change notices, the periodic revision check, resyncs
 * after every (re)connection, refusing bad documents, and refilling a Redis
 * that came back empty.
 */
import { randomUUID } from "node:crypto";
import {
  Snapshot,
  StoreClosedError,
  StoreUnavailableError,
  ValidationError,
  asError,
  type DocumentChanges,
  type StoreState,
} from "@detour/core/store";
import { COPY_TIMEOUT_MS, INLINE_MEMBERS, SCAN_ATTEMPTS, readCopy, scanSet } from "./bulk.js";
import type { RedisClient, RedisConnection } from "./connection.js";
import { INTEGER, NO_SETS, loadBootstrap, parseStored, revisionOf, tokenOf, type Observed } from "./document.js";
import { TARGETS, type TargetsNotice, type WritePlan } from "./layout.js";
import { noticeChanges } from "./target-notice.js";
import type { StoreSettings } from "./options.js";
import { READ_SCRIPT, READ_SHA, runScript } from "./scripts.js";
import type { SetId } from "./targets.js";
import type { Origin, RedisView } from "./view.js";
import { CHANGES, compareAndSet, plan } from "./write.js";

/** What one read of Redis found: the document, its revision, the members of each target set. */
export interface Read {
  readonly raw: string | null;
  readonly rev: string | null;
  readonly members: ReadonlyMap<SetId, readonly string[]>;
  readonly seq: number;
}

const NO_SETS_IDS: ReadonlySet<SetId> = new Set();

export class RedisSync {
  readonly #settings: StoreSettings;
  readonly #state: StoreState;
  readonly #view: RedisView;
  readonly #connection: RedisConnection;
  /** What `health()` reports between start and Redis's first answer. */
  readonly #notConnected = new Error("not connected");
  #started = false;
  #pollTimer: NodeJS.Timeout | undefined;
  #bootLoaded: Promise<void> | undefined;
  #syncing: Promise<void> | null = null;
  #again = false;
  #waiters: Array<(error: Error | null) => void> = [];
  /** An outage is reported once, not once per reconnection attempt. */
  #outageReported = false;

  constructor(settings: StoreSettings, state: StoreState, view: RedisView, connection: RedisConnection) {
    this.#settings = settings;
    this.#state = state;
    this.#view = view;
    this.#connection = connection;
  }

  get started(): boolean {
    return this.#started;
  }

  /**
   * The first load: waits up to `loadTimeoutMs` for Redis, else puts the
   * bootstrap document in force, else rejects (the store keeps trying).
   */
  async open(): Promise<Snapshot> {
    const { where } = this.#settings;
    this.#bootLoaded ??= this.#loadBootstrap();
    await this.#bootLoaded;
    if (this.#state.closed) throw new StoreClosedError("redis");
    this.#start();
    const error = await this.#firstAnswer();
    if (this.#state.closed) throw new StoreClosedError("redis");
    const snapshot = this.#state.snapshot;
    if (snapshot) return snapshot;
    const boot = this.#view.boot;
    if (boot) {
      // Redis is down: the bootstrap document is in force until Redis answers.
      this.#adopt(boot, this.#view.order.applied, "bootstrap", null, null);
      this.#settings.logger?.warn(`[detour/redis] ${where}: Redis unreachable at start; using the bootstrap document (revision ${boot.revision})`);
      return boot;
    }
    throw new StoreUnavailableError(`${where}: cannot load (${error?.message ?? "Redis unreachable"}); retrying in the background`, {
      cause: error ?? undefined,
    });
  }

  /** Reads Redis and acts on what it holds, one read at a time; a request during a read asks for one more. Never rejects. */
  request(): Promise<void> {
    // Not connected: the connection's "ready" event asks again.
    if (this.#state.closed || !this.#started || !this.#connection.ready) return Promise.resolve();
    if (this.#syncing) {
      this.#again = true;
      return this.#syncing;
    }
    this.#syncing = (async () => {
      do {
        this.#again = false;
        try {
          await this.#syncOnce();
        } catch (error) {
          this.unreachable(error);
          return;
        }
      } while (this.#again && !this.#state.closed);
    })().finally(() => {
      this.#syncing = null;
    });
    return this.#syncing;
  }

  /**
   * The subscriber is subscribed (again): whatever was published meanwhile
   * moved the revision, so the revision check (after a read in flight) tells
   * whether a full read is needed, which at start it is not.
   */
  catchUp(): Promise<void> {
    return (this.#syncing ?? Promise.resolve()).then(() => this.#poll());
  }

  /**
   * A change notice: the new revision, then (unless the document is large)
   * a newline and the document itself, which saves a round trip. A notice
   * with only a revision (e.g. from another tool) makes the store read Redis.
   */
  notice(message: string): void {
    if (this.#state.closed) return;
    const view = this.#view;
    const newline = message.indexOf("\n");
    const rev = newline < 0 ? message : message.slice(0, newline);
    if (view.token === `1:${rev}`) return; // already in force (our own write, or seen by the revision check)
    const current = view.revisionInRedis;
    // An older notice arriving late. (A revision that went backwards, e.g. a
    // document restored by hand, is picked up by the revision check.)
    if (current !== null && INTEGER.test(rev) && INTEGER.test(current) && Number(rev) < Number(current)) return;
    if (newline < 0) {
      void this.request();
      return;
    }
    if (view.ownWrites.has(message)) return; // our own write in flight: write() puts it in force
    const body = message.slice(newline + 1);
    if (body.startsWith(CHANGES) || body.startsWith(TARGETS)) {
      this.#applyChanges(body, rev);
      return;
    }
    // Newest by construction (Redis publishes in commit order): a fresh
    // sequence number makes replies to reads sent earlier stale.
    this.#receive(body, rev, view.order.next());
  }

  /**
   * A notice with the changes from a base revision (`changes`, or `targets`
   * with the deltas of the target sets): applied to the snapshot in force
   * when that is the base (only the flags it names are compiled), else (a
   * notice missed, a refused document, bad changes) a full read.
   */
  #applyChanges(body: string, rev: string): void {
    const view = this.#view;
    const newline = body.indexOf("\n");
    const targets = body.startsWith(TARGETS);
    const base = body.slice((targets ? TARGETS : CHANGES).length, newline < 0 ? undefined : newline);
    const snapshot = this.#state.snapshot;
    if (newline < 0 || !snapshot || view.origin !== "redis" || view.refused || view.token !== `1:${base}` || !INTEGER.test(rev)) {
      void this.request();
      return;
    }
    let next: Snapshot;
    let sets = view.sets;
    try {
      const parsed = JSON.parse(body.slice(newline + 1)) as DocumentChanges | TargetsNotice;
      let changes = parsed as DocumentChanges;
      if (targets) {
        const notice = parsed as TargetsNotice;
        changes = noticeChanges(snapshot.document, notice);
        sets = new Set(notice.sets);
      }
      next = snapshot.patch(changes, { revision: Number(rev), source: this.#settings.source, now: this.#state.now() });
    } catch {
      void this.request(); // the full read reports what is wrong with the document
      return;
    }
    // The raw JSON in force is unknown now (nothing to compare a later notice's document with).
    if (this.#adopt(next, view.order.next(), "redis", { exists: true, rev }, null, sets)) this.confirm();
  }

  /** The connection went down (or a command failed): the snapshot stays in force, the outage is reported once. */
  unreachable(cause: unknown): void {
    if (this.#state.closed) return;
    const error = asError(cause);
    this.#state.fail(error, { emit: false });
    if (!this.#outageReported) {
      this.#outageReported = true;
      const snapshot = this.#state.snapshot;
      const inForce = snapshot ? `keeping revision ${snapshot.revision} in force` : "nothing loaded yet";
      this.#report(new StoreUnavailableError(`${this.#settings.where}: Redis unreachable (${error.message}); ${inForce}`, { cause: error }));
    }
    if (!this.#state.snapshot) this.#settle(error);
  }

  /** The error the connection last reported, if any (not the placeholder shown before Redis first answers). */
  lastError(): Error | undefined {
    const failure = this.#state.failure;
    return failure === this.#notConnected ? undefined : failure;
  }

  /** Redis answered and what is in force is current. */
  confirm(): void {
    this.#state.confirm();
    this.#outageReported = false;
    if (this.#state.snapshot) this.#settle(null);
  }

  /**
   * A compare-and-set of this instance went through: `next` (stored as
   * `written`) goes in force unless an observation newer than `seq` already
   * did, and Redis counts as having answered either way.
   */
  written(next: Snapshot, seq: number, written: WritePlan): void {
    this.#adopt(next, seq, "redis", { exists: true, rev: String(next.revision) }, written.stored, written.sets);
    this.confirm();
  }

  /** The command connection. */
  commands(): RedisClient {
    if (this.#state.closed) throw new StoreClosedError("redis");
    const client = this.#connection.client;
    if (!client) throw new StoreUnavailableError(`${this.#settings.where}: not started`);
    return client;
  }

  /**
   * Reads the document, its revision and the target sets as of one revision;
   * `seq` orders the reply. Large sets are scanned in pieces after the read
   * script, and the read counts only if the revision did not move meanwhile;
   * after `SCAN_ATTEMPTS` reads that saw it move, the script copies them.
   */
  read(): Promise<Read> {
    return this.#askTwice(() => this.#readOnce());
  }

  /**
   * A reply that arrived while this process was busy (compiling a large flag
   * takes seconds) times out all the same: ask once more before calling it an outage.
   */
  async #askTwice<T>(ask: () => Promise<T>): Promise<T> {
    try {
      return await ask();
    } catch (error) {
      if (asError(error).message !== "Command timed out" || this.#state.closed) throw error;
      return ask();
    }
  }

  async #readOnce(): Promise<Read> {
    const redis = this.commands();
    const { document, revision, targets } = this.#settings.keys;
    for (let attempt = 0; ; attempt++) {
      const copy = attempt >= SCAN_ATTEMPTS;
      const seq = this.#view.order.next();
      const args = [3, document, revision, targets, randomUUID(), INLINE_MEMBERS, copy ? "1" : "0"];
      const reply = (await runScript(redis, READ_SCRIPT, READ_SHA, args, copy ? COPY_TIMEOUT_MS : undefined)) as unknown[];
      const [raw, rev] = reply as [string | null, string | null];
      const members = new Map<SetId, readonly string[]>();
      let scanned = false;
      for (let i = 2; i + 1 < reply.length; i += 2) {
        const key = reply[i] as string;
        const found = reply[i + 1] as string[] | string | number;
        scanned ||= typeof found === "number";
        const values = typeof found === "number" ? await scanSet(redis, key) : typeof found === "string" ? await readCopy(redis, found) : found;
        members.set(key.slice(targets.length + 1), values);
      }
      if (!scanned || (await redis.get(revision)) === rev) return { raw: raw ?? null, rev: rev ?? null, members, seq };
    }
  }

  /** Stops the revision check and fails a load still waiting. */
  stop(): void {
    if (this.#pollTimer) clearInterval(this.#pollTimer);
    this.#settle(new StoreClosedError("redis"));
  }

  #start(): void {
    if (this.#started) return;
    this.#started = true;
    this.#state.fail(this.#notConnected, { emit: false });
    this.#connection.open();
    this.#pollTimer = setInterval(() => void this.#poll(), this.#settings.pollIntervalMs);
    this.#pollTimer.unref();
  }

  async #loadBootstrap(): Promise<void> {
    const given = this.#settings.bootstrap;
    if (given === undefined) return;
    try {
      this.#view.boot = await loadBootstrap(given, this.#state.now());
    } catch (error) {
      this.#report(new StoreUnavailableError(`${this.#settings.where}: cannot use the bootstrap document: ${asError(error).message}`, { cause: error }));
    }
  }

  /** Resolves when a snapshot is in force (`null`), Redis turned out unreachable, or `loadTimeoutMs` passed (the reason). */
  #firstAnswer(): Promise<Error | null> {
    if (this.#state.snapshot) return Promise.resolve(null);
    const { loadTimeoutMs } = this.#settings;
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        this.#waiters = this.#waiters.filter((w) => w !== done);
        resolve(new Error(`no answer within ${loadTimeoutMs} ms`));
      }, loadTimeoutMs);
      timer.unref();
      const done = (error: Error | null) => {
        clearTimeout(timer);
        resolve(error);
      };
      this.#waiters.push(done);
    });
  }

  #settle(error: Error | null): void {
    const pending = this.#waiters;
    this.#waiters = [];
    for (const resolve of pending) resolve(error);
  }

  /** One read of Redis, acted upon: adopt, refuse, restore or seed. */
  async #syncOnce(): Promise<void> {
    const { raw, rev, members, seq } = await this.read();
    if (this.#state.closed) return;
    if (raw === null) await this.#refill({ exists: false, rev }, seq);
    else this.#receive(raw, rev, seq, members);
  }

  /**
   * Redis holds no document: a first start, or a restart without persistence.
   * Never let that turn maintenance off: write back what we hold (a
   * compare-and-set on "absent", so only one instance wins).
   */
  async #refill(observed: Observed, seq: number): Promise<void> {
    const { keys, source, seedDelayMs, logger } = this.#settings;
    const view = this.#view;
    const snap = this.#state.snapshot;
    const candidate = snap && view.origin !== "empty" ? snap : !snap ? view.boot : undefined;
    if (candidate && view.origin === "bootstrap") {
      // This instance runs on its bootstrap file because Redis was down when
      // it started. Instances that held a snapshot from Redis know better:
      // give them time to reconnect (their retry delay is capped at 2 s)
      // and write theirs back first.
      view.emptySeenAt ??= this.#state.now();
      if (this.#state.now() - view.emptySeenAt < seedDelayMs) {
        this.#reachable();
        return;
      }
    }
    if (candidate) {
      const revision = Math.max(candidate.revision, revisionOf(observed.rev, -1) + 1);
      const next = revision === candidate.revision ? candidate : Snapshot.from({ ...candidate.draft(), revision }, { source, now: this.#state.now() });
      const written = plan(next.document, null, next.document, null);
      const what =
        candidate !== snap || view.origin === "bootstrap"
          ? `${keys.document} was empty; seeded it from the bootstrap document (revision ${revision})`
          : `${keys.document} was empty (Redis restarted without persistence?); wrote back this instance's snapshot, revision ${revision}`;
      const result = await compareAndSet(this.commands(), keys, view, observed, written, revision);
      if (this.#state.closed) return;
      if (!result.ok) {
        this.#again = true; // someone else wrote first: read what they wrote
        return;
      }
      this.written(next, result.seq, written);
      logger?.warn(`[detour/redis] ${what}`);
      return;
    }
    if (view.order.isStale(seq)) return;
    if (!snap) this.#adopt(Snapshot.empty(this.#state.now()), seq, "empty", observed, null);
    else {
      view.order.claim(seq);
      view.token = tokenOf(observed);
      view.sets = NO_SETS_IDS;
    }
    this.confirm();
  }

  /** Puts a document read from Redis (by a read, or inline in a change notice) in force, or refuses it. */
  #receive(raw: string, rev: string | null, seq: number, members: ReadonlyMap<SetId, readonly string[]> = NO_SETS): void {
    const { keys, source, where } = this.#settings;
    const view = this.#view;
    const observed: Observed = { exists: true, rev };
    const token = tokenOf(observed);
    if (raw === view.rawInForce && token === view.token) {
      if (!view.order.isStale(seq)) this.confirm();
      return;
    }
    if (view.refused && raw === view.refused.raw && token === view.refused.token) {
      this.#reachable();
      return;
    }
    let next: Snapshot;
    try {
      next = parseStored(raw, rev, keys, source, this.#state.now(), members);
    } catch (error) {
      if (!view.order.claim(seq)) return;
      view.token = token;
      view.refused = { token, raw };
      this.#state.refuse(error, { emit: false });
      this.#outageReported = false;
      const message = asError(error).message;
      const snapshot = this.#state.snapshot;
      const inForce = snapshot ? `revision ${snapshot.revision} stays in force` : "nothing is in force";
      const issues = error instanceof ValidationError ? error.issues : [{ path: "(document)", message }];
      const refusal = new ValidationError(issues, source);
      refusal.message = `${where}: refused the document in Redis (${message}); ${inForce}`;
      this.#report(refusal);
      return;
    }
    if (this.#adopt(next, seq, "redis", observed, raw, new Set(members.keys()))) this.confirm();
  }

  /** Cheap check (`GET` revision + `EXISTS` document): resync only when Redis holds something else than last seen. */
  async #poll(): Promise<void> {
    const client = this.#connection.client;
    if (this.#state.closed || this.#syncing || !client || !this.#connection.ready) return;
    const { keys } = this.#settings;
    try {
      const [rev, exists] = await this.#askTwice(() => Promise.all([client.get(keys.revision), client.exists(keys.document)]));
      if (this.#state.closed) return;
      const observed = tokenOf({ exists: exists === 1, rev });
      if (observed !== this.#view.token) await this.request();
      else this.confirm();
    } catch (error) {
      this.unreachable(error);
    }
  }

  /** Records what was put in force and where it came from; a snapshot from elsewhere than Redis confirms nothing. */
  #adopt(next: Snapshot, seq: number, from: Origin, observed: Observed | null, raw: string | null, sets: ReadonlySet<SetId> = NO_SETS_IDS): boolean {
    const view = this.#view;
    if (!view.order.claim(seq)) return false;
    view.token = observed ? tokenOf(observed) : null;
    view.rawInForce = raw;
    view.sets = sets;
    view.origin = from;
    view.refused = null;
    view.emptySeenAt = undefined;
    this.#state.accept(next, { confirmed: from !== "bootstrap" });
    return true;
  }

  /** Redis answered, without confirming the snapshot in force. */
  #reachable(): void {
    this.#state.clearError();
    this.#outageReported = false;
  }

  #report(error: Error): void {
    this.#settings.logger?.error(`[detour/redis] ${error.message}`);
    this.#state.emit({ type: "error", error });
    try {
      this.#settings.onError?.(error);
    } catch {
      // a failing error hook must not break the store
    }
  }
}
