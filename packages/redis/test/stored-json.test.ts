import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { documentJson } from "../src/stored-json.js";

/** A prototype-free dictionary, as core keeps `flags` (so `__proto__` is an entry like any other). */
const dictionary = (entries: Record<string, unknown>): Record<string, unknown> => {
  const out = Object.create(null) as Record<string, unknown>;
  for (const [key, value] of Object.entries(entries)) out[key] = value;
  return out;
};

function deepFreeze<T>(value: T): T {
  if (value !== null && typeof value === "object" && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const key of Object.keys(value)) deepFreeze((value as Record<string, unknown>)[key]);
  }
  return value;
}

/** Keys that trip up a hand-written serialiser: prototype names, integer-like keys (ordered first), escapes, lone surrogates. */
const awkwardKey = fc.oneof(
  fc.constantFrom("constructor", "__proto__", "toJSON", "hasOwnProperty", "10", "2", "0", "01", "-1", "4294967295", "", "a\"b\\c", "\u2028", "\ud800", "é", "🦆"),
  fc.string({ unit: "binary", maxLength: 6 }),
);
const entry = fc.oneof(
  fc.jsonValue({ maxDepth: 3 }),
  fc.dictionary(awkwardKey, fc.jsonValue({ maxDepth: 2 }), { maxKeys: 4 }),
  fc.constant(undefined),
);
const documents = fc.record(
  {
    flags: fc.dictionary(awkwardKey, entry, { maxKeys: 8 }).map(dictionary),
    flagValues: fc.dictionary(awkwardKey, entry, { maxKeys: 4 }).map(dictionary),
    segments: fc.dictionary(awkwardKey, entry, { maxKeys: 3 }),
    audit: fc.array(fc.oneof(entry, fc.constant(null)), { maxLength: 5 }),
    revision: fc.nat(),
  },
  { requiredKeys: [] },
);

describe("the stored document's JSON", () => {
  it("is JSON.stringify's, byte for byte, for mutable and frozen documents, and again from what it kept (fast-check)", () => {
    fc.assert(
      fc.property(documents, (doc) => {
        const expected = JSON.stringify(doc);
        expect(documentJson(doc)).toBe(expected);
        deepFreeze(doc);
        expect(documentJson(doc)).toBe(expected);
        expect(documentJson(doc)).toBe(expected);
        // A new document sharing every entry (what the next snapshot is after a write to another entry).
        const next = { ...doc, flagValues: dictionary({ ...doc.flagValues, seq: 1 }) };
        expect(documentJson(next)).toBe(JSON.stringify(next));
      }),
      { seed: 21, numRuns: 500 },
    );
  });

  it("writes what JSON.stringify writes for the odd members: undefined, functions, holes, toJSON, key order", () => {
    const flags = dictionary({ "10": 1, b: undefined, "2": 2, ["__proto__"]: { on: true }, constructor: { key: "constructor" }, toJSON: { key: "toJSON" } });
    const sparse: unknown[] = [1, , undefined, () => 0]; // a hole at 1
    const odd = {
      revision: 3,
      flags,
      flagValues: dictionary({ when: new Date(0), fn: () => 1, text: "a\u2028b\ud83d" }),
      audit: sparse,
      segments: { toJSON: () => "segments" },
      extra: undefined,
    };
    for (const doc of [odd, deepFreeze({ ...odd, flags: dictionary({ ...flags }) })]) {
      expect(documentJson(doc)).toBe(JSON.stringify(doc));
      expect(documentJson(doc)).toBe(JSON.stringify(doc));
    }
    const withToJSON = { flags: dictionary({ a: 1 }), toJSON: () => ({ replaced: true }) };
    expect(documentJson(withToJSON)).toBe(JSON.stringify(withToJSON));
    expect(documentJson(null)).toBe("null");
  });

  it("keeps no JSON for an entry moved to another key", () => {
    const shared = deepFreeze({ on: true });
    const a = deepFreeze({ flags: dictionary({ a: shared }) });
    const b = deepFreeze({ flags: dictionary({ b: shared }) });
    expect(documentJson(a)).toBe('{"flags":{"a":{"on":true}}}');
    expect(documentJson(b)).toBe('{"flags":{"b":{"on":true}}}');
  });
});
