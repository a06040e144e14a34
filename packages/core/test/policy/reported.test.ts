import { afterEach, describe, expect, it, vi } from "vitest";
import { createDetour, memoryStore, type Store, type StoreListener } from "../../src/index.js";

afterEach(() => {
  vi.restoreAllMocks();
});

describe("store errors without onStoreError", () => {
  it("are logged once each, remembering only the newest 100 messages (no unbounded growth)", async () => {
    const inner = memoryStore({ flags: {} });
    const listeners = new Set<StoreListener>();
    const store: Store = {
      kind: inner.kind,
      load: () => inner.load(),
      snapshot: () => inner.snapshot(),
      subscribe: (l) => (listeners.add(l), () => void listeners.delete(l)),
      write: (mutator) => inner.write(mutator),
      health: () => inner.health(),
      close: () => inner.close(),
    };
    const warn = vi.spyOn(console, "warn").mockImplementation(() => {});
    const detour = createDetour({ store });
    await detour.ready;
    const fail = (message: string) => listeners.forEach((listener) => listener({ type: "error", error: new Error(message) }));

    fail("redis at 10.0.0.1:6379 refused the connection");
    fail("redis at 10.0.0.1:6379 refused the connection");
    expect(warn).toHaveBeenCalledTimes(1);
    for (let i = 0; i < 150; i++) fail(`lookup of replica-${i} failed`);
    expect(warn).toHaveBeenCalledTimes(151);
    fail("lookup of replica-149 failed"); // recent: still remembered
    expect(warn).toHaveBeenCalledTimes(151);
    fail("redis at 10.0.0.1:6379 refused the connection"); // old: forgotten, so logged again
    expect(warn).toHaveBeenCalledTimes(152);
    await detour.close();
  });
});
