import { createHash } from "node:crypto";
import { describe, expect, it } from "vitest";
import type { Clause, Flag, FlagDocument, Segment, SegmentRule } from "../../src/document/types.js";
import { flagFromValue } from "../../src/evaluation/compile.js";
import { evaluate } from "../../src/evaluation/evaluate.js";
import type { EvaluationContext } from "../../src/evaluation/types.js";
import { Snapshot } from "../../src/snapshot.js";

const MALFORMED = { value: null, variationIndex: null, reason: { kind: "ERROR", errorKind: "MALFORMED_FLAG" } };

function flag(key: string, extra: Partial<Flag> = {}): Flag {
  return {
    key,
    on: true,
    variations: ["v0", "v1", "v2"],
    offVariation: 0,
    fallthrough: { variation: 2 },
    ...extra,
  };
}

const user = (key: string, attributes: Record<string, unknown> = {}): EvaluationContext => ({ key, ...attributes });

describe("off flags", () => {
  it("serve offVariation with reason OFF", () => {
    expect(evaluate(flag("f", { on: false, offVariation: 1 }), user("u"))).toEqual({
      value: "v1",
      variationIndex: 1,
      reason: { kind: "OFF" },
    });
  });

  it("serve null (no variation) without offVariation", () => {
    expect(evaluate(flag("f", { on: false, offVariation: undefined }), user("u"))).toEqual({
      value: null,
      variationIndex: null,
      reason: { kind: "OFF" },
    });
  });

  it("ignore targets, rules and prerequisites", () => {
    const off = flag("f", {
      on: false,
      targets: [{ variation: 2, values: ["u"] }],
      rules: [{ clauses: [{ attribute: "key", op: "in", values: ["u"] }], variation: 2 }],
      prerequisites: [{ key: "missing", variation: 0 }],
    });
    expect(evaluate(off, user("u")).reason).toEqual({ kind: "OFF" });
  });

  it("are malformed with an offVariation out of range", () => {
    expect(evaluate(flag("f", { on: false, offVariation: 3 }), user("u"))).toEqual(MALFORMED);
  });
});

describe("individual targets", () => {
  it("win over rules and fallthrough", () => {
    const f = flag("f", {
      targets: [{ variation: 1, values: ["u1", "u2"] }],
      rules: [{ clauses: [{ attribute: "key", op: "in", values: ["u1"] }], variation: 0 }],
    });
    expect(evaluate(f, user("u1"))).toEqual({ value: "v1", variationIndex: 1, reason: { kind: "TARGET_MATCH" } });
    expect(evaluate(f, user("u3")).reason).toEqual({ kind: "FALLTHROUGH" });
  });

  it("take the first target listing the key", () => {
    const f = flag("f", { targets: [{ variation: 2, values: ["u"] }, { variation: 1, values: ["u"] }] });
    expect(evaluate(f, user("u")).variationIndex).toBe(2);
  });

  it("follow contextTargets' order when there are any: user entries stand for the user targets of their variation", () => {
    const targets = [
      { variation: 0, values: ["u"] },
      { variation: 1, values: ["u"] },
    ];
    expect(evaluate(flag("f", { targets }), user("u")).variationIndex).toBe(0);
    const ordered = flag("f", {
      targets,
      contextTargets: [
        { contextKind: "user", variation: 1, values: [] },
        { contextKind: "user", variation: 0, values: [] },
      ],
    });
    expect(evaluate(ordered, user("u")).variationIndex).toBe(1);
  });

  it("ignore user targets whose variation has no user entry in contextTargets", () => {
    const f = flag("f", {
      targets: [{ variation: 1, values: ["u"] }],
      contextTargets: [{ contextKind: "org", variation: 1, values: ["u"] }],
    });
    expect(evaluate(f, user("u")).reason).toEqual({ kind: "FALLTHROUGH" });
  });

  it("never match context targets of another kind, nor the values of user context targets", () => {
    const f = flag("f", {
      targets: [],
      contextTargets: [
        { contextKind: "org", variation: 1, values: ["u"] },
        { contextKind: "user", variation: 0, values: ["u"] },
      ],
    });
    expect(evaluate(f, user("u")).reason).toEqual({ kind: "FALLTHROUGH" });
  });

  it("are malformed when the matching target's variation is out of range", () => {
    expect(evaluate(flag("f", { targets: [{ variation: 7, values: ["u"] }] }), user("u"))).toEqual(MALFORMED);
  });

  it("read the kind as LaunchDarkly does: absent or null is user, \"\" is no context's kind", () => {
    const withKind = (contextKind: unknown) =>
      flag("f", { targets: [{ variation: 1, values: ["u"], contextKind: contextKind as string }] });
    expect(evaluate(withKind(undefined), user("u")).reason.kind).toBe("TARGET_MATCH");
    expect(evaluate(withKind(null), user("u")).reason.kind).toBe("TARGET_MATCH");
    expect(evaluate(withKind("user"), user("u")).reason.kind).toBe("TARGET_MATCH");
    expect(evaluate(withKind(""), user("u")).reason.kind).toBe("FALLTHROUGH");
    // In contextTargets, though, any falsy kind means user...
    const pointer = (contextKind: unknown, targetKind?: string) =>
      flag("f", {
        targets: [{ variation: 1, values: ["u"], ...(targetKind === undefined ? {} : { contextKind: targetKind }) }],
        contextTargets: [{ contextKind: contextKind as string, variation: 1, values: [] }],
      });
    expect(evaluate(pointer(""), user("u")).reason.kind).toBe("TARGET_MATCH");
    // ...and the user target it points at keeps its own kind.
    expect(evaluate(pointer("user", ""), user("u")).reason.kind).toBe("FALLTHROUGH");
  });
});

