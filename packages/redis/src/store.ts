import { readFile } from "node:fs/promises";
import { Redis, type RedisOptions } from "ioredis";
import {
  ArgumentError,
  OptionsError,
  Snapshot,
  StoreClosedError,
  StoreUnavailableError,
  ValidationError,
  WriteConflictError,
  withDictionaries,
  type FlagDocument,
  type Mutator,
  type Store,
  type StoreEvent,
  type StoreHealth,
  type StoreListener,
} from "@detour/core";
import { CAS_SCRIPT, CAS_SHA } from "./scripts.js";

export interface RedisStoreLogger {
  warn(message: string): void;
  error(message: string): void;
}

export interface RedisStoreOptions {
  /** `redis://[user:pass@]host:port/db`. Default `redis://127.0.0.1:6379`. Ignored when `client` is given. */
  url?: string;
  /**
   * An ioredis client to use for commands. The store duplicates it for its
   * subscriber connection and never quits it. Configure it to fail fast while
   * disconnected (`enableOfflineQueue: false`, `maxRetriesPerRequest: 0`),
   * as the store does for the connections it creates.
   */
  client?: Redis;
  /** Extra ioredis options for the connections the store creates (merged over the store's defaults). */
  redisOptions?: RedisOptions;
  /** Key prefix: keys are `<prefix>:document`, `<prefix>:revision`, channel `<prefix>:changes`. Default `detour`. */
  prefix?: string;
  /**
   * Used when Redis cannot be reached at start (a JSON file path, or a document),
   * and to seed Redis when it holds no document yet.
   */
  bootstrap?: string | FlagDocument;
  /** How often to check the revision in Redis, catching missed change notices. Default 1500 ms. */
  pollIntervalMs?: number;
  /** How long `load()` waits for Redis before falling back to `bootstrap` or rejecting. Default 5000 ms. */
  loadTimeoutMs?: number;
  /** Compare-and-set attempts before a write gives up with `WriteConflictError`. Default 25. */
  maxWriteAttempts?: number;
  /** Called with every error the store reports (also emitted to subscribers as `error` events). */
  onError?: (error: Error) => void;
  /** Where warnings and errors are logged. Default `console`; `null` for silence. */
  logger?: RedisStoreLogger | null;
}

export interface RedisStoreKeys {
  readonly document: string;
  readonly revision: string;
  readonly channel: string;
}

export interface RedisStore extends Store {
  readonly kind: "redis";
  /** The keys and channel this store uses. */
  readonly keys: RedisStoreKeys;
  /** Reads Redis now and applies what it holds (what a reconnect does). Never rejects. */
  resync(): Promise<void>;
}

/** The keys and channel used under `prefix`. */
export function redisKeys(prefix = "detour"): RedisStoreKeys {
  return { document: `${prefix}:document`, revision: `${prefix}:revision`, channel: `${prefix}:changes` };
}

type Origin = "empty" | "bootstrap" | "redis";

/** What Redis was seen to hold: whether the document key exists and the revision key's raw value. */
interface Observed {
  readonly exists: boolean;
  readonly rev: string | null;
}

const tokenOf = (o: Observed): string => `${o.exists ? 1 : 0}:${o.rev ?? ""}`;
const INTEGER = /^(0|[1-9][0-9]{0,15})$/;
/** Documents up to this many characters travel inside the change notice. */
const INLINE_NOTICE_MAX = 64 * 1024;
const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

function positive(name: string, value: number | undefined, fallback: number): number {
  if (value === undefined) return fallback;
  if (typeof value !== "number" || !Number.isFinite(value) || value <= 0) {
    throw new OptionsError(name, `expected a positive number, got ${String(value)}`);
  }
  return value;
}

function asError(value: unknown): Error {
  return value instanceof Error ? value : new Error(String(value));
}

/**
 * A store whose document lives in Redis and is shared by every instance.
 * Each instance keeps the snapshot in memory (requests never touch Redis),
 * applies changes announced on `<prefix>:changes`, checks the revision
 * periodically, writes with a versioned compare-and-set, and keeps its last
 * snapshot in force while Redis is unreachable.
 */
