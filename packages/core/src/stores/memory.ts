import type { FlagDocument } from "../document/types.js";
import { Snapshot } from "../snapshot.js";
import { StoreBase } from "./spi/base.js";
import { applyMutation } from "./spi/mutation.js";
import type { Mutator, Store, StoreHealth } from "./types.js";

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
  return new MemoryBackedStore(document);
}

const SOURCE = "memory store";

class MemoryBackedStore extends StoreBase implements MemoryStore {
  declare readonly kind: "memory";

  constructor(document: FlagDocument) {
    super({ kind: "memory" });
    this.state.accept(Snapshot.from(document, { source: SOURCE, now: this.state.now() }));
  }

  override health(): StoreHealth {
    // Memory is always current.
    return { ...super.health(), ageMs: 0 };
  }

  protected override open(): Promise<Snapshot> {
    return Promise.resolve(this.#current());
  }

  protected override commit(mutator: Mutator): Promise<Snapshot> {
    const next = applyMutation(this.#current(), mutator, { source: SOURCE, now: this.state.now() });
    this.state.accept(next);
    return Promise.resolve(next);
  }

  #current(): Snapshot {
    const snapshot = this.state.snapshot;
    if (snapshot === undefined) throw new Error("unreachable: memory store without a snapshot");
    return snapshot;
  }
}
