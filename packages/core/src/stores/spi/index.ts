/**
 * The store SPI: what a store author builds on. Extend {@link StoreBase} and
 * supply the I/O (read the source, write with compare-and-set or under a
 * lock, watch for changes); the base holds the snapshot in force, listeners,
 * health and the lifecycle. `applyMutation` and `parseDocument` are the two
 * steps every read and write shares; `writeAtomically` and `acquireFileLock`
 * are the file store's building blocks.
 */
export type { Mutator, Store, StoreEvent, StoreHealth, StoreListener } from "../types.js";
export { StoreBase, type StoreBaseOptions } from "./base.js";
export { StoreState } from "./state.js";
export { applyMutation, type MutationOptions } from "./mutation.js";
export { parseDocument, DocumentSyntaxError, type ParseOptions } from "./document.js";
export { ReadOrder } from "./read-order.js";
export { SerialQueue } from "./serial-queue.js";
export { asError, describeError } from "./errors.js";
export { writeAtomically, type AtomicWriteOptions } from "./atomic.js";
export { acquireFileLock, type FileLock, type FileLockOptions, type LockOwner } from "./lock.js";
