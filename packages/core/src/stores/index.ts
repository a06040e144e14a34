/**
 * Stores: where a flag document lives. `memoryStore` and `fileStore` are
 * ready to use; `./spi/` is what other stores (e.g. `@detour/redis`) are
 * built on.
 */
export type * from "./types.js";
export { memoryStore, type MemoryStore } from "./memory.js";
export { fileStore, type FileStore, type FileStoreOptions } from "./file/store.js";
export * from "./spi/index.js";
