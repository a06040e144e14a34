import { describe, expect, it } from "vitest";
import { createDetour, OptionsError } from "../../src/index.js";

describe("createDetour options", () => {
  const cases: [string, Record<string, unknown>, RegExp][] = [
    ["unknown option", { alow: {} }, /^alow: unknown option/],
    ["siteFlag", { siteFlag: "" }, /^siteFlag:/],
    ["status", { status: 200 }, /^status:/],
    ["features", { features: { billing: "/billing/*" } }, /^features.billing:/],
    ["allow.paths", { allow: { paths: ["health"] } }, /^allow.paths\[0\]:/],
    ["allow.ips", { allow: { ips: ["10.0.0.300"] } }, /^allow.ips\[0\]:/],
    ["allow.secret", { allow: { secret: "short" } }, /^allow.secret:/],
    ["allow unknown", { allow: { secrets: "x" } }, /^allow.secrets:/],
    ["user", { user: "header:x-user" }, /^user:/],
    ["failMode", { failMode: "half" }, /^failMode:/],
    ["retryAfter", { retryAfter: -1 }, /^retryAfter:/],
  ];
  for (const [name, options, message] of cases) {
    it(`refuses a bad ${name}`, () => {
      let error: unknown;
      try {
        createDetour({ store: { flags: {} }, ...options } as never);
      } catch (caught) {
        error = caught;
      }
      expect(error).toBeInstanceOf(OptionsError);
      expect((error as OptionsError).code).toBe("DETOUR_INVALID_OPTION");
      expect((error as Error).message).toMatch(message);
    });
  }

  it("refuses an invalid document given as the store", () => {
    expect(() => createDetour({ store: { flags: { site: { on: "yes" } } } as never })).toThrow(/flags.site.on/);
  });
});
