import { resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { fileStore, type Store } from "@detour/core";
import { DetourError } from "@detour/core";
import { parseRedisUrl, redisStore } from "@detour/redis";
import { UsageError } from "./errors.js";

/** The store used when neither `--store` nor `DETOUR_STORE` says otherwise. */
export const DEFAULT_STORE = "file:./detour.json";
/** The Redis key prefix used when neither the URL's `?prefix=` nor `--prefix` says otherwise. */
export const DEFAULT_PREFIX = "detour";

/** Where the flag document lives, as parsed from `--store`. */
export type StoreLocation =
  | { readonly kind: "file"; readonly path: string; readonly display: string }
  | { readonly kind: "redis"; readonly url: string; readonly prefix: string; readonly display: string };

const SCHEME = /^([a-z][a-z0-9+.-]*):/i;

/**
 * Parses a store location:
 *
 * - `file:./detour.json`, `file:/abs/path.json`, `file:///abs/path.json`, or a
 *   bare path (`./detour.json`): a JSON file, resolved against `cwd`;
 * - `redis://[user:password@]host:port/db[?prefix=NAME]` (or `rediss://` for
 *   TLS): a Redis store. `prefix` (from `--prefix`) overrides the URL's;
 * - `redis+sentinel://h1:26379,h2:26379/<master>[/<db>][?prefix=NAME]`: the
 *   master the sentinels name; `redis+cluster://h1:7000,h2:7001[?prefix=NAME]`: a Cluster.
 *
 * Throws a `UsageError` naming the problem.
 */
export function parseStoreUrl(spec: string, options: { prefix?: string | undefined; cwd?: string } = {}): StoreLocation {
  const cwd = options.cwd ?? process.cwd();
  const text = spec.trim();
  if (text === "") throw new UsageError("--store: expected file:PATH or redis://HOST:PORT/DB, got an empty string");
  const scheme = SCHEME.exec(text)?.[1]?.toLowerCase();
  // A bare path (no scheme, or a Windows drive letter) is a file.
  if (scheme === undefined || /^[a-z]:[\\/]/i.test(text)) {
    if (options.prefix !== undefined) throw new UsageError("--prefix: only applies to a redis:// store");
    return fileLocation(resolve(cwd, text));
  }
  if (scheme === "file") {
    if (options.prefix !== undefined) throw new UsageError("--prefix: only applies to a redis:// store");
    let path: string;
    if (text.toLowerCase().startsWith("file://")) {
      try {
        path = fileURLToPath(text);
      } catch (error) {
        throw new UsageError(`--store: ${JSON.stringify(spec)} is not a valid file URL (${(error as Error).message})`);
      }
    } else {
      path = text.slice("file:".length);
    }
    if (path === "") throw new UsageError(`--store: ${JSON.stringify(spec)} names no file`);
    return fileLocation(resolve(cwd, path));
  }
  if (scheme === "redis" || scheme === "rediss") return redisLocation(text, options.prefix);
  if (/^rediss?\+(sentinel|cluster)$/.test(scheme)) return topologyLocation(text, options.prefix);
  throw new UsageError(
    `--store: unsupported store ${JSON.stringify(redact(spec))}; expected file:PATH, redis://HOST:PORT/DB, redis+sentinel://HOST:PORT,…/MASTER or redis+cluster://HOST:PORT,…`,
  );
}

function fileLocation(path: string): StoreLocation {
  return { kind: "file", path, display: `file:${path}` };
}

function redisLocation(text: string, prefixOption: string | undefined): StoreLocation {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    throw new UsageError(`--store: ${JSON.stringify(redact(text))} is not a valid Redis URL (expected redis://HOST:PORT/DB)`);
  }
  if (url.hostname === "") throw new UsageError(`--store: ${JSON.stringify(redact(text))} names no host`);
  const db = url.pathname.replace(/^\/+/, "").replace(/\/+$/, "");
  if (db !== "" && !/^\d+$/.test(db)) {
    throw new UsageError(`--store: the Redis database must be a number (redis://HOST:PORT/0), got ${JSON.stringify(db)}`);
  }
  const fromUrl = url.searchParams.get("prefix");
  url.searchParams.delete("prefix");
  const prefix = prefixOption ?? fromUrl ?? DEFAULT_PREFIX;
  if (prefix === "") throw new UsageError("--prefix: expected a non-empty key prefix");
  const connection = url.toString();
  const shown = new URL(connection);
  if (shown.password !== "") shown.password = "***";
  return { kind: "redis", url: connection, prefix, display: `${shown.toString()} (prefix ${prefix})` };
}

/** A Sentinel or Cluster URL: hosts separated by commas, which `URL` cannot parse. */
function topologyLocation(text: string, prefixOption: string | undefined): StoreLocation {
  const query = text.indexOf("?");
  const params = new URLSearchParams(query < 0 ? "" : text.slice(query + 1));
  const connection = query < 0 ? text : text.slice(0, query);
  try {
    parseRedisUrl(connection);
  } catch (error) {
    if (error instanceof DetourError) throw new UsageError(`--store: ${error.message.replace(/^url: /, "")}`);
    throw error;
  }
  const prefix = prefixOption ?? params.get("prefix") ?? DEFAULT_PREFIX;
  if (prefix === "") throw new UsageError("--prefix: expected a non-empty key prefix");
  return { kind: "redis", url: connection, prefix, display: `${redact(connection)} (prefix ${prefix})` };
}

function redact(text: string): string {
  return text.replace(/(\/\/[^:/@]*:)[^@/]*@/, "$1***@");
}

/** Where log lines of the store go (shown with `--debug`). */
export interface StoreLog {
  (level: "warn" | "error", message: string): void;
}

/**
 * How long a command waits for the Redis store's document (60 s): a command
 * reads it whole, and with a million targeted users that is ~10-12 s on a
 * busy 2-core machine (measured), past the library's 5 s default.
 */
export const CLI_LOAD_TIMEOUT_MS = 60_000;

/**
 * Opens the store at `location`, configured for a short-lived command:
 * no file watching or polling; a file store creates its file only when
 * `create` is true (writes).
 */
export function openStore(location: StoreLocation, options: { create: boolean; log: StoreLog }): Store {
  if (location.kind === "file") {
    return fileStore(location.path, { create: options.create, watch: false, pollIntervalMs: 0 });
  }
  return redisStore({
    url: location.url,
    prefix: location.prefix,
    loadTimeoutMs: CLI_LOAD_TIMEOUT_MS,
    logger: {
      warn: (message) => options.log("warn", message),
      error: (message) => options.log("error", message),
    },
  });
}