describe("rules", () => {
  const rules = [
    { id: "first", clauses: [{ attribute: "plan", op: "in" as const, values: ["pro"] }], variation: 1 },
    { clauses: [{ attribute: "plan", op: "in" as const, values: ["pro", "free"] }], variation: 0 },
  ];

  it("report the first matching rule's index and id", () => {
    expect(evaluate(flag("f", { rules }), user("u", { plan: "pro" }))).toEqual({
      value: "v1",
      variationIndex: 1,
      reason: { kind: "RULE_MATCH", ruleIndex: 0, ruleId: "first" },
    });
    expect(evaluate(flag("f", { rules }), user("u", { plan: "free" }))).toEqual({
      value: "v0",
      variationIndex: 0,
      reason: { kind: "RULE_MATCH", ruleIndex: 1 },
    });
  });

  it("fall through when none matches", () => {
    expect(evaluate(flag("f", { rules }), user("u", { plan: "team" }))).toEqual({
      value: "v2",
      variationIndex: 2,
      reason: { kind: "FALLTHROUGH" },
    });
  });

  it("are malformed with neither a variation nor a rollout, or an empty rollout", () => {
    const clauses: Clause[] = [{ attribute: "key", op: "in", values: ["u"] }];
    expect(evaluate(flag("f", { rules: [{ clauses }] }), user("u"))).toEqual(MALFORMED);
    expect(evaluate(flag("f", { rules: [{ clauses, rollout: { variations: [] } }] }), user("u"))).toEqual(MALFORMED);
    expect(evaluate(flag("f", { rules: [{ clauses, variation: 5 }] }), user("u"))).toEqual(MALFORMED);
    // ...but only once they match.
    expect(evaluate(flag("f", { rules: [{ clauses }] }), user("x")).reason).toEqual({ kind: "FALLTHROUGH" });
  });

  it("make an invalid attribute an error only when it is the last clause evaluated (LaunchDarkly's quirk)", () => {
    const bad: Clause = { attribute: "", op: "in", values: ["x"] };
    const good = (values: string[]): Clause => ({ attribute: "key", op: "in", values });
    const result = (clauses: Clause[]) => evaluate(flag("f", { rules: [{ clauses, variation: 1 }] }), user("u"));
    expect(result([bad])).toEqual(MALFORMED);
    expect(result([good(["u"]), bad])).toEqual(MALFORMED);
    expect(result([bad, good(["u"])]).reason).toEqual({ kind: "RULE_MATCH", ruleIndex: 0 });
    expect(result([bad, good(["other"])]).reason).toEqual({ kind: "FALLTHROUGH" });
  });

  it("read a clause kind \"\" as no context's kind, and null as absent", () => {
    const withKind = (contextKind: unknown) =>
      flag("f", { rules: [{ clauses: [{ attribute: "plan", op: "in", values: ["pro"], contextKind: contextKind as string }], variation: 1 }] });
    expect(evaluate(withKind(null), user("u", { plan: "pro" })).reason.kind).toBe("RULE_MATCH");
    expect(evaluate(withKind(""), user("u", { plan: "pro" })).reason.kind).toBe("FALLTHROUGH");
  });
});