export function redisStore(options: RedisStoreOptions = {}): RedisStore {
  const prefix = options.prefix ?? "detour";
  if (typeof prefix !== "string" || prefix === "") throw new OptionsError("prefix", "expected a non-empty string");
  if (options.client !== undefined && options.url !== undefined) {
    throw new OptionsError("url", "give either url or client, not both");
  }
  const pollIntervalMs = positive("pollIntervalMs", options.pollIntervalMs, 1500);
  const loadTimeoutMs = positive("loadTimeoutMs", options.loadTimeoutMs, 5000);
  const seedDelayMs = Math.max(2 * pollIntervalMs, 3000);
  const maxWriteAttempts = Math.floor(positive("maxWriteAttempts", options.maxWriteAttempts, 25));
  const logger = options.logger === undefined ? console : options.logger;
  const keys = redisKeys(prefix);
  const where = `redis store "${prefix}"`;
  const source = `redis ${keys.document}`;

  const listeners = new Set<StoreListener>();

  let client: Redis | undefined;
  let sub: Redis | undefined;
  let started = false;
  let closed = false;
  let pollTimer: NodeJS.Timeout | undefined;
  let detachClient: (() => void) | undefined;

  let boot: Snapshot | undefined;
  let bootLoaded: Promise<void> | undefined;

  let snap: Snapshot | undefined;
  let origin: Origin | undefined;
  /** Token of what Redis held at the last observation that we acted on (accepted or refused). */
  let token: string | null = null;
  /** The raw JSON in Redis the snapshot in force came from. */
  let rawInForce: string | null = null;
  /** A document in Redis that was refused, so it is reported once. */
  let refused: { token: string; raw: string; message: string } | null = null;
  let confirmedAt: number | null = null;
  /** When an instance running on its bootstrap document first found Redis empty. */
  let emptySeenAt: number | undefined;

  let available = false;
  let lastError: Error | null = null;
  let outageReported = false;

  // Replies on one connection arrive in the order the commands were sent:
  // numbering observations at issue time lets a late reply never overwrite a newer one.
  let issued = 0;
  let applied = 0;

  let syncing: Promise<void> | null = null;
  let again = false;
  let loading: Promise<Snapshot> | null = null;
  let waiters: Array<(error: Error | null) => void> = [];
  /** Change notices of this instance's writes in flight: the write puts them in force itself. */
  const ownWrites = new Set<string>();

  function emit(event: StoreEvent): void {
    for (const listener of [...listeners]) {
      try {
        listener(event);
      } catch (error) {
        process.emitWarning(`a redis store listener threw: ${asError(error).message}`, "DetourWarning");
      }
    }
  }

  function report(error: Error): void {
    logger?.error(`[detour/redis] ${error.message}`);
    emit({ type: "error", error });
    try {
      options.onError?.(error);
    } catch {
      // a failing error hook must not break the store
    }
  }

  function settleWaiters(error: Error | null): void {
    const pending = waiters;
    waiters = [];
    for (const resolve of pending) resolve(error);
  }

  function markAvailable(): void {
    available = true;
    lastError = null;
    outageReported = false;
  }

  function markUnavailable(cause: unknown): void {
    if (closed) return;
    const error = asError(cause);
    available = false;
    lastError = error;
    if (!outageReported) {
      outageReported = true;
      const state = snap ? `keeping revision ${snap.revision} in force` : "nothing loaded yet";
      report(new StoreUnavailableError(`${where}: Redis unreachable (${error.message}); ${state}`, { cause: error }));
    }
    if (!snap) settleWaiters(error);
  }

  function confirm(): void {
    if (!refused) confirmedAt = Date.now();
    markAvailable();
    if (snap) settleWaiters(null);
  }

  function apply(next: Snapshot, seq: number, from: Origin, observed: Observed | null, raw: string | null): boolean {
    if (seq < applied) return false;
    applied = seq;
    token = observed ? tokenOf(observed) : null;
    rawInForce = raw;
    origin = from;
    refused = null;
    emptySeenAt = undefined;
    const changed = next !== snap;
    snap = next;
    if (changed) emit({ type: "snapshot", snapshot: next });
    return true;
  }

  function parse(raw: string, rev: string | null): Snapshot {
    if (rev !== null && !INTEGER.test(rev)) {
      throw new ValidationError([{ path: "(revision)", message: `${keys.revision} holds ${JSON.stringify(rev.slice(0, 40))}, expected an integer` }], source);
    }
    let input: unknown;
    try {
      input = JSON.parse(raw);
    } catch (error) {
      throw new ValidationError([{ path: "(document)", message: `not JSON: ${asError(error).message}` }], source);
    }
    if (rev !== null && input !== null && typeof input === "object" && !Array.isArray(input)) {
      input = { ...(input as object), revision: Number(rev) };
    }
    return Snapshot.from(input, { source });
  }

  async function loadBootstrap(): Promise<void> {
    const given = options.bootstrap;
    if (given === undefined) return;
    try {
      if (typeof given === "string") {
        const text = await readFile(given, "utf8");
        let input: unknown;
        try {
          input = JSON.parse(text);
        } catch (error) {
          throw new ValidationError([{ path: "(document)", message: `not JSON: ${asError(error).message}` }], given);
        }
        boot = Snapshot.from(input, { source: given });
      } else {
        boot = Snapshot.from(given, { source: "bootstrap" });
      }
    } catch (error) {
      report(new StoreUnavailableError(`${where}: cannot use the bootstrap document: ${asError(error).message}`, { cause: error }));
    }
  }

  function connection(): Redis {
    if (closed) throw new StoreClosedError("redis");
    if (!client) throw new StoreUnavailableError(`${where}: not started`);
    return client;
  }

  async function read(): Promise<{ raw: string | null; rev: string | null; seq: number }> {
    const redis = connection();
    const seq = ++issued;
    const [raw, rev] = (await redis.mget(keys.document, keys.revision)) as [string | null, string | null];
    return { raw, rev, seq };
  }

  /** Writes `raw` at revision `rev` if Redis still holds what `expected` says. */
  async function cas(expected: Observed, raw: string, rev: number): Promise<{ ok: boolean; seq: number }> {
    const redis = connection();
    const inline = raw.length <= INLINE_NOTICE_MAX;
    const args = [keys.document, keys.revision, expected.exists ? "1" : "0", expected.rev ?? "", String(rev), raw, keys.channel, inline ? "1" : "0"];
    const notice = inline ? `${rev}\n${raw}` : null;
    if (notice) ownWrites.add(notice);
    let seq = ++issued;
    let result: unknown;
    try {
      try {
        result = await redis.evalsha(CAS_SHA, 2, ...args);
      } catch (error) {
        if (!/NOSCRIPT/.test(asError(error).message)) throw error;
        seq = ++issued;
        result = await redis.eval(CAS_SCRIPT, 2, ...args);
      }
    } finally {
      if (notice) ownWrites.delete(notice);
    }
    return { ok: Number(result) === 1, seq };
  }

  /** One read of Redis, acted upon: adopt, refuse, restore or seed. */
  async function syncOnce(): Promise<void> {
    const { raw, rev, seq } = await read();
    if (closed) return;
    const observed: Observed = { exists: raw !== null, rev };
    if (raw === null) {
      // Redis holds no document: a first start, or a restart without persistence.
      // Never let that turn maintenance off: write back what we hold (only one instance wins).
      const candidate = snap && origin !== "empty" ? snap : !snap ? boot : undefined;
      if (candidate && origin === "bootstrap") {
        // This instance runs on its bootstrap file because Redis was down when
        // it started. Instances that held a snapshot from Redis know better:
        // give them time to reconnect (their retry delay is capped at 2 s)
        // and write theirs back first.
        emptySeenAt ??= Date.now();
        if (Date.now() - emptySeenAt < seedDelayMs) {
          markAvailable();
          return;
        }
      }
      if (candidate) {
        const floor = rev !== null && INTEGER.test(rev) ? Number(rev) + 1 : 0;
        const revision = Math.max(candidate.revision, floor);
        const next = revision === candidate.revision ? candidate : Snapshot.from({ ...candidate.draft(), revision }, { source });
        const json = JSON.stringify(next.document);
        const what =
          candidate !== snap || origin === "bootstrap"
            ? `${keys.document} was empty; seeded it from the bootstrap document (revision ${revision})`
            : `${keys.document} was empty (Redis restarted without persistence?); wrote back this instance's snapshot, revision ${revision}`;
        const written = await cas(observed, json, revision);
        if (closed) return;
        if (!written.ok) {
          again = true; // someone else wrote first: read what they wrote
          return;
        }
        apply(next, written.seq, "redis", { exists: true, rev: String(revision) }, json);
        logger?.warn(`[detour/redis] ${what}`);
        confirm();
        return;
      }
      if (seq < applied) return;
      if (!snap) apply(Snapshot.empty(), seq, "empty", observed, null);
      else {
        applied = seq;
        token = tokenOf(observed);
      }
      confirm();
      return;
    }
    accept(raw, rev, seq);
  }

  /** Puts a document read from Redis (by GET, or inline in a change notice) in force, or refuses it. */
  function accept(raw: string, rev: string | null, seq: number): void {
    const observed: Observed = { exists: true, rev };
    const observedToken = tokenOf(observed);
    if (raw === rawInForce && observedToken === token) {
      if (seq >= applied) confirm();
      return;
    }
    if (refused && raw === refused.raw && observedToken === refused.token) {
      markAvailable();
      return;
    }
    let next: Snapshot;
    try {
      next = parse(raw, rev);
    } catch (error) {
      if (seq < applied) return;
      applied = seq;
      token = observedToken;
      const message = asError(error).message;
      refused = { token: observedToken, raw, message };
      markAvailable();
      const state = snap ? `revision ${snap.revision} stays in force` : "nothing is in force";
      const issues = error instanceof ValidationError ? error.issues : [{ path: "(document)", message }];
      const refusal = new ValidationError(issues, source);
      refusal.message = `${where}: refused the document in Redis (${message}); ${state}`;
      report(refusal);
      return;
    }
    if (apply(next, seq, "redis", observed, raw)) confirm();
  }

  function requestSync(): Promise<void> {
    // Not connected: the connection's "ready" event asks again.
    if (closed || !started || client?.status !== "ready") return Promise.resolve();
    if (syncing) {
      again = true;
      return syncing;
    }
    syncing = (async () => {
      do {
        again = false;
        try {
          await syncOnce();
        } catch (error) {
          markUnavailable(error);
          return;
        }
      } while (again && !closed);
    })().finally(() => {
      syncing = null;
    });
    return syncing;
  }

  async function poll(): Promise<void> {
    if (closed || syncing || !client || client.status !== "ready") return;
    try {
      const [rev, exists] = await Promise.all([client.get(keys.revision), client.exists(keys.document)]);
      if (closed) return;
      const observed = tokenOf({ exists: exists === 1, rev });
      if (observed !== token) await requestSync();
      else confirm();
    } catch (error) {
      markUnavailable(error);
    }
  }

  /**
   * A change notice: the new revision, then (unless the document is large)
   * a newline and the document itself, which saves a round trip. A notice
   * with only a revision (e.g. from another tool) makes the store read Redis.
   */
  function onNotice(channel: string, message: string): void {
    if (channel !== keys.channel || closed) return;
    const newline = message.indexOf("\n");
    const rev = newline < 0 ? message : message.slice(0, newline);
    if (token === `1:${rev}`) return; // already in force (our own write, or seen by the revision check)
    const current = token?.startsWith("1:") ? token.slice(2) : null;
    // An older notice arriving late. (A revision that went backwards, e.g. a
    // document restored by hand, is picked up by the revision check.)
    if (current !== null && INTEGER.test(rev) && INTEGER.test(current) && Number(rev) < Number(current)) return;
    if (newline < 0) {
      void requestSync();
      return;
    }
    if (ownWrites.has(message)) return; // our own write in flight: write() puts it in force
    // Newest by construction (Redis publishes in commit order): a fresh
    // sequence number makes replies to reads sent earlier stale.
    accept(message.slice(newline + 1), rev, ++issued);
  }

  function start(): void {
    if (started) return;
    started = true;
    const owned = options.client === undefined;
    const defaults: RedisOptions = {
      enableOfflineQueue: false,
      maxRetriesPerRequest: 0,
      commandTimeout: 2000,
      connectTimeout: 2000,
      retryStrategy: (times) => Math.min(50 * 2 ** Math.min(times, 6), 2000) + Math.floor(Math.random() * 100),
    };
    client = owned
      ? new Redis(options.url ?? "redis://127.0.0.1:6379", { ...defaults, ...options.redisOptions })
      : (options.client as Redis);
    sub = client.duplicate({ autoResubscribe: false, lazyConnect: false, enableOfflineQueue: false });

    const onReady = () => void requestSync();
    const onClientError = (error: Error) => markUnavailable(error);
    const onClose = () => {
      if (!closed) markUnavailable(lastError ?? new Error("connection closed"));
    };
    client.on("ready", onReady);
    client.on("error", onClientError);
    client.on("close", onClose);
    detachClient = () => {
      client?.off("ready", onReady);
      client?.off("error", onClientError);
      client?.off("close", onClose);
    };

    // The subscriber's own trouble is covered by the revision check; the
    // listener is there so ioredis does not report the errors as unhandled.
    sub.on("error", () => {});
    sub.on("message", onNotice);
    sub.on("ready", () => {
      if (closed || !sub) return;
      sub.subscribe(keys.channel).then(
        () => requestSync(), // catch up on anything missed while unsubscribed
        () => {},
      );
    });

    if (client.status === "ready") void requestSync();
    else if (client.status === "wait") client.connect().catch(() => {});

    pollTimer = setInterval(() => void poll(), pollIntervalMs);
    pollTimer.unref();
  }

  function waitFirst(): Promise<Error | null> {
    if (snap) return Promise.resolve(null);
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        waiters = waiters.filter((w) => w !== done);
        resolve(new Error(`no answer within ${loadTimeoutMs} ms`));
      }, loadTimeoutMs);
      timer.unref();
      const done = (error: Error | null) => {
        clearTimeout(timer);
        resolve(error);
      };
      waiters.push(done);
    });
  }

  async function doLoad(): Promise<Snapshot> {
    bootLoaded ??= loadBootstrap();
    await bootLoaded;
    if (closed) throw new StoreClosedError("redis");
    start();
    const error = await waitFirst();
    if (closed) throw new StoreClosedError("redis");
    if (snap) return snap;
    if (boot) {
      // Redis is down: the bootstrap document is in force until Redis answers.
      apply(boot, applied, "bootstrap", null, null);
      logger?.warn(`[detour/redis] ${where}: Redis unreachable at start; using the bootstrap document (revision ${boot.revision})`);
      return boot;
    }
    throw new StoreUnavailableError(
      `${where}: cannot load (${error?.message ?? "Redis unreachable"}); retrying in the background`,
      { cause: error ?? undefined },
    );
  }

  async function write(mutator: Mutator): Promise<Snapshot> {
    if (closed) throw new StoreClosedError("redis");
    if (!started || !snap) await store.load().catch(() => {});
    for (let attempt = 0; attempt < maxWriteAttempts; attempt++) {
      if (attempt > 0) await sleep(Math.random() * Math.min(250, 4 * 2 ** attempt));
      if (closed) throw new StoreClosedError("redis");
      let base: Snapshot;
      let expected: Observed;
      try {
        if (attempt === 0 && snap && origin === "redis" && !refused && available && token?.startsWith("1:")) {
          // Optimistic: our snapshot is what Redis held last we looked; the CAS checks it.
          base = snap;
          expected = { exists: true, rev: token.slice(2) || null };
        } else {
          const current = await read();
          expected = { exists: current.raw !== null, rev: current.rev };
          if (current.raw === null) {
            base = snap && origin !== "empty" ? snap : (boot ?? snap ?? Snapshot.empty());
          } else {
            try {
              base = parse(current.raw, current.rev);
            } catch {
              // A refused document is replaced by a write based on the last good one.
              base = snap ?? boot ?? Snapshot.empty();
            }
          }
        }
      } catch (error) {
        if (error instanceof StoreClosedError) throw error;
        markUnavailable(error);
        throw new StoreUnavailableError(`${where}: cannot write: ${asError(error).message}`, { cause: error });
      }
      // A private copy for the mutator; parsing the JSON we hold is cheaper than cloning.
      const draft = base === snap && rawInForce !== null ? withDictionaries(JSON.parse(rawInForce) as FlagDocument) : base.draft();
      const returned: unknown = mutator(draft);
      if (returned !== null && typeof (returned as { then?: unknown } | undefined)?.then === "function") {
        throw new ArgumentError("mutator", "must be synchronous; it returned a promise (read what you need before calling write())");
      }
      const result = returned === undefined ? draft : returned;
      // Revisions only grow, whatever the mutator did with `revision`.
      const currentRev = expected.rev !== null && INTEGER.test(expected.rev) ? Number(expected.rev) : -1;
      const revision = Math.max(currentRev, base.revision) + 1;
      const document = result !== null && typeof result === "object" && !Array.isArray(result) ? { ...result, revision } : result;
      const next = Snapshot.from(document, { source: `${where} write` });
      const json = JSON.stringify(next.document);
      let written: { ok: boolean; seq: number };
      try {
        written = await cas(expected, json, revision);
      } catch (error) {
        if (error instanceof StoreClosedError) throw error;
        markUnavailable(error);
        throw new StoreUnavailableError(`${where}: cannot write (the write may or may not have been applied): ${asError(error).message}`, {
          cause: error,
        });
      }
      if (written.ok) {
        apply(next, written.seq, "redis", { exists: true, rev: String(revision) }, json);
        confirm();
        return next;
      }
    }
    throw new WriteConflictError(`${where}: gave up after ${maxWriteAttempts} attempts; other writers kept changing the document`);
  }

  async function quit(connection: Redis | undefined): Promise<void> {
    if (!connection || connection.status === "end") return;
    if (connection.status !== "ready") {
      connection.disconnect();
      return;
    }
    const timer = setTimeout(() => connection.disconnect(), 1000);
    try {
      await connection.quit();
    } catch {
      connection.disconnect();
    } finally {
      clearTimeout(timer);
    }
  }

  const store: RedisStore = {
    kind: "redis",
    keys,
    load() {
      if (closed) return Promise.reject(new StoreClosedError("redis"));
      if (snap) {
        start();
        return Promise.resolve(snap);
      }
      loading ??= doLoad().finally(() => {
        loading = null;
      });
      return loading;
    },
    snapshot() {
      return snap;
    },
    subscribe(listener) {
      listeners.add(listener);
      return () => {
        listeners.delete(listener);
      };
    },
    write,
    health(): StoreHealth {
      const invalid = refused !== null;
      return {
        kind: "redis",
        revision: snap?.revision ?? null,
        ageMs: confirmedAt === null ? null : Date.now() - confirmedAt,
        stale: snap !== undefined && (!available || invalid),
        error: invalid ? refused!.message : available || !started ? null : (lastError?.message ?? "not connected"),
      };
    },
    resync() {
      return requestSync();
    },
    async close() {
      if (closed) return;
      closed = true;
      if (pollTimer) clearInterval(pollTimer);
      detachClient?.();
      settleWaiters(new StoreClosedError("redis"));
      const own = options.client === undefined ? client : undefined;
      await Promise.all([quit(sub), quit(own)]);
      listeners.clear();
    },
  };
  return store;
}
