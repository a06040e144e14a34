import type { Flag, FlagDocument, JsonValue, VariationOrRollout } from "../document/types.js";
import { toMode } from "../document/modes.js";

/*
 * Maintenance periods, which bypass cookies are bound to. A flag's period is
 * derived from its `version` and its `detour.window.start` or `detour.since`:
 * every write through Detour that turns a flag on moves both (enable sets
 * `since` and bumps `version`; `replace()`, and so `detour import` and the
 * admin's `PUT /api/document`, do the same for each maintenance flag they
 * bring into force: `markNewPeriods`), and LaunchDarkly bumps `version` on
 * every change.
 * A hand edit of the file that turns a flag back on without changing either
 * keeps the old period: the README says to bump `version`.
 */

/** Identifies the current maintenance period of flag `key` (its definition `flag`): bypass cookies die with it. */
export function periodOf(key: string, flag: Readonly<Flag> | undefined): string {
  const settings = flag?.detour;
  return `${key}@${flag?.version ?? 0}@${settings?.window?.start ?? settings?.since ?? ""}`;
}

/** The period of a flag kept in maintenance by its fail mode during store outage `outage`. */
export function failClosedPeriod(key: string, outage: string): string {
  return `${key}@fail-closed@${outage}`;
}

function outcomeVariations(outcome: VariationOrRollout | undefined, into: number[]): void {
  if (!outcome) return;
  if (typeof outcome.variation === "number") into.push(outcome.variation);
  for (const slot of outcome.rollout?.variations ?? []) if (slot.weight > 0) into.push(slot.variation);
}

/** Whether a flag can put someone in read-only or maintenance (windows aside). */
export function blocksSomeone(flag: Readonly<Flag> | undefined): boolean {
  if (!flag || !Array.isArray(flag.variations)) return false;
  const indexes: number[] = [];
  if (flag.on !== true) {
    if (typeof flag.offVariation === "number") indexes.push(flag.offVariation);
  } else {
    for (const target of flag.targets ?? []) if (target.values.length > 0) indexes.push(target.variation);
    for (const rule of flag.rules ?? []) outcomeVariations(rule, indexes);
    outcomeVariations(flag.fallthrough, indexes);
  }
  return indexes.some((i) => {
    const mode = toMode(flag.variations[i] as JsonValue);
    return mode === "read-only" || mode === "maintenance";
  });
}

/**
 * Marks each maintenance flag of `next` (one with Detour settings, `detour`)
 * that comes into force (it can block someone, and in `previous` it could not
 * or did not exist) as turned on at `now`, as `enable` would: `version` goes
 * above both its own and the one it replaces, and `detour.since` becomes
 * `now` unless the flag has a `ttl` (which counts from its own `since`). So a document restored from an export starts a new maintenance
 * period and does not revive the bypass cookies of the period it was
 * exported in. Flags without Detour settings (LaunchDarkly's own, imported
 * as they are) are left untouched: LaunchDarkly bumps their version itself.
 * Edits `next` in place.
 */
export function markNewPeriods(previous: Readonly<FlagDocument>, next: FlagDocument, now: number): void {
  const flags = next.flags;
  if (!flags) return;
  for (const key of Object.keys(flags)) {
    const flag = flags[key]!;
    if (!flag.detour) continue;
    const before = previous.flags && Object.prototype.hasOwnProperty.call(previous.flags, key) ? previous.flags[key] : undefined;
    if (!blocksSomeone(flag) || blocksSomeone(before)) continue;
    flag.version = Math.max(flag.version ?? 0, before?.version ?? 0) + 1;
    // `ttl` counts from `since`: a flag that brings its own keeps its schedule (the version alone moves the period).
    if (flag.detour.ttl === undefined) flag.detour.since = new Date(now).toISOString();
  }
}
