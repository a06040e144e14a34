export { redisStore, type RedisStore } from "./store.js";
export { redisKeys, type RedisStoreKeys, type RedisStoreLogger, type RedisStoreOptions } from "./options.js";
