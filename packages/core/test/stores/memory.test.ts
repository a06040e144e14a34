import { describe, expect, it, vi } from "vitest";
import { StoreClosedError, ValidationError } from "../../src/errors.js";
import { memoryStore } from "../../src/stores/index.js";
import { sampleDocument } from "./helpers.js";

describe("memoryStore", () => {
  it("starts with an empty document when given none", async () => {
    const store = memoryStore();
    const snapshot = await store.load();
    expect(snapshot.keys()).toEqual([]);
    expect(snapshot.revision).toBe(0);
    expect(store.snapshot()).toBe(snapshot);
    expect(store.health()).toEqual({ kind: "memory", revision: 0, ageMs: 0, stale: false, error: null });
  });

  it("validates on construction and names the flag and field", () => {
    const doc = sampleDocument();
    doc.flags!.site!.offVariation = 7;
    let error: unknown;
    try {
      memoryStore(doc);
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(ValidationError);
    expect((error as ValidationError).code).toBe("DETOUR_INVALID_DOCUMENT");
    expect((error as ValidationError).message).toContain("flags.site.offVariation");
    expect((error as ValidationError).issues[0]?.flag).toBe("site");
  });

  it("does not share the caller's object", async () => {
    const doc = sampleDocument();
    const store = memoryStore(doc);
    doc.flags!.site!.on = true;
    expect((await store.load()).definition("site")?.on).toBe(false);
  });

  it("writes: mutate a draft, validate, bump revision, new snapshot, notify", async () => {
    const store = memoryStore(sampleDocument());
    const before = store.snapshot()!;
    const listener = vi.fn();
    store.subscribe(listener);
    const after = await store.write((draft) => {
      draft.flags!.site!.on = true;
    });
    expect(after).not.toBe(before);
    expect(after.revision).toBe(1);
    expect(after.definition("site")?.on).toBe(true);
    expect(before.definition("site")?.on).toBe(false); // snapshots are immutable
    expect(store.snapshot()).toBe(after);
    expect(listener).toHaveBeenCalledWith({ type: "snapshot", snapshot: after });
    expect(Object.isFrozen(after.document)).toBe(true);
    expect((await store.write(() => {})).revision).toBe(2);
  });

  it("accepts a mutator that returns a new document, and always bumps revision itself", async () => {
    const store = memoryStore(sampleDocument());
    const next = await store.write(() => ({ flags: {}, flagValues: { banner: true }, revision: 99 }));
    expect(next.keys()).toEqual(["banner"]);
    expect(next.revision).toBe(1);
  });

  it("a mutator that throws changes nothing and rejects with its error", async () => {
    const store = memoryStore(sampleDocument());
    const before = store.snapshot();
    const listener = vi.fn();
    store.subscribe(listener);
    await expect(
      store.write((draft) => {
        draft.flags!.site!.on = true;
        throw new Error("changed my mind");
      }),
    ).rejects.toThrow("changed my mind");
    expect(store.snapshot()).toBe(before);
    expect(listener).not.toHaveBeenCalled();
  });

  it("an invalid result changes nothing and rejects naming the flag and field", async () => {
    const store = memoryStore(sampleDocument());
    const before = store.snapshot();
    const write = store.write((draft) => {
      draft.flags!.site!.fallthrough = { rollout: { variations: [{ variation: 0, weight: 1.5 }] } };
    });
    await expect(write).rejects.toBeInstanceOf(ValidationError);
    await expect(write).rejects.toThrow("flags.site.fallthrough.rollout.variations[0].weight");
    expect(store.snapshot()).toBe(before);
  });

  it("refuses asynchronous mutators", async () => {
    const store = memoryStore(sampleDocument());
    // @ts-expect-error mutators are synchronous
    await expect(store.write(async (draft) => draft)).rejects.toThrow(/synchronous/);
    expect(store.snapshot()?.revision).toBe(0);
  });

  it("unsubscribes, survives a throwing listener, and closes", async () => {
    const store = memoryStore(sampleDocument());
    const warning = vi.spyOn(process, "emitWarning").mockImplementation(() => {});
    const good = vi.fn();
    store.subscribe(() => {
      throw new Error("listener bug");
    });
    const stop = store.subscribe(good);
    await store.write(() => {});
    expect(good).toHaveBeenCalledTimes(1);
    expect(warning).toHaveBeenCalledWith(expect.stringContaining("listener bug"), "DetourWarning");
    stop();
    await store.write(() => {});
    expect(good).toHaveBeenCalledTimes(1);
    warning.mockRestore();

    await store.close();
    await expect(store.write(() => {})).rejects.toBeInstanceOf(StoreClosedError);
    await expect(store.load()).rejects.toBeInstanceOf(StoreClosedError);
    await store.close();
  });
});
