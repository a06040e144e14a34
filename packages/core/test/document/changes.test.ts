import { describe, expect, it } from "vitest";
import { cloneDocument } from "../../src/stores/spi/lazy-draft.js";
import { Snapshot, ValidationError, diffDocuments, type FlagDocument } from "../../src/index.js";
import { applyMutation } from "../../src/store.js";
import { compiledFlagOf, compiledSegmentOf } from "../../src/snapshot.js";

const flag = (key: string, users: string[], on = true) => ({
  key,
  on,
  variations: ["available", "read-only", "maintenance"],
  offVariation: 0,
  targets: [{ variation: 1, values: users }],
  fallthrough: { variation: 0 },
});

function base(): FlagDocument {
  const flags: Record<string, unknown> = {};
  for (let i = 0; i < 20; i++) flags[`f${i}`] = flag(`f${i}`, [`u${i}`]);
  return {
    revision: 4,
    flags: flags as FlagDocument["flags"],
    flagValues: { limit: 3, banner: "hi" },
    segments: { staff: { key: "staff", included: ["ann"] } },
    audit: [{ at: "2026-01-01T00:00:00Z", actor: "api", action: "enable", flag: "f1" }],
  };
}

/** `before.patch(diff(before, after))` must be what `Snapshot.from(after)` is. */
function roundTrip(before: FlagDocument, after: FlagDocument) {
  const old = Snapshot.from(before, { now: 0 });
  const changes = diffDocuments(old.document, Snapshot.from(after, { now: 0 }).document);
  expect(changes).not.toBeNull();
  const patched = old.patch(changes!, { revision: after.revision ?? 0, now: 0 });
  const whole = Snapshot.from(after, { now: 0 });
  expect(JSON.parse(JSON.stringify(patched.document))).toEqual(JSON.parse(JSON.stringify(whole.document)));
  expect(patched.keys()).toEqual(whole.keys());
  for (const key of new Set([...old.keys(), ...whole.keys()])) {
    for (const user of ["u1", "u2", "u3", "new", "ann"]) {
      expect(patched.evaluate(key, { key: user })).toEqual(whole.evaluate(key, { key: user }));
    }
  }
  return { old, patched, changes: changes! };
}

describe("diffDocuments and Snapshot.patch", () => {
  it("a user added to one flag of twenty: the changes name that flag and the audit entry; every other flag is reused compiled", () => {
    const after = base();
    after.revision = 5;
    after.flags!.f3!.targets![0]!.values.push("new");
    after.audit = [{ at: "2026-01-02T00:00:00Z", actor: "cli", action: "enable", flag: "f3" }, ...after.audit!];
    const { old, patched, changes } = roundTrip(base(), after);
    expect(Object.keys(changes.flags!)).toEqual(["f3"]);
    expect(changes.auditAdded).toHaveLength(1);
    expect(changes.auditLength).toBe(2);
    expect(patched.revision).toBe(5);
    expect(compiledFlagOf(patched, "f3")).not.toBe(compiledFlagOf(old, "f3"));
    for (const key of old.keys().filter((k) => k !== "f3")) expect(compiledFlagOf(patched, key)).toBe(compiledFlagOf(old, key));
    expect(compiledSegmentOf(patched, "staff")).toBe(compiledSegmentOf(old, "staff"));
  });

  it("a flag value and a flag replaced in place keep their places; every other compiled flag is the previous snapshot's", () => {
    const after = base();
    after.revision = 6;
    after.flagValues = { limit: 4, banner: "hi" };
    after.flags!.f7!.on = false;
    const { old, patched, changes } = roundTrip(base(), after);
    expect(Object.keys(changes.flags!)).toEqual(["f7"]);
    expect(changes.flagValues).toEqual({ limit: 4 });
    expect(patched.evaluate("limit", { key: "u1" }).value).toBe(4);
    for (const key of old.keys().filter((k) => k !== "f7" && k !== "limit")) expect(compiledFlagOf(patched, key)).toBe(compiledFlagOf(old, key));
  });

  it("a change removing a flag the document does not have leaves every flag in force", () => {
    const old = Snapshot.from(base(), { now: 0 });
    const patched = old.patch({ flags: { nope: null } }, { revision: 5, now: 0 });
    expect(patched.keys()).toEqual(old.keys());
    expect(patched.evaluate("f1", { key: "u1" }).value).toBe("read-only");
  });

  it("removals, flag values and segments round-trip", () => {
    const after = base();
    after.revision = 9;
    delete after.flags!.f0;
    after.flags!.extra = flag("extra", ["new"]) as never;
    after.flagValues = { limit: 4 };
    after.segments = { staff: { key: "staff", included: ["ann", "new"] } };
    const { changes } = roundTrip(base(), after);
    expect(changes.flags).toMatchObject({ f0: null, extra: { key: "extra" } });
    expect(changes.flagValues).toEqual({ limit: 4, banner: null });
  });

  it("an audit log rewritten rather than added to (more than 16 new entries) is no change set", () => {
    const after = base();
    after.audit = Array.from({ length: 20 }, (_, i) => ({ at: "2026-02-01T00:00:00Z", actor: `x${i}`, action: "import", flag: null }));
    expect(diffDocuments(Snapshot.from(base()).document, Snapshot.from(after).document)).toBeNull();
  });

  it("an invalid change is refused with the flag and field named, and the snapshot it was applied to is unchanged", () => {
    const old = Snapshot.from(base(), { now: 0 });
    expect(() => old.patch({ flags: { f1: { ...flag("f1", []), offVariation: 7 } } }, { revision: 5, source: "notice" })).toThrow(ValidationError);
    expect(() => old.patch({ flags: { f1: { ...flag("f1", []), offVariation: 7 } } }, { revision: 5 })).toThrow(/flags\.f1\.offVariation/);
    expect(() => old.patch({ flagValues: { f2: 1 } }, { revision: 5 })).toThrow(/flagValues\.f2: also defined under flags/);
    expect(old.evaluate("f1", { key: "u1" }).value).toBe("read-only");
    expect(old.revision).toBe(4);
  });
});

