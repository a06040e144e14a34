import type { FSWatcher } from "node:fs";
import { writeFile } from "node:fs/promises";
import { join } from "node:path";
import { afterEach, expect, it, vi } from "vitest";
import { fileStore } from "../../src/stores/index.js";
import { sampleDocument, temporaryDirectory } from "./helpers.js";

// The store's watcher and timers are unref'd (a store never keeps a process
// alive by itself), so process.getActiveResourcesInfo() does not list them:
// record them instead and check close() releases every one.
const watchers = vi.hoisted(() => [] as { closed: boolean }[]);
vi.mock("node:fs", async (importOriginal) => {
  const fs = await importOriginal<typeof import("node:fs")>();
  const watch = (...args: Parameters<typeof fs.watch>): FSWatcher => {
    const watcher = fs.watch(...args);
    const record = { closed: false };
    watchers.push(record);
    const close = watcher.close.bind(watcher);
    watcher.close = () => {
      record.closed = true;
      close();
    };
    return watcher;
  };
  return { ...fs, watch, default: { ...fs, watch } };
});

afterEach(() => {
  vi.restoreAllMocks();
});

it("close() stops the watcher, the poll timer and a pending debounce", async () => {
  const { dir, cleanup } = await temporaryDirectory();
  try {
    const path = join(dir, "detour.json");
    await writeFile(path, JSON.stringify(sampleDocument()));
    const intervals = new Set<unknown>();
    const setIntervalSpy = vi.spyOn(globalThis, "setInterval");
    const clearIntervalSpy = vi.spyOn(globalThis, "clearInterval");
    const store = fileStore(path, { debounceMs: 10_000, pollIntervalMs: 50 });
    await store.load();
    for (const result of setIntervalSpy.mock.results) intervals.add(result.value);
    expect(watchers).toHaveLength(1);
    expect(intervals.size).toBe(1);

    // A change arms the (long) debounce timer; close() must clear it too.
    await writeFile(path, JSON.stringify({ ...sampleDocument(), revision: 1 }));
    await new Promise((resolve) => setTimeout(resolve, 100));
    const listener = vi.fn();
    store.subscribe(listener);
    await store.close();

    expect(watchers.every((w) => w.closed)).toBe(true);
    expect(clearIntervalSpy.mock.calls.map(([timer]) => timer)).toEqual(expect.arrayContaining([...intervals]));
    await new Promise((resolve) => setTimeout(resolve, 150));
    expect(listener).not.toHaveBeenCalled();
  } finally {
    await cleanup();
  }
});
