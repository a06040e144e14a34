import { describe, expect, it } from "vitest";
import { ArgumentError, ValidationError } from "../../src/index.js";
import { clock, detourWith, modeFlag, request } from "../policy/helpers.js";

describe("enable / disable / rollout / replace", () => {
  it("whole-site maintenance on and off, live, with audit entries", async () => {
    const detour = await detourWith({ flags: {} });
    await detour.enable("site", { message: "Upgrading" }, { actor: "alice" });
    expect(detour.decide(request()).action).toBe("block");
    expect(detour.status().flags).toMatchObject([{ key: "site", mode: "maintenance", scope: "site", message: "Upgrading", by: "alice" }]);
    await detour.disable("site", {}, { actor: "bob" });
    expect(detour.decide(request()).action).toBe("pass");
    expect(detour.status().flags).toEqual([]);
    expect(detour.audit().map((e) => `${e.actor}:${e.action}:${e.flag}`)).toEqual(["bob:disable:site", "alice:enable:site"]);
    // The next maintenance does not inherit the last one's message.
    await detour.enable("site");
    expect(detour.decide(request()).message).toBeNull();
    await detour.close();
  });

  it("users default to read-only and are added and removed without touching others", async () => {
    const detour = await detourWith({ flags: {} }, { user: (req) => req.user as string });
    await detour.enable("site", { users: ["u1", "u2"] });
    await detour.enable("site", { users: ["u3"] });
    await detour.disable("site", { users: ["u2"] });
    expect(detour.status().flags[0]).toMatchObject({ mode: "read-only", scope: "user", users: ["u1", "u3"] });
    expect(detour.decide(request({ method: "POST", user: "u1" })).action).toBe("block");
    expect(detour.decide(request({ method: "POST", user: "u2" })).action).toBe("pass");
    expect(detour.decide(request({ method: "GET", user: "u3" }))).toMatchObject({ action: "pass", mode: "read-only", scope: "user" });
    await detour.close();
  });

  it("retarget takes some users out and puts others in with one write, an audit entry for each half", async () => {
    const detour = await detourWith({ flags: {} }, { user: (req) => req.user as string });
    await detour.enable("site", { users: ["u1", "u2"] }, { actor: "alice" });
    const revision = detour.snapshot()!.revision;
    await detour.retarget("site", { off: { users: ["u1"] }, on: { users: ["u3", "u4"], mode: "read-only", message: "Moving data" } }, { actor: "guard" });
    expect(detour.snapshot()!.revision).toBe(revision + 1);
    expect(detour.status().flags[0]).toMatchObject({ mode: "read-only", scope: "user", users: ["u2", "u3", "u4"], message: "Moving data" });
    expect(detour.decide(request({ method: "POST", user: "u1" })).action).toBe("pass");
    expect(detour.decide(request({ method: "POST", user: "u3" })).action).toBe("block");
    expect(detour.audit().map((e) => `${e.actor}:${e.action}:${JSON.stringify(e.details?.users)}`)).toEqual([
      'guard:enable:["u3","u4"]',
      'guard:disable:["u1"]',
      'alice:enable:["u1","u2"]',
    ]);
    // Taking the last users out while others come in leaves only the newcomers.
    await detour.retarget("site", { off: { users: ["u2", "u3", "u4"] }, on: { users: ["u5"] } });
    expect(detour.status().flags[0]).toMatchObject({ users: ["u5"] });
    await detour.retarget("site", { off: { users: ["u5"] } });
    expect(detour.status().flags).toEqual([]);
    // A half without users or contexts would turn the whole flag on or off: refused, nothing written.
    await expect(detour.retarget("site", { on: { mode: "maintenance" } })).rejects.toThrow(ArgumentError);
    await expect(detour.retarget("site", { off: {} })).rejects.toThrow(/off.*users or contexts/);
    expect(detour.status().flags).toEqual([]);
    await detour.close();
  });

  it("whole-site maintenance also blocks the users who were read-only; a user targeted available stays exempt", async () => {
    const detour = await detourWith({ flags: {} }, { user: (req) => req.user as string });
    await detour.enable("site", { users: ["u1"] });
    await detour.enable("site", { mode: "maintenance" });
    expect(detour.decide(request({ user: "u1" }))).toMatchObject({ action: "block", mode: "maintenance", scope: "site" });
    expect(detour.decide(request({ user: "u2" }))).toMatchObject({ action: "block", mode: "maintenance", scope: "site" });
    // LaunchDarkly evaluation itself is untouched: the flag still says read-only for u1.
    expect(detour.variation("site", { key: "u1" }, "x")).toBe("read-only");
    const exempt = await detourWith({ flags: modeFlag("site", { fallthrough: { variation: 2 }, targets: [{ variation: 0, values: ["qa"] }] }) }, {
      user: (req) => req.user as string,
    });
    expect(exempt.decide(request({ user: "qa" })).action).toBe("pass");
    await detour.close();
    await exempt.close();
  });

  it("adding users after a whole-site maintenance was turned off does not bring it back", async () => {
    const detour = await detourWith({ flags: {} });
    await detour.enable("site");
    await detour.disable("site");
    await detour.enable("site", { users: ["u1"] });
    expect(detour.decide(request()).action).toBe("pass");
    await detour.close();
  });

  it("percent puts that share of users in the mode, stably", async () => {
    const detour = await detourWith({ flags: {} }, { user: (req) => req.user as string });
    await detour.enable("site", { percent: 25 });
    const blocked = (n: number) =>
      Array.from({ length: n }, (_, i) => detour.decide(request({ method: "POST", user: `user-${i}` }))).filter((d) => d.action === "block").length;
    const share = blocked(4000) / 4000;
    expect(share).toBeGreaterThan(0.22);
    expect(share).toBeLessThan(0.28);
    await detour.enable("site", { percent: 50 });
    // Users in at 25% stay in at 50%.
    for (let i = 0; i < 500; i++) {
      const user = `user-${i}`;
      const at50 = detour.decide(request({ method: "POST", user })).action;
      if (at50 === "pass") {
        await detour.enable("site", { percent: 25 });
        expect(detour.decide(request({ method: "POST", user })).action).toBe("pass");
        await detour.enable("site", { percent: 50 });
      }
    }
    expect(detour.status().flags[0]).toMatchObject({ percent: 50, scope: "user", mode: "read-only" });
    await detour.close();
  });

  it("rollout sets a multivariate split and refuses bad splits, naming what is wrong", async () => {
    const detour = await detourWith({
      flags: { storage: { key: "storage", on: true, variations: ["old", "dual", "new"], fallthrough: { variation: 0 } } },
    });
    await detour.rollout("storage", { old: 50, dual: 25, new: 25 });
    const doc = detour.document()!;
    expect(doc.flags!.storage!.fallthrough.rollout!.variations).toEqual([
      { variation: 0, weight: 50000 },
      { variation: 1, weight: 25000 },
      { variation: 2, weight: 25000 },
    ]);
    // The order given does not matter: slots follow the variations, so users only move forward.
    await detour.rollout("storage", { new: 25, old: 50, dual: 25 });
    expect(detour.document()!.flags!.storage!.fallthrough.rollout!.variations.map((v) => v.variation)).toEqual([0, 1, 2]);
    await expect(detour.rollout("storage", { old: 50, new: 40 })).rejects.toThrow(/sum to 100, got 90/);
    await expect(detour.rollout("storage", { old: 50, newer: 50 })).rejects.toThrow(/no variation "newer"/);
    await expect(detour.enable("storage")).rejects.toBeInstanceOf(ArgumentError);
    expect(doc.revision).toBeTypeOf("number");
    expect(detour.document()!.revision).toBe(doc.revision! + 1);
    await detour.close();
  });

  it("replace validates the whole document first and keeps the audit log", async () => {
    const detour = await detourWith({ flags: modeFlag("site") });
    await detour.enable("site");
    const before = detour.document();
    await expect(
      detour.replace({ flags: { site: { key: "site", on: true, variations: ["available"], fallthrough: { variation: 3 } } } }),
    ).rejects.toBeInstanceOf(ValidationError);
    expect(detour.document()).toBe(before);
    await detour.replace({ flagValues: { site: false } });
    expect(detour.decide(request()).action).toBe("pass");
    expect(detour.audit().map((e) => e.action)).toEqual(["replace", "enable"]);
    await detour.close();
  });

  it("invalid arguments are refused with the argument's name", async () => {
    const time = clock();
    const detour = await detourWith({ flags: {} }, { now: time.now });
    await expect(detour.enable("site", { percent: 140 })).rejects.toThrow(/^percent:/);
    await expect(detour.enable("site", { mode: "off" as never })).rejects.toThrow(/^mode:/);
    await expect(detour.enable("bad key!")).rejects.toThrow(/^flag:/);
    await expect(detour.enable("site", { window: { start: "tomorrow" } })).rejects.toThrow(/^window.start:/);
    expect(detour.document()!.flags).toEqual({});
    await detour.close();
  });
});
