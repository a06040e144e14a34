/** Target deltas: a snapshot patched by per-user changes evaluates and serializes exactly like one compiled afresh. */
import { describe, expect, it } from "vitest";
import { Snapshot, compiledFlagOf } from "../../src/snapshot.js";
import { applyMutation } from "../../src/stores/index.js";
import { tracksTargets } from "../../src/stores/spi/lazy-draft.js";
import { disableFlag, enableFlag } from "../../src/operations/edits.js";
import type { FlagDocument } from "../../src/document/types.js";
import type { EvaluationContext } from "../../src/evaluation/types.js";
import { seededRandom as random } from "@detour/test-support/random";

const users = (from: number, count: number) => Array.from({ length: count }, (_, i) => `user-${from + i}`);

function documentOf(shape: "targets" | "contextTargets"): FlagDocument {
  const targets = [
    { variation: 1, values: users(0, 400) },
    { variation: 2, values: users(400, 300) },
    { variation: 0, values: users(700, 5) },
  ];
  const site = {
    key: "site",
    on: true,
    variations: ["available", "read-only", "maintenance"],
    offVariation: 0,
    targets,
    fallthrough: { variation: 0 },
    rules: [{ clauses: [{ attribute: "key", op: "startsWith", values: ["user-9"] }], variation: 2 }],
    salt: "site",
  };
  const contextTargets = [
    { contextKind: "user", variation: 1, values: [] },
    { contextKind: "organization", variation: 2, values: Array.from({ length: 300 }, (_, i) => `org-${i}`) },
    { contextKind: "user", variation: 2, values: [] },
    { contextKind: "user", variation: 0, values: [] },
  ];
  return { flags: { site: shape === "targets" ? site : { ...site, contextTargets } } } as FlagDocument;
}

const probes = (rnd: () => number): EvaluationContext[] => {
  const out: EvaluationContext[] = [];
  for (let i = 0; i < 40; i++) {
    const user = `user-${Math.floor(rnd() * 1100)}`;
    const org = `org-${Math.floor(rnd() * 400)}`;
    out.push({ key: user }, { kind: "organization", key: org }, { kind: "multi", user: { key: user }, organization: { key: org } });
  }
  return out;
};

const context = { actor: "test", now: Date.parse("2026-12-01T00:00:00Z") };

function step(rnd: () => number): (doc: FlagDocument) => void {
  const pick = () => `user-${Math.floor(rnd() * 1100)}`;
  const some = () => Array.from({ length: 1 + Math.floor(rnd() * 3) }, pick);
  const org = () => [{ kind: "organization", key: `org-${Math.floor(rnd() * 400)}` }];
  const r = rnd();
  const mode = rnd() < 0.5 ? "read-only" : "maintenance";
  if (r < 0.45) { const u = some(); return (doc) => void enableFlag(doc, "site", { users: u, mode }, context); }
  if (r < 0.8) { const u = some(); return (doc) => void disableFlag(doc, "site", { users: u }, context); }
  if (r < 0.9) { const c = org(); return (doc) => void enableFlag(doc, "site", { contexts: c, mode }, context); }
  const c = org();
  return (doc) => void disableFlag(doc, "site", { contexts: c }, context);
}

