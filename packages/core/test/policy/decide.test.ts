import { describe, expect, it } from "vitest";
import type { DetourRequest, FlagDocument, Mode } from "../../src/index.js";
import { evaluate } from "../../src/index.js";
import { detourWith, MODE_INDEX, modeFlag, request } from "./helpers.js";

/** A user the placement puts in the mode (for rollouts: one whose bucket lands there). */
function userIn(document: FlagDocument, placement: Placement, mode: Mode): string {
  if (placement !== "user-rollout") return "u1";
  for (let i = 0; i < 1000; i++) {
    const key = `user-${i}`;
    if (evaluate(document.flags!.site!, { key }).variationIndex === MODE_INDEX[mode]) return key;
  }
  throw new Error("no user in the rollout's bucket");
}

/** A POST from `user` at 10.0.0.1 whose client address calls `read` when read. */
function countingIp(user: string, read: () => void): DetourRequest {
  return {
    method: "POST",
    path: "/",
    headers: {},
    user,
    get ip() {
      read();
      return "10.0.0.1";
    },
  };
}

const METHODS = ["GET", "HEAD", "OPTIONS", "TRACE", "POST", "PUT", "PATCH", "DELETE"] as const;
const SAFE = new Set(["GET", "HEAD", "OPTIONS", "TRACE"]);

type Placement = "site" | "feature-guard" | "feature-path" | "user-target" | "user-rule" | "user-rollout";

/** Puts user `u1` (or everyone) in `mode` in the way `placement` says. */
function documentFor(placement: Placement, mode: Mode): FlagDocument {
  const index = MODE_INDEX[mode];
  switch (placement) {
    case "site":
      return { flags: modeFlag("site", { fallthrough: { variation: index } }) };
    case "feature-guard":
    case "feature-path":
      return { flags: modeFlag("billing", { fallthrough: { variation: index } }) };
    case "user-target":
      return { flags: modeFlag("site", { targets: [{ variation: index, values: ["u1"] }] }) };
    case "user-rule":
      return {
        flags: modeFlag("site", {
          rules: [{ id: "r", clauses: [{ attribute: "plan", op: "in", values: ["legacy"] }], variation: index }],
        }),
      };
    case "user-rollout":
      // Half the users in the mode; u2 kept out by a target.
      return {
        flags: modeFlag("site", {
          targets: [{ variation: 0, values: ["u2"] }],
          fallthrough: { rollout: { variations: [{ variation: index, weight: 50000 }, { variation: 0, weight: 50000 }] } },
        }),
      };
  }
}

const EXPECTED_SCOPE: Record<Placement, string> = {
  site: "site",
  "feature-guard": "feature",
  "feature-path": "feature",
  "user-target": "user",
  "user-rule": "user",
  "user-rollout": "user",
};

describe("decide: every mode × placement × method", () => {
  const placements: Placement[] = ["site", "feature-guard", "feature-path", "user-target", "user-rule", "user-rollout"];
  for (const placement of placements) {
    for (const mode of ["read-only", "maintenance"] as const) {
      for (const method of METHODS) {
        const blocked = mode === "maintenance" || !SAFE.has(method);
        it(`${placement} ${mode} ${method} → ${blocked ? "block" : "pass"}`, async () => {
          const document = documentFor(placement, mode);
          const user = userIn(document, placement, mode);
          const detour = await detourWith(document, {
            features: { billing: ["/billing/*"] },
            user: (req) => req.user as string,
            context: (req) => ({ plan: req.user === "u1" ? "legacy" : "current" }),
          });
          const path = placement === "feature-path" ? "/billing/invoices" : "/app";
          const feature = placement === "feature-guard" ? "billing" : undefined;
          const decision = detour.decide(request({ method, path, user }), { feature });
          expect(decision.action).toBe(blocked ? "block" : "pass");
          expect(decision.mode).toBe(mode);
          expect(decision.scope).toBe(EXPECTED_SCOPE[placement]);
          expect(decision.reason).toBe(blocked ? "FLAG" : "SAFE_METHOD");
          expect(decision.status).toBe(503);
          // Another user, or another path, is untouched unless the mode covers everyone.
          const other = detour.decide(request({ method, path: "/other", user: "u2" }));
          const everyone = placement === "site";
          expect(other.mode).toBe(everyone ? mode : "available");
          await detour.close();
        });
      }
    }
  }
});

