import { createDetour, memoryStore, ArgumentError, OptionsError, type Detour, type FlagDocument } from "@detour/core";
import { DetourProvider, toDetourContext } from "@detour/openfeature";
import { ErrorCode, OpenFeature, ProviderEvents, ProviderStatus, StandardResolutionReasons } from "@openfeature/server-sdk";
import { afterEach, describe, expect, it } from "vitest";
import { flakyStore, lateStore, nextEvent, recordEvents, resetOpenFeature } from "./helpers.js";

const DOCUMENT: FlagDocument = {
  flags: {
    site: {
      key: "site",
      on: true,
      version: 3,
      variations: ["available", "read-only", "maintenance"],
      offVariation: 0,
      targets: [{ variation: 1, values: ["user-17"] }],
      rules: [{ id: "office", clauses: [{ attribute: "ip", op: "inCidr", values: ["10.0.0.0/8"] }], variation: 2 }],
      fallthrough: { variation: 0 },
      salt: "site",
    },
    "new-checkout": {
      key: "new-checkout",
      on: true,
      variations: [false, true],
      offVariation: 0,
      fallthrough: { rollout: { variations: [{ variation: 0, weight: 50_000 }, { variation: 1, weight: 50_000 }] } },
    },
    experiment: {
      key: "experiment",
      on: true,
      variations: ["control", "treatment"],
      fallthrough: { rollout: { kind: "experiment", variations: [{ variation: 0, weight: 100_000 }, { variation: 1, weight: 0 }] } },
    },
    "off-flag": { key: "off-flag", on: false, variations: [1, 2], offVariation: 1, fallthrough: { variation: 0 } },
    "off-no-value": { key: "off-no-value", on: false, variations: [true, false], fallthrough: { variation: 0 } },
    limits: {
      key: "limits",
      on: true,
      variations: [{ rps: 100 }, { rps: 10 }, [1, 2]],
      rules: [{ clauses: [{ attribute: "key", op: "segmentMatch", values: ["beta"] }], variation: 1 }],
      fallthrough: { variation: 0 },
    },
    "needs-maintenance": {
      key: "needs-maintenance",
      on: true,
      variations: ["plain", "special"],
      offVariation: 0,
      prerequisites: [{ key: "site", variation: 2 }],
      fallthrough: { variation: 1 },
    },
    "early-adopters": {
      key: "early-adopters",
      on: true,
      variations: [false, true],
      rules: [{ clauses: [{ attribute: "signedUp", op: "before", values: ["2025-01-01T00:00:00Z"] }], variation: 1 }],
      fallthrough: { variation: 0 },
    },
    "null-value": { key: "null-value", on: true, variations: [null, "x"], fallthrough: { variation: 0 } },
    cycle: {
      key: "cycle",
      on: true,
      variations: [true, false],
      prerequisites: [{ key: "cycle", variation: 0 }],
      fallthrough: { variation: 0 },
    },
  },
  segments: { beta: { key: "beta", included: ["user-42"] } },
  flagValues: { banner: true, greeting: "hello" },
};

function doc(): FlagDocument {
  return structuredClone(DOCUMENT);
}

const detours: Detour[] = [];
function detourOn(document: FlagDocument = doc()): Detour {
  const detour = createDetour({ store: memoryStore(document), onStoreError: () => {} });
  detours.push(detour);
  return detour;
}

afterEach(async () => {
  await resetOpenFeature();
  await Promise.all(detours.splice(0).map((d) => d.close()));
});

async function clientFor(provider: DetourProvider) {
  await OpenFeature.setProviderAndWait(provider);
  return OpenFeature.getClient();
}

describe("DetourProvider: the provider", () => {
  it("is a server provider named detour, READY once set", async () => {
    const provider = new DetourProvider(detourOn());
    expect(provider.metadata.name).toBe("detour");
    expect(provider.runsOn).toBe("server");
    const client = await clientFor(provider);
    expect(client.providerStatus).toBe(ProviderStatus.READY);
    expect(OpenFeature.providerMetadata.name).toBe("detour");
  });

  it("accepts a store as well as a Detour instance", async () => {
    const client = await clientFor(new DetourProvider(memoryStore(doc())));
    expect(await client.getStringValue("site", "default", { targetingKey: "user-17" })).toBe("read-only");
  });

  it("refuses anything else, naming the argument and the option", () => {
    expect(() => new DetourProvider({} as never)).toThrow(ArgumentError);
    expect(() => new DetourProvider(null as never)).toThrow(/detourOrStore/);
    expect(() => new DetourProvider(memoryStore(), { healthCheckIntervalMs: -1 })).toThrow(OptionsError);
    expect(() => new DetourProvider(memoryStore(), { closeStore: "yes" as never })).toThrow(/closeStore/);
  });

  it("resolves synchronously through resolve(), never a promise", () => {
    const provider = new DetourProvider(memoryStore(doc()));
    const details = provider.resolve("site", "string", "x", { targetingKey: "user-17" });
    expect(details).toEqual({
      value: "read-only",
      variant: "1",
      reason: StandardResolutionReasons.TARGETING_MATCH,
      flagMetadata: { reasonKind: "TARGET_MATCH", inExperiment: false, version: 3 },
    });
  });
});

