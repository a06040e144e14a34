import { describe, expect, it } from "vitest";
import type { Clause, ClauseOp, Flag, JsonValue } from "../../src/document/types.js";
import { evaluate } from "../../src/evaluation/evaluate.js";
import { compileOperator, toDate } from "../../src/evaluation/operators.js";
import { parseSemver } from "../../src/evaluation/semver.js";
import type { EvaluationContext } from "../../src/evaluation/types.js";

/** A flag whose only rule is `clause`: variation 1 ("matched") when it matches. */
function flagWith(clause: Clause): Flag {
  return {
    key: "op-test",
    on: true,
    variations: ["fallthrough", "matched"],
    fallthrough: { variation: 0 },
    rules: [{ clauses: [clause], variation: 1 }],
  };
}

/** Whether a clause `attribute op values` matches a context whose attribute holds `value`, through a real evaluation. */
function matches(op: ClauseOp | string, values: JsonValue[], value: unknown, negate = false): boolean {
  const clause = { attribute: "attr", op: op as ClauseOp, values, negate };
  const context: EvaluationContext = value === undefined ? { key: "k" } : { key: "k", attr: value };
  const result = evaluate(flagWith(clause), context);
  if (result.reason.kind === "ERROR") throw new Error(`unexpected error ${JSON.stringify(result)}`);
  return result.variationIndex === 1;
}

type Case = [values: JsonValue[], value: unknown, expected: boolean];

const table: Record<string, Case[]> = {
  in: [
    [["a", "b"], "b", true],
    [["a", "b"], "c", false],
    [[18], 18, true],
    [[18], "18", false],
    [["18"], 18, false],
    [[true], true, true],
    [[true], "true", false],
    [[{ a: 1 }], { a: 1 }, false], // objects are not compared structurally
    [[2], [1, 2, 3], true], // any element of an array
  ],
  startsWith: [
    [["al"], "alpha", true],
    [["ph"], "alpha", false],
    [["x", "al"], "alpha", true],
    [["1"], 12, false],
    [[1], "12", false],
    [[""], "anything", true],
  ],
  endsWith: [
    [["ha"], "alpha", true],
    [["al"], "alpha", false],
    [["2"], 12, false],
  ],
  contains: [
    [["lph"], "alpha", true],
    [["xyz"], "alpha", false],
    [["1"], 212, false],
    [["b"], ["a", "abc"], true],
  ],
  matches: [
    [["^al.*a$"], "alpha", true],
    [["^beta"], "alpha", false],
    [["\\d+"], "abc123", true],
    [["\\d+"], 123, false],
    [["["], "[", false], // an invalid pattern never matches
    [["[", "a"], "a", true], // ...and does not stop the others
    [["A"], "alpha", false], // case-sensitive
  ],
  lessThan: [
    [[18], 17, true],
    [[18], 18, false],
    [[18], "17", false],
    [["18"], 17, false],
    [[18.5], 18.4, true],
  ],
  lessThanOrEqual: [
    [[18], 18, true],
    [[18], 19, false],
    [[18], "18", false],
  ],
  greaterThan: [
    [[18], 19, true],
    [[18], 18, false],
    [[18], "19", false],
    [[1, 100], 50, true],
  ],
  greaterThanOrEqual: [
    [[18], 18, true],
    [[18], 17, false],
    [[18], true, false],
  ],
  before: [
    [["2024-01-01T00:00:00Z"], "2023-12-31T23:59:59Z", true],
    [["2024-01-01T00:00:00Z"], "2024-01-01T00:00:00Z", false],
    [["2024-01-01T00:00:00Z"], "2024-01-01T01:00:00+02:00", true], // 2023-12-31T23:00Z
    [["2024-01-01T00:00:00Z"], 1704067199999, true], // epoch millis
    [[1704067200000], "2023-12-31T23:59:59.999Z", true],
    [["2024-01-01T00:00:00Z"], "2023-12-31", false], // not RFC 3339: no time
    [["2024-01-01T00:00:00Z"], "yesterday", false],
    [["2024-01-01T00:00:00Z"], true, false],
    [["not a date"], "2023-12-31T23:59:59Z", false],
  ],
  after: [
    [["2024-01-01T00:00:00Z"], "2024-01-01T00:00:00.001Z", true],
    [["2024-01-01T00:00:00Z"], "2024-01-01T00:00:00Z", false],
    [["2024-01-01T00:00:00Z"], 1704067200001, true],
    [[1704067200000], "2024-01-01T00:00:01-07:00", true],
    // Accepted as RFC 3339 but unreadable by Date.parse (hour-only offset): never matches, as in LaunchDarkly.
    [[1704067200000], "2024-01-01T00:00:01-07", false],
    [["2024-01-01T00:00:00Z"], "1704067200001", false], // a numeric string is not a date
  ],
  semVerEqual: [
    [["1.2.3"], "1.2.3", true],
    [["1.2.0"], "1.2", true], // "1.2" is 1.2.0
    [["2.0.0"], "2", true], // "2" is 2.0.0
    [["1.2.3"], "v1.2.3", false], // a leading v is not semver
    [["1.2.3"], "1.2.3+build.9", true], // build metadata is ignored
    [["1.2.3"], "1.2.3-beta", false],
    [["1.2.3"], 1.2, false], // numbers are not versions
  ],
  semVerLessThan: [
    [["1.2.3"], "1.2.2", true],
    [["1.2.3"], "1.2.3-beta.1", true], // a pre-release comes before its release
    [["1.2.3"], "1.2.3", false],
    [["1.10.0"], "1.9.0", true], // numeric, not lexical
    [["2"], "1.99", true],
  ],
  semVerGreaterThan: [
    [["1.2.3"], "1.2.4", true],
    [["1.2.3-beta.2"], "1.2.3-beta.10", true],
    [["1.2.3"], "1.2.3", false],
    [["1.2.3"], "v2.0.0", false],
  ],
};

