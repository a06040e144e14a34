/**
 * decide() in guard mode: feature paths and rules on the `path` attribute
 * block when any reading of the request's URLs a router could route on
 * matches; an unreadable path counts as matching; allowed paths need their
 * exact reading under every URL.
 */
import { describe, expect, it } from "vitest";
import type { FlagDocument } from "../../src/index.js";
import { detourWith, modeFlag, request } from "./helpers.js";

function rules(...list: { clauses: { attribute: string; op: string; values: string[]; negate?: boolean }[]; variation: number }[]): FlagDocument {
  return { flags: modeFlag("site", { rules: list }) } as FlagDocument;
}

const MAINTENANCE = 2;

describe("rules on path", () => {
  it("block under every case, decoding, dot segment, ; cut and absolute-form", async () => {
    const detour = await detourWith(rules({ clauses: [{ attribute: "path", op: "startsWith", values: ["/admin"] }], variation: MAINTENANCE }));
    for (const path of ["/admin", "/ADMIN/x", "/Admin", "/%61dmin", "/x/../admin", "//admin", "/admin;x", "http://h/admin/x", "HTTPS://h/Admin"]) {
      expect(detour.decide(request({ path })).action, path).toBe("block");
    }
    for (const path of ["/public", "/public/admin", "/adm"]) expect(detour.decide(request({ path })).action, path).toBe("pass");
    await detour.close();
  });

  it("fold case on both sides: a rule written in capitals blocks lower case", async () => {
    const detour = await detourWith(rules({ clauses: [{ attribute: "path", op: "in", values: ["/Admin"] }], variation: MAINTENANCE }));
    expect(detour.decide(request({ path: "/admin" })).action).toBe("block");
    expect(detour.decide(request({ path: "/ADMIN" })).action).toBe("block");
    await detour.close();
  });

  it("an exemption holds only where every reading agrees (the strictest reading wins)", async () => {
    const document = { flags: modeFlag("site", { fallthrough: { variation: MAINTENANCE }, rules: [{ clauses: [{ attribute: "path", op: "startsWith", values: ["/public"] }], variation: 0 }] }) } as FlagDocument;
    const detour = await detourWith(document);
    expect(detour.decide(request({ path: "/public/x" })).action).toBe("pass");
    for (const path of ["/public/../admin", "/PUBLIC/x", "/public/%2e%2e/admin"]) expect(detour.decide(request({ path })).action, path).toBe("block");
    await detour.close();
  });

  it("negated clauses see every reading too", async () => {
    const detour = await detourWith(rules({ clauses: [{ attribute: "path", op: "startsWith", values: ["/public"], negate: true }], variation: MAINTENANCE }));
    expect(detour.decide(request({ path: "/public/x" })).action).toBe("pass");
    expect(detour.decide(request({ path: "/public/../x" })).action).toBe("block");
    await detour.close();
  });

  it("an unreadable path counts as matching, and so does one longer than matches reads", async () => {
    const detour = await detourWith(rules({ clauses: [{ attribute: "path", op: "matches", values: ["^/admin"] }], variation: MAINTENANCE }));
    for (const path of ["*", "/x/%zz", `/admin/${"x".repeat(9000)}`]) expect(detour.decide(request({ path })).action, path.slice(0, 20)).toBe("block");
    expect(detour.decide(request({ path: "/public" })).action).toBe("pass");
    await detour.close();
  });

  it("the decision's context keeps the path as received (the absolute-form's path)", async () => {
    const detour = await detourWith(rules({ clauses: [{ attribute: "path", op: "in", values: ["/nothing"] }], variation: MAINTENANCE }));
    expect(detour.decide(request({ path: "http://h/Some/Path?q=1" })).context.path).toBe("/Some/Path");
    expect(detour.decide(request({ path: "/Some/Path" })).context.path).toBe("/Some/Path");
    await detour.close();
  });

  it("flag evaluation proper (variation(), LaunchDarkly parity) never folds or re-reads the path", async () => {
    const detour = await detourWith({
      flags: {
        ...modeFlag("site", { rules: [{ clauses: [{ attribute: "path", op: "startsWith", values: ["/admin"] }], variation: MAINTENANCE }] }),
        banner: { key: "banner", on: true, variations: [false, true], offVariation: 0, fallthrough: { variation: 0 }, rules: [{ clauses: [{ attribute: "path", op: "startsWith", values: ["/admin"] }], variation: 1 }] },
      },
    } as FlagDocument);
    const decision = detour.decide(request({ path: "/ADMIN" }));
    expect(decision.action).toBe("block");
    expect(decision.variation("banner", false)).toBe(false);
    await detour.close();
  });
});

describe("feature paths", () => {
  const features = { billing: ["/billing", "/billing/**"] };

  it("block absolute-form targets, ; cuts and unreadable paths", async () => {
    const detour = await detourWith({ flags: modeFlag("billing", { fallthrough: { variation: MAINTENANCE } }) }, { features });
    for (const path of ["http://x/billing/charge", "/billing;x", "/billing;x/charge", "*", "/x/%zz"]) expect(detour.decide(request({ path })).action, path).toBe("block");
    expect(detour.decide(request({ path: "/shop" })).action).toBe("pass");
    await detour.close();
  });

  it("block when the rewritten URL is in the feature, or the original", async () => {
    const detour = await detourWith({ flags: modeFlag("billing", { fallthrough: { variation: MAINTENANCE } }) }, { features });
    expect(detour.decide(request({ path: "/v2/billing/x", alternatePath: "/billing/x" })).action).toBe("block");
    expect(detour.decide(request({ path: "/billing/x", alternatePath: "/v2/billing/x" })).action).toBe("block");
    expect(detour.decide(request({ path: "/v2/shop", alternatePath: "/shop" })).action).toBe("pass");
    await detour.close();
  });
});

describe("allowed paths", () => {
  it("need their exact reading, under both URLs", async () => {
    const detour = await detourWith({ flags: modeFlag("site", { fallthrough: { variation: MAINTENANCE } }) }, { allow: { paths: ["/health"] } });
    expect(detour.decide(request({ path: "/health" })).reason).toBe("ALLOWED_PATH");
    for (const path of ["//health", "/%68ealth", "/health/", "/Health", "http://h/health"]) expect(detour.decide(request({ path })).action, path).toBe("block");
    expect(detour.decide(request({ path: "/health", alternatePath: "/spa" })).action).toBe("block");
    expect(detour.decide(request({ path: "/v2/health", alternatePath: "/health" })).action).toBe("block");
    await detour.close();
  });
});
