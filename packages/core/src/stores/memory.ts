import type { FlagDocument } from "../document/types.js";
import { Snapshot } from "../snapshot.js";
import { StoreState, applyMutation } from "./base.js";
import type { Mutator, Store, StoreHealth, StoreListener } from "./types.js";

/** A store that keeps its document in memory: for tests and for embedding Detour. */
export interface MemoryStore extends Store {
  readonly kind: "memory";
}

/**
 * Creates a store holding `document` (default `{ "flags": {} }`) in memory.
 *
 * The document is validated now: an invalid one throws a `ValidationError`
 * naming every flag and field at fault. Every `write()` runs the mutator on a
 * private copy, validates the result, increments `revision`, puts the new
 * snapshot in force and notifies subscribers; a mutator that throws or
 * produces an invalid document changes nothing and the write rejects.
 */
export function memoryStore(document: FlagDocument = { flags: {} }): MemoryStore {
  const state = new StoreState("memory");
  state.accept(Snapshot.from(document, { source: "memory store" }));

  const current = (): Snapshot => {
    const snapshot = state.snapshot;
    if (snapshot === undefined) throw new Error("unreachable: memory store without a snapshot");
    return snapshot;
  };

  return {
    kind: "memory",
    load(): Promise<Snapshot> {
      try {
        state.assertOpen();
        return Promise.resolve(current());
      } catch (error) {
        return Promise.reject(error);
      }
    },
    snapshot(): Snapshot | undefined {
      return state.snapshot;
    },
    subscribe(listener: StoreListener): () => void {
      return state.subscribe(listener);
    },
    write(mutator: Mutator): Promise<Snapshot> {
      try {
        state.assertOpen();
        const next = applyMutation(current(), mutator, "memory store");
        state.accept(next);
        return Promise.resolve(next);
      } catch (error) {
        return Promise.reject(error);
      }
    },
    health(): StoreHealth {
      // Memory is always current.
      return { ...state.health(), ageMs: 0 };
    },
    close(): Promise<void> {
      state.close();
      return Promise.resolve();
    },
  };
}