describe("fallthrough", () => {
  it("is malformed when missing or out of range", () => {
    expect(evaluate(flag("f", { fallthrough: {} }), user("u"))).toEqual(MALFORMED);
    expect(evaluate(flag("f", { fallthrough: { variation: -1 } }), user("u"))).toEqual(MALFORMED);
    expect(evaluate(flag("f", { fallthrough: { variation: 3 } }), user("u"))).toEqual(MALFORMED);
  });

  it("does not care what the variation values are", () => {
    const f = flag("f", { variations: [{ mode: "maintenance" }, null, [1, 2]], fallthrough: { variation: 0 } });
    expect(evaluate(f, user("u")).value).toEqual({ mode: "maintenance" });
    expect(evaluate({ ...f, fallthrough: { variation: 1 } }, user("u"))).toEqual({
      value: null,
      variationIndex: 1,
      reason: { kind: "FALLTHROUGH" },
    });
  });
});

describe("prerequisites", () => {
  const parent = (prerequisites: Flag["prerequisites"], extra: Partial<Flag> = {}) =>
    flag("parent", { prerequisites, offVariation: 1, ...extra });

  function run(main: Flag, others: Flag[], context = user("u")) {
    const flags = Object.fromEntries([main, ...others].map((f) => [f.key, f]));
    return evaluate(main, context, { flags });
  }

  it("pass when every prerequisite serves the required variation", () => {
    const a = flag("a", { fallthrough: { variation: 1 } });
    const b = flag("b", { targets: [{ variation: 2, values: ["u"] }] });
    expect(run(parent([{ key: "a", variation: 1 }, { key: "b", variation: 2 }]), [a, b]).reason).toEqual({ kind: "FALLTHROUGH" });
  });

  it("fail on a missing prerequisite, serving the off variation", () => {
    expect(run(parent([{ key: "nope", variation: 0 }]), [])).toEqual({
      value: "v1",
      variationIndex: 1,
      reason: { kind: "PREREQUISITE_FAILED", prerequisiteKey: "nope" },
    });
  });

  it("fail on an off prerequisite, even one whose off variation is the required one", () => {
    const off = flag("off", { on: false, offVariation: 0 });
    expect(run(parent([{ key: "off", variation: 0 }]), [off]).reason).toEqual({ kind: "PREREQUISITE_FAILED", prerequisiteKey: "off" });
  });

  it("fail on the wrong variation, and report the first failing prerequisite", () => {
    const a = flag("a", { fallthrough: { variation: 1 } });
    expect(run(parent([{ key: "a", variation: 2 }, { key: "nope", variation: 0 }]), [a]).reason).toEqual({
      kind: "PREREQUISITE_FAILED",
      prerequisiteKey: "a",
    });
  });

  it("serve null when failing without an off variation", () => {
    expect(run(parent([{ key: "nope", variation: 0 }], { offVariation: undefined }), [])).toEqual({
      value: null,
      variationIndex: null,
      reason: { kind: "PREREQUISITE_FAILED", prerequisiteKey: "nope" },
    });
  });

  it("are checked before targets", () => {
    expect(run(parent([{ key: "nope", variation: 0 }], { targets: [{ variation: 2, values: ["u"] }] }), []).reason.kind).toBe(
      "PREREQUISITE_FAILED",
    );
  });

  it("pass a prerequisite's error up", () => {
    const broken = flag("broken", { fallthrough: { variation: 9 } });
    expect(run(parent([{ key: "broken", variation: 0 }]), [broken])).toEqual(MALFORMED);
  });

  it("chain: a prerequisite's own failed prerequisite fails it", () => {
    const a = flag("a", { prerequisites: [{ key: "nope", variation: 0 }], offVariation: 0 });
    // a serves its off variation (0) with PREREQUISITE_FAILED: not OFF, and 0 is what parent asks for.
    expect(run(parent([{ key: "a", variation: 0 }]), [a]).reason).toEqual({ kind: "FALLTHROUGH" });
    expect(run(parent([{ key: "a", variation: 2 }]), [a]).reason).toEqual({ kind: "PREREQUISITE_FAILED", prerequisiteKey: "a" });
  });

  it("make a cycle a malformed flag", () => {
    const a = flag("a", { prerequisites: [{ key: "b", variation: 2 }] });
    const b = flag("b", { prerequisites: [{ key: "a", variation: 2 }] });
    expect(run(a, [b])).toEqual(MALFORMED);
    const self = flag("self", { prerequisites: [{ key: "self", variation: 2 }] });
    expect(run(self, [])).toEqual(MALFORMED);
  });

  it("let a later failing prerequisite win over a cycle, as LaunchDarkly does", () => {
    // LaunchDarkly does not stop at the cycle: it goes on to `nope`. Inside, `self` (seen
    // again) fails on `nope` and serves its off variation 0 - which is what the outer
    // evaluation asks of it, so the outer one also goes on and fails on `nope`.
    const self = flag("self", { prerequisites: [{ key: "self", variation: 0 }, { key: "nope", variation: 0 }] });
    expect(run(self, [])).toEqual({
      value: "v0",
      variationIndex: 0,
      reason: { kind: "PREREQUISITE_FAILED", prerequisiteKey: "nope" },
    });
    const asksMore = flag("self", { prerequisites: [{ key: "self", variation: 2 }, { key: "nope", variation: 0 }] });
    expect(run(asksMore, []).reason).toEqual({ kind: "PREREQUISITE_FAILED", prerequisiteKey: "self" });
    // With nothing failing after it, the cycle is an error.
    const a = flag("a", { fallthrough: { variation: 1 } });
    const cycleLast = flag("self", { prerequisites: [{ key: "self", variation: 2 }, { key: "a", variation: 1 }] });
    expect(run(cycleLast, [a])).toEqual(MALFORMED);
  });
});

