import type { Cluster, Redis, RedisOptions } from "ioredis";
import { OptionsError, type FlagDocument } from "@detour/core";
import { DEFAULT_URL, checkNodes, parseRedisUrl, type RedisNode, type Topology } from "./topology.js";

export interface RedisStoreLogger {
  warn(message: string): void;
  error(message: string): void;
}

export interface RedisStoreOptions {
  /**
   * `redis://[user:pass@]host:port/db`, `redis+sentinel://h1:26379,h2:26379/<master>[/<db>]`
   * or `redis+cluster://h1:7000,h2:7001` (`rediss…` for TLS). Default `redis://127.0.0.1:6379`.
   */
  url?: string;
  /** Sentinels to ask for the master called `name` (instead of `url`). */
  sentinels?: Array<{ host: string; port: number }>;
  /** The master's name the sentinels know (with `sentinels`). */
  name?: string;
  /** The database on the Sentinel-managed master (with `sentinels`). Default 0. */
  db?: number;
  /**
   * Some nodes of a Redis Cluster (instead of `url`). Every key of the store
   * lives in one hash slot: the prefix is wrapped in a hash tag, `{detour}:document`.
   */
  cluster?: Array<{ host: string; port: number }>;
  /**
   * A write is acknowledged only once every replica connected to the master
   * has it (Redis `WAIT`); this long at most, else the write rejects with a
   * `StoreUnavailableError` saying how many replicas confirmed. `0`: do not wait.
   * Default 1000 ms.
   */
  replicaAckTimeoutMs?: number;
  /**
   * An ioredis client to use for commands. The store duplicates it for its
   * subscriber connection and never quits it. Configure it to fail fast while
   * disconnected (`enableOfflineQueue: false`, `maxRetriesPerRequest: 0`),
   * as the store does for the connections it creates.
   */
  client?: Redis | Cluster;
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
  /** The index of the sets that hold large target lists (a set of their keys). */
  readonly targets: string;
}

/**
 * The keys and channel used under `prefix`. On a Cluster (`hashTag`) a prefix
 * without a `{…}` hash tag is wrapped in one, so that every key hashes to
 * the same slot (the compare-and-set script touches them together).
 */
export function redisKeys(prefix = "detour", options: { hashTag?: boolean } = {}): RedisStoreKeys {
  const base = options.hashTag && !/\{[^}]+\}/.test(prefix) ? `{${prefix}}` : prefix;
  return { document: `${base}:document`, revision: `${base}:revision`, channel: `${base}:changes`, targets: `${base}:targets` };
}

/** The options checked once, with defaults, and the names the store uses in messages. */
export interface StoreSettings {
  readonly keys: RedisStoreKeys;
  /** Where to connect (unused when a client is given). */
  readonly topology: Topology;
  readonly replicaAckTimeoutMs: number;
  /** `redis store "<prefix>"`: how messages name this store. */
  readonly where: string;
  /** `redis <prefix>:document`: how validation errors name the document. */
  readonly source: string;
  readonly pollIntervalMs: number;
  readonly loadTimeoutMs: number;
  /** How long an instance on its bootstrap document waits before seeding an empty Redis. */
  readonly seedDelayMs: number;
  readonly maxWriteAttempts: number;
  readonly bootstrap: string | FlagDocument | undefined;
  readonly logger: RedisStoreLogger | null;
  readonly onError: ((error: Error) => void) | undefined;
}

/** Validates `options` (throwing an `OptionsError` naming the option) and fills in defaults. */
export function checkOptions(options: RedisStoreOptions): StoreSettings {
  const prefix = options.prefix ?? "detour";
  if (typeof prefix !== "string" || prefix === "") throw new OptionsError("prefix", "expected a non-empty string");
  const topology = topologyOf(options);
  const pollIntervalMs = positive("pollIntervalMs", options.pollIntervalMs, 1500);
  const cluster = topology.kind === "cluster" || options.client?.isCluster === true;
  const keys = redisKeys(prefix, { hashTag: cluster });
  const replicaAckTimeoutMs = options.replicaAckTimeoutMs ?? 1000;
  if (typeof replicaAckTimeoutMs !== "number" || !Number.isInteger(replicaAckTimeoutMs) || replicaAckTimeoutMs < 0) {
    throw new OptionsError("replicaAckTimeoutMs", `expected a whole number of milliseconds (0 = do not wait), got ${String(replicaAckTimeoutMs)}`);
  }
  return {
    keys,
    topology,
    replicaAckTimeoutMs,
    where: `redis store "${prefix}"`,
    source: `redis ${keys.document}`,
    pollIntervalMs,
    loadTimeoutMs: positive("loadTimeoutMs", options.loadTimeoutMs, 5000),
    seedDelayMs: Math.max(2 * pollIntervalMs, 3000),
    maxWriteAttempts: Math.floor(positive("maxWriteAttempts", options.maxWriteAttempts, 25)),
    bootstrap: options.bootstrap,
    logger: options.logger === undefined ? console : options.logger,
    onError: options.onError,
  };
}

/** One of `url`, `sentinels` (+ `name`), `cluster` or `client`. */
function topologyOf(options: RedisStoreOptions): Topology {
  const given = (["url", "sentinels", "cluster", "client"] as const).filter((key) => options[key] !== undefined);
  if (given.length > 1) throw new OptionsError(given[1]!, `give one of url, sentinels, cluster or client, not ${given.join(" and ")}`);
  if (options.name !== undefined && options.sentinels === undefined) throw new OptionsError("name", "only applies with sentinels");
  if (options.db !== undefined && options.sentinels === undefined) throw new OptionsError("db", "only applies with sentinels (put the database in the url)");
  if (options.sentinels !== undefined) {
    const sentinels: readonly RedisNode[] = checkNodes("sentinels", options.sentinels);
    if (typeof options.name !== "string" || options.name === "") throw new OptionsError("name", "expected the master's name the sentinels know");
    const db = options.db ?? 0;
    if (!Number.isInteger(db) || db < 0) throw new OptionsError("db", `expected a database number, got ${String(db)}`);
    return { kind: "sentinel", sentinels, name: options.name, db, tls: false, auth: {} };
  }
  if (options.cluster !== undefined) return { kind: "cluster", nodes: checkNodes("cluster", options.cluster), tls: false, auth: {} };
  if (options.url !== undefined && typeof options.url !== "string") throw new OptionsError("url", "expected a string");
  return parseRedisUrl(options.url ?? DEFAULT_URL);
}

function positive(name: string, value: number | undefined, fallback: number): number {
  if (value === undefined) return fallback;
  if (typeof value !== "number" || !Number.isFinite(value) || value <= 0) {
    throw new OptionsError(name, `expected a positive number, got ${String(value)}`);
  }
  return value;
}