describe("DetourProvider: values and reasons", () => {
  it("resolves the four types, with variant and reason", async () => {
    const client = await clientFor(new DetourProvider(detourOn()));
    expect(await client.getBooleanValue("banner", false)).toBe(true);
    expect(await client.getStringValue("greeting", "")).toBe("hello");
    expect(await client.getNumberValue("off-flag", 0)).toBe(2);
    expect(await client.getObjectValue("limits", {})).toEqual({ rps: 100 });
    expect(await client.getObjectValue("limits", {}, { targetingKey: "user-42" })).toEqual({ rps: 10 });

    const details = await client.getStringDetails("site", "available", { targetingKey: "someone", ip: "10.1.2.3" });
    expect(details).toMatchObject({
      flagKey: "site",
      value: "maintenance",
      variant: "2",
      reason: StandardResolutionReasons.TARGETING_MATCH,
      flagMetadata: { reasonKind: "RULE_MATCH", ruleIndex: 0, ruleId: "office", inExperiment: false, version: 3 },
    });
    expect(details.errorCode).toBeUndefined();
  });

  it("maps OFF → DISABLED, with the off variation or the default when there is none", async () => {
    const client = await clientFor(new DetourProvider(detourOn()));
    expect(await client.getNumberDetails("off-flag", 0)).toMatchObject({ value: 2, variant: "1", reason: "DISABLED" });
    const none = await client.getBooleanDetails("off-no-value", true);
    expect(none).toMatchObject({ value: true, reason: "DISABLED", flagMetadata: { reasonKind: "OFF" } });
    expect(none.variant).toBeUndefined();
    expect(none.errorCode).toBeUndefined();
  });

  it("maps a failed prerequisite → DISABLED (the off variation), naming the prerequisite", async () => {
    const client = await clientFor(new DetourProvider(detourOn()));
    expect(await client.getStringDetails("needs-maintenance", "d", { targetingKey: "u" })).toMatchObject({
      value: "plain",
      variant: "0",
      reason: "DISABLED",
      flagMetadata: { reasonKind: "PREREQUISITE_FAILED", prerequisiteKey: "site" },
    });
    expect(await client.getStringValue("needs-maintenance", "d", { targetingKey: "u", ip: "10.0.0.1" })).toBe("special");
  });

  it("maps a rollout fallthrough → SPLIT, a fixed one → DEFAULT, a flag without targeting → STATIC", async () => {
    const client = await clientFor(new DetourProvider(detourOn()));
    const split = await client.getBooleanDetails("new-checkout", false, { targetingKey: "user-1" });
    expect(split).toMatchObject({ reason: "SPLIT", flagMetadata: { reasonKind: "FALLTHROUGH", inExperiment: false } });
    expect(split.variant).toBe(split.value ? "1" : "0");
    expect(await client.getStringDetails("site", "x", { targetingKey: "nobody" })).toMatchObject({ value: "available", reason: "DEFAULT" });
    expect(await client.getBooleanDetails("banner", false)).toMatchObject({ value: true, reason: "STATIC", variant: "0" });
  });

  it("carries inExperiment", async () => {
    const client = await clientFor(new DetourProvider(detourOn()));
    expect(await client.getStringDetails("experiment", "x", { targetingKey: "u" })).toMatchObject({
      value: "control",
      reason: "SPLIT",
      flagMetadata: { reasonKind: "FALLTHROUGH", inExperiment: true },
    });
  });

  it("answers the default for a variation whose value is null, as detour.variation() does", async () => {
    const detour = detourOn();
    const client = await clientFor(new DetourProvider(detour));
    const details = await client.getStringDetails("null-value", "fallback");
    expect(details).toMatchObject({ value: "fallback", reason: "STATIC" });
    expect(details.errorCode).toBeUndefined();
    expect(detour.variation("null-value", { key: "anonymous" }, "fallback")).toBe("fallback");
  });
});