describe("applyMutation({ incremental: true })", () => {
  const mutations: Array<[string, (draft: FlagDocument) => void]> = [
    ["a user added", (d) => void d.flags!.f2!.targets![0]!.values.push("z")],
    ["a flag removed and a value set", (d) => {
      delete d.flags!.f4;
      d.flagValues!.limit = 9;
    }],
    ["an optional field set to null (dropped by validation)", (d) => void ((d.flags!.f5 as Record<string, unknown>).rules = null)],
    ["nothing", () => {}],
  ];

  it.each(mutations)("%s: the same snapshot as a whole validation", (_name, mutate) => {
    const current = Snapshot.from(base(), { now: 0 });
    const whole = applyMutation(current, mutate, { now: 0 });
    const patched = applyMutation(current, mutate, { now: 0, incremental: true });
    expect(JSON.parse(JSON.stringify(patched.document))).toEqual(JSON.parse(JSON.stringify(whole.document)));
  expect(patched.keys()).toEqual(whole.keys());
    expect(patched.revision).toBe(current.revision + 1);
  });

  it("a mutator that edits one flag copies and compiles that flag alone; the others are the snapshot's own", () => {
    const current = Snapshot.from(base(), { now: 0 });
    const next = applyMutation(current, (d) => void d.flags!.f9!.targets![0]!.values.push("z"), { incremental: true });
    expect(next.evaluate("f9", { key: "z" }).value).toBe("read-only");
    expect(compiledFlagOf(next, "f9")).not.toBe(compiledFlagOf(current, "f9"));
    for (const key of current.keys().filter((k) => k !== "f9")) {
      expect(compiledFlagOf(next, key)).toBe(compiledFlagOf(current, key));
      if (current.document.flags?.[key]) expect(next.document.flags![key]).toBe(current.document.flags[key]);
    }
    // The mutator may edit audit entries in place, and spread or replace whole dictionaries.
    const edited = applyMutation(
      current,
      (d) => {
        d.audit![0]!.actor = "someone";
        d.flags = { ...d.flags, extra: { ...d.flags!.f1!, key: "extra" } };
      },
      { incremental: true },
    );
    expect(edited.document.audit![0]!.actor).toBe("someone");
    expect(edited.evaluate("extra", { key: "u1" }).value).toBe("read-only");
    expect(current.document.audit![0]!.actor).toBe("api");
  });

  it("a mutator can deep-copy its draft (replace() with confirm does) and the copy holds the draft's current entries", () => {
    const current = Snapshot.from(base(), { now: 0 });
    let copy: FlagDocument | undefined;
    const next = applyMutation(
      current,
      (d) => {
        d.flags!.f3!.targets![0]!.values.push("y");
        copy = cloneDocument(d);
      },
      { incremental: true },
    );
    expect(copy!.flags!.f3!.targets![0]!.values).toEqual(["u3", "y"]);
    expect(Object.keys(copy!.flags!)).toHaveLength(20);
    expect(next.evaluate("f3", { key: "y" }).value).toBe("read-only");
  });

  it.each([
    ["a bad field", (d: FlagDocument) => void ((d.flags!.f1 as Record<string, unknown>).offVariation = 9), /flags\.f1\.offVariation/],
    ["an unknown top-level field", (d: FlagDocument) => void ((d as Record<string, unknown>).extra = 1), /extra: unknown top-level field/],
    ["flags that are not an object", (d: FlagDocument) => void ((d as Record<string, unknown>).flags = 5), /flags/],
  ])("%s is refused as a whole validation refuses it", (_name, mutate, message) => {
    const current = Snapshot.from(base(), { now: 0 });
    expect(() => applyMutation(current, mutate, { incremental: true })).toThrow(message);
    expect(() => applyMutation(current, mutate, {})).toThrow(message);
  });
});
