/**
 * Writing the document: a versioned compare-and-set (one Lua script that
 * checks, writes both keys and publishes the change notice), retried with a
 * fresh read and jittered backoff when another writer won.
 */
import {
  Snapshot,
  StoreClosedError,
  StoreUnavailableError,
  WriteConflictError,
  applyMutation,
  asError,
  type DocumentChanges,
  type Mutator,
  type StoreState,
} from "@detour/core/store";
import type { FlagDocument } from "@detour/core";
import type { RedisClient } from "./connection.js";
import { parseStored, revisionOf, type Observed } from "./document.js";
import type { RedisStoreKeys, StoreSettings } from "./options.js";
import { stageLarge } from "./bulk.js";
import { planWrite, type WritePlan } from "./layout.js";
import { WRITE_SCRIPT, WRITE_SHA } from "./scripts.js";
import { targetSetKey, type SetId } from "./targets.js";
import type { RedisSync } from "./sync.js";
import type { RedisView } from "./view.js";

/** Documents up to this many characters travel inside the change notice. */
const INLINE_NOTICE_MAX = 64 * 1024;
const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** The outcome of a compare-and-set: whether it went through, its place among reads, the master's connected replicas. */
export interface CasResult {
  readonly ok: boolean;
  readonly seq: number;
  readonly replicas: number;
}

/**
 * Writes `plan` at revision `rev` if Redis still holds what `expected` says;
 * `seq` orders the reply among reads. `ROLE` travels in the same round trip
 * (on a Cluster, to the node holding the keys) to count the replicas the
 * write must reach before it is acknowledged.
 */
export async function compareAndSet(
  redis: RedisClient,
  keys: RedisStoreKeys,
  view: RedisView,
  expected: Observed,
  plan: WritePlan,
  rev: number,
): Promise<CasResult> {
  const { ops, discard } = await stageLarge(redis, keys.targets, plan.ops);
  const args: string[] = [keys.document, keys.revision, keys.targets];
  for (const op of ops) args.push(targetSetKey(keys.targets, op.id));
  args.push(expected.exists ? "1" : "0", expected.rev ?? "", String(rev), plan.stored, keys.channel, plan.notice, plan.reset ? "1" : "0");
  // No spread: a set written whole can hold a million values, more arguments than a call takes.
  for (const op of ops) {
    args.push(op.op, String(op.added.length), String(op.removed.length));
    for (const v of op.added) args.push(v);
    for (const v of op.removed) args.push(v);
  }
  const notice = plan.notice === "" ? null : `${rev}\n${plan.notice}`;
  if (notice) view.ownWrites.add(notice);
  let seq = view.order.next();
  let replies: Array<[Error | null, unknown]>;
  try {
    replies = await exec(redis.pipeline().evalsha(WRITE_SHA, 3 + ops.length, args).role());
    if (replies[0]![0] && /NOSCRIPT/.test(replies[0]![0].message)) {
      seq = view.order.next();
      replies = await exec(redis.pipeline().eval(WRITE_SCRIPT, 3 + ops.length, args).role());
    }
  } finally {
    if (notice) view.ownWrites.delete(notice);
  }
  const [[casError, result], [, role]] = replies as [[Error | null, unknown], [Error | null, unknown]];
  const ok = !casError && Number(result) === 1;
  if (!ok) await discard();
  if (casError) throw casError;
  return { ok, seq, replicas: replicasOf(role) };
}

/**
 * The notice of a write that involves no target set: the changes when they
 * are smaller than the document, else the document when it is small, else
 * nothing (receivers read it).
 */
export function smallNotice(raw: string, changes: () => DocumentChanges | null, base: string | null): string {
  const diff = base === null ? null : changes();
  const carried = diff === null ? undefined : changesNotice(base!, diff);
  if (carried !== undefined && carried.length <= INLINE_NOTICE_MAX && carried.length < raw.length) return carried;
  return raw.length <= INLINE_NOTICE_MAX ? raw : "";
}

/** Plans writing `next` over `base` (see `planWrite`), with the notices this store sends. */
export function plan(base: Readonly<FlagDocument>, inRedis: ReadonlySet<SetId> | null, next: Readonly<FlagDocument>, baseRevision: string | null): WritePlan {
  return planWrite(base, inRedis, next, baseRevision, (raw, changes) => smallNotice(raw, changes, baseRevision), INLINE_NOTICE_MAX);
}

/** Marks a notice that carries changes: `<revision>\nchanges <base revision>\n<changes JSON>`. */
export const CHANGES = "changes ";

/** The changes from revision `base` to the next, as a change notice carries them. */
export function changesNotice(base: string, changes: DocumentChanges): string {
  return `${CHANGES}${base}\n${JSON.stringify(changes)}`;
}

