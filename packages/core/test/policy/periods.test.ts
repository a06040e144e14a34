/**
 * Bypass cookies are bound to maintenance periods: a period starts whenever a
 * flag comes into force, by any write; a cookie opens only the periods in
 * force when it was issued; fail-closed outages are periods of their own.
 */
import { describe, expect, it } from "vitest";
import { blocksSomeone, markNewPeriods, periodOf } from "../../src/bypass/period.js";
import { createDetour, memoryStore, type Detour, type DetourRequest, type FlagDocument, type Store, type StoreListener } from "../../src/index.js";
import { detourWith, modeFlag, request } from "./helpers.js";

const SECRET = "periods-test-secret-0123456789";
const features = { billing: ["/billing", "/billing/**"] };

/** Visits the secret URL; returns the cookie (`name=value`). */
function visit(detour: Detour<DetourRequest>): string {
  const visitRequest = request({ path: `/${SECRET}` });
  const decision = detour.decide(visitRequest);
  expect(decision.action).toBe("redirect");
  const setCookie = detour.respond(decision, visitRequest).headers["set-cookie"] as string;
  return setCookie.split(";")[0]!;
}

function withCookie(detour: Detour<DetourRequest>, cookie: string, path = "/", method = "GET") {
  return detour.decide(request({ path, method, headers: { cookie } }));
}

describe("periodOf", () => {
  it("changes with the version, the since and the window start", () => {
    const base = { key: "site", version: 3, variations: [], detour: { since: "2026-12-01T00:00:00.000Z" } } as never;
    expect(periodOf("site", base)).toBe("site@3@2026-12-01T00:00:00.000Z");
    expect(periodOf("site", { ...(base as object), version: 4 } as never)).not.toBe(periodOf("site", base));
    expect(periodOf("site", { ...(base as object), detour: { window: { start: "2026-12-02T00:00:00Z" } } } as never)).toBe("site@3@2026-12-02T00:00:00Z");
    expect(periodOf("site", undefined)).toBe("site@0@");
  });

  it("markNewPeriods bumps the version and since of flags coming into force, only those", () => {
    const off = { key: "a", on: false, version: 5, variations: ["available", "maintenance"], offVariation: 0, fallthrough: { variation: 1 }, detour: { since: "2026-01-01T00:00:00.000Z" } };
    const on = { ...off, on: true, version: 2 };
    const { detour: _settings, ...launchDarkly } = on;
    const next = { flags: { a: structuredClone(on), b: structuredClone(on), c: structuredClone(launchDarkly) } } as unknown as FlagDocument;
    markNewPeriods({ flags: { a: off, b: on } } as unknown as FlagDocument, next, Date.parse("2026-12-01T00:00:00Z"));
    expect(next.flags!.a).toMatchObject({ version: 6, detour: { since: "2026-12-01T00:00:00.000Z" } });
    expect(next.flags!.b).toMatchObject({ version: 2, detour: { since: "2026-01-01T00:00:00.000Z" } }); // already in force
    expect(next.flags!.c).toEqual(launchDarkly); // no Detour settings: imported exactly as given
    const ttl = { flags: { a: { ...structuredClone(on), detour: { since: "2026-01-01T00:00:00.000Z", ttl: 60 } } } } as unknown as FlagDocument;
    markNewPeriods({ flags: {} }, ttl, Date.parse("2026-12-01T00:00:00Z"));
    expect(ttl.flags!.a).toMatchObject({ version: 3, detour: { since: "2026-01-01T00:00:00.000Z", ttl: 60 } }); // an expired ttl stays expired
    expect(blocksSomeone(off as never)).toBe(false);
    expect(blocksSomeone(on as never)).toBe(true);
  });
});

