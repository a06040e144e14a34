/**
 * Stores: where a flag document lives. `memoryStore` and `fileStore` are
 * ready to use; `StoreState`, `applyMutation` and `SerialQueue` are for
 * writing other stores (e.g. `@detour/redis`) with the same behaviour.
 */
export type * from "./types.js";
export { memoryStore, type MemoryStore } from "./memory.js";
export { fileStore, type FileStore, type FileStoreOptions } from "./file.js";
export { acquireFileLock, type FileLock, type FileLockOptions, type LockOwner } from "./lock.js";
export { StoreState, SerialQueue, applyMutation } from "./base.js";
