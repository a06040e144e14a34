import { describe, expect, it } from "vitest";
import { OptionsError } from "../../src/errors.js";
import { tokenMatcher } from "../../src/bypass/index.js";

describe("tokenMatcher", () => {
  const match = tokenMatcher(["deploy-7f3a9c", "ci token 2"]);

  const cases: [unknown, boolean][] = [
    ["deploy-7f3a9c", true],
    ["ci token 2", true],
    ["deploy-7f3a9", false], // prefix
    ["deploy-7f3a9cX", false], // extension
    ["DEPLOY-7f3a9c", false],
    ["deploy-7f3a9c ", false],
    ["deploy-7f3a9c, deploy-7f3a9c", false], // a repeated header, as Node joins it
    ["", false],
    [undefined, false],
    [null, false],
    [42, false],
    [["nope", "deploy-7f3a9c"], true],
    [["nope", "nope either"], false],
    [[], false],
    ["x".repeat(100_000), false],
  ];

  it.each(cases)("%j → %s", (header, expected) => {
    expect(match(header as string)).toBe(expected);
  });

  it("takes a single token as a string", () => {
    const one = tokenMatcher("only-one");
    expect(one("only-one")).toBe(true);
    expect(one("only-two")).toBe(false);
  });

  it("an empty list matches nothing", () => {
    expect(tokenMatcher([])("")).toBe(false);
    expect(tokenMatcher([])("anything")).toBe(false);
  });

  it("refuses tokens no header could carry, naming them", () => {
    const invalid: [unknown, string][] = [
      [["good", ""], "allow.token[1]: must not be empty"],
      ["", "allow.token: must not be empty"],
      [[" padded"], "allow.token[0]: must be printable ASCII without leading or trailing spaces (an HTTP header could not carry it)"],
      [["padded "], "allow.token[0]: must be printable ASCII without leading or trailing spaces (an HTTP header could not carry it)"],
      [["line\nbreak"], "allow.token[0]: must be printable ASCII without leading or trailing spaces (an HTTP header could not carry it)"],
      [["tökén"], "allow.token[0]: must be printable ASCII without leading or trailing spaces (an HTTP header could not carry it)"],
      [[7], "allow.token[0]: must be a string, got number"],
      [{ 0: "x" }, "allow.token: must be a token or an array of tokens"],
    ];
    for (const [tokens, message] of invalid) {
      let error: unknown;
      try {
        tokenMatcher(tokens as string[]);
      } catch (e) {
        error = e;
      }
      expect(error, JSON.stringify(tokens)).toBeInstanceOf(OptionsError);
      expect((error as Error).message).toBe(message);
    }
  });

  it("names a custom option", () => {
    expect(() => tokenMatcher(["ok", ""], "admin.tokens")).toThrow(/^admin\.tokens\[1\]: must not be empty$/);
  });
});
