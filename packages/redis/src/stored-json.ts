/**
 * The JSON of the document a write stores, byte for byte what
 * `JSON.stringify` gives, assembled from the JSON of its entries. A frozen
 * entry (a snapshot's, shared with the next snapshot when a write leaves it
 * alone) is serialised once, so a write that changes one flag of a thousand
 * serialises that flag.
 */

/** The JSON of frozen objects: a snapshot's document is frozen throughout (core freezes fresh copies), so it never changes. */
const known = new WeakMap<object, string>();

const DICTIONARIES: ReadonlySet<string> = new Set(["flags", "flagValues", "segments"]);

/** An object `JSON.stringify` serialises member by member (no `toJSON` of its own or inherited). */
const isRecord = (value: unknown): value is Record<string, unknown> =>
  value !== null && typeof value === "object" && !Array.isArray(value) && typeof (value as { toJSON?: unknown }).toJSON !== "function";

/** `JSON.stringify(value)`, kept for a frozen object. */
function frozenJson(value: unknown): string | undefined {
  if (value === null || typeof value !== "object" || !Object.isFrozen(value)) return JSON.stringify(value);
  let text = known.get(value);
  if (text === undefined) {
    text = JSON.stringify(value);
    if (text !== undefined) known.set(value, text);
  }
  return text;
}

/**
 * `JSON.stringify(doc)` for a flag document: its dictionaries and audit log
 * assembled entry by entry. Pieces are concatenated, not joined: V8 copies a
 * concatenation once, when the string is written out, and `join()` of a
 * thousand pieces costs more than serialising them.
 */
export function documentJson(doc: unknown): string {
  if (!isRecord(doc)) return JSON.stringify(doc);
  let text = "";
  for (const key of Object.keys(doc)) {
    const value = doc[key];
    const json = DICTIONARIES.has(key) ? dictionaryJson(value) : key === "audit" ? listJson(value) : JSON.stringify(value);
    if (json !== undefined) text += `${text === "" ? "" : ","}${JSON.stringify(key)}:${json}`;
  }
  return `{${text}}`;
}

function dictionaryJson(value: unknown): string | undefined {
  if (!isRecord(value)) return JSON.stringify(value);
  const frozen = Object.isFrozen(value);
  const cached = frozen ? known.get(value) : undefined;
  if (cached !== undefined) return cached;
  let text = "";
  for (const key of Object.keys(value)) {
    const member = memberJson(key, value[key]);
    if (member !== undefined) text += text === "" ? member : `,${member}`;
  }
  text = `{${text}}`;
  if (frozen) known.set(value, text);
  return text;
}

/** `"key":JSON` of a dictionary's entry, kept for a frozen entry with the key it was last under. */
const members = new WeakMap<object, { readonly key: string; readonly text: string }>();

function memberJson(key: string, value: unknown): string | undefined {
  const frozen = value !== null && typeof value === "object" && Object.isFrozen(value);
  const cached = frozen ? members.get(value) : undefined;
  if (cached !== undefined && cached.key === key) return cached.text;
  const json = frozenJson(value);
  if (json === undefined) return undefined;
  const text = `${JSON.stringify(key)}:${json}`;
  if (frozen) members.set(value, { key, text });
  return text;
}

function listJson(value: unknown): string | undefined {
  if (!Array.isArray(value) || typeof (value as { toJSON?: unknown }).toJSON === "function") return JSON.stringify(value);
  let text = "";
  // Every index, holes included (`null`, as JSON.stringify writes them and `undefined`).
  for (let i = 0; i < value.length; i++) text += `${i === 0 ? "" : ","}${frozenJson(value[i]) ?? "null"}`;
  return `[${text}]`;
}