describe("decide: bypasses apply only to what would be blocked", () => {
  const secret = "s3cret-value-long-enough";
  const bypasses = {
    path: { options: { allow: { paths: ["/health", "/status/*"] } }, req: { path: "/status/db" } },
    ip: { options: { allow: { ips: ["10.0.0.0/8", "2001:db8::/32"] } }, req: { ip: "::ffff:10.1.2.3" } },
    ipv6: { options: { allow: { ips: ["2001:db8::/32"] } }, req: { ip: "2001:db8::7" } },
    token: { options: { allow: { token: ["tok-1", "tok-2"] } }, req: { headers: { "detour-bypass": "tok-2" } } },
  } as const;
  const REASON = { path: "ALLOWED_PATH", ip: "ALLOWED_IP", ipv6: "ALLOWED_IP", token: "BYPASS_TOKEN" };

  for (const [name, spec] of Object.entries(bypasses)) {
    for (const method of ["GET", "POST"]) {
      it(`${name} bypass, ${method}, site maintenance`, async () => {
        const detour = await detourWith({ flags: modeFlag("site", { fallthrough: { variation: 2 } }) }, spec.options as never);
        const passed = detour.decide(request({ method, ...(spec.req as object) }));
        expect(passed.action).toBe("pass");
        expect(passed.reason).toBe(REASON[name as keyof typeof REASON]);
        expect(passed.mode).toBe("maintenance");
        expect(detour.decide(request({ method })).action).toBe("block");
        await detour.close();
      });
    }
  }

  it("an allowed path is anchored: /health does not let /healthz-admin through", async () => {
    const detour = await detourWith({ flags: modeFlag("site", { fallthrough: { variation: 2 } }) }, { allow: { paths: ["/health"] } });
    expect(detour.decide(request({ path: "/health" })).action).toBe("pass");
    expect(detour.decide(request({ path: "/healthz-admin/delete" })).action).toBe("block");
    expect(detour.decide(request({ path: "/health/../admin" })).action).toBe("block");
    await detour.close();
  });

  it("a wrong token or a token on an unconfigured instance does not bypass", async () => {
    const detour = await detourWith({ flags: modeFlag("site", { fallthrough: { variation: 2 } }) }, { allow: { token: "tok-1" } });
    expect(detour.decide(request({ headers: { "detour-bypass": "tok-12" } })).action).toBe("block");
    await detour.close();
  });

  it("the secret path answers with a redirect that sets a cookie bound to the period", async () => {
    const detour = await detourWith({ flags: modeFlag("site", { fallthrough: { variation: 2 } }) }, { allow: { secret } });
    const visit = detour.decide(request({ path: `/${secret}` }));
    expect(visit.action).toBe("redirect");
    const response = detour.respond(visit, request({ path: `/${secret}`, secure: true }));
    expect(response.status).toBe(302);
    expect(response.headers.location).toBe("/");
    const setCookie = String(response.headers["set-cookie"]);
    expect(setCookie).toMatch(/^detour_bypass=/);
    expect(setCookie).toMatch(/HttpOnly/i);
    expect(setCookie).toMatch(/Secure/);
    expect(setCookie).toMatch(/SameSite=Lax/i);
    const cookie = setCookie.split(";")[0]!;
    const withCookie = detour.decide(request({ method: "POST", headers: { cookie: `a=b; ${cookie}` } }));
    expect(withCookie.action).toBe("pass");
    expect(withCookie.reason).toBe("BYPASS_COOKIE");
    // A new maintenance period invalidates the cookie.
    await detour.disable("site");
    await detour.enable("site", { mode: "maintenance" });
    expect(detour.decide(request({ headers: { cookie } })).action).toBe("block");
    await detour.close();
  });

  it("the secret path does nothing when nothing is in force", async () => {
    const detour = await detourWith({ flags: {} }, { allow: { secret } });
    expect(detour.decide(request({ path: `/${secret}` })).action).toBe("pass");
    await detour.close();
  });
});

