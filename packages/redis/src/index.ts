export { redisStore, type RedisStore } from "./store.js";
export { redisKeys, type RedisStoreKeys, type RedisStoreLogger, type RedisStoreOptions } from "./options.js";
export { parseRedisUrl, isRedisUrl, type RedisNode, type Topology as RedisTopology } from "./topology.js";
