import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { createDetour, fileStore, memoryStore, Snapshot, ValidationError, type FlagDocument } from "../../src/index.js";

// Loading flag by flag, as LaunchDarkly's SDK loads a data file; Detour's own writes stay strict.

const flag = (key: string, extra: Record<string, unknown> = {}) => ({ key, on: true, variations: ["a", "b"], offVariation: 0, fallthrough: { variation: 0 }, ...extra });
const MALFORMED = { kind: "ERROR", errorKind: "MALFORMED_FLAG" };

function exported(): FlagDocument {
  return {
    flags: {
      good: flag("good", { targets: [{ variation: 1, values: ["u1"] }] }),
      // Tomorrow's LaunchDarkly operator: a non-match, as in the SDK.
      future: flag("future", { rules: [{ clauses: [{ attribute: "key", op: "isTomorrow", values: ["u1"] }], variation: 1 }, { clauses: [{ attribute: "key", op: "in", values: ["u2"] }], variation: 1 }] }),
      // On without a fallthrough: MALFORMED_FLAG only where evaluation gets there; targets still serve.
      partial: { key: "partial", on: true, variations: ["a", "b"], targets: [{ variation: 1, values: ["u1"] }] },
      // User context targets without values stand for `targets`.
      placeholders: flag("placeholders", { targets: [{ variation: 1, values: ["u1"] }], contextTargets: [{ contextKind: "user", variation: 1 }] }),
      broken: { key: "broken", on: true, variations: "not a list" },
    },
    segments: { loose: { key: "loose", rules: [{ weight: 100000 }] } },
  } as unknown as FlagDocument;
}

describe("Snapshot.load", () => {
  it("loads every flag LaunchDarkly loads, evaluates them as it does, and names each problem", () => {
    const snapshot = Snapshot.load(exported());
    expect(snapshot.evaluate("good", { key: "u1" }).value).toBe("b");
    expect(snapshot.evaluate("future", { key: "u1" }).reason).toEqual({ kind: "FALLTHROUGH" });
    expect(snapshot.evaluate("future", { key: "u2" }).reason).toEqual({ kind: "RULE_MATCH", ruleIndex: 1 });
    expect(snapshot.evaluate("partial", { key: "u1" }).value).toBe("b");
    expect(snapshot.evaluate("partial", { key: "u2" }).reason).toEqual(MALFORMED);
    expect(snapshot.evaluate("placeholders", { key: "u1" }).value).toBe("b");
    expect(snapshot.evaluate("broken", { key: "u1" }).reason).toEqual(MALFORMED);
    expect(snapshot.unloadable).toEqual(new Set(["broken"]));
    const paths = snapshot.problems.map((p) => p.path);
    expect(paths).toEqual(expect.arrayContaining([
      "flags.future.rules[0].clauses[0].op",
      "flags.partial.fallthrough",
      "flags.placeholders.contextTargets[0].values",
      "flags.broken.variations",
      "segments.loose.rules[0].clauses",
    ]));
    expect(snapshot.problems.find((p) => p.path === "flags.broken")?.message).toMatch(/MALFORMED_FLAG/);
    expect(() => Snapshot.from(exported())).toThrow(ValidationError);
  });

  it("keeps the last good version of a flag Detour cannot represent", () => {
    const before = Snapshot.load({ flags: { broken: flag("broken", { fallthrough: { variation: 1 } }) } });
    const after = Snapshot.load(exported(), { previous: before });
    expect(after.evaluate("broken", { key: "u9" }).value).toBe("b");
    expect(after.problems.find((p) => p.path === "flags.broken")?.message).toMatch(/last good version/);
  });

  it("still refuses whole what is not an object of flags", () => {
    expect(() => Snapshot.load([])).toThrow(ValidationError);
    expect(() => Snapshot.load({ flags: [] })).toThrow(/flags: expected an object/);
  });
});

describe("stores and Detour", () => {
  let dir: string | undefined;
  afterEach(() => dir && rmSync(dir, { recursive: true, force: true }));

  it("report a file's problems through onStoreError and status(), and keep serving its other flags", async () => {
    dir = mkdtempSync(join(tmpdir(), "detour-loading-"));
    const path = join(dir, "flags.json");
    writeFileSync(path, JSON.stringify(exported()));
    const errors: Error[] = [];
    const detour = createDetour({ store: fileStore(path), onStoreError: (error) => errors.push(error) });
    await detour.ready;
    try {
      expect(detour.variation("good", { key: "u1" }, "x")).toBe("b");
      expect(errors).toHaveLength(1);
      expect(errors[0]).toBeInstanceOf(ValidationError);
      expect(errors[0]!.message).toMatch(/loaded with problems/);
      expect(detour.status().problems.map((p) => p.path)).toContain("flags.future.rules[0].clauses[0].op");
      expect(detour.store.health().stale).toBe(false);
    } finally {
      await detour.close();
    }
  });

  it("apply a mode flag's failMode when Detour cannot load it and has no last good version", async () => {
    dir = mkdtempSync(join(tmpdir(), "detour-loading-"));
    for (const [failMode, action] of [["closed", "block"], ["open", "pass"]] as const) {
      const path = join(dir, `${failMode}.json`);
      writeFileSync(path, JSON.stringify({ flags: { site: { key: "site", on: "yes", variations: ["available", "maintenance"], fallthrough: { variation: 1 }, detour: { failMode } } } }));
      const detour = createDetour({ store: fileStore(path), onStoreError: () => {} });
      await detour.ready;
      const decision = detour.decide({ method: "GET", path: "/", ip: "127.0.0.1", headers: {} });
      expect(decision.action).toBe(action);
      if (action === "block") expect(decision).toMatchObject({ mode: "maintenance", reason: "FAIL_CLOSED" });
      expect(detour.explain("site", { key: "u" }).reason).toEqual(MALFORMED);
      await detour.close();
    }
  });

  it("write the flags they touch strictly, and let writes to others through", async () => {
    dir = mkdtempSync(join(tmpdir(), "detour-loading-"));
    const path = join(dir, "flags.json");
    writeFileSync(path, JSON.stringify(exported()));
    const detour = createDetour({ store: fileStore(path), onStoreError: () => {} });
    await detour.ready;
    await detour.enable("site", { users: ["u1"] });
    expect(detour.snapshot()!.definition("site")).toBeDefined();
    const bad = detour.store.write((doc) => {
      (doc.flags!.good!.rules ??= []).push({ clauses: [{ attribute: "key", op: "isTomorrow" as never, values: [] }], variation: 1 });
    });
    await expect(bad).rejects.toThrow(/flags\.good\.rules\[0\]\.clauses\[0\]\.op: unknown operator/);
    expect(detour.snapshot()!.definition("good")!.rules).toBeUndefined();
    await detour.close();
    // A document given in code is Detour's own input: strict.
    expect(() => memoryStore(exported())).toThrow(ValidationError);
  });
});
