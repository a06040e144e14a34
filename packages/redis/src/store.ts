import { StoreBase, type Mutator, type Snapshot, type Store } from "@detour/core/store";
import { RedisConnection } from "./connection.js";
import { checkOptions, type RedisStoreKeys, type RedisStoreOptions } from "./options.js";
import { RedisSync } from "./sync.js";
import { RedisView } from "./view.js";
import { RedisWriter } from "./write.js";

export interface RedisStore extends Store {
  readonly kind: "redis";
  /** The keys and channel this store uses. */
  readonly keys: RedisStoreKeys;
  /** Reads Redis now and applies what it holds (what a reconnect does). Never rejects. */
  resync(): Promise<void>;
}

/**
 * A store whose document lives in Redis and is shared by every instance.
 * Each instance keeps the snapshot in memory (requests never touch Redis),
 * applies changes announced on `<prefix>:changes`, checks the revision
 * periodically, writes with a versioned compare-and-set, and keeps its last
 * snapshot in force while Redis is unreachable.
 */
export function redisStore(options: RedisStoreOptions = {}): RedisStore {
  return new RedisBackedStore(options);
}

class RedisBackedStore extends StoreBase implements RedisStore {
  declare readonly kind: "redis";
  readonly keys: RedisStoreKeys;
  readonly #connection: RedisConnection;
  readonly #sync: RedisSync;
  readonly #writer: RedisWriter;

  constructor(options: RedisStoreOptions) {
    const settings = checkOptions(options);
    super({ kind: "redis" });
    this.keys = settings.keys;
    const view = new RedisView();
    this.#connection = new RedisConnection({ topology: settings.topology, client: options.client, redisOptions: options.redisOptions }, settings.keys.channel, {
      ready: () => void this.#sync.request(),
      down: (error) => this.#sync.unreachable(error ?? this.#sync.lastError() ?? new Error("connection closed")),
      subscribed: () => void this.#sync.catchUp(), // anything missed while unsubscribed
      notice: (message) => this.#sync.notice(message),
    });
    this.#sync = new RedisSync(settings, this.state, view, this.#connection);
    this.#writer = new RedisWriter(settings, this.state, view, this.#sync);
  }

  resync(): Promise<void> {
    return this.#sync.request();
  }

  protected override open(): Promise<Snapshot> {
    return this.#sync.open();
  }

  protected override commit(mutator: Mutator): Promise<Snapshot> {
    return this.#writer.write(mutator, () => this.load());
  }

  protected override async shutdown(): Promise<void> {
    this.#sync.stop();
    await this.#connection.close();
  }
}
