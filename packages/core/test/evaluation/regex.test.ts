/**
 * The `matches` operator's linear-time engine: JavaScript patterns translated
 * to RE2 must match exactly what `new RegExp(pattern).test(value)` matches
 * (LaunchDarkly's evaluation), for every pattern both accept.
 */
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { compilePattern, MAX_MATCH_INPUT, MAX_PATTERN_INSTRUCTIONS, SPACE } from "../../src/evaluation/regex.js";
import { TRICKY } from "./regex-fixtures.js";

function ours(pattern: string, value: string): boolean | string {
  const compiled = compilePattern(pattern);
  return compiled.kind === "ok" ? compiled.pattern.test(value) : compiled.kind;
}

function javascript(pattern: string, value: string): boolean | string {
  try {
    return new RegExp(pattern).test(value);
  } catch {
    return "invalid";
  }
}

describe("compilePattern", () => {
  it("matches what JavaScript matches on patterns where RE2 reads differently", () => {
    const differences: string[] = [];
    for (const [pattern, inputs] of TRICKY) {
      expect(compilePattern(pattern).kind, pattern).toBe("ok");
      for (const input of inputs) {
        if (ours(pattern, input) !== javascript(pattern, input)) differences.push(`${pattern} on ${JSON.stringify(input)}: ours ${ours(pattern, input)}`);
      }
    }
    expect(differences).toEqual([]);
  });

  it("\\s and . are JavaScript's over every UTF-16 code unit", () => {
    const space = compilePattern("^\\s$");
    const dot = compilePattern("^.$");
    expect(space.kind).toBe("ok");
    expect(dot.kind).toBe("ok");
    if (space.kind !== "ok" || dot.kind !== "ok") return;
    const spaceDiff: number[] = [];
    const dotDiff: number[] = [];
    for (let unit = 0; unit <= 0xffff; unit++) {
      const char = String.fromCharCode(unit);
      if (space.pattern.test(char) !== /^\s$/.test(char)) spaceDiff.push(unit);
      if (dot.pattern.test(char) !== /^.$/.test(char)) dotDiff.push(unit);
    }
    expect(spaceDiff).toEqual([]);
    expect(dotDiff).toEqual([]);
    expect(SPACE.length).toBeGreaterThan(5);
  });

  it("a pattern JavaScript refuses is invalid: it never matches, as in LaunchDarkly", () => {
    for (const pattern of ["(", "[z-a]", "a**", "(?<n>a)(?<n>b)", "\\u{1F600}+(?", "(?i)a"]) {
      expect(compilePattern(pattern).kind, pattern).toBe("invalid");
    }
  });

  it("refuses what RE2 cannot run, saying what it is", () => {
    const cases: [string, RegExp][] = [
      ["(a)\\1", /backreferences/],
      ["(?<x>a)\\k<x>", /backreferences/],
      ["a(?=b)", /lookahead/],
      ["a(?!b)", /lookahead/],
      ["(?<=a)b", /lookbehind/],
      ["(?<!a)b", /lookbehind/],
      ["x{1001}", /repetition counts over 1000/],
      ["x{2,1001}", /repetition counts over 1000/],
      [`(?:a?){${MAX_PATTERN_INSTRUCTIONS}}`, new RegExp(`more than ${MAX_PATTERN_INSTRUCTIONS}`)],
    ];
    for (const [pattern, reason] of cases) {
      const compiled = compilePattern(pattern);
      expect(compiled.kind, pattern).toBe("unsupported");
      if (compiled.kind === "unsupported") expect(compiled.reason, pattern).toMatch(reason);
    }
  });

  it("never matches a value longer than MAX_MATCH_INPUT (a negated clause then matches)", () => {
    const compiled = compilePattern("a");
    expect(compiled.kind).toBe("ok");
    if (compiled.kind !== "ok") return;
    expect(compiled.pattern.test("a".repeat(MAX_MATCH_INPUT))).toBe(true);
    expect(compiled.pattern.test("a".repeat(MAX_MATCH_INPUT + 1))).toBe(false);
  });

  it("folds case on request when asked (guard readings of paths), never by default", () => {
    const plain = compilePattern("^/admin");
    const folded = compilePattern("^/admin", { foldCase: true });
    if (plain.kind !== "ok" || folded.kind !== "ok") throw new Error("expected both to compile");
    expect(plain.pattern.test("/ADMIN")).toBe(false);
    expect(folded.pattern.test("/ADMIN")).toBe(true);
    expect(folded.pattern.test("/Admin/x")).toBe(true);
  });

  it("agrees with JavaScript on random patterns and inputs (fast-check, differential)", () => {
    const atom = fc.oneof(
      fc.constantFrom("a", "b", "\\.", ".", "\\s", "\\S", "\\d", "\\w", "\\W", "[ab]", "[^a]", "[a-c\\s]", "\\u00e9", "\\uD83D", "\\uDE00", "\\b", "^", "$", "\\n", "\\\\", "-"),
    );
    const pattern = fc.letrec<{ node: string }>((tie) => ({
      node: fc.oneof(
        { depthSize: "small", withCrossShrink: true },
        atom,
        fc.tuple(tie("node"), tie("node")).map(([x, y]) => x + y),
        fc.tuple(tie("node"), tie("node")).map(([x, y]) => `(?:${x}|${y})`),
        fc.tuple(tie("node"), fc.constantFrom("*", "+", "?", "{2}", "{0,3}", "*?", "{1,}")).map(([x, q]) => `(?:${x})${q}`),
        tie("node").map((x) => `(${x})`),
      ),
    })).node;
    const input = fc.array(fc.constantFrom("a", "b", ".", " ", "\u00a0", "\n", "\r", "1", "é", "😀", "\uD83D", "\uDE00", "_", "-", "\\"), { maxLength: 12 }).map((chars) => chars.join(""));
    let compared = 0;
    let matched = 0;
    fc.assert(
      fc.property(pattern, fc.array(input, { minLength: 1, maxLength: 6 }), (source, values) => {
        const compiled = compilePattern(source);
        if (compiled.kind !== "ok") return; // refused (too large) or invalid in both
        for (const value of values) {
          const expected = new RegExp(source).test(value);
          expect(compiled.pattern.test(value), `${source} on ${JSON.stringify(value)}`).toBe(expected);
          compared++;
          if (expected) matched++;
        }
      }),
      { seed: Number(process.env.DETOUR_REGEX_SEED ?? 20261202), numRuns: Number(process.env.DETOUR_REGEX_RUNS ?? 1500) },
    );
    // Not vacuous: most draws compile, and both outcomes occur often.
    expect(compared).toBeGreaterThan(3000);
    expect(matched / compared).toBeGreaterThan(0.2);
    expect(matched / compared).toBeLessThan(0.8);
  });
});
