import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { FlagDocument } from "../../src/document/types.js";
import type { Store, StoreEvent } from "../../src/stores/types.js";

/** A small valid document: a `site` mode flag and a `counter` flag whose `version` tests increment. */
export function sampleDocument(): FlagDocument {
  return {
    flags: {
      site: {
        key: "site",
        on: false,
        variations: ["available", "read-only", "maintenance"],
        offVariation: 0,
        fallthrough: { variation: 2 },
        detour: { message: "Back soon" },
      },
      counter: { key: "counter", on: false, version: 0, variations: [true, false], offVariation: 1, fallthrough: { variation: 0 } },
    },
  };
}

/** A fresh temporary directory; remove it with the returned function. */
export async function temporaryDirectory(): Promise<{ dir: string; cleanup: () => Promise<void> }> {
  const dir = await mkdtemp(join(tmpdir(), "detour-store-"));
  return { dir, cleanup: () => rm(dir, { recursive: true, force: true }) };
}

/** Collects a store's events; `next(predicate)` waits for the first matching one not yet consumed. */
export function recordEvents(store: Store): {
  events: StoreEvent[];
  next: (predicate: (event: StoreEvent) => boolean, timeoutMs?: number) => Promise<StoreEvent>;
  stop: () => void;
} {
  const events: StoreEvent[] = [];
  const waiters = new Set<() => void>();
  const stop = store.subscribe((event) => {
    events.push(event);
    for (const wake of [...waiters]) wake();
  });
  let consumed = 0;
  const next = (predicate: (event: StoreEvent) => boolean, timeoutMs = 5_000): Promise<StoreEvent> =>
    new Promise((resolve, reject) => {
      const check = (): boolean => {
        for (let i = consumed; i < events.length; i++) {
          const event = events[i];
          if (event !== undefined && predicate(event)) {
            consumed = i + 1;
            resolve(event);
            return true;
          }
        }
        return false;
      };
      if (check()) return;
      const timer = setTimeout(() => {
        waiters.delete(wake);
        reject(new Error(`no matching store event within ${timeoutMs} ms; saw: ${events.map((e) => e.type).join(", ")}`));
      }, timeoutMs);
      const wake = (): void => {
        if (check()) {
          clearTimeout(timer);
          waiters.delete(wake);
        }
      };
      waiters.add(wake);
    });
  return { events, next, stop };
}

export function isSnapshot(event: StoreEvent): boolean {
  return event.type === "snapshot";
}

export function isError(event: StoreEvent): boolean {
  return event.type === "error";
}
