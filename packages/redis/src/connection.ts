/**
 * The store's two Redis connections: one for commands, one subscribed to the
 * change channel (a subscribed connection can run no other command). Creates
 * them (or duplicates the client given), reports what happens to them, and
 * closes them. Nothing here knows about documents.
 */
import { Cluster, Redis, type RedisOptions } from "ioredis";
import type { Topology } from "./topology.js";

/** A connection to one server (direct or found through sentinels) or to a Cluster. */
export type RedisClient = Redis | Cluster;

/** Where to connect. */
export interface ConnectionOptions {
  readonly topology: Topology;
  /** A client to use for commands: duplicated for the subscriber, never quit. */
  readonly client?: RedisClient | undefined;
  readonly redisOptions?: RedisOptions | undefined;
}

/** What the store hears from its connections. */
export interface ConnectionEvents {
  /** The command connection is ready: at start, and after every reconnect. */
  ready(): void;
  /** The command connection reported an error, or closed (`undefined`). */
  down(error: Error | undefined): void;
  /** The subscriber is subscribed to the change channel again: anything published meanwhile was missed. */
  subscribed(): void;
  /** A message on the change channel. */
  notice(message: string): void;
}

/** Fail fast while disconnected, so a write rejects at once and a read never hangs; reconnect with capped, jittered backoff. */
const backoff = (times: number) => Math.min(50 * 2 ** Math.min(times, 6), 2000) + Math.floor(Math.random() * 100);
const DEFAULTS: RedisOptions = {
  enableOfflineQueue: false,
  maxRetriesPerRequest: 0,
  commandTimeout: 2000,
  connectTimeout: 2000,
  retryStrategy: backoff,
};

/** A new client for `topology`: the store's defaults, then the caller's `redisOptions`. */
export function createClient(topology: Topology, redisOptions: RedisOptions | undefined): RedisClient {
  switch (topology.kind) {
    case "standalone":
      return new Redis(topology.url, { ...DEFAULTS, ...redisOptions });
    case "sentinel":
      return new Redis({
        ...DEFAULTS,
        sentinels: topology.sentinels.map((node) => ({ ...node })),
        name: topology.name,
        db: topology.db,
        // Follow +switch-master at once instead of waiting for the old master's connection to fail.
        failoverDetector: true,
        sentinelRetryStrategy: backoff,
        ...(topology.tls ? { tls: {}, enableTLSForSentinelMode: true } : {}),
        ...topology.auth,
        ...redisOptions,
      });
    case "cluster":
      return new Cluster(
        topology.nodes.map((node) => ({ ...node })),
        {
          enableOfflineQueue: false,
          clusterRetryStrategy: backoff,
          // While a master's replica is being promoted, commands for its slots fail fast rather than queue.
          retryDelayOnClusterDown: 100,
          maxRedirections: 4,
          redisOptions: { ...DEFAULTS, ...(topology.tls ? { tls: {} } : {}), ...topology.auth, ...redisOptions },
        },
      );
  }
}

export class RedisConnection {
  readonly #options: ConnectionOptions;
  readonly #channel: string;
  readonly #events: ConnectionEvents;
  #client: RedisClient | undefined;
  #subscriber: RedisClient | undefined;
  #detach: (() => void) | undefined;
  #closed = false;

  constructor(options: ConnectionOptions, channel: string, events: ConnectionEvents) {
    this.#options = options;
    this.#channel = channel;
    this.#events = events;
  }

  /** The command connection, once opened. */
  get client(): RedisClient | undefined {
    return this.#client;
  }

  /** True while the command connection can run commands. */
  get ready(): boolean {
    return this.#client?.status === "ready";
  }

  /** Connects (once); `events.ready()` follows, at once when a given client is ready already. */
  open(): void {
    if (this.#client !== undefined || this.#closed) return;
    const given = this.#options.client;
    const client = given ?? createClient(this.#options.topology, this.#options.redisOptions);
    this.#client = client;
    // A Cluster's subscriber follows failovers itself (ioredis re-subscribes on another node).
    const subscriber =
      client instanceof Cluster
        ? client.duplicate(undefined, { lazyConnect: false, enableOfflineQueue: false })
        : client.duplicate({ autoResubscribe: false, lazyConnect: false, enableOfflineQueue: false });
    this.#subscriber = subscriber;

    // A Cluster client that is still connecting closes and retries when the
    // node it asked first is down: that is no outage until it was ever ready.
    let everReady = !(client instanceof Cluster);
    const onReady = () => {
      everReady = true;
      this.#events.ready();
    };
    const onError = (error: Error) => {
      if (everReady) this.#events.down(error);
    };
    const onClose = () => {
      if (!this.#closed && everReady) this.#events.down(undefined);
    };
    client.on("ready", onReady);
    client.on("error", onError);
    client.on("close", onClose);
    this.#detach = () => {
      client.off("ready", onReady);
      client.off("error", onError);
      client.off("close", onClose);
    };

    // The subscriber's own trouble is covered by the revision check; the
    // listener is there so ioredis does not report the errors as unhandled.
    subscriber.on("error", () => {});
    subscriber.on("message", (channel: string, message: string) => {
      if (channel === this.#channel && !this.#closed) this.#events.notice(message);
    });
    subscriber.on("ready", () => {
      if (this.#closed) return;
      subscriber.subscribe(this.#channel).then(
        () => this.#events.subscribed(),
        () => {},
      );
    });

    if (client.status === "ready") onReady();
    else if (client.status === "wait") client.connect().catch(() => {});
  }

  /** Stops reporting, then quits the subscriber and (unless it was given) the command connection. */
  async close(): Promise<void> {
    this.#closed = true;
    this.#detach?.();
    const own = this.#options.client === undefined ? this.#client : undefined;
    await Promise.all([quit(this.#subscriber), quit(own)]);
  }
}

async function quit(connection: RedisClient | undefined): Promise<void> {
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
