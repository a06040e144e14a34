/**
 * `matches` against the real LaunchDarkly Node server SDK: for every pattern
 * both accept, a flag with one `matches` rule evaluates the same in Detour
 * (RE2, linear time) as in the SDK (JavaScript's backtracking RegExp), on
 * inputs chosen to tell RE2's and JavaScript's readings apart. Inputs are
 * short, so the SDK's backtracking stays quick here.
 */
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { init, integrations } from "@launchdarkly/node-server-sdk";
import fc from "fast-check";
import { afterAll, describe, expect, it } from "vitest";
import type { Flag } from "../../src/document/types.js";
import { evaluate } from "../../src/evaluation/evaluate.js";
import { compilePattern } from "../../src/evaluation/regex.js";
import { TRICKY } from "../evaluation/regex-fixtures.js";

const workDir = mkdtempSync(join(tmpdir(), "detour-ld-matches-"));
afterAll(() => rmSync(workDir, { recursive: true, force: true }));

const silentLogger = { error() {}, warn() {}, info() {}, debug() {} };

function flagFor(key: string, pattern: string, negate: boolean): Flag {
  return {
    key,
    on: true,
    version: 1,
    variations: [false, true],
    offVariation: 0,
    fallthrough: { variation: 0 },
    rules: [{ id: "r", clauses: [{ attribute: "value", op: "matches", values: [pattern], negate }], variation: 1 }],
    salt: key,
  } as Flag;
}

/** Random patterns from pieces where RE2 and JavaScript could disagree. */
function randomPatterns(count: number): string[] {
  const atom = fc.constantFrom("a", "b", ".", "\\s", "\\S", "\\w", "\\d", "[^a]", "[a\\s]", "\\uD83D", "\\b", "^", "$", "\\z", "\\A", "é", "(?:a|b)");
  const piece = fc.tuple(atom, fc.constantFrom("", "*", "+", "?", "{1,2}")).map(([a, q]) => (q && /^[\^$]|\\b/.test(a) ? a : a + q));
  return fc.sample(fc.array(piece, { minLength: 1, maxLength: 5 }).map((parts) => parts.join("")), { seed: 424242, numRuns: count });
}

const INPUTS = ["", "a", "ab", "b a", "aé", "a\n", "\u00a0a", "a\u2028b", "😀", "\uD83Da", "az", "Az", "x_1", "a.b"];

describe("LaunchDarkly parity: matches", () => {
  it("evaluates every pattern both engines accept as the SDK does", async () => {
    const cases: { key: string; pattern: string; negate: boolean; inputs: readonly string[] }[] = [];
    const add = (pattern: string, inputs: readonly string[]) => {
      if (compilePattern(pattern).kind === "unsupported") return; // refused by validation; not a pattern Detour accepts
      for (const negate of [false, true]) cases.push({ key: `m${cases.length}`, pattern, negate, inputs: [...inputs, ...INPUTS] });
    };
    for (const [pattern, inputs] of TRICKY) add(pattern, inputs);
    for (const pattern of randomPatterns(300)) add(pattern, []);
    add("(", ["("]); // invalid in JavaScript: never matches in either

    const flags = Object.fromEntries(cases.map((c) => [c.key, flagFor(c.key, c.pattern, c.negate)]));
    const path = join(workDir, "flags.json");
    writeFileSync(path, JSON.stringify({ flags }));
    const client = init("sdk-matches-parity", {
      updateProcessor: new integrations.FileDataSourceFactory({ paths: [path] }).getFactory(),
      sendEvents: false,
      diagnosticOptOut: true,
      logger: silentLogger,
    });
    try {
      await client.waitForInitialization({ timeout: 10 });
      const mismatches: string[] = [];
      let evaluations = 0;
      let ruleMatches = 0;
      for (const c of cases) {
        for (const value of c.inputs) {
          const context = { kind: "user", key: "k", value };
          const theirs = await client.variationDetail(c.key, context, null);
          const mine = evaluate(flags[c.key]!, { key: "k", value });
          evaluations++;
          if (mine.reason.kind === "RULE_MATCH") ruleMatches++;
          if (mine.value !== theirs.value || mine.reason.kind !== theirs.reason.kind) {
            mismatches.push(`${JSON.stringify(c.pattern)}${c.negate ? " (negated)" : ""} on ${JSON.stringify(value)}: Detour ${mine.value}, LaunchDarkly ${theirs.value}`);
          }
        }
      }
      expect(mismatches).toEqual([]);
      expect(evaluations).toBeGreaterThan(5000);
      expect(ruleMatches / evaluations).toBeGreaterThan(0.3);
      expect(ruleMatches / evaluations).toBeLessThan(0.7);
    } finally {
      client.close();
    }
  }, 60_000);
});
