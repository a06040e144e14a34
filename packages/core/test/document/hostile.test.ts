/**
 * Documents built to hurt: patterns only a backtracking engine could run,
 * `__proto__` keys, nesting thousands of levels deep, flag keys that are
 * `Object.prototype` names. Each is refused with an error naming what is
 * wrong, or handled as the flag it is; none crashes or pollutes `Object`.
 */
import { describe, expect, it } from "vitest";
import { createDetour, evaluate, memoryStore, Snapshot, ValidationError, validateDocument, type FlagDocument } from "../../src/index.js";
import { withDictionaries } from "../../src/store.js";
import { MAX_DOCUMENT_DEPTH } from "../../src/validation/validate.js";

function refusal(input: unknown, options?: { quoteValues?: boolean }): ValidationError {
  try {
    validateDocument(input, undefined, options);
  } catch (error) {
    expect(error).toBeInstanceOf(ValidationError);
    return error as ValidationError;
  }
  throw new Error("expected the document to be refused");
}

function flagWith(pattern: string, id?: string): Record<string, unknown> {
  return {
    key: "site",
    on: true,
    variations: ["available", "maintenance"],
    offVariation: 0,
    fallthrough: { variation: 0 },
    rules: [
      { clauses: [{ attribute: "plan", op: "in", values: ["x"] }], variation: 0 },
      { ...(id ? { id } : {}), clauses: [{ attribute: "path", op: "matches", values: ["^/ok", pattern] }], variation: 1 },
    ],
  };
}

describe("matches patterns Detour cannot run in linear time", () => {
  it("are refused naming the flag, the rule and the pattern", () => {
    const error = refusal({ flags: { site: flagWith("^/(a+)\\1$", "no-backrefs") } });
    expect(error.issues).toHaveLength(1);
    const issue = error.issues[0]!;
    expect(issue.path).toBe("flags.site.rules[1].clauses[0].values[1]");
    expect(issue.flag).toBe("site");
    expect(issue.message).toContain('flag "site", rule 1 (id "no-backrefs")');
    expect(issue.message).toContain('the "matches" pattern "^/(a+)\\\\1$" is refused: it uses backreferences');
    expect(error.message).toMatch(/^flags\.site\.rules\[1\]\.clauses\[0\]\.values\[1\]: flag "site", rule 1/);
  });

  it("in segments too, naming the segment", () => {
    const error = refusal({ segments: { beta: { key: "beta", rules: [{ clauses: [{ attribute: "email", op: "matches", values: ["(?=x)"] }] }] } } });
    expect(error.issues[0]!.message).toContain('segment "beta", rule 0: the "matches" pattern "(?=x)" is refused: it uses lookahead');
  });

  it("every kind RE2 cannot run: lookbehind, huge counts, huge programs", () => {
    for (const [pattern, reason] of [["(?<=a)b", /lookbehind/], ["a{2000}", /over 1000/], ["(?:a?){200}", /RE2 instructions, more than 100/]] as const) {
      expect(refusal({ flags: { site: flagWith(pattern) } }).issues[0]!.message).toMatch(reason);
    }
  });

  it("patterns RE2 runs are accepted, the ReDoS classic included, and so are patterns JavaScript refuses (they never match, as in LaunchDarkly)", () => {
    for (const pattern of ["^/(a+)+$", "(x+x+)+y", "^(\\w+\\s?)*$", "(", "[z-a]"]) {
      expect(() => validateDocument({ flags: { site: flagWith(pattern) } }), pattern).not.toThrow();
    }
  });

  it("an unvalidated flag holding one evaluates the clause as a non-match, never a backtracking run", () => {
    const flag = flagWith("^(a+)+\\1$") as never;
    const result = evaluate(flag, { key: "u", path: `${"a".repeat(40)}!` });
    expect(result.reason.kind).toBe("FALLTHROUGH");
  });
});

