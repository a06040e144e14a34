/**
 * `@detour/core/store`: what a store author builds on (see
 * ./stores/spi/index.ts), with the snapshot a store holds and the errors it
 * raises.
 */
export * from "./stores/spi/index.js";
export { isStore } from "./stores/is-store.js";
export { Snapshot } from "./snapshot.js";
export { withDictionaries } from "./document/dictionaries.js";
export { diffDocuments, type DocumentChanges } from "./document/changes.js";
export { valuesChange, type TargetChange } from "./document/target-values.js";
export { StoreClosedError, StoreUnavailableError, ValidationError, WriteConflictError } from "./errors.js";
