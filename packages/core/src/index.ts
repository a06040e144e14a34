export * from "./errors.js";
export type * from "./document/types.js";
export { validateDocument } from "./document/validate.js";
export type * from "./engine/types.js";
export { evaluate } from "./engine/evaluate.js";
export { Snapshot } from "./snapshot.js";
export type * from "./stores/types.js";
export type * from "./policy/types.js";