describe("__proto__ keys", () => {
  it("are refused as flag, segment and flagValues keys, with a clear message", () => {
    const flags = refusal(JSON.parse('{"flags":{"__proto__":{"key":"__proto__","on":false,"variations":[true,false]}}}'));
    expect(flags.issues[0]).toMatchObject({ path: "flags.__proto__" });
    expect(flags.issues[0]!.message).toMatch(/"__proto__" cannot be a flag key/);
    expect(refusal(JSON.parse('{"segments":{"__proto__":{}}}')).issues[0]!.message).toMatch(/cannot be a segment key/);
    expect(refusal(JSON.parse('{"flagValues":{"__proto__":true}}')).issues[0]!.message).toMatch(/cannot be a flag key/);
  });

  it("are refused anywhere else, instead of silently changing a copy's prototype", () => {
    // {"__proto__":{"on":true}} would otherwise make the copy inherit on: true.
    const error = refusal(JSON.parse('{"flags":{"x":{"variations":[true,false],"__proto__":{"on":true}}}}'));
    expect(error.issues.map((issue) => issue.path)).toContain("flags.x.__proto__");
    expect(refusal(JSON.parse('{"__proto__":{}}')).issues[0]!.message).toMatch(/cannot be a field name/);
  });
});

describe("nesting", () => {
  const deep = (levels: number) => JSON.parse(`{"flags":{"x":{"variations":[${"[".repeat(levels)}${"]".repeat(levels)}]}}}`) as unknown;

  it("deeper than MAX_DOCUMENT_DEPTH is refused with a clear error, whatever the depth (no stack overflow)", () => {
    for (const levels of [MAX_DOCUMENT_DEPTH, 5_000, 100_000]) {
      const error = refusal(deep(levels));
      expect(error.issues[0]!.message).toBe(`nested more than ${MAX_DOCUMENT_DEPTH} levels deep; no flag document needs that many`);
      expect(error.issues[0]!.path).toMatch(/^flags\.x\.variations(\[0\])+$/);
    }
  });

  it("up to the limit is fine", () => {
    expect(() => validateDocument(deep(MAX_DOCUMENT_DEPTH - 5))).not.toThrow();
  });
});

describe("quoting values in errors", () => {
  it("is on by default, off for stores that read files (nothing of the file in the message)", () => {
    const doc = { flags: { x: { variations: [true, false], on: "hunter2-the-secret" } } };
    expect(refusal(doc).message).toContain("hunter2-the-secret");
    const quiet = refusal(doc, { quoteValues: false });
    expect(quiet.message).not.toContain("hunter2");
    expect(quiet.message).toContain("flags.x.on: expected true or false, got a string of 18 characters");
  });
});

describe("flag keys that are Object.prototype names", () => {
  const names = ["constructor", "toString", "valueOf", "hasOwnProperty", "isPrototypeOf", "propertyIsEnumerable", "toLocaleString"];

  it("validated documents and drafts have prototype-free maps", () => {
    const doc = validateDocument({ flags: { site: { variations: [true, false] } }, flagValues: { a: 1 }, segments: { s: {} } });
    for (const map of [doc.flags, doc.flagValues, doc.segments]) expect(Object.getPrototypeOf(map)).toBeNull();
    const draft = Snapshot.from(doc).draft();
    for (const map of [draft.flags, draft.flagValues, draft.segments]) expect(Object.getPrototypeOf(map)).toBeNull();
    for (const name of names) expect((draft.flags as Record<string, unknown>)[name], name).toBeUndefined();
    const parsed = withDictionaries(JSON.parse('{"flags":{"a":{}}}') as FlagDocument);
    expect(Object.getPrototypeOf(parsed.flags)).toBeNull();
    expect(parsed.flags!.a).toEqual({});
  });

  it("are flags like any other: on, off, users, rollouts; nothing lands on Object", async () => {
    const detour = createDetour({ store: memoryStore({ flags: {} }) });
    await detour.ready;
    for (const name of names) {
      await expect(detour.disable(name), name).resolves.toBeDefined(); // no such flag: nothing to do
      await expect(detour.disable(name, { users: ["u1"] }), name).resolves.toBeDefined();
      expect(detour.document()!.flags![name], name).toBeUndefined();
      await detour.enable(name, { users: ["u1"] });
      expect(detour.status().flags.find((flag) => flag.key === name)).toMatchObject({ users: ["u1"] });
      await detour.enable(name);
      expect(detour.decide({ method: "GET", path: "/" }, { feature: name })).toMatchObject({ action: "block", flag: name });
      await detour.rollout(name, { available: 50, maintenance: 50 });
      await detour.disable(name);
      expect(detour.decide({ method: "GET", path: "/" }, { feature: name }).action).toBe("pass");
    }
    for (const field of ["targets", "version", "on", "detour", "fallthrough"]) {
      expect((Object as unknown as Record<string, unknown>)[field], field).toBeUndefined();
      expect(({} as Record<string, unknown>)[field], field).toBeUndefined();
    }
    await detour.close();
  });
});
