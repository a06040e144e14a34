import { memoryStore, type FlagDocument } from "@detour/core";
import { StoreState, Snapshot, StoreUnavailableError, type Store, type StoreListener } from "@detour/core/store";
import { OpenFeature, type Client, type EventDetails, type ProviderEvents } from "@openfeature/server-sdk";

/** Puts OpenFeature's global state back as it was: no provider, handlers, hooks or context. */
export async function resetOpenFeature(): Promise<void> {
  await OpenFeature.clearProviders();
  OpenFeature.clearHandlers();
  OpenFeature.clearHooks();
  OpenFeature.setContext({});
}

/** Resolves with the next event of `type` the client sees (rejects after `timeoutMs`). */
export function nextEvent(client: Client, type: ProviderEvents, timeoutMs = 5_000): Promise<EventDetails | undefined> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      client.removeHandler(type, handler);
      reject(new Error(`no ${type} event within ${timeoutMs} ms`));
    }, timeoutMs);
    const handler = (details?: EventDetails) => {
      clearTimeout(timer);
      client.removeHandler(type, handler);
      resolve(details);
    };
    client.addHandler(type, handler);
  });
}

/**
 * Records every event of the given types the client sees from now on, in
 * order. (OpenFeature runs a handler at once when the provider's status
 * already matches its event type; those calls are not events and are left out.)
 */
export function recordEvents(client: Client, types: readonly ProviderEvents[]): { type: ProviderEvents; details: EventDetails | undefined }[] {
  const seen: { type: ProviderEvents; details: EventDetails | undefined }[] = [];
  let armed = false;
  for (const type of types) client.addHandler(type, (details) => void (armed && seen.push({ type, details })));
  armed = true;
  return seen;
}

/**
 * A memory store that can be told it lost its source (an `error` event, and
 * `health().stale` until `recover()`), as a Redis store does when Redis goes
 * down: the last snapshot stays in force.
 */
export function flakyStore(document: FlagDocument): { store: Store; fail(message: string): void; recover(): void } {
  const inner = memoryStore(document);
  const listeners = new Set<StoreListener>();
  let error: Error | null = null;
  inner.subscribe((event) => {
    if (event.type === "snapshot") error = null;
    for (const listener of [...listeners]) listener(event);
  });
  const store: Store = {
    kind: "flaky",
    load: () => inner.load(),
    snapshot: () => inner.snapshot(),
    write: (mutator) => inner.write(mutator),
    close: () => inner.close(),
    subscribe(listener) {
      listeners.add(listener);
      return () => void listeners.delete(listener);
    },
    health: () => ({ ...inner.health(), kind: "flaky", stale: error !== null, error: error?.message ?? null }),
  };
  return {
    store,
    fail(message) {
      error = new StoreUnavailableError(message);
      for (const listener of [...listeners]) listener({ type: "error", error });
    },
    recover() {
      error = null;
    },
  };
}

/** A store whose source is unreachable until `arrive(document)`: `load()` rejects until then. */
export function lateStore(): { store: Store; arrive(document: FlagDocument): void } {
  const state = new StoreState("late");
  const store: Store = {
    kind: "late",
    load: () => {
      if (state.closed) return Promise.reject(new Error("closed"));
      const snapshot = state.snapshot;
      return snapshot ? Promise.resolve(snapshot) : Promise.reject(new StoreUnavailableError("the source is unreachable"));
    },
    snapshot: () => state.snapshot,
    subscribe: (listener) => state.subscribe(listener),
    write: () => Promise.reject(new StoreUnavailableError("read-only")),
    health: () => state.health(),
    close: () => {
      state.close();
      return Promise.resolve();
    },
  };
  return { store, arrive: (document) => state.accept(Snapshot.from(document)) };
}
