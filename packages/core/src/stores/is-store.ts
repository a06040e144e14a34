import type { Store } from "./types.js";

/** True for a store (`DetourOptions.store` takes a store or a document). */
export function isStore(value: unknown): value is Store {
  const s = value as Store | null;
  return typeof s === "object" && s !== null && typeof s.snapshot === "function" && typeof s.load === "function" && typeof s.write === "function";
}
