export * from "./errors.js";
export type * from "./document/types.js";
export { validateDocument, loadDocument, type ValidateOptions, type LoadOptions, type LoadedDocument } from "./document/validate.js";
export { withDictionaries } from "./document/dictionaries.js";
export { diffDocuments, type DocumentChanges } from "./document/changes.js";
export type * from "./evaluation/types.js";
export { evaluate } from "./evaluation/evaluate.js";
export { isValidKind } from "./evaluation/context.js";
export { Snapshot } from "./snapshot.js";
export type * from "./stores/types.js";
export type * from "./decision/types.js";
export { Detour, createDetour, isDetour, toDetour, type ChangeOptions, type ReplaceOptions } from "./detour.js";
export { Decision } from "./decision/decision.js";
export type { DetourOptions, AllowOptions, BypassSecretOptions, ContextInput } from "./options.js";
export type { RequestAccessor, DetourRequest, FeatureNames, DetourAdapter } from "./adapter/request.js";
export { pathOf, headerOf } from "./adapter/request.js";
export type { EnableOptions, DisableOptions, ContextRef } from "./operations/edits.js";
export { MODE_VARIATIONS, PERIOD_SETTINGS, mergeDocument } from "./operations/edits.js";
export type { DetourStatus, FlagStatus, RolloutStatus } from "./operations/status.js";
export { flagStatus, rolloutStatus } from "./operations/status.js";
export { generateFlagSecret } from "./bypass/flag-secret.js";
export { MAX_PAGE_BYTES } from "./document/types.js";
export { toMode, isSafeMethod } from "./document/modes.js";
export {
  respond,
  negotiate,
  escapeHtml,
  renderPage,
  type Renderer,
  type PageTemplate,
  type PageView,
  type RespondOptions,
  type RespondRequest,
  type PartialResponse,
} from "./respond/index.js";
export { memoryStore, fileStore, type MemoryStore, type FileStore, type FileStoreOptions } from "./stores/index.js";
// The store SPI (StoreBase, applyMutation, parseDocument, writeAtomically...): what a store author builds on.
export * from "./stores/spi/index.js";
export { isStore } from "./options.js";
