import type { FlagDocument } from "../document/types.js";
import type { Snapshot } from "../snapshot.js";

export type StoreEvent =
  | { readonly type: "snapshot"; readonly snapshot: Snapshot }
  | { readonly type: "error"; readonly error: Error };

export type StoreListener = (event: StoreEvent) => void;

/**
 * Receives a private, mutable copy of the current document. Change it in
 * place or return a new document; throw to abort the write (nothing is written).
 */
export type Mutator = (draft: FlagDocument) => FlagDocument | void;

export interface StoreHealth {
  readonly kind: string;
  /** Revision of the snapshot in force, `null` when nothing ever loaded. */
  readonly revision: number | null;
  /** Milliseconds since the snapshot in force was last confirmed current. */
  readonly ageMs: number | null;
  /** True when the store cannot currently be read and an older snapshot is in use. */
  readonly stale: boolean;
  readonly error: string | null;
}

/**
 * Where a flag document lives. Implementations keep an in-memory snapshot:
 * `snapshot()` never does I/O.
 */
export interface Store {
  readonly kind: string;
  /** Loads the document (once; later calls return the current snapshot). Rejects when it cannot. */
  load(): Promise<Snapshot>;
  /** The snapshot in force, or `undefined` before the first successful load. */
  snapshot(): Snapshot | undefined;
  /** Called with every new snapshot and every error; returns an unsubscribe function. */
  subscribe(listener: StoreListener): () => void;
  /**
   * Atomic read-modify-write: the mutator sees the newest document, the result
   * is validated, and concurrent writers (other processes included) never lose
   * an update. Resolves with the snapshot that contains the change.
   */
  write(mutator: Mutator): Promise<Snapshot>;
  health(): StoreHealth;
  close(): Promise<void>;
}
