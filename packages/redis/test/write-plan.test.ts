import fc from "fast-check";
import { describe, expect, it } from "vitest";
import type { Flag, FlagDocument } from "@detour/core";
import { Snapshot, applyMutation, diffDocuments, type DocumentChanges } from "@detour/core/store";
import { TARGETS, layoutOf, planWrite, type TargetsNotice } from "../src/layout.js";
import { LARGE_TARGETS } from "../src/targets.js";

const KEYS = ["site", "constructor", "__proto__", "toJSON", "10", "é🦆"] as const;
const users = (n: number, tag: string) => Array.from({ length: n }, (_, i) => `${tag}-${i}`);
const flag = (key: string, values: string[]): Flag => ({
  key,
  on: true,
  variations: ["available", "read-only", "maintenance"],
  offVariation: 0,
  targets: [{ variation: 1, values }],
  fallthrough: { variation: 0 },
  detour: { message: `${key} is being upgraded` },
});

/** One write of a sequence: what a mutator does to the draft. */
type Edit = (draft: FlagDocument) => void;
const edit: fc.Arbitrary<Edit> = fc.oneof(
  fc.tuple(fc.constantFrom(...KEYS), fc.string({ maxLength: 8 })).map(([key, message]): Edit => (d) => {
    const f = d.flags![key];
    if (f) f.detour = { ...f.detour, message };
  }),
  fc.tuple(fc.constantFrom(...KEYS), fc.constantFrom(0, 3, LARGE_TARGETS, LARGE_TARGETS + 2)).map(([key, n]): Edit => (d) => {
    d.flags![key] = flag(key, users(n, key));
  }),
  fc.tuple(fc.constantFrom(...KEYS), fc.string({ maxLength: 6 })).map(([key, user]): Edit => (d) => {
    d.flags![key]?.targets?.[0]?.values.push(`new-${user}`);
  }),
  fc.constantFrom(...KEYS).map((key): Edit => (d) => {
    delete d.flags![key];
  }),
  fc.nat().map((seq): Edit => (d) => {
    d.flagValues = { ...d.flagValues, seq };
  }),
);

/** The plan of a write computed afresh from mutable copies, where nothing is kept: what the cached plan must equal. */
function reference(base: Snapshot, next: Snapshot) {
  const before = layoutOf(base.draft());
  const after = layoutOf(next.draft());
  return { stored: JSON.stringify(after.stored), sets: [...after.sets.keys()], changes: diffDocuments(before.stored, after.stored) };
}

describe("a write's plan from what earlier writes laid out", () => {
  it("stores and announces what a plan from scratch would, over a sequence of writes (fast-check)", () => {
    fc.assert(
      fc.property(fc.array(edit, { minLength: 1, maxLength: 8 }), (edits) => {
        let snap = Snapshot.from({ flags: { site: flag("site", users(LARGE_TARGETS, "site")), constructor: flag("constructor", ["a"]) } });
        let inRedis: ReadonlySet<string> = new Set(layoutOf(snap.document).sets.keys());
        for (const change of edits) {
          const next = applyMutation(snap, change, { incremental: true });
          let small: DocumentChanges | null | undefined;
          const plan = planWrite(snap.document, inRedis, next.document, String(snap.revision), (_raw, changes) => ((small = changes()), ""), Infinity);
          const expected = reference(snap, next);
          expect(plan.stored).toBe(expected.stored);
          expect([...plan.sets]).toEqual(expected.sets);
          const carried = plan.notice.startsWith(TARGETS) ? (JSON.parse(plan.notice.slice(plan.notice.indexOf("\n") + 1)) as TargetsNotice).changes : small;
          if (carried !== undefined) expect(carried).toEqual(JSON.parse(JSON.stringify(expected.changes)));
          inRedis = plan.sets;
          snap = next;
        }
      }),
      { seed: 21, numRuns: 150 },
    );
  });

  it("shares the stored flags a write left alone with the plan before it", () => {
    const base = Snapshot.from({ flags: { site: flag("site", users(LARGE_TARGETS, "u")), other: flag("other", ["a"]) }, flagValues: { seq: 0 } });
    const first = layoutOf(base.document);
    const values = applyMutation(base, (d) => void (d.flagValues = { seq: 1 }), { incremental: true });
    expect(layoutOf(values.document).stored.flags).toBe(first.stored.flags);
    const touched = applyMutation(values, (d) => void (d.flags!.other!.on = false), { incremental: true });
    const after = layoutOf(touched.document);
    expect(after.stored.flags!.site).toBe(first.stored.flags!.site);
    expect(after.stored.flags!.other).not.toBe(first.stored.flags!.other);
    expect(after.sets.get("targets:1:user:site")).toBe(base.document.flags!.site!.targets![0]!.values);
  });

  it("lays out a flag again when the same object sits under another key", () => {
    const shared = Snapshot.from({ flags: { x: flag("x", users(LARGE_TARGETS, "u")) } }).document.flags!.x!;
    expect([...layoutOf({ flags: Object.freeze({ a: shared }) }).sets.keys()]).toEqual(["targets:1:user:a"]);
    expect([...layoutOf({ flags: Object.freeze({ b: shared }) }).sets.keys()]).toEqual(["targets:1:user:b"]);
  });
});
