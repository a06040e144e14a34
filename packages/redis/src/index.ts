export { redisStore, redisKeys } from "./store.js";
export type { RedisStore, RedisStoreKeys, RedisStoreLogger, RedisStoreOptions } from "./store.js";
