/**
 * Which Redis deployment the store talks to, from its options or a URL:
 * one server (`redis://`, `rediss://`), a Sentinel-managed master
 * (`redis+sentinel://h1:26379,h2:26379/<master>[/<db>]`) or a Cluster
 * (`redis+cluster://h1:7000,h2:7001`).
 */
import { OptionsError } from "@detour/core";

export interface RedisNode {
  readonly host: string;
  readonly port: number;
}

export type Topology =
  | { readonly kind: "standalone"; readonly url: string }
  | {
      readonly kind: "sentinel";
      readonly sentinels: readonly RedisNode[];
      readonly name: string;
      readonly db: number;
      readonly tls: boolean;
      readonly auth: Credentials;
    }
  | { readonly kind: "cluster"; readonly nodes: readonly RedisNode[]; readonly tls: boolean; readonly auth: Credentials };

/** The user name and password of the master (or the cluster's nodes), from the URL. */
export interface Credentials {
  readonly username?: string;
  readonly password?: string;
}

export const DEFAULT_URL = "redis://127.0.0.1:6379";

/** True for the URL schemes `parseRedisUrl` understands. */
export function isRedisUrl(text: string): boolean {
  return /^(redis|rediss|redis\+sentinel|rediss\+sentinel|redis\+cluster|rediss\+cluster):/i.test(text.trim());
}

/**
 * Parses a store URL. Throws an `OptionsError` on `url` naming what is wrong.
 * Credentials (`redis+sentinel://:pass@h1,h2/master`) are kept in the URL for
 * the caller to pass as ioredis options; they are never part of the message.
 */
export function parseRedisUrl(text: string): Topology {
  const url = text.trim();
  const scheme = /^([a-z+]+):\/\//i.exec(url)?.[1]?.toLowerCase();
  if (scheme === "redis" || scheme === "rediss") return { kind: "standalone", url };
  if (scheme === undefined || !scheme.includes("+")) {
    throw new OptionsError("url", `expected redis://, rediss://, redis+sentinel:// or redis+cluster://, got ${JSON.stringify(redact(url).slice(0, 80))}`);
  }
  const [base, kind] = scheme.split("+") as [string, string];
  const tls = base === "rediss";
  const rest = url.slice(scheme.length + 3).replace(/^[^@/]*@/, "");
  const slash = rest.indexOf("/");
  const hosts = parseNodes(slash < 0 ? rest : rest.slice(0, slash), kind === "sentinel" ? 26379 : 6379, url);
  const path = (slash < 0 ? "" : rest.slice(slash + 1)).replace(/\/+$/, "");
  if (kind === "cluster") {
    if (path !== "") throw new OptionsError("url", `a Redis Cluster has no database or master name (${JSON.stringify(path)}); expected redis+cluster://HOST:PORT,HOST:PORT`);
    return { kind: "cluster", nodes: hosts, tls, auth: credentialsOf(url) };
  }
  if (kind !== "sentinel") throw new OptionsError("url", `unknown Redis topology "${kind}"; expected redis+sentinel:// or redis+cluster://`);
  const [name, db, extra] = path.split("/");
  if (!name) throw new OptionsError("url", "expected the master's name after the sentinels: redis+sentinel://HOST:26379,HOST:26379/MASTER[/DB]");
  if (extra !== undefined || (db !== undefined && !/^\d+$/.test(db))) {
    throw new OptionsError("url", `expected redis+sentinel://HOST:PORT,…/MASTER[/DB] with a numeric DB, got …/${path}`);
  }
  return { kind: "sentinel", sentinels: hosts, name: decodeURIComponent(name), db: db === undefined ? 0 : Number(db), tls, auth: credentialsOf(url) };
}

/** The user name and password in a URL's authority, if any. */
function credentialsOf(text: string): Credentials {
  const auth = /^[a-z+]+:\/\/([^@/]*)@/i.exec(text.trim())?.[1];
  if (auth === undefined) return {};
  const colon = auth.indexOf(":");
  const username = decodeURIComponent(colon < 0 ? auth : auth.slice(0, colon));
  const password = colon < 0 ? "" : decodeURIComponent(auth.slice(colon + 1));
  return { ...(username ? { username } : {}), ...(password ? { password } : {}) };
}

function parseNodes(list: string, defaultPort: number, url: string): RedisNode[] {
  const nodes = list.split(",").map((entry) => {
    const match = /^(\[[^\]]+\]|[^:]+)(?::(\d+))?$/.exec(entry.trim());
    if (!match) throw new OptionsError("url", `cannot read host ${JSON.stringify(entry)} in ${JSON.stringify(redact(url).slice(0, 80))}; expected HOST:PORT,HOST:PORT`);
    const port = match[2] === undefined ? defaultPort : Number(match[2]);
    if (port < 1 || port > 65535) throw new OptionsError("url", `port ${port} of ${match[1]} is out of range`);
    return { host: match[1]!.replace(/^\[|\]$/g, ""), port };
  });
  if (nodes.length === 0 || list.trim() === "") throw new OptionsError("url", "names no host");
  return nodes;
}

/** Checks a `sentinels` or `cluster` option: a non-empty list of `{ host, port }`. */
export function checkNodes(option: string, nodes: unknown): readonly RedisNode[] {
  if (!Array.isArray(nodes) || nodes.length === 0) throw new OptionsError(option, "expected a non-empty array of { host, port }");
  return nodes.map((node: unknown, i) => {
    const { host, port } = (node ?? {}) as { host?: unknown; port?: unknown };
    if (typeof host !== "string" || host === "") throw new OptionsError(`${option}[${i}].host`, "expected a host name");
    if (typeof port !== "number" || !Number.isInteger(port) || port < 1 || port > 65535) {
      throw new OptionsError(`${option}[${i}].port`, `expected a port number, got ${String(port)}`);
    }
    return { host, port };
  });
}

function redact(text: string): string {
  return text.replace(/(\/\/[^:/@]*:)[^@/]*@/, "$1***@");
}
