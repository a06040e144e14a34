/*
 * Target lists that change by a few keys at a time without being copied.
 *
 * A snapshot's list is either a plain frozen array or a *derived* one: a
 * root array (plain, shared, never changed) with keys removed from it and
 * keys appended to it. A derived list is an array to every reader (a Proxy
 * over an array, so `Array.isArray` holds): its length is known without
 * building it, and the first other read builds the plain array once.
 * `JSON.stringify` gets the built array through `toJSON`, at the speed of a
 * plain one.
 *
 * A writer's draft holds a *tracked* list in place of a large one: the
 * helpers below (`hasValue`, `removeValues`, `appendValues`, `valueCount`)
 * record what a write adds and removes; any other use turns it into a
 * plain copy first, so mutators that treat it as an array still work.
 * `trackedChange` tells the recorded change, which is what the snapshot
 * applies to its compiled targets and what a store sends.
 */

export type TargetList = "targets" | "contextTargets";

/** Keys added to and removed from one target entry by a change (see `DocumentChanges.targets`). */
export interface TargetChange {
  /** The entry in the new definition. */
  readonly list: TargetList;
  readonly index: number;
  /** The entry of the previous definition (same list) whose values it starts from. */
  readonly from: number;
  /** Keys not in the entry before (strings). */
  readonly added: readonly string[];
  /** Keys the entry held. */
  readonly removed: readonly string[];
  /** The list is kept sorted (a set read back, as the Redis store does): the added keys take their place instead of going last. */
  readonly sorted?: boolean;
}

/** Keys changed since a list's root (or a compiled group's Map) past which it is built afresh: 2·√n, so copying the change on each write and rebuilding now and then cost about the same. */
export const foldLimit = (size: number): number => Math.max(64, Math.ceil(2 * Math.sqrt(size)));

/** root − removed, then appended (in order): a key removed and appended again moves to the end, as `filter` then `push` do. */
interface Derivation {
  readonly root: readonly string[];
  readonly removed: ReadonlySet<string>;
  readonly appended: ReadonlySet<string>;
  /** The root is sorted and the appended keys are merged into it in order. */
  readonly sorted: boolean;
}

const derivations = new WeakMap<object, Derivation>();

/** Who knows whether a snapshot's list holds a key without scanning it (the compiled target group, usually). */
const memberships = new WeakMap<object, (key: string) => boolean>();

/** Indexes built for lists no compiled group speaks for (built once: the lists are frozen). */
const indexes = new WeakMap<object, ReadonlySet<string>>();

/** The list `d` stands for, written into `out`. */
function build(d: Derivation, out: string[] = []): string[] {
  const { root, removed } = d;
  const extra = d.sorted ? [...d.appended].sort() : [];
  let next = 0;
  for (let i = 0; i < root.length; i++) {
    const v = root[i]!;
    if (removed.size !== 0 && removed.has(v)) continue;
    while (next < extra.length && extra[next]! < v) out.push(extra[next++]!);
    out.push(v);
  }
  while (next < extra.length) out.push(extra[next++]!);
  if (!d.sorted) for (const v of d.appended) out.push(v);
  return out;
}

/**
 * The traps of an array Proxy whose target is filled on first use: every
 * trap builds it (`ready`), then reads the target, so the Proxy invariants
 * hold (what it reports is what the target holds).
 */
function builtOnUse(ready: () => string[]): ProxyHandler<string[]> {
  return {
    has: (_, key) => Reflect.has(ready(), key),
    ownKeys: () => Reflect.ownKeys(ready()),
    getOwnPropertyDescriptor: (_, key) => Reflect.getOwnPropertyDescriptor(ready(), key),
    defineProperty: (_, key, descriptor) => Reflect.defineProperty(ready(), key, descriptor),
    deleteProperty: (_, key) => Reflect.deleteProperty(ready(), key),
    isExtensible: () => Reflect.isExtensible(ready()),
    preventExtensions: () => Reflect.preventExtensions(ready()),
    getPrototypeOf: () => Array.prototype,
    setPrototypeOf: () => false,
  };
}

/** A frozen array that stands for `d`, built on its first read. */
function derived(d: Derivation): readonly string[] {
  const target: string[] = [];
  let built = false;
  const ready = () => {
    if (!built) {
      built = true;
      build(d, target);
      Object.freeze(target);
    }
    return target;
  };
  const length = d.root.length - d.removed.size + d.appended.size;
  const toJSON = () => ready();
  const proxy = new Proxy(target, {
    ...builtOnUse(ready),
    get: (_, key) => (key === "length" && !built ? length : key === "toJSON" ? toJSON : Reflect.get(ready(), key)),
    set: () => false,
  });
  derivations.set(proxy, d);
  return proxy;
}

/** What a list was derived from in one step, and how (also for a list folded into a new root). */
const steps = new WeakMap<object, { readonly from: readonly string[]; readonly added: readonly string[]; readonly removed: readonly string[] }>();

/**
 * The keys `after` added to and removed from `before`, when `after` is
 * `before` changed by one `Snapshot.patch` (what a store writing the patched
 * snapshot sends); `undefined` otherwise.
 */
export function valuesChange(before: readonly string[], after: readonly string[]): { added: string[]; removed: string[] } | undefined {
  if (before === after) return { added: [], removed: [] };
  const step = steps.get(after);
  return step && step.from === before ? { added: [...step.added], removed: [...step.removed] } : undefined;
}

/** True for a derived list (the snapshot leaves it out of its deep freeze: it is frozen when built). */
export function isDerived(values: unknown): boolean {
  return values !== null && typeof values === "object" && derivations.has(values);
}

/** Records who answers `has` for a snapshot's (frozen) list. */
export function setMembership(values: readonly string[], has: (key: string) => boolean): void {
  memberships.set(values, has);
}