describe("DetourProvider: errors", () => {
  it("FLAG_NOT_FOUND: the default value", async () => {
    const client = await clientFor(new DetourProvider(detourOn()));
    expect(await client.getBooleanDetails("nope", true)).toMatchObject({
      value: true,
      reason: "ERROR",
      errorCode: ErrorCode.FLAG_NOT_FOUND,
      flagMetadata: { reasonKind: "ERROR", errorKind: "FLAG_NOT_FOUND" },
    });
  });

  it("TYPE_MISMATCH: the default value, for each type asked", async () => {
    const client = await clientFor(new DetourProvider(detourOn()));
    const mismatch = { value: "d", reason: "ERROR", errorCode: ErrorCode.TYPE_MISMATCH };
    expect(await client.getStringDetails("banner", "d")).toMatchObject(mismatch);
    expect(await client.getBooleanDetails("greeting", false)).toMatchObject({ ...mismatch, value: false });
    expect(await client.getNumberDetails("banner", 7)).toMatchObject({ ...mismatch, value: 7 });
    expect(await client.getObjectDetails("greeting", { a: 1 })).toMatchObject({ ...mismatch, value: { a: 1 } });
    const message = (await client.getBooleanDetails("limits", false)).errorMessage;
    expect(message).toMatch(/"limits".*an object, not a boolean/);
  });

  it("arrays are objects", async () => {
    const client = await clientFor(new DetourProvider(detourOn()));
    await client.getObjectValue("limits", []);
    const store = memoryStore({ flags: { list: { key: "list", on: true, variations: [[1, 2]], fallthrough: { variation: 0 } } } });
    const other = await clientFor(new DetourProvider(store));
    expect(await other.getObjectValue("list", [])).toEqual([1, 2]);
  });

  it("PARSE_ERROR for a malformed flag (a prerequisite cycle)", async () => {
    const client = await clientFor(new DetourProvider(detourOn()));
    expect(await client.getBooleanDetails("cycle", false)).toMatchObject({
      value: false,
      reason: "ERROR",
      errorCode: ErrorCode.PARSE_ERROR,
      flagMetadata: { errorKind: "MALFORMED_FLAG" },
    });
  });

  it("GENERAL when evaluation throws, never a throw into the caller", async () => {
    const detour = detourOn();
    const broken = {
      store: detour.store,
      ready: detour.ready,
      close: () => detour.close(),
      explain: () => {
        throw new Error("boom");
      },
    };
    const provider = new DetourProvider(broken);
    expect(provider.resolve("site", "string", "d")).toMatchObject({ value: "d", reason: "ERROR", errorCode: ErrorCode.GENERAL });
    const client = await clientFor(provider);
    expect(await client.getStringDetails("site", "d")).toMatchObject({ value: "d", errorCode: ErrorCode.GENERAL, errorMessage: /boom/ });
  });
});

