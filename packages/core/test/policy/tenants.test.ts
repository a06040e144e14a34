import { describe, expect, it } from "vitest";
import { createDetour, memoryStore, type DetourRequest } from "../../src/index.js";
import { detourWith, modeFlag, request } from "./helpers.js";

// Per-tenant maintenance: a flag targets organizations (LaunchDarkly context targets), requests carry their tenant.

const org = (req: DetourRequest) => ({ organization: req.headers?.["x-org"] as string | undefined });

function tenantRequest(orgKey: string | undefined, method = "GET", user?: string): DetourRequest {
  return request({ method, headers: orgKey === undefined ? {} : { "x-org": orgKey }, user } as Partial<DetourRequest>);
}

describe("a tenant put read-only", () => {
  it("reads pass in read-only mode, writes are refused, other tenants and the tenant-less write on", async () => {
    const detour = createDetour<DetourRequest>({ store: memoryStore(), contexts: org, user: (req) => (req as { user?: string }).user });
    await detour.ready;
    await detour.enable("site", { contexts: [{ kind: "organization", key: "acme" }] });

    const read = detour.decide(tenantRequest("acme", "GET", "u1"));
    expect(read).toMatchObject({ action: "pass", mode: "read-only", scope: "context", picked: { kind: "organization", key: "acme" } });
    const write = detour.decide(tenantRequest("acme", "POST", "u1"));
    expect(write).toMatchObject({ action: "block", mode: "read-only", scope: "context", picked: { kind: "organization", key: "acme" } });
    expect(detour.decide(tenantRequest("globex", "POST", "u1"))).toMatchObject({ action: "pass", mode: "available" });
    expect(detour.decide(tenantRequest(undefined, "POST", "acme"))).toMatchObject({ action: "pass", mode: "available" });
    expect(detour.respond(write, tenantRequest("acme", "POST")).body).toMatch(/organization/i);
    expect(detour.status().flags[0]).toMatchObject({ key: "site", mode: "read-only", scope: "user", users: [], contexts: { organization: ["acme"] } });

    await detour.disable("site", { contexts: [{ kind: "organization", key: "acme" }] });
    expect(detour.decide(tenantRequest("acme", "POST"))).toMatchObject({ action: "pass", mode: "available" });
    const audit = detour.snapshot()!.document.audit!;
    expect(audit[0]).toMatchObject({ action: "disable", details: { contexts: [{ kind: "organization", key: "acme" }] } });
    expect(audit[1]).toMatchObject({ action: "enable", details: { mode: "read-only", contexts: [{ kind: "organization", key: "acme" }] } });
  });

  it("keeps user targets working next to tenant targets, in LaunchDarkly's form", async () => {
    const detour = createDetour<DetourRequest>({ store: memoryStore(), contexts: org, user: (req) => (req as { user?: string }).user });
    await detour.ready;
    await detour.enable("site", { users: ["u1"] });
    await detour.enable("site", { contexts: [{ kind: "organization", key: "acme" }], mode: "maintenance" });
    const flag = detour.snapshot()!.definition("site")!;
    expect(flag.contextTargets).toEqual([
      { contextKind: "user", variation: 1, values: [] },
      { contextKind: "organization", variation: 2, values: ["acme"] },
    ]);
    expect(detour.decide(tenantRequest("globex", "POST", "u1"))).toMatchObject({ action: "block", mode: "read-only", scope: "user", picked: { kind: "user", key: "u1" } });
    expect(detour.decide(tenantRequest("acme", "GET", "u2"))).toMatchObject({ action: "block", mode: "maintenance", picked: { kind: "organization", key: "acme" } });
  });

  it("refuses invalid contexts with a named error and writes nothing", async () => {
    const detour = createDetour<DetourRequest>({ store: memoryStore() });
    await detour.ready;
    await expect(detour.enable("site", { contexts: [{ kind: "multi", key: "acme" }] })).rejects.toThrow(/contexts\[0\]\.kind/);
    await expect(detour.enable("site", { contexts: [{ kind: "organization", key: "" }] })).rejects.toThrow(/contexts\[0\]\.key/);
    expect(detour.snapshot()!.definition("site")).toBeUndefined();
  });
});

describe("contexts(req)", () => {
  it("is not called while no flag in force reads another kind", async () => {
    let calls = 0;
    const detour = await detourWith(
      { flags: modeFlag("site", { targets: [{ variation: 1, values: ["u1"] }], rules: [{ clauses: [{ attribute: "ip", op: "in", values: ["x"] }], variation: 2 }] }) },
      { contexts: () => (calls++, { organization: "acme" }) },
    );
    detour.decide(request());
    detour.decide(request({ method: "POST" }));
    expect(calls).toBe(0);
  });

  it("takes a key or { key, ...attributes } per kind, and rules read the attributes", async () => {
    const detour = await detourWith(
      { flags: modeFlag("site", { rules: [{ clauses: [{ contextKind: "organization", attribute: "plan", op: "in", values: ["free"] }], variation: 2 }] }) },
      { contexts: (req) => ({ organization: { key: String(req.headers?.["x-org"]), plan: req.headers?.["x-plan"] as string } }) },
    );
    const free = detour.decide(request({ headers: { "x-org": "o1", "x-plan": "free" } }));
    expect(free).toMatchObject({ action: "block", mode: "maintenance", scope: "context", picked: { kind: "organization", key: "o1" } });
    expect(detour.decide(request({ headers: { "x-org": "o2", "x-plan": "pro" } }))).toMatchObject({ action: "pass", mode: "available" });
    expect(free.context).toEqual({ kind: "multi", user: expect.objectContaining({ key: "anonymous" }), organization: { key: "o1", plan: "free" } });
  });
});

