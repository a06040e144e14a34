/**
 * The store's two Redis connections: one for commands, one subscribed to the
 * change channel (a subscribed connection can run no other command). Creates
 * them (or duplicates the client given), reports what happens to them, and
 * closes them. Nothing here knows about documents.
 */
import { Redis, type RedisOptions } from "ioredis";

/** Where to connect. */
export interface ConnectionOptions {
  readonly url?: string | undefined;
  /** A client to use for commands: duplicated for the subscriber, never quit. */
  readonly client?: Redis | undefined;
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
const DEFAULTS: RedisOptions = {
  enableOfflineQueue: false,
  maxRetriesPerRequest: 0,
  commandTimeout: 2000,
  connectTimeout: 2000,
  retryStrategy: (times) => Math.min(50 * 2 ** Math.min(times, 6), 2000) + Math.floor(Math.random() * 100),
};

export class RedisConnection {
  readonly #options: ConnectionOptions;
  readonly #channel: string;
  readonly #events: ConnectionEvents;
  #client: Redis | undefined;
  #subscriber: Redis | undefined;
  #detach: (() => void) | undefined;
  #closed = false;

  constructor(options: ConnectionOptions, channel: string, events: ConnectionEvents) {
    this.#options = options;
    this.#channel = channel;
    this.#events = events;
  }

  /** The command connection, once opened. */
  get client(): Redis | undefined {
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
    const client = given ?? new Redis(this.#options.url ?? "redis://127.0.0.1:6379", { ...DEFAULTS, ...this.#options.redisOptions });
    this.#client = client;
    const subscriber = client.duplicate({ autoResubscribe: false, lazyConnect: false, enableOfflineQueue: false });
    this.#subscriber = subscriber;

    const onReady = () => this.#events.ready();
    const onError = (error: Error) => this.#events.down(error);
    const onClose = () => {
      if (!this.#closed) this.#events.down(undefined);
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

    if (client.status === "ready") this.#events.ready();
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