describe("DetourProvider: contexts", () => {
  it("targetingKey becomes the key; other attributes pass through", async () => {
    const client = await clientFor(new DetourProvider(detourOn()));
    expect(await client.getStringValue("site", "x", { targetingKey: "user-17" })).toBe("read-only");
    expect(await client.getStringValue("site", "x", { targetingKey: "u", ip: "10.9.9.9" })).toBe("maintenance");
    expect(await client.getStringValue("site", "x", { targetingKey: "u", kind: "user", ip: "10.9.9.9" })).toBe("maintenance");
  });

  it("falls back to a `key` attribute, then to the anonymous key", async () => {
    const client = await clientFor(new DetourProvider(detourOn()));
    expect(await client.getStringValue("site", "x", { key: "user-17" })).toBe("read-only");
    expect(await client.getStringValue("site", "x", { targetingKey: "someone", key: "user-17" })).toBe("available");
    expect(toDetourContext({})).toEqual({ ok: true, context: { key: "anonymous" } });
  });

  it("uses the context merged by OpenFeature (global + client + invocation)", async () => {
    OpenFeature.setContext({ ip: "10.0.0.9" });
    const client = await clientFor(new DetourProvider(detourOn()));
    expect(await client.getStringValue("site", "x", { targetingKey: "u" })).toBe("maintenance");
  });

  it("turns Dates into RFC 3339 strings, at any depth", async () => {
    const client = await clientFor(new DetourProvider(detourOn()));
    expect(await client.getBooleanValue("early-adopters", false, { targetingKey: "u", signedUp: new Date("2024-05-01T00:00:00Z") })).toBe(true);
    expect(await client.getBooleanValue("early-adopters", false, { targetingKey: "u", signedUp: new Date("2026-05-01T00:00:00Z") })).toBe(false);
    const nested = { a: [{ at: new Date(0) }], b: "same" };
    const out = toDetourContext({ targetingKey: "u", nested, plain: { x: 1 } });
    expect(out).toEqual({ ok: true, context: { key: "u", nested: { a: [{ at: "1970-01-01T00:00:00.000Z" }], b: "same" }, plain: { x: 1 } } });
    expect(nested.a[0]!.at).toBeInstanceOf(Date); // the caller's context is left alone
  });

  it("evaluates multi-kind and other-kind contexts as LaunchDarkly contexts", async () => {
    const store = memoryStore({
      flags: {
        site: {
          key: "site", on: true, variations: ["available", "read-only"], fallthrough: { variation: 0 },
          contextTargets: [{ contextKind: "organization", variation: 1, values: ["acme"] }],
          detour: {},
        },
      },
    });
    const client = await clientFor(new DetourProvider(createDetour({ store })));
    const acme = { kind: "multi", user: { targetingKey: "user-17" }, organization: { targetingKey: "acme" } };
    expect(await client.getStringDetails("site", "x", acme)).toMatchObject({ value: "read-only", reason: "TARGETING_MATCH" });
    const globex = { kind: "multi", user: { targetingKey: "user-17" }, organization: { targetingKey: "globex" } };
    expect(await client.getStringValue("site", "x", globex)).toBe("available");
    expect(await client.getStringValue("site", "x", { kind: "organization", targetingKey: "acme" })).toBe("read-only");
    // A user whose key happens to be "acme" is not the organization.
    expect(await client.getStringValue("site", "x", { targetingKey: "acme" })).toBe("available");
  });

  it("answers INVALID_CONTEXT for a context LaunchDarkly would refuse", async () => {
    const client = await clientFor(new DetourProvider(detourOn()));
    const keyless = await client.getStringDetails("site", "x", { kind: "organization" });
    expect(keyless).toMatchObject({ value: "x", reason: "ERROR", errorCode: ErrorCode.INVALID_CONTEXT, errorMessage: /"organization"/ });
    const badKind = await client.getStringDetails("site", "x", { kind: "not a kind", targetingKey: "u" });
    expect(badKind).toMatchObject({ value: "x", errorCode: ErrorCode.INVALID_CONTEXT });
    const empty = await client.getStringDetails("site", "x", { kind: "multi" });
    expect(empty).toMatchObject({ value: "x", errorCode: ErrorCode.INVALID_CONTEXT });
  });
});

describe("DetourProvider: events", () => {
  it("emits ConfigurationChanged with the keys whose definition changed", async () => {
    const detour = detourOn();
    const client = await clientFor(new DetourProvider(detour));
    const changed = nextEvent(client, ProviderEvents.ConfigurationChanged);
    await detour.enable("site", { mode: "maintenance" });
    const details = await changed;
    // needs-maintenance has site as a prerequisite: its result may change too.
    expect(details?.flagsChanged).toEqual(["needs-maintenance", "site"]);
    expect(await client.getStringValue("site", "available", { targetingKey: "u" })).toBe("maintenance");
  });

  it("lists the flags that use a changed segment, and stays quiet when no flag changed", async () => {
    const store = memoryStore(doc());
    const client = await clientFor(new DetourProvider(store));
    const events = recordEvents(client, [ProviderEvents.ConfigurationChanged]);
    await store.write(() => {}); // a new revision, the same flags
    await store.write((draft) => {
      draft.segments!.beta!.included = ["user-42", "user-43"];
    });
    expect(events.map((e) => e.details?.flagsChanged)).toEqual([["limits"]]);
    expect(events[0]!.details?.metadata).toEqual({ revision: 2 });
    expect(await client.getObjectValue("limits", {}, { targetingKey: "user-43" })).toEqual({ rps: 10 });
  });

  it("reports added and removed flags, flagValues included", async () => {
    const store = memoryStore(doc());
    const client = await clientFor(new DetourProvider(store));
    const changed = nextEvent(client, ProviderEvents.ConfigurationChanged);
    await store.write((draft) => {
      delete draft.flagValues!.greeting;
      draft.flagValues!.fresh = 1;
    });
    expect((await changed)?.flagsChanged).toEqual(["fresh", "greeting"]);
  });

  it("emits Stale when the store loses its source, keeps serving the last snapshot, and Ready when it is back", async () => {
    const flaky = flakyStore(doc());
    const client = await clientFor(new DetourProvider(flaky.store, { healthCheckIntervalMs: 10 }));
    const stale = nextEvent(client, ProviderEvents.Stale);
    flaky.fail("Redis unreachable; keeping revision 0 in force");
    expect((await stale)?.message).toMatch(/Redis unreachable/);
    expect(client.providerStatus).toBe(ProviderStatus.STALE);
    expect(await client.getStringValue("site", "x", { targetingKey: "user-17" })).toBe("read-only");

    const events = recordEvents(client, [ProviderEvents.Stale]);
    flaky.fail("still unreachable"); // already stale: no second event
    const ready = nextEvent(client, ProviderEvents.Ready);
    flaky.recover();
    await ready;
    expect(client.providerStatus).toBe(ProviderStatus.READY);
    expect(events).toEqual([]);
  });

  it("a new snapshot while stale: Ready, then ConfigurationChanged", async () => {
    const flaky = flakyStore(doc());
    const client = await clientFor(new DetourProvider(flaky.store, { healthCheckIntervalMs: 0 }));
    flaky.fail("down");
    expect(client.providerStatus).toBe(ProviderStatus.STALE);
    const events = recordEvents(client, [ProviderEvents.Ready, ProviderEvents.ConfigurationChanged]);
    await flaky.store.write((draft) => {
      draft.flagValues!.banner = false;
    });
    expect(events.map((e) => e.type)).toEqual([ProviderEvents.Ready, ProviderEvents.ConfigurationChanged]);
    expect(events[1]!.details?.flagsChanged).toEqual(["banner"]);
    expect(client.providerStatus).toBe(ProviderStatus.READY);
  });

  it("Stale through a Detour instance too", async () => {
    const flaky = flakyStore(doc());
    const detour = createDetour({ store: flaky.store, onStoreError: () => {} });
    detours.push(detour);
    const client = await clientFor(new DetourProvider(detour));
    const stale = nextEvent(client, ProviderEvents.Stale);
    flaky.fail("down");
    await stale;
    expect(client.providerStatus).toBe(ProviderStatus.STALE);
  });
});