describe("which kind a segment rule picked", () => {
  const segmentRule = { rules: [{ clauses: [{ attribute: "key", op: "segmentMatch", values: ["beta"] }], variation: 2 }] };
  const segments = {
    beta: { key: "beta", included: ["u9"], includedContexts: [{ contextKind: "organization", values: ["acme"] }], rules: [{ clauses: [{ contextKind: "workspace", attribute: "key", op: "in", values: ["w1"] }] }] },
  };
  const contexts = { organization: (req: DetourRequest) => req.headers?.["x-org"] as string, workspace: (req: DetourRequest) => req.headers?.["x-ws"] as string };

  it("is the kind of the segment's target or rule that holds the context, as LaunchDarkly matches it", async () => {
    const detour = await detourWith({ flags: modeFlag("site", segmentRule), segments } as never, { contexts, user: (req) => (req as { user?: string }).user });
    expect(detour.decide(request({ headers: { "x-org": "acme" } }))).toMatchObject({ mode: "maintenance", scope: "context", picked: { kind: "organization", key: "acme" } });
    expect(detour.decide(request({ headers: { "x-ws": "w1" } }))).toMatchObject({ mode: "maintenance", scope: "context", picked: { kind: "workspace", key: "w1" } });
    expect(detour.decide(request({ user: "u9" } as Partial<DetourRequest>))).toMatchObject({ mode: "maintenance", scope: "user", picked: { kind: "user", key: "u9" } });
    expect(detour.decide(request({ headers: { "x-org": "globex" } }))).toMatchObject({ mode: "available" });
  });
});

describe("a site flag that only targets keys", () => {
  // Decided from the keys alone while the request is in no list: no context is built, each callback is called at most once.
  const flags = modeFlag("site", {
    contextTargets: [
      { contextKind: "user", variation: 1, values: [] },
      { contextKind: "organization", variation: 2, values: ["acme", "7"] },
    ],
    targets: [{ variation: 1, values: ["u1"] }],
  });

  function counting(given: (req: DetourRequest) => Record<string, unknown> | undefined) {
    const calls = { user: 0, contexts: 0 };
    const options = {
      user: (req: DetourRequest) => (calls.user++, (req as { user?: string }).user),
      contexts: (req: DetourRequest) => (calls.contexts++, given(req) as Record<string, string>),
    };
    return { calls, options };
  }

  it("answers as the full evaluation does, calling user() and contexts() at most once per decision", async () => {
    const { calls, options } = counting((req) => ({ organization: req.headers?.["x-org"] as string | undefined }));
    const detour = await detourWith({ flags }, options);
    const cases: [string | undefined, string | undefined, object][] = [
      ["globex", "u2", { action: "pass", mode: "available", flag: null }],
      [undefined, undefined, { action: "pass", mode: "available" }],
      ["globex", "u1", { action: "block", mode: "read-only", scope: "user", picked: { kind: "user", key: "u1" } }],
      ["acme", "u2", { action: "block", mode: "maintenance", scope: "context", picked: { kind: "organization", key: "acme" } }],
      ["acme", undefined, { action: "block", mode: "maintenance", picked: { kind: "organization", key: "acme" } }],
    ];
    for (const [orgKey, user, expected] of cases) {
      calls.user = calls.contexts = 0;
      const decision = detour.decide(tenantRequest(orgKey, "POST", user));
      expect(decision).toMatchObject(expected);
      expect(calls.user).toBeLessThanOrEqual(1);
      expect(calls.contexts).toBeLessThanOrEqual(1);
      expect(decision.explain("site")).toMatchObject({ variationIndex: decision.mode === "maintenance" ? 2 : decision.mode === "read-only" ? 1 : 0 });
    }
  });

  it("reads every form of a kind's key contexts() gives, and no kind it would leave out", async () => {
    const forms: [unknown, string][] = [
      [{ key: "acme", plan: "free" }, "block"],
      [{ kind: "organization", key: "acme" }, "block"],
      [7, "block"],
      ["", "pass"],
      [{ key: "" }, "pass"],
      [Number.NaN, "pass"],
      [{ name: "acme" }, "pass"],
      [null, "pass"],
    ];
    for (const [input, action] of forms) {
      const { options } = counting(() => ({ organization: input as string }));
      const detour = await detourWith({ flags }, options);
      expect(detour.decide(tenantRequest(undefined, "POST", "u2")), JSON.stringify(input)).toMatchObject({ action });
    }
    // Inherited from a prototype: not one of the kinds contexts() gave.
    const inherited = counting(() => Object.create({ organization: "acme" }) as Record<string, unknown>);
    const detour = await detourWith({ flags }, inherited.options);
    expect(detour.decide(tenantRequest(undefined, "POST", "u2"))).toMatchObject({ action: "pass", mode: "available" });
  });
});