describe("per-user changes patched into the compiled snapshot", () => {
  for (const shape of ["targets", "contextTargets"] as const) {
    for (const seed of [1, 2, 3]) {
      it(`evaluate and serialize like a fresh compile (${shape}, seed ${seed})`, () => {
        const rnd = random(seed * 7919 + (shape === "targets" ? 0 : 1));
        let patched = Snapshot.from(documentOf(shape), { now: 0 });
        let plain = Snapshot.from(documentOf(shape), { now: 0 });
        let overlays = 0;
        for (let i = 0; i < 120; i++) {
          const mutate = step(rnd);
          patched = applyMutation(patched, tracksTargets((doc: FlagDocument) => mutate(doc)), { incremental: true, now: 0 });
          plain = applyMutation(plain, mutate, { now: 0 });
          // Compared as JSON (the order of each list included), without printing lists of hundreds on a failure.
          expect(JSON.stringify(patched.document.flags) === JSON.stringify(plain.document.flags), `step ${i}`).toBe(true);
          const fresh = Snapshot.from(JSON.parse(JSON.stringify(plain.document)), { now: 0 });
          expect(patched.document).toEqual(fresh.document);
          expect(patched.traits("site")).toEqual(fresh.traits("site"));
          for (const probe of probes(rnd)) expect(patched.evaluate("site", probe)).toEqual(fresh.evaluate("site", probe));
          if (compiledFlagOf(patched, "site")!.targets!.some((g) => !(g.keys instanceof Map))) overlays++;
        }
        // The delta path was taken, not only full compiles.
        expect(overlays).toBeGreaterThan(10);
        // A draft of the patched snapshot is a plain copy (structuredClone would refuse its derived lists).
        expect(JSON.stringify(patched.draft().flags) === JSON.stringify(plain.document.flags)).toBe(true);
      });
    }
  }

  it("a target change names only the changed users and keeps the large list uncopied", () => {
    const current = Snapshot.from(documentOf("targets"), { now: 0 });
    const next = applyMutation(current, tracksTargets((doc: FlagDocument) => void enableFlag(doc, "site", { users: ["new-user"] }, context)), { incremental: true, now: 0 });
    expect(next.evaluate("site", { key: "new-user" }).value).toBe("read-only");
    expect(next.document.flags!.site!.targets![0]!.values.length).toBe(401);
    expect(next.document.flags!.site!.targets![0]!.values.at(-1)).toBe("new-user");
    expect(Array.isArray(next.document.flags!.site!.targets![0]!.values)).toBe(true);
    expect(Object.isFrozen(next.document.flags!.site!.targets![0]!.values)).toBe(true);
  });

  it("a mutator not marked as target-aware gets plain lists it may structuredClone", () => {
    const current = Snapshot.from(documentOf("targets"), { now: 0 });
    const next = applyMutation(current, (doc) => {
      const copy = structuredClone(doc.flags!.site!);
      copy.targets![0]!.values.push("cloned");
      doc.flags!.site = copy;
    }, { incremental: true, now: 0 });
    expect(next.evaluate("site", { key: "cloned" }).value).toBe("read-only");
  });

  it("patch() takes explicit target changes, and a wrong delta is applied as to a set (never silently)", () => {
    const current = Snapshot.from(documentOf("targets"), { now: 0 });
    const flag = current.document.flags!.site!;
    const shell = { ...flag, version: 2, targets: flag.targets!.map((t, i) => (i === 0 ? { ...t, values: [] } : t)) };
    const next = current.patch(
      { flags: { site: shell }, targets: { site: [{ list: "targets", index: 0, from: 0, added: ["x", "user-401"], removed: ["user-3", "nobody"] }] } },
      { revision: 2, now: 0 },
    );
    const expected = structuredClone(JSON.parse(JSON.stringify(flag)));
    expected.version = 2;
    expected.targets[0].values = [...expected.targets[0].values.filter((v: string) => v !== "user-3"), "x"];
    // user-401 is in the next entry already: a set adds it to this one too (first entry wins).
    expected.targets[0].values.push("user-401");
    const fresh = Snapshot.from({ flags: { site: expected }, revision: 2 }, { now: 0 });
    for (const key of ["x", "user-401", "user-3", "user-4", "nobody"]) expect(next.evaluate("site", { key })).toEqual(fresh.evaluate("site", { key }));
    expect(() => current.patch({ flags: { site: shell }, targets: { site: [{ list: "targets", index: 0, from: 0, added: [7 as never], removed: [] }] } }, { revision: 2 })).toThrow(/values/);
  });
});