/**
 * Waits until `replicas` replicas have everything written so far (Redis
 * `WAIT`, sent with a key so a Cluster routes it to the keys' master);
 * resolves with how many confirmed within `timeoutMs`.
 */
export async function awaitReplicas(redis: RedisClient, keys: RedisStoreKeys, replicas: number, timeoutMs: number): Promise<number> {
  const replies = await exec(redis.pipeline().exists(keys.revision).wait(replicas, timeoutMs));
  const [error, acked] = replies[1]!;
  if (error) throw error;
  return Number(acked);
}

async function exec(pipeline: ReturnType<RedisClient["pipeline"]>): Promise<Array<[Error | null, unknown]>> {
  const replies = await pipeline.exec();
  if (!replies) throw new Error("the pipeline was discarded");
  return replies;
}

/** `ROLE` on a master: `["master", offset, [[ip, port, offset], …]]`, one entry per connected replica. */
function replicasOf(role: unknown): number {
  return Array.isArray(role) && role[0] === "master" && Array.isArray(role[2]) ? role[2].length : 0;
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
      let inRedis: ReadonlySet<SetId> | null;
      try {
        ({ base, expected, inRedis } = await this.#base(attempt));
      } catch (error) {
        if (error instanceof StoreClosedError) throw error;
        this.#sync.unreachable(error);
        throw new StoreUnavailableError(`${where}: cannot write: ${asError(error).message}`, { cause: error });
      }
      const next = applyMutation(base, mutator, {
        source: `${where} write`,
        sourceRevision: revisionOf(expected.rev, -1),
        now: this.#state.now(),
        incremental: true,
      });
      const planned = plan(base.document, inRedis, next.document, inRedis !== null && expected.exists && expected.rev !== null && String(base.revision) === expected.rev ? expected.rev : null);
      let written: CasResult;
      try {
        written = await compareAndSet(this.#sync.commands(), this.#settings.keys, this.#view, expected, planned, next.revision);
      } catch (error) {
        if (error instanceof StoreClosedError) throw error;
        this.#sync.unreachable(error);
        throw new StoreUnavailableError(`${where}: cannot write (the write may or may not have been applied): ${asError(error).message}`, {
          cause: error,
        });
      }
      if (written.ok) {
        this.#sync.written(next, written.seq, planned);
        await this.#replicated(written.replicas, next.revision);
        return next;
      }
    }
    throw new WriteConflictError(`${where}: gave up after ${maxWriteAttempts} attempts; other writers kept changing the document`);
  }

  /** Acknowledges a write only once the master's connected replicas have it, so a failover cannot lose it. */
  async #replicated(replicas: number, revision: number): Promise<void> {
    const { where, keys, replicaAckTimeoutMs } = this.#settings;
    if (replicas === 0 || replicaAckTimeoutMs === 0) return;
    let acked: number;
    try {
      acked = await awaitReplicas(this.#sync.commands(), keys, replicas, replicaAckTimeoutMs);
    } catch (error) {
      if (error instanceof StoreClosedError) throw error;
      throw new StoreUnavailableError(
        `${where}: revision ${revision} reached the master, but confirming it on its replicas failed (${asError(error).message}); a failover may lose it`,
        { cause: error },
      );
    }
    if (acked < replicas) {
      throw new StoreUnavailableError(
        `${where}: revision ${revision} reached the master, but only ${acked} of its ${replicas} replicas confirmed it within ${replicaAckTimeoutMs} ms (WAIT); a failover may lose it`,
      );
    }
  }

  /**
   * The document the mutator starts from, what Redis must still hold for the
   * write to go through, and the target sets Redis holds for that document
   * (`null` when the base is not what Redis holds).
   */
  async #base(attempt: number): Promise<{ base: Snapshot; expected: Observed; inRedis: ReadonlySet<SetId> | null }> {
    const view = this.#view;
    const snap = this.#state.snapshot;
    const rev = view.revisionInRedis;
    if (attempt === 0 && snap && view.origin === "redis" && !view.refused && this.#state.failure === undefined && rev !== null) {
      // Optimistic: our snapshot is what Redis held last we looked; the compare-and-set checks it.
      return { base: snap, expected: { exists: true, rev: rev || null }, inRedis: view.sets };
    }
    const current = await this.#sync.read();
    const expected = { exists: current.raw !== null, rev: current.rev };
    if (current.raw === null) {
      return { base: snap && view.origin !== "empty" ? snap : (view.boot ?? snap ?? Snapshot.empty(this.#state.now())), expected, inRedis: null };
    }
    try {
      const base = parseStored(current.raw, current.rev, this.#settings.keys, this.#settings.source, this.#state.now(), current.members);
      return { base, expected, inRedis: new Set(current.members.keys()) };
    } catch {
      // A refused document is replaced by a write based on the last good one.
      return { base: snap ?? view.boot ?? Snapshot.empty(this.#state.now()), expected, inRedis: null };
    }
  }
}
