/**
 * Writing the document: a versioned compare-and-set (one Lua script that
 * checks, writes both keys and publishes the change notice), retried with a
 * fresh read and jittered backoff when another writer won.
 */
import type { Redis } from "ioredis";
import type { FlagDocument } from "@detour/core";
import { applyMutation, asError, withDictionaries, type StoreState, Snapshot, StoreClosedError, StoreUnavailableError, WriteConflictError, type Mutator } from "@detour/core/store";
import { parseStored, revisionOf, type Observed } from "./document.js";
import type { RedisStoreKeys, StoreSettings } from "./options.js";
import { CAS_SCRIPT, CAS_SHA } from "./scripts.js";
import type { RedisSync } from "./sync.js";
import type { RedisView } from "./view.js";

/** Documents up to this many characters travel inside the change notice. */
const INLINE_NOTICE_MAX = 64 * 1024;
const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** Writes `raw` at revision `rev` if Redis still holds what `expected` says; `seq` orders the reply among reads. */
export async function compareAndSet(
  redis: Redis,
  keys: RedisStoreKeys,
  view: RedisView,
  expected: Observed,
  raw: string,
  rev: number,
): Promise<{ ok: boolean; seq: number }> {
  const inline = raw.length <= INLINE_NOTICE_MAX;
  const args = [keys.document, keys.revision, expected.exists ? "1" : "0", expected.rev ?? "", String(rev), raw, keys.channel, inline ? "1" : "0"];
  const notice = inline ? `${rev}\n${raw}` : null;
  if (notice) view.ownWrites.add(notice);
  let seq = view.order.next();
  let result: unknown;
  try {
    try {
      result = await redis.evalsha(CAS_SHA, 2, ...args);
    } catch (error) {
      if (!/NOSCRIPT/.test(asError(error).message)) throw error;
      seq = view.order.next();
      result = await redis.eval(CAS_SCRIPT, 2, ...args);
    }
  } finally {
    if (notice) view.ownWrites.delete(notice);
  }
  return { ok: Number(result) === 1, seq };
}

/** `write(mutator)` of the Redis store. */
export class RedisWriter {
  readonly #settings: StoreSettings;
  readonly #state: StoreState;
  readonly #view: RedisView;
  readonly #sync: RedisSync;

  constructor(settings: StoreSettings, state: StoreState, view: RedisView, sync: RedisSync) {
    this.#settings = settings;
    this.#state = state;
    this.#view = view;
    this.#sync = sync;
  }

  /** Read-modify-write with compare-and-set; `load` starts the store first when it has not loaded. */
  async write(mutator: Mutator, load: () => Promise<unknown>): Promise<Snapshot> {
    const { where, maxWriteAttempts } = this.#settings;
    if (!this.#sync.started || !this.#state.snapshot) await load().catch(() => {});
    for (let attempt = 0; attempt < maxWriteAttempts; attempt++) {
      if (attempt > 0) await sleep(Math.random() * Math.min(250, 4 * 2 ** attempt));
      if (this.#state.closed) throw new StoreClosedError("redis");
      let base: Snapshot;
      let expected: Observed;
      try {
        ({ base, expected } = await this.#base(attempt));
      } catch (error) {
        if (error instanceof StoreClosedError) throw error;
        this.#sync.unreachable(error);
        throw new StoreUnavailableError(`${where}: cannot write: ${asError(error).message}`, { cause: error });
      }
      const next = applyMutation(base, mutator, {
        source: `${where} write`,
        sourceRevision: revisionOf(expected.rev, -1),
        now: this.#state.now(),
        ...this.#cheapDraft(base),
      });
      const json = JSON.stringify(next.document);
      let written: { ok: boolean; seq: number };
      try {
        written = await compareAndSet(this.#sync.commands(), this.#settings.keys, this.#view, expected, json, next.revision);
      } catch (error) {
        if (error instanceof StoreClosedError) throw error;
        this.#sync.unreachable(error);
        throw new StoreUnavailableError(`${where}: cannot write (the write may or may not have been applied): ${asError(error).message}`, {
          cause: error,
        });
      }
      if (written.ok) {
        this.#sync.written(next, written.seq, json);
        return next;
      }
    }
    throw new WriteConflictError(`${where}: gave up after ${maxWriteAttempts} attempts; other writers kept changing the document`);
  }

  /** The document the mutator starts from, and what Redis must still hold for the write to go through. */
  async #base(attempt: number): Promise<{ base: Snapshot; expected: Observed }> {
    const view = this.#view;
    const snap = this.#state.snapshot;
    const rev = view.revisionInRedis;
    if (attempt === 0 && snap && view.origin === "redis" && !view.refused && this.#state.failure === undefined && rev !== null) {
      // Optimistic: our snapshot is what Redis held last we looked; the compare-and-set checks it.
      return { base: snap, expected: { exists: true, rev: rev || null } };
    }
    const current = await this.#sync.read();
    const expected = { exists: current.raw !== null, rev: current.rev };
    if (current.raw === null) {
      return { base: snap && view.origin !== "empty" ? snap : (view.boot ?? snap ?? Snapshot.empty(this.#state.now())), expected };
    }
    try {
      return { base: parseStored(current.raw, current.rev, this.#settings.keys, this.#settings.source, this.#state.now()), expected };
    } catch {
      // A refused document is replaced by a write based on the last good one.
      return { base: snap ?? view.boot ?? Snapshot.empty(this.#state.now()), expected };
    }
  }

  /** A private copy for the mutator: parsing the JSON we hold is cheaper than cloning the snapshot. */
  #cheapDraft(base: Snapshot): { draft?: FlagDocument } {
    const raw = this.#view.rawInForce;
    return base === this.#state.snapshot && raw !== null ? { draft: withDictionaries(JSON.parse(raw) as FlagDocument) } : {};
  }
}