describe("a new period starts whenever a flag comes into force", () => {
  it("by replace() with the very document the cookie was issued under", async () => {
    const detour = await detourWith({ flags: {} }, { allow: { secret: SECRET } });
    await detour.enable("site");
    const exported = structuredClone(detour.document()!) as FlagDocument;
    const cookie = visit(detour);
    expect(withCookie(detour, cookie).reason).toBe("BYPASS_COOKIE");
    await detour.replace({ flags: { site: { ...exported.flags!.site!, on: false } } });
    await detour.replace(exported);
    expect(withCookie(detour, cookie).action).toBe("block");
    expect(withCookie(detour, visit(detour)).reason).toBe("BYPASS_COOKIE");
    await detour.close();
  });

  it("by a change of version (a hand edit that bumps it, LaunchDarkly data); one that changes neither version nor since keeps the period (documented)", async () => {
    const store = memoryStore({ flags: modeFlag("site", { version: 1, fallthrough: { variation: 2 } }) });
    const detour = createDetour<DetourRequest>({ store, allow: { secret: SECRET } });
    await detour.ready;
    const cookie = visit(detour);
    await store.write((doc) => void (doc.flags!.site!.detour = { message: "x" })); // no version change: same period
    expect(withCookie(detour, cookie).reason).toBe("BYPASS_COOKIE");
    await store.write((doc) => void (doc.flags!.site!.version = 2));
    expect(withCookie(detour, cookie).action).toBe("block");
    await detour.close();
  });

  it("and a cookie opens only what was in force when it was issued", async () => {
    const detour = await detourWith({ flags: {} }, { allow: { secret: SECRET }, features });
    await detour.enable("site");
    const siteOnly = visit(detour);
    await detour.enable("billing");
    expect(withCookie(detour, siteOnly, "/").reason).toBe("BYPASS_COOKIE");
    expect(withCookie(detour, siteOnly, "/billing/charge").action).toBe("block");
    const both = visit(detour);
    expect(withCookie(detour, both, "/billing/charge").reason).toBe("BYPASS_COOKIE");
    await detour.close();
  });

  it("read-only flags a request's method is not refused by do not need opening", async () => {
    const detour = await detourWith({ flags: {} }, { allow: { secret: SECRET }, features });
    await detour.enable("site");
    const cookie = visit(detour);
    await detour.enable("billing", { mode: "read-only" });
    expect(withCookie(detour, cookie, "/billing/x", "GET").action).toBe("pass");
    expect(withCookie(detour, cookie, "/billing/x", "POST").action).toBe("block");
    await detour.close();
  });
});

describe("the secret URL", () => {
  it("issues a cookie for what is in force when only a feature is down", async () => {
    const detour = await detourWith({ flags: {} }, { allow: { secret: SECRET }, features });
    await detour.enable("billing");
    const cookie = visit(detour);
    expect(withCookie(detour, cookie, "/billing/charge", "POST").reason).toBe("BYPASS_COOKIE");
    await detour.close();
  });

  it("issues a cookie in read-only mode too, where its GET would pass anyway", async () => {
    const detour = await detourWith({ flags: {} }, { allow: { secret: SECRET } });
    await detour.enable("site", { mode: "read-only" });
    const cookie = visit(detour);
    expect(withCookie(detour, cookie, "/notes", "POST").reason).toBe("BYPASS_COOKIE");
    expect(detour.decide(request({ path: "/notes", method: "POST" })).action).toBe("block");
    await detour.close();
  });

  it("passes on when nothing at all is in force", async () => {
    const detour = await detourWith({ flags: {} }, { allow: { secret: SECRET } });
    expect(detour.decide(request({ path: `/${SECRET}` })).action).toBe("pass");
    await detour.close();
  });
});

/** A memory store whose source can go away and come back (events only; the snapshot stays). */
function flaky(document: FlagDocument): Store & { fail(): void; recover(): void } {
  const inner = memoryStore(document);
  const listeners = new Set<StoreListener>();
  return {
    kind: "flaky",
    load: () => inner.load(),
    snapshot: () => inner.snapshot(),
    write: (mutator) => inner.write(mutator),
    health: () => inner.health(),
    close: () => inner.close(),
    subscribe: (listener) => (listeners.add(listener), () => void listeners.delete(listener)),
    fail: () => listeners.forEach((listener) => listener({ type: "error", error: new Error("gone") })),
    recover: () => listeners.forEach((listener) => listener({ type: "snapshot", snapshot: inner.snapshot()! })),
  };
}

describe("fail-closed periods", () => {
  it("change with every outage", async () => {
    const store = flaky({ flags: modeFlag("site", { detour: { failMode: "closed" } }) });
    const errors: string[] = [];
    const detour = createDetour<DetourRequest>({ store, allow: { secret: SECRET }, onStoreError: (error) => errors.push(error.message) });
    await detour.ready;
    store.fail();
    expect(errors).toEqual(["gone"]);
    expect(detour.decide(request()).reason).toBe("FAIL_CLOSED");
    const cookie = visit(detour);
    expect(withCookie(detour, cookie).reason).toBe("BYPASS_COOKIE");
    store.fail(); // the same outage goes on
    expect(withCookie(detour, cookie).reason).toBe("BYPASS_COOKIE");
    store.recover();
    store.fail();
    expect(withCookie(detour, cookie).action).toBe("block");
    await detour.close();
  });

  it("before anything loaded: one period per instance", async () => {
    const inner = memoryStore({});
    const never: Store = {
      kind: "never",
      load: () => Promise.reject(new Error("down")),
      snapshot: () => undefined,
      subscribe: () => () => {},
      write: () => Promise.reject(new Error("down")),
      health: () => inner.health(),
      close: () => inner.close(),
    };
    const first = createDetour<DetourRequest>({ store: never, failMode: "closed", allow: { secret: SECRET }, onStoreError: () => {} });
    const second = createDetour<DetourRequest>({ store: never, failMode: "closed", allow: { secret: SECRET }, onStoreError: () => {} });
    await Promise.all([first.ready, second.ready]);
    const cookie = visit(first);
    expect(withCookie(first, cookie).reason).toBe("BYPASS_COOKIE");
    expect(withCookie(second, cookie).action).toBe("block");
  });
});
