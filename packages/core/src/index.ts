/**
 * `@detour/core`: what an application uses. Adapter authors add
 * `@detour/core/adapter`, store authors `@detour/core/store`.
 */

// Detour: deciding requests and changing flags.
export { Detour, createDetour, type ChangeOptions, type ReplaceOptions, type RetargetOptions } from "./detour.js";
export type { DetourOptions, AllowOptions, BypassSecretOptions, ContextInput, ContextsOption } from "./options.js";
export type { DetourRequest, FeatureNames } from "./request.js";
export type { Decision, DecisionAction, DecisionReason, HttpResponse, PickedContext, Scope } from "./decision/types.js";

// Operations and status, as the CLI and the admin use them.
export { mergeDocument, type ContextRef, type DisableOptions, type EnableOptions } from "./operations/edits.js";
export { flagStatus, rolloutStatus, type DetourStatus, type FlagStatus, type RolloutStatus } from "./operations/status.js";
export { isModeFlag, toMode } from "./document/modes.js";
export { generateFlagSecret } from "./bypass/flag-secret.js";

// The answer a blocked request gets: custom renderers and templates.
export { escapeHtml, renderPage, type PageTemplate, type PageView, type PartialResponse, type Renderer } from "./respond/index.js";

// Flag documents and evaluation.
export type * from "./document/types.js";
export { MAX_PAGE_BYTES } from "./document/types.js";
export { validateDocument, loadDocument, type ValidateOptions, type LoadOptions, type LoadedDocument } from "./validation/validate.js";
export { diffDocuments, type DocumentChanges } from "./document/changes.js";
export type { ErrorKind, EvaluationContext, EvaluationReason, EvaluationResult, MultiKindContext, SingleKindContext, UserContext } from "./evaluation/types.js";
export { evaluate } from "./evaluation/evaluate.js";
export { isValidKind } from "./evaluation/context.js";
export { Snapshot, type FlagTraits } from "./snapshot.js";

// Stores.
export type { Mutator, Store, StoreEvent, StoreHealth, StoreListener } from "./stores/types.js";
export { memoryStore, fileStore, type MemoryStore, type FileStore, type FileStoreOptions } from "./stores/index.js";

export * from "./errors.js";
