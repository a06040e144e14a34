import type { Redis, RedisOptions } from "ioredis";
import { OptionsError, type FlagDocument } from "@detour/core";

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

/** The keys and channel used under `prefix`. */
export function redisKeys(prefix = "detour"): RedisStoreKeys {
  return { document: `${prefix}:document`, revision: `${prefix}:revision`, channel: `${prefix}:changes` };
}

/** The options checked once, with defaults, and the names the store uses in messages. */
export interface StoreSettings {
  readonly keys: RedisStoreKeys;
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
  if (options.client !== undefined && options.url !== undefined) {
    throw new OptionsError("url", "give either url or client, not both");
  }
  const pollIntervalMs = positive("pollIntervalMs", options.pollIntervalMs, 1500);
  const keys = redisKeys(prefix);
  return {
    keys,
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

function positive(name: string, value: number | undefined, fallback: number): number {
  if (value === undefined) return fallback;
  if (typeof value !== "number" || !Number.isFinite(value) || value <= 0) {
    throw new OptionsError(name, `expected a positive number, got ${String(value)}`);
  }
  return value;
}