describe("segments", () => {
  const bySegment = (keys: string[], negate = false) =>
    flag("f", { rules: [{ clauses: [{ attribute: "key", op: "segmentMatch", values: keys, negate }], variation: 1 }] });

  function inSegment(segments: Segment[], context: EvaluationContext, keys = [segments[0]!.key], negate = false) {
    const result = evaluate(bySegment(keys, negate), context, {
      segments: Object.fromEntries(segments.map((s) => [s.key, s])),
    });
    return result.reason.kind === "ERROR" ? "error" : result.variationIndex === 1;
  }

  const rule = (clauses: Clause[], extra: Partial<SegmentRule> = {}): SegmentRule => ({ clauses, ...extra });
  const planIs = (plan: string): Clause => ({ attribute: "plan", op: "in", values: [plan] });

  it("include listed keys, exclude listed keys, included first", () => {
    const s: Segment = { key: "s", included: ["in", "both"], excluded: ["out", "both"], rules: [rule([planIs("pro")])] };
    expect(inSegment([s], user("in"))).toBe(true);
    expect(inSegment([s], user("both"))).toBe(true);
    expect(inSegment([s], user("out", { plan: "pro" }))).toBe(false); // excluded beats the rule
    expect(inSegment([s], user("x", { plan: "pro" }))).toBe(true);
    expect(inSegment([s], user("x", { plan: "free" }))).toBe(false);
  });

  it("read includedContexts/excludedContexts of kind user (or none), never of other kinds or kind \"\"", () => {
    const s: Segment = {
      key: "s",
      includedContexts: [
        { contextKind: "user", values: ["u1"] },
        { contextKind: "org", values: ["u2"] },
        { contextKind: "", values: ["u4"] },
      ],
      excludedContexts: [{ contextKind: "user", values: ["u3"] }],
      rules: [rule([planIs("pro")])],
    };
    expect(inSegment([s], user("u1"))).toBe(true);
    expect(inSegment([s], user("u2"))).toBe(false);
    expect(inSegment([s], user("u4"))).toBe(false);
    expect(inSegment([s], user("u3", { plan: "pro" }))).toBe(false);
  });

  it("match when any listed segment matches; a missing segment never matches", () => {
    const a: Segment = { key: "a", included: ["ua"] };
    const b: Segment = { key: "b", included: ["ub"] };
    expect(inSegment([a, b], user("ub"), ["missing", "a", "b"])).toBe(true);
    expect(inSegment([a, b], user("uc"), ["missing", "a", "b"])).toBe(false);
    expect(inSegment([a], user("ua"), ["missing"], true)).toBe(true); // negated: not in a missing segment
    expect(inSegment([a], user("ua"), ["a"], true)).toBe(false);
  });

  it("include a share of the rule's matches with a weighted rule (bucketed by segment key and salt)", () => {
    const s: Segment = { key: "beta", salt: "pepper", rules: [rule([planIs("pro")], { weight: 30000 })] };
    const keys = Array.from({ length: 300 }, (_, i) => `user-${i}`);
    const expected = keys.map(
      (key) => parseInt(createHash("sha1").update(`beta.pepper.${key}`).digest("hex").slice(0, 15), 16) / 0xfffffffffffffff < 0.3,
    );
    const actual = keys.map((key) => inSegment([s], user(key, { plan: "pro" })));
    expect(actual).toEqual(expected);
    const share = actual.filter(Boolean).length / keys.length;
    expect(share).toBeGreaterThan(0.2);
    expect(share).toBeLessThan(0.4);
    // No match, no bucketing.
    expect(inSegment([s], user(keys[expected.indexOf(true)]!, { plan: "free" }))).toBe(false);
  });

  it("bucket a weighted rule by bucketBy, and a missing value at 0 (in, for any weight above 0)", () => {
    const s = (weight: number): Segment => ({ key: "s", rules: [rule([planIs("pro")], { weight, bucketBy: "org" })] });
    expect(inSegment([s(1)], user("u", { plan: "pro" }))).toBe(true); // no org: bucket 0 < 0.00001
    expect(inSegment([s(0)], user("u", { plan: "pro" }))).toBe(false);
    expect(inSegment([s(1)], user("u", { plan: "pro", org: 2.5 }))).toBe(true);
  });

  it("nest: a segment rule may match another segment", () => {
    const inner: Segment = { key: "inner", included: ["u1"] };
    const outer: Segment = { key: "outer", rules: [rule([{ attribute: "key", op: "segmentMatch", values: ["inner"] }])] };
    expect(inSegment([outer, inner], user("u1"))).toBe(true);
    expect(inSegment([outer, inner], user("u2"))).toBe(false);
  });

  it("make a cycle between segments a malformed flag", () => {
    const a: Segment = { key: "a", rules: [rule([{ attribute: "key", op: "segmentMatch", values: ["b"] }])] };
    const b: Segment = { key: "b", rules: [rule([{ attribute: "key", op: "segmentMatch", values: ["a"] }])] };
    expect(inSegment([a, b], user("u"))).toBe("error");
    const self: Segment = { key: "self", rules: [rule([{ attribute: "key", op: "segmentMatch", values: ["self"] }])] };
    expect(inSegment([self], user("u"))).toBe("error");
    // Inclusion is decided before the rules: no cycle is reached.
    expect(inSegment([{ ...self, included: ["u"] }], user("u"))).toBe(true);
  });

  it("never match an unbounded (big) segment by its lists: Detour has no big-segment store", () => {
    const big: Segment = { key: "big", unbounded: true, generation: 1, included: ["u"] };
    expect(inSegment([big], user("u"))).toBe(false);
  });
});