/** Whether a snapshot's list holds `key`, without building or scanning it when it can. */
function snapshotHas(values: readonly string[], key: string): boolean {
  const known = memberships.get(values);
  if (known) return known(key);
  const d = derivations.get(values);
  if (d) return d.appended.has(key) || (!d.removed.has(key) && snapshotHas(d.root, key));
  let index = indexes.get(values);
  if (index === undefined) indexes.set(values, (index = new Set(values)));
  return index.has(key);
}

/** The number of keys in a list, derived or tracked ones without building them. */
export function valueCount(values: readonly string[]): number {
  const t = tracked.get(values);
  if (t && !t.copied) return t.count;
  return values.length;
}

/**
 * `values` (a snapshot's list, holding every key of `removed` and none of
 * `added`) with `removed` taken out and `added` appended: derived from the
 * same root, or from a new root once the change since the root passes
 * `limit` keys.
 */
export function deriveValues(values: readonly string[], added: readonly string[], removed: readonly string[], limit: number, sorted = false): readonly string[] {
  if (added.length === 0 && removed.length === 0) return values;
  if (!removed.every((key) => snapshotHas(values, key)) || added.some((key) => snapshotHas(values, key) && !removed.includes(key))) {
    // Not the change it says it is (a delta from elsewhere): applied as to a set, whatever the cost.
    const drop = new Set(removed);
    const kept = plainValues(values).filter((v) => !drop.has(v));
    const have = new Set(kept);
    for (const key of added) if (!have.has(key)) kept.push(key);
    return Object.freeze(sorted ? kept.sort() : kept);
  }
  const next = derive(values, added, removed, limit, sorted);
  steps.set(next, { from: values, added, removed });
  return next;
}

function derive(values: readonly string[], added: readonly string[], removed: readonly string[], limit: number, sorted: boolean): readonly string[] {
  let d = derivations.get(values);
  // A list derived in the other order is built first (a store that changed how it keeps the list).
  if (d && d.sorted !== sorted) d = undefined;
  const root = d ? d.root : plainValues(values);
  const gone = new Set(d?.removed);
  const appended = new Set(d?.appended);
  for (const key of removed) {
    if (!appended.delete(key)) gone.add(key);
  }
  for (const key of added) appended.add(key);
  if (gone.size + appended.size > limit) return Object.freeze(build({ root, removed: gone, appended, sorted }));
  return derived({ root, removed: gone, appended, sorted });
}

/** A draft's list standing for a snapshot's, with what the write did to it so far. */
interface Tracked {
  readonly source: readonly string[];
  readonly added: Set<string>;
  readonly removed: Set<string>;
  count: number;
  copied: boolean;
}

const tracked = new WeakMap<object, Tracked>();

/**
 * A draft's stand-in for a snapshot's list: the helpers record changes on
 * it; anything else makes it a plain mutable copy first.
 */
export function trackValues(source: readonly string[]): string[] {
  const target: string[] = [];
  const state: Tracked = { source, added: new Set(), removed: new Set(), count: source.length, copied: false };
  const ready = () => {
    if (!state.copied) {
      state.copied = true;
      for (const v of plainValues(source)) if (!state.removed.has(v)) target.push(v);
      for (const v of state.added) target.push(v);
    }
    return target;
  };
  const proxy = new Proxy(target, {
    ...builtOnUse(ready),
    get: (_, key) => (key === "length" && !state.copied ? state.count : Reflect.get(ready(), key)),
    set: (_, key, value) => Reflect.set(ready(), key, value),
  });
  tracked.set(proxy, state);
  return proxy;
}

/** What a write did to a tracked list, relative to its snapshot list; `undefined` for any other list (or one used as an array). */
export function trackedChange(values: unknown): { source: readonly string[]; added: string[]; removed: string[] } | undefined {
  const t = values !== null && typeof values === "object" ? tracked.get(values) : undefined;
  if (t === undefined || t.copied) return undefined;
  return { source: t.source, added: [...t.added], removed: [...t.removed] };
}

/** The plain array of a tracked list (what `JSON.stringify` or a copy would read), built once. */
export function plainValues(values: readonly string[]): readonly string[] {
  const t = tracked.get(values);
  if (t && !t.copied) return [...values];
  const d = derivations.get(values);
  return d ? ((values as unknown as { toJSON(): string[] }).toJSON()) : values;
}

/** Whether `values` holds `key`. */
export function hasValue(values: readonly string[], key: string): boolean {
  const t = tracked.get(values);
  if (t && !t.copied) return t.added.has(key) || (!t.removed.has(key) && snapshotHas(t.source, key));
  return values.includes(key);
}

/** Takes `drop` out of `target.values` (a tracked list records it; a plain one is filtered). */
export function removeValues(target: { values: string[] }, drop: ReadonlySet<string>): void {
  const t = tracked.get(target.values);
  if (t && !t.copied) {
    for (const key of drop) {
      if (t.added.delete(key)) t.count--;
      else if (!t.removed.has(key) && snapshotHas(t.source, key)) {
        t.removed.add(key);
        t.count--;
      }
    }
    return;
  }
  if (target.values.some((v) => drop.has(v))) target.values = target.values.filter((v) => !drop.has(v));
}

/** Appends `keys` (none of them in the list) to `target.values`. */
export function appendValues(target: { values: string[] }, keys: readonly string[]): void {
  const t = tracked.get(target.values);
  if (t && !t.copied) {
    for (const key of keys) {
      if (!t.added.has(key)) {
        // A key removed from the snapshot's list and appended again moves to the end, as with a plain list.
        t.added.add(key);
        t.count++;
      }
    }
    return;
  }
  // No spread: a target can hold a million user keys, more arguments than a call takes.
  for (const key of keys) target.values.push(key);
}
