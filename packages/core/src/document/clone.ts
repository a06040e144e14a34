import { plainValues } from "./target-values.js";

/**
 * A deep copy of a JSON value (a document, a flag), as `structuredClone`
 * would make it, that also copies a snapshot's derived target lists (Proxies,
 * which `structuredClone` refuses) as plain arrays.
 */
export function cloneJson<T>(value: T): T {
  if (value === null || typeof value !== "object") return value;
  if (Array.isArray(value)) {
    const items = plainValues(value as unknown as readonly string[]) as unknown as unknown[];
    const copy = new Array<unknown>(items.length);
    for (let i = 0; i < items.length; i++) copy[i] = cloneJson(items[i]);
    return copy as T;
  }
  const copy: Record<string, unknown> = Object.getPrototypeOf(value) === null ? Object.create(null) : {};
  for (const key of Object.keys(value)) {
    const item = cloneJson((value as Record<string, unknown>)[key]);
    if (key === "__proto__") Object.defineProperty(copy, key, { value: item, writable: true, enumerable: true, configurable: true });
    else copy[key] = item;
  }
  return copy as T;
}