describe("flagValues shorthand", () => {
  it("evaluates as an on flag serving its one value", () => {
    for (const value of [true, "maintenance", 3, { a: [1] }, null]) {
      expect(evaluate(flagFromValue("beta-banner", value), user("u"))).toEqual({
        value,
        variationIndex: 0,
        reason: { kind: "FALLTHROUGH" },
      });
    }
  });

  it("can be a prerequisite once merged into the flags (as a snapshot does)", () => {
    const doc: FlagDocument = {
      flags: { main: flag("main", { prerequisites: [{ key: "banner", variation: 0 }] }) },
      flagValues: { banner: true },
    };
    const snapshot = Snapshot.from(doc);
    expect(snapshot.evaluate("main", user("u")).reason).toEqual({ kind: "FALLTHROUGH" });
    expect(snapshot.evaluate("banner", user("u"))).toEqual({ value: true, variationIndex: 0, reason: { kind: "FALLTHROUGH" } });
  });
});

describe("reason kinds", () => {
  it("cover OFF, TARGET_MATCH, RULE_MATCH, PREREQUISITE_FAILED, FALLTHROUGH, ERROR/MALFORMED_FLAG and ERROR/FLAG_NOT_FOUND", () => {
    const main = flag("main", {
      targets: [{ variation: 1, values: ["targeted"] }],
      rules: [{ id: "r0", clauses: [{ attribute: "plan", op: "in", values: ["pro"] }], variation: 0 }],
      prerequisites: [{ key: "gate", variation: 1 }],
    });
    const gate = flag("gate", { fallthrough: { variation: 1 }, rules: [{ clauses: [{ attribute: "blocked", op: "in", values: [true] }], variation: 0 }] });
    const doc: FlagDocument = { flags: { main, gate, off: flag("off", { on: false }), broken: flag("broken", { fallthrough: { variation: 8 } }) } };
    const kinds = [
      evaluate(doc.flags!.off!, user("u"), doc).reason,
      evaluate(main, user("targeted"), doc).reason,
      evaluate(main, user("u", { plan: "pro" }), doc).reason,
      evaluate(main, user("u", { blocked: true }), doc).reason,
      evaluate(main, user("u"), doc).reason,
      evaluate(doc.flags!.broken!, user("u"), doc).reason,
      Snapshot.from({ flags: { main, gate } }).evaluate("nope", user("u")).reason,
    ];
    expect(kinds).toEqual([
      { kind: "OFF" },
      { kind: "TARGET_MATCH" },
      { kind: "RULE_MATCH", ruleIndex: 0, ruleId: "r0" },
      { kind: "PREREQUISITE_FAILED", prerequisiteKey: "gate" },
      { kind: "FALLTHROUGH" },
      { kind: "ERROR", errorKind: "MALFORMED_FLAG" },
      { kind: "ERROR", errorKind: "FLAG_NOT_FOUND" },
    ]);
  });

  it("are frozen, so a caller cannot corrupt shared results", () => {
    const result = evaluate(flag("f"), user("u"));
    expect(Object.isFrozen(result)).toBe(true);
    expect(Object.isFrozen(result.reason)).toBe(true);
  });
});