describe("DetourProvider: lifecycle", () => {
  it("a store that cannot load: ERROR, the default with PROVIDER_NOT_READY, then READY once it loads", async () => {
    const late = lateStore();
    const provider = new DetourProvider(late.store);
    await expect(OpenFeature.setProviderAndWait(provider)).rejects.toThrow(/late store could not load: the source is unreachable/);
    const client = OpenFeature.getClient();
    expect(client.providerStatus).toBe(ProviderStatus.ERROR);
    expect(await client.getStringDetails("site", "x")).toMatchObject({ value: "x", errorCode: ErrorCode.PROVIDER_NOT_READY });

    const ready = nextEvent(client, ProviderEvents.Ready);
    late.arrive(doc());
    await ready;
    expect(client.providerStatus).toBe(ProviderStatus.READY);
    expect(await client.getStringValue("site", "x", { targetingKey: "user-17" })).toBe("read-only");
  });

  it("a closed store is a fatal error", async () => {
    const store = memoryStore(doc());
    await store.close();
    await expect(OpenFeature.setProviderAndWait(new DetourProvider(store))).rejects.toThrow();
    expect(OpenFeature.getClient().providerStatus).toBe(ProviderStatus.FATAL);
  });

  it("onClose stops listening, and closes a store it was given", async () => {
    const store = memoryStore(doc());
    const client = await clientFor(new DetourProvider(store));
    const events = recordEvents(client, [ProviderEvents.ConfigurationChanged]);
    await OpenFeature.close();
    await expect(store.write(() => {})).rejects.toThrow(/closed/);
    expect(events).toEqual([]);
  });

  it("onClose leaves a Detour instance open (it serves the web framework too) unless closeStore is set", async () => {
    const detour = detourOn();
    const provider = new DetourProvider(detour);
    await OpenFeature.setProviderAndWait(provider);
    const client = OpenFeature.getClient();
    const events = recordEvents(client, [ProviderEvents.ConfigurationChanged]);
    await OpenFeature.close();
    await detour.enable("site");
    expect(events).toEqual([]);
    expect(detour.variation("site", { key: "u" }, "x")).toBe("maintenance");

    const owned = detourOn();
    await OpenFeature.setProviderAndWait(new DetourProvider(owned, { closeStore: true }));
    await OpenFeature.close();
    await expect(owned.enable("site")).rejects.toThrow(/closed/);
  });

  it("can be set again after a shutdown that left its source open", async () => {
    const detour = detourOn();
    const provider = new DetourProvider(detour);
    await OpenFeature.setProviderAndWait(provider);
    await OpenFeature.clearProviders();
    const client = await clientFor(provider);
    const changed = nextEvent(client, ProviderEvents.ConfigurationChanged);
    await detour.enable("site");
    expect((await changed)?.flagsChanged).toContain("site");
  });
});
