import { describe, expect, it } from "vitest";
import type { Flag, Segment } from "../../src/document/types.js";
import { evaluate } from "../../src/evaluation/evaluate.js";
import type { EvaluationContext } from "../../src/evaluation/types.js";
import { Snapshot } from "../../src/snapshot.js";

// LaunchDarkly contexts of every form, case by case; the parity test checks the same against the SDK at random.

function flag(extra: Partial<Flag> = {}): Flag {
  return { key: "f", on: true, variations: ["v0", "v1", "v2"], offVariation: 0, fallthrough: { variation: 2 }, ...extra };
}

const acme = { kind: "multi", user: { key: "u1" }, organization: { key: "acme", plan: "pro" } } as EvaluationContext;
const value = (f: Flag, context: EvaluationContext, segments: Record<string, Segment> = {}) => evaluate(f, context, { segments }).value;

describe("context targets", () => {
  const targeted = flag({
    targets: [{ variation: 1, values: ["u1"] }],
    contextTargets: [
      { contextKind: "organization", variation: 0, values: ["acme"] },
      // A user-kind entry stands for the user targets of its variation.
      { contextKind: "user", variation: 1, values: [] },
    ],
  });

  it("match the key of their kind, in order, user entries deferring to targets", () => {
    expect(evaluate(targeted, acme)).toEqual({ value: "v0", variationIndex: 0, reason: { kind: "TARGET_MATCH" } });
    expect(value(targeted, { kind: "multi", user: { key: "u1" }, organization: { key: "globex" } } as EvaluationContext)).toBe("v1");
    expect(value(targeted, { key: "u1" })).toBe("v1");
  });

  it("do not mistake a user for an organization with the same key", () => {
    expect(value(targeted, { key: "acme" })).toBe("v2");
    expect(value(targeted, { kind: "organization", key: "u1" } as EvaluationContext)).toBe("v2");
  });
});

describe("clauses, rollouts and segments by kind", () => {
  it("read the attribute of the clause's kind, and `kind` lists the context's kinds", () => {
    const plan = flag({ rules: [{ clauses: [{ contextKind: "organization", attribute: "plan", op: "in", values: ["pro"] }], variation: 1 }] });
    expect(value(plan, acme)).toBe("v1");
    expect(value(plan, { key: "u1", plan: "pro" })).toBe("v2");
    const kinds = flag({ rules: [{ clauses: [{ attribute: "kind", op: "in", values: ["organization"] }], variation: 1 }] });
    expect(value(kinds, acme)).toBe("v1");
    expect(value(kinds, { key: "u1" })).toBe("v2");
  });

  it("bucket by the rollout's kind: the same organization lands in the same bucket whoever the user is", () => {
    const rollout = flag({
      fallthrough: { rollout: { contextKind: "organization", variations: [{ variation: 0, weight: 50_000 }, { variation: 1, weight: 50_000 }] } },
    });
    const results = new Set(
      ["u1", "u2", "u3", "u4", "u5", "u6"].map((user) => value(rollout, { kind: "multi", user: { key: user }, organization: { key: "acme" } } as EvaluationContext)),
    );
    expect(results.size).toBe(1);
    const orgs = new Set(Array.from({ length: 20 }, (_, i) => value(rollout, { kind: "organization", key: `org-${i}` } as EvaluationContext)));
    expect(orgs).toEqual(new Set(["v0", "v1"]));
  });

  it("match segment context lists by kind", () => {
    const segment: Segment = { key: "s", includedContexts: [{ contextKind: "organization", values: ["acme"] }], included: ["u9"] };
    const inSegment = flag({ rules: [{ clauses: [{ attribute: "", op: "segmentMatch", values: ["s"] }], variation: 1 }] });
    expect(value(inSegment, acme, { s: segment })).toBe("v1");
    expect(value(inSegment, { key: "acme" }, { s: segment })).toBe("v2");
    expect(value(inSegment, { key: "u9" }, { s: segment })).toBe("v1");
  });
});

describe("legacy users", () => {
  it("read `custom` attributes as LaunchDarkly does, built-ins from top level", () => {
    const country = flag({ rules: [{ clauses: [{ attribute: "country", op: "in", values: ["DE"] }], variation: 1 }] });
    const group = flag({ rules: [{ clauses: [{ attribute: "group", op: "in", values: ["beta"] }], variation: 1 }] });
    expect(value(group, { key: "u", custom: { group: "beta" } })).toBe("v1");
    expect(value(country, { key: "u", country: "DE", custom: { country: "FR" } })).toBe("v1");
    expect(value(country, { key: "u", custom: { country: "DE" } })).toBe("v1");
    // Detour's flat form: a top-level attribute is read too (a legacy user's SDK ignores it).
    expect(value(group, { key: "u", group: "beta" })).toBe("v1");
  });

  it("read a non-string key as a string", () => {
    const targeted = flag({ targets: [{ variation: 1, values: ["42"] }] });
    expect(value(targeted, { key: 42 } as unknown as EvaluationContext)).toBe("v1");
  });
});

describe("invalid contexts", () => {
  const invalid = { value: null, variationIndex: null, reason: { kind: "ERROR", errorKind: "USER_NOT_SPECIFIED" } };

  it.each([
    ["no key", { name: "x" }],
    ["an empty key on a kind", { kind: "organization", key: "" }],
    ["the kind named kind", { kind: "kind", key: "k" }],
    ["an invalid kind", { kind: "a b", key: "k" }],
    ["an empty multi-kind context", { kind: "multi" }],
    ["a part that is not an object", { kind: "multi", user: { key: "u" }, organization: "acme" }],
  ])("%s is ERROR/USER_NOT_SPECIFIED, before the flag is looked up", (_, context) => {
    expect(evaluate(flag(), context as unknown as EvaluationContext)).toEqual(invalid);
    expect(Snapshot.empty().evaluate("missing", context as unknown as EvaluationContext)).toEqual(invalid);
  });
});
