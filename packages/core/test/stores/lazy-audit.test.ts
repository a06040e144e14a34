/** The incremental draft's audit log: copied only when a mutator reads it; Detour's own operations only put entries in front. */
import { describe, expect, it } from "vitest";
import { appendAudit } from "../../src/operations/audit.js";
import { Snapshot } from "../../src/snapshot.js";
import { applyMutation } from "../../src/stores/index.js";
import type { AuditEntry, FlagDocument } from "../../src/document/types.js";

const entry = (n: number): AuditEntry => ({ at: new Date(n * 1000).toISOString(), actor: "test", action: "enable", flag: "site", details: { users: [`u${n}`] } });
const base = () => Snapshot.from({ flags: {}, audit: [entry(3), entry(2), entry(1)] } as FlagDocument, { now: 0 });
const context = { actor: "guard", now: 4000 };

describe("the incremental draft's audit log", () => {
  it("appendAudit puts the entry in front and keeps the old entries as they are, uncopied, cut to the limit", () => {
    const current = base();
    const next = applyMutation(current, (doc) => {
      appendAudit(doc, context, "enable", "site", { users: ["u4"] });
      appendAudit(doc, context, "disable", "site", { users: ["u1"] });
    }, { incremental: true });
    const audit = next.document.audit!;
    expect(audit.map((e) => `${e.action}:${JSON.stringify(e.details?.users)}`)).toEqual(['disable:["u1"]', 'enable:["u4"]', 'enable:["u3"]', 'enable:["u2"]', 'enable:["u1"]']);
    expect(audit[2]).toBe(current.document.audit![0]);
    expect(next.revision).toBe(current.revision + 1);
  });

  it("a mutator that reads the log gets a private copy with what was put in front so far, and may edit it in place", () => {
    const current = base();
    const next = applyMutation(current, (doc) => {
      appendAudit(doc, context, "enable", "site", { users: ["u4"] });
      expect(doc.audit!.map((e) => e.details?.users)).toEqual([["u4"], ["u3"], ["u2"], ["u1"]]);
      doc.audit![1]!.actor = "edited";
      appendAudit(doc, context, "disable", "site", { users: ["u4"] });
    }, { incremental: true });
    expect(next.document.audit!.map((e) => e.actor)).toEqual(["guard", "guard", "edited", "test", "test"]);
    // The snapshot written over is untouched.
    expect(current.document.audit!.map((e) => e.actor)).toEqual(["test", "test", "test"]);
  });

  it("a mutator that replaces or deletes the log has its way", () => {
    const current = base();
    const replaced = applyMutation(current, (doc) => {
      appendAudit(doc, context, "enable", "site", {});
      doc.audit = [entry(9)];
    }, { incremental: true });
    expect(replaced.document.audit).toEqual([entry(9)]);
    const deleted = applyMutation(current, (doc) => {
      delete doc.audit;
    }, { incremental: true });
    expect(deleted.document.audit ?? []).toEqual([]);
  });
});