describe("clause operators", () => {
  for (const [op, cases] of Object.entries(table)) {
    describe(op, () => {
      for (const [values, value, expected] of cases) {
        it(`${JSON.stringify(value)} ${op} ${JSON.stringify(values)} → ${expected}`, () => {
          expect(matches(op, values, value)).toBe(expected);
        });
        it(`negated: ${JSON.stringify(value)} not ${op} ${JSON.stringify(values)} → ${!expected}`, () => {
          expect(matches(op, values, value, true)).toBe(!expected);
        });
      }
    });
  }

  it("never matches a missing attribute, negated or not", () => {
    for (const op of Object.keys(table)) {
      expect(matches(op, ["x"], undefined), op).toBe(false);
      expect(matches(op, ["x"], undefined, true), op).toBe(false);
    }
  });

  it("never matches a null attribute, negated or not, not even against `null`", () => {
    expect(matches("in", [null], null)).toBe(false);
    expect(matches("in", [null], null, true)).toBe(false);
    expect(matches("in", ["a"], null, true)).toBe(false);
  });

  it("negates the whole array match, not each element", () => {
    expect(matches("in", ["a"], ["a", "b"], true)).toBe(false);
    expect(matches("in", ["z"], ["a", "b"], true)).toBe(true);
    expect(matches("in", ["a"], [], true)).toBe(true); // an empty array matches nothing
  });

  it("treats an unknown operator as never matching (so a negated one matches)", () => {
    expect(matches("isTuesday", ["x"], "x")).toBe(false);
    expect(matches("isTuesday", ["x"], "x", true)).toBe(true);
  });

  it("has strict operand types in compiled matchers too", () => {
    expect(compileOperator("greaterThan", [17])(18)).toBe(true);
    expect(compileOperator("greaterThan", [17])("18")).toBe(false);
    expect(compileOperator("greaterThan", ["17"])(18)).toBe(false);
    expect(compileOperator("startsWith", ["1"])(1)).toBe(false);
  });
});

describe("dates and semvers", () => {
  it("parses RFC 3339 strings and epoch milliseconds, nothing else", () => {
    expect(toDate("2024-01-01T00:00:00Z")).toBe(Date.UTC(2024, 0, 1));
    expect(toDate("2024-01-01T02:00:00+02:00")).toBe(Date.UTC(2024, 0, 1));
    expect(toDate("2024-01-01T00:00:00.250Z")).toBe(Date.UTC(2024, 0, 1) + 250);
    expect(toDate(1704067200000)).toBe(1704067200000);
    expect(toDate("2024-01-01")).toBeNull();
    expect(toDate("2024-01-01T00:00:00")).toBeNull(); // no zone
    expect(toDate("1704067200000")).toBeNull();
    expect(toDate(null)).toBeNull();
  });

  it("parses versions like LaunchDarkly: lenient completion, no leading v", () => {
    expect(parseSemver("1.2.3")?.version).toBe("1.2.3");
    expect(parseSemver("1.2")?.version).toBe("1.2.0");
    expect(parseSemver("1")?.version).toBe("1.0.0");
    expect(parseSemver("1.2-beta")?.version).toBe("1.2.0-beta");
    expect(parseSemver("v1.2.3")).toBeNull();
    expect(parseSemver("1.2.3.4")).toBeNull();
    expect(parseSemver("x")).toBeNull();
    expect(parseSemver(1)).toBeNull();
  });
});

