import { ReadOrder, type Snapshot } from "@detour/core/store";
import type { SetId } from "./targets.js";

/** Where the snapshot in force came from. */
export type Origin = "empty" | "bootstrap" | "redis";

/**
 * What this instance last saw in Redis and acted upon, shared by the sync and
 * the writer. (The snapshot in force itself, health and listeners live in
 * the store base.)
 */
export class RedisView {
  /**
   * Replies on one connection arrive in the order the commands were sent:
   * numbering observations at issue time lets a late reply never overwrite a newer one.
   */
  readonly order = new ReadOrder();
  /** Token of what Redis held at the last observation acted upon (accepted or refused). */
  token: string | null = null;
  /** The raw JSON in Redis the snapshot in force came from. */
  rawInForce: string | null = null;
  /** The target lists Redis held in sets at `token` (the index). */
  sets: ReadonlySet<SetId> = new Set();
  origin: Origin | undefined;
  /** A document in Redis that was refused, so it is reported once. */
  refused: { readonly token: string; readonly raw: string } | null = null;
  /** When an instance running on its bootstrap document first found Redis empty. */
  emptySeenAt: number | undefined;
  /** The bootstrap document, once loaded. */
  boot: Snapshot | undefined;
  /** Change notices of this instance's writes in flight: the write puts them in force itself. */
  readonly ownWrites = new Set<string>();

  /** The revision Redis held at the last observation, when it held a document. */
  get revisionInRedis(): string | null {
    return this.token?.startsWith("1:") ? this.token.slice(2) : null;
  }
}