describe("decide: resolution", () => {
  it("a 100% rollout is a kill switch for everyone: scope site, not user", async () => {
    const detour = await detourWith({
      flags: modeFlag("site", { fallthrough: { rollout: { variations: [{ variation: 0, weight: 0 }, { variation: 2, weight: 100000 }] } } }),
    });
    expect(detour.decide(request())).toMatchObject({ action: "block", scope: "site" });
    await detour.close();
  });

  it("takes the strictest of site and feature", async () => {
    const detour = await detourWith({
      flags: { ...modeFlag("site", { fallthrough: { variation: 1 } }), ...modeFlag("billing", { fallthrough: { variation: 2 } }) },
    });
    const decision = detour.decide(request({ path: "/billing" }), { feature: "billing" });
    expect(decision).toMatchObject({ action: "block", mode: "maintenance", scope: "feature", flag: "billing" });
    const get = detour.decide(request({ path: "/" }));
    expect(get).toMatchObject({ action: "pass", mode: "read-only", scope: "site", flag: "site" });
    await detour.close();
  });

  it("a feature's paths match however a router could read the path (case, encoding)", async () => {
    const detour = await detourWith({ flags: modeFlag("billing", { fallthrough: { variation: 2 } }) }, { features: { billing: ["/billing/*"] } });
    for (const path of ["/billing/x", "/BILLING/x", "/billing/%78", "//billing/x"]) {
      expect(detour.decide(request({ path })).action, path).toBe("block");
    }
    expect(detour.decide(request({ path: "/billings/x" })).action).toBe("pass");
    await detour.close();
  });

  it("an IPv4-compatible IPv6 client (::a.b.c.d) is not the IPv4 address in an inCidr rule", async () => {
    const detour = await detourWith({
      flags: modeFlag("site", { rules: [{ clauses: [{ attribute: "ip", op: "inCidr", values: ["10.0.0.0/8"] }], variation: 2 }] }),
    });
    expect(detour.decide(request({ ip: "10.1.2.3" })).action).toBe("block");
    expect(detour.decide(request({ ip: "::ffff:10.1.2.3" })).action).toBe("block");
    expect(detour.decide(request({ ip: "::10.1.2.3" })).action).toBe("pass");
    await detour.close();
  });

  it("flags that read only the user key never compute the client address", async () => {
    let reads = 0;
    const counting = (user: string) => countingIp(user, () => reads++);
    const targets = await detourWith({ flags: modeFlag("site", { targets: [{ variation: 1, values: ["u1"] }] }) }, { user: (req) => req.user as string });
    expect(targets.decide(counting("u1")).action).toBe("block");
    expect(targets.decide(counting("u2")).action).toBe("pass");
    expect(reads).toBe(0);
    // The decision still offers the full context to handlers.
    expect(targets.decide(counting("u2")).context).toMatchObject({ key: "u2", ip: "10.0.0.1", path: "/", method: "POST" });
    expect(reads).toBe(1);
    const rules = await detourWith({
      flags: modeFlag("site", { rules: [{ clauses: [{ attribute: "ip", op: "inCidr", values: ["10.0.0.0/8"] }], variation: 1 }] }),
    });
    expect(rules.decide(counting("u2")).action).toBe("block");
    expect(reads).toBe(2);
    await targets.close();
    await rules.close();
  });

  it("flags on custom attributes only never compute the client address; flags that answer everyone alike never call user()", async () => {
    let reads = 0;
    let users = 0;
    const counting = (user: string) => countingIp(user, () => reads++);
    const options = {
      user: (req: DetourRequest) => (users++, req.user as string),
      context: (req: DetourRequest) => ({ plan: req.user === "u1" ? "legacy" : "current" }),
    };
    const rules = await detourWith({ flags: modeFlag("site", { rules: [{ clauses: [{ attribute: "plan", op: "in", values: ["legacy"] }], variation: 2 }] }) }, options);
    expect(rules.decide(counting("u1"))).toMatchObject({ action: "block", scope: "user", picked: { kind: "user", key: "u1" } });
    expect(rules.decide(counting("u2")).action).toBe("pass");
    expect(reads).toBe(0);
    expect(rules.decide(counting("u2")).context).toMatchObject({ key: "u2", ip: "10.0.0.1", path: "/", method: "POST", plan: "current" });
    expect(reads).toBe(1);
    const everyone = await detourWith({ flags: modeFlag("site", { fallthrough: { variation: 2 } }) }, options);
    users = 0;
    const blocked = everyone.decide(counting("u1"));
    expect(blocked).toMatchObject({ action: "block", scope: "site", reason: "FLAG" });
    expect(users).toBe(0);
    expect(blocked.context).toMatchObject({ key: "u1", plan: "legacy" });
    expect(users).toBe(1);
    await rules.close();
    await everyone.close();
  });

  it("a boolean flag means true = maintenance", async () => {
    const detour = await detourWith({ flagValues: { site: true } });
    expect(detour.decide(request()).action).toBe("block");
    await detour.close();
  });

  it("nothing in force passes with mode available, and variation() reads other flags", async () => {
    const detour = await detourWith({
      flags: {
        storage: { key: "storage", on: true, variations: ["old", "new"], fallthrough: { variation: 0 }, targets: [{ variation: 1, values: ["u9"] }] },
      },
    }, { user: (req) => req.user as string });
    const decision = detour.decide(request({ user: "u9" }));
    expect(decision).toMatchObject({ action: "pass", mode: "available", scope: null, flag: null, reason: "NOT_IN_FORCE" });
    expect(decision.variation("storage", "old")).toBe("new");
    expect(decision.variation("missing", "dflt")).toBe("dflt");
    expect(detour.decide(request({ user: "u1" })).variation("storage", "x")).toBe("old");
    await detour.close();
  });

  it("a flag's status and message reach the decision", async () => {
    const detour = await detourWith({
      flags: modeFlag("site", { fallthrough: { variation: 2 }, detour: { message: "DB upgrade", retryAfter: 120, status: 502 } }),
    });
    expect(detour.decide(request())).toMatchObject({ status: 502, message: "DB upgrade", retryAfter: 120, until: null });
    await detour.close();
  });

  it("errors from the user() callback propagate to the caller", async () => {
    const detour = await detourWith({ flags: modeFlag("site", { targets: [{ variation: 2, values: ["x"] }] }) }, {
      user: () => {
        throw new Error("no session store");
      },
    });
    expect(() => detour.decide(request())).toThrow("no session store");
    await detour.close();
  });

  it("onDecision sees every decision", async () => {
    const seen: string[] = [];
    const detour = await detourWith({ flags: {} }, { onDecision: (d, req) => seen.push(`${req.path}:${d.action}`) });
    detour.decide(request({ path: "/a" }));
    detour.decide(request({ path: "/b" }));
    expect(seen).toEqual(["/a:pass", "/b:pass"]);
    await detour.close();
  });
});

describe("decide: a decision shown and serialized", () => {
  it("lists its fields in JSON and in util.inspect (console.log), though they live on its prototype", async () => {
    const { inspect } = await import("node:util");
    const detour = await detourWith({ flags: modeFlag("site", { fallthrough: { variation: MODE_INDEX["read-only"] } }) } as never);
    const decision = detour.decide(request({ method: "POST" }));
    expect(JSON.parse(JSON.stringify(decision))).toMatchObject({ action: "block", mode: "read-only", flag: "site", status: 503 });
    const shown = inspect(decision);
    expect(shown).toMatch(/^Decision \{/);
    expect(shown).toContain("mode: 'read-only'");
    expect(shown).toContain("flag: 'site'");
  });
});
