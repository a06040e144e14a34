/**
 * Per-user targets as deltas: which flags' `targets` / `contextTargets`
 * entries a write changed and nothing else, the Redis set that holds a large
 * list, and the compare-and-set script that applies a delta in O(changed
 * users). Lists live in sets, so their order is not kept: assembled lists
 * are sorted.
 */
import { createHash } from "node:crypto";
import type { Flag, Target } from "@detour/core";

/** A list of at least this many values lives in its own Redis set. */
export const LARGE_TARGETS = 1024;

export type TargetList = "targets" | "contextTargets";
const LISTS: readonly TargetList[] = ["targets", "contextTargets"];

/** Users added to and removed from one target entry of one flag. */
export interface TargetDelta {
  readonly flag: string;
  readonly list: TargetList;
  readonly variation: number;
  readonly contextKind: string;
  readonly added: string[];
  readonly removed: string[];
}

/**
 * The set holding one entry's values. `base` is the part of the keys before
 * `:document` (with its Cluster hash tag), so every set shares the document's slot.
 */
export function targetSetKey(base: string, d: Pick<TargetDelta, "flag" | "list" | "variation" | "contextKind">): string {
  return `${base}:targets:${d.list}:${d.variation}:${d.contextKind}:${d.flag}`;
}

const entryId = (t: Target) => `${t.variation}\u0000${t.contextKind ?? "user"}`;
const json = (value: unknown) => JSON.stringify(value);

/**
 * The target deltas that turn flag `before` into `after`, or `null` when
 * anything else changed (another field, an entry's order, an entry added or
 * dropped): such changes take the whole-document path.
 */
export function targetDeltas(key: string, before: Flag, after: Flag): TargetDelta[] | null {
  const rest = (flag: Flag) => json({ ...flag, targets: undefined, contextTargets: undefined });
  if (rest(before) !== rest(after)) return null;
  const deltas: TargetDelta[] = [];
  for (const list of LISTS) {
    const old = before[list] ?? [];
    const now = after[list] ?? [];
    if (old.length !== now.length) return null;
    for (let i = 0; i < now.length; i++) {
      const [a, b] = [old[i]!, now[i]!];
      if (entryId(a) !== entryId(b)) return null;
      if (a.values === b.values) continue;
      const had = new Set(a.values);
      const has = new Set(b.values);
      const added = b.values.filter((v) => !had.has(v));
      const removed = a.values.filter((v) => !has.has(v));
      if (added.length + removed.length === 0) continue;
      deltas.push({ flag: key, list, variation: b.variation, contextKind: b.contextKind ?? "user", added, removed });
    }
  }
  return deltas;
}

/**
 * Applies target deltas if the revision is still the expected one, bumps it
 * and publishes the deltas, all in one atomic step.
 *
 * KEYS[1] revision key, KEYS[2…] one set per delta.
 * ARGV[1] expected revision, ARGV[2] new revision, ARGV[3] channel,
 * ARGV[4] the notice after `<revision>\n` (the deltas JSON),
 * then per delta: the number added, the number removed, the added, the removed.
 *
 * Returns 1 when applied, 0 when the revision moved on.
 */
export const TARGETS_SCRIPT = `
local rev = redis.call('GET', KEYS[1])
if rev == false then rev = '' end
if rev ~= ARGV[1] then return 0 end
local i = 5
for k = 2, #KEYS do
  local nadd = tonumber(ARGV[i]); local nrem = tonumber(ARGV[i + 1]); i = i + 2
  for j = 0, nadd - 1, 5000 do
    redis.call('SADD', KEYS[k], unpack(ARGV, i + j, i + math.min(j + 4999, nadd - 1)))
  end
  i = i + nadd
  for j = 0, nrem - 1, 5000 do
    redis.call('SREM', KEYS[k], unpack(ARGV, i + j, i + math.min(j + 4999, nrem - 1)))
  end
  i = i + nrem
end
redis.call('SET', KEYS[1], ARGV[2])
redis.call('PUBLISH', ARGV[3], ARGV[2] .. '\\n' .. ARGV[4])
return 1
`;

export const TARGETS_SHA = createHash("sha1").update(TARGETS_SCRIPT).digest("hex");

/** Marks a notice that carries target deltas: `<revision>\ntargets <base revision>\n<deltas JSON>`. */
export const TARGETS = "targets ";

/** `KEYS` and `ARGV` of `TARGETS_SCRIPT` for `deltas` written at `rev` over `expected`. */
export function targetsScriptArgs(
  base: string,
  revisionKey: string,
  channel: string,
  expected: string,
  rev: number,
  deltas: readonly TargetDelta[],
): { keys: string[]; argv: string[]; notice: string } {
  const notice = `${TARGETS}${expected}\n${JSON.stringify(deltas)}`;
  const argv = [expected, String(rev), channel, notice];
  for (const d of deltas) argv.push(String(d.added.length), String(d.removed.length), ...d.added, ...d.removed);
  return { keys: [revisionKey, ...deltas.map((d) => targetSetKey(base, d))], argv, notice };
}

/** `values` with a delta applied, sorted (set semantics). */
export function applyDelta(values: readonly string[], delta: Pick<TargetDelta, "added" | "removed">): string[] {
  const set = new Set(values);
  for (const v of delta.added) set.add(v);
  for (const v of delta.removed) set.delete(v);
  return [...set].sort();
}
