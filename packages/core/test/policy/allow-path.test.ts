import { describe, expect, it } from "vitest";
import { ArgumentError, OptionsError } from "../../src/index.js";
import { detourWith, modeFlag, request } from "./helpers.js";

describe("detour.allowPath()", () => {
  it("exempts a path added after construction, anchored, for every method and in read-only", async () => {
    const detour = await detourWith({ flags: modeFlag("site", { fallthrough: { variation: 2 } }) }, { allow: { paths: ["/health"] } });
    expect(detour.decide(request({ path: "/_detour/api/status" })).action).toBe("block");
    detour.allowPath("/_detour/**");
    for (const path of ["/_detour", "/_detour/", "/_detour/api/status?x=1", "/_detour/api/flags/site/off"]) {
      expect(detour.decide(request({ path, method: "POST" }))).toMatchObject({ action: "pass", reason: "ALLOWED_PATH" });
    }
    // Anchored: neither a sibling nor an escape through dot segments, and only the literal reading.
    for (const path of ["/_detourx", "/_detour/../api", "//_detour/x", "/%5Fdetour/x", "/_DETOUR/x", "/_detour//x", "http://h/_detour/x"]) {
      expect(detour.decide(request({ path })).action, path).toBe("block");
    }
    // The paths given at construction still apply.
    expect(detour.decide(request({ path: "/health" })).reason).toBe("ALLOWED_PATH");
    await detour.close();
  });

  it("applies to maintenance turned on later, and adding a path twice is harmless", async () => {
    const detour = await detourWith({ flags: {} });
    detour.allowPath("/ops/**");
    detour.allowPath("/ops/**");
    await detour.enable("site");
    expect(detour.decide(request({ path: "/ops/x" })).action).toBe("pass");
    expect(detour.decide(request({ path: "/x" })).action).toBe("block");
    await detour.close();
  });

  it("refuses a pattern that is not a path, and changes nothing then", async () => {
    const detour = await detourWith({ flags: modeFlag("site", { fallthrough: { variation: 2 } }) });
    expect(() => detour.allowPath("admin")).toThrow(ArgumentError);
    expect(() => detour.allowPath("/a/[bc]")).toThrow(OptionsError);
    expect(detour.decide(request({ path: "/a/b" })).action).toBe("block");
    await detour.close();
  });
});