describe("inCidr (Detour only)", () => {
  const cases: Case[] = [
    [["10.0.0.0/8"], "10.1.2.3", true],
    [["10.0.0.0/8"], "11.1.2.3", false],
    [["192.168.1.0/24"], "192.168.1.255", true],
    [["192.168.1.0/24"], "192.168.2.1", false],
    [["192.168.1.7"], "192.168.1.7", true], // a bare address is a /32
    [["192.168.1.7"], "192.168.1.8", false],
    [["2001:db8::/32"], "2001:db8:1::1", true],
    [["2001:db8::/32"], "2001:db9::1", false],
    [["::1"], "::1", true],
    [["::1"], "::2", false],
    // IPv4-mapped IPv6 (dual-stack sockets) is the IPv4 address.
    [["10.0.0.0/8"], "::ffff:10.1.2.3", true],
    [["10.0.0.0/8"], "::ffff:11.1.2.3", false],
    [["::ffff:10.0.0.0/104"], "10.1.2.3", true],
    [["::ffff:10.0.0.0/104"], "11.1.2.3", false],
    // Families do not mix otherwise.
    [["10.0.0.0/8"], "2001:db8::1", false],
    [["::/0"], "10.1.2.3", false],
    [["0.0.0.0/0"], "10.1.2.3", true],
    // Garbage never matches.
    [["10.0.0.0/8"], "not-an-ip", false],
    [["10.0.0.0/8"], 167837955, false],
    [["not-a-range"], "10.1.2.3", false],
    [["10.0.0.0/99", "10.1.0.0/16"], "10.1.2.3", true],
    [["10.0.0.0/8", "2001:db8::/32"], "2001:db8::5", true],
  ];
  for (const [values, value, expected] of cases) {
    it(`${JSON.stringify(value)} inCidr ${JSON.stringify(values)} → ${expected}`, () => {
      expect(matches("inCidr", values, value)).toBe(expected);
      expect(matches("inCidr", values, value, true)).toBe(!expected);
    });
  }
});

describe("clause attributes", () => {
  function ruleMatches(clause: Omit<Clause, "op"> & { op?: ClauseOp }, context: EvaluationContext): boolean | "error" {
    const result = evaluate(flagWith({ op: "in", ...clause }), context);
    return result.reason.kind === "ERROR" ? "error" : result.variationIndex === 1;
  }

  it("reads a literal name without a context kind, a reference path with one", () => {
    const context = { key: "k", address: { city: "Paris" }, "/address/city": "Literal" };
    expect(ruleMatches({ attribute: "/address/city", values: ["Paris"], contextKind: "user" }, context)).toBe(true);
    expect(ruleMatches({ attribute: "/address/city", values: ["Paris"] }, context)).toBe(false);
    expect(ruleMatches({ attribute: "/address/city", values: ["Literal"] }, context)).toBe(true);
    expect(ruleMatches({ attribute: "/a~1b", values: ["escaped"], contextKind: "user" }, { key: "k", "a/b": "escaped" })).toBe(true);
  });

  it("never matches a clause for another context kind (flat contexts are users)", () => {
    expect(ruleMatches({ attribute: "plan", values: ["pro"], contextKind: "org" }, { key: "k", plan: "pro" })).toBe(false);
    expect(ruleMatches({ attribute: "plan", values: ["pro"], contextKind: "user" }, { key: "k", plan: "pro" })).toBe(true);
  });

  it("answers `kind` with [\"user\"], whatever the clause's kind", () => {
    expect(ruleMatches({ attribute: "kind", values: ["user"] }, { key: "k" })).toBe(true);
    expect(ruleMatches({ attribute: "kind", values: ["org"] }, { key: "k" })).toBe(false);
    expect(ruleMatches({ attribute: "kind", values: ["user"], contextKind: "org" }, { key: "k" })).toBe(true);
  });

  it("reads `anonymous` as a boolean", () => {
    expect(ruleMatches({ attribute: "anonymous", values: [false] }, { key: "k" })).toBe(true);
    expect(ruleMatches({ attribute: "anonymous", values: [true] }, { key: "k", anonymous: 1 })).toBe(true);
  });

  it("makes an invalid attribute reference a malformed flag", () => {
    expect(ruleMatches({ attribute: "", values: ["x"] }, { key: "k" })).toBe("error");
    expect(ruleMatches({ attribute: "/", values: ["x"], contextKind: "user" }, { key: "k" })).toBe("error");
    expect(ruleMatches({ attribute: "/_meta", values: ["x"], contextKind: "user" }, { key: "k" })).toBe("error");
    expect(ruleMatches({ attribute: "a//b", values: ["x"], contextKind: "user" }, { key: "k" })).toBe("error");
  });

  it("requires every clause of a rule to match", () => {
    const flag: Flag = {
      key: "and",
      on: true,
      variations: [false, true],
      fallthrough: { variation: 0 },
      rules: [{ clauses: [{ attribute: "a", op: "in", values: [1] }, { attribute: "b", op: "in", values: [2] }], variation: 1 }],
    };
    expect(evaluate(flag, { key: "k", a: 1, b: 2 }).value).toBe(true);
    expect(evaluate(flag, { key: "k", a: 1, b: 3 }).value).toBe(false);
    expect(evaluate(flag, { key: "k", a: 0, b: 2 }).value).toBe(false);
  });
});
