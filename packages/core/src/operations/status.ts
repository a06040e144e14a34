import { plainValues } from "../document/target-values.js";
import type { Flag, JsonValue, Mode } from "../document/types.js";
import type { ValidationIssue } from "../errors.js";
import type { Snapshot } from "../snapshot.js";
import type { Scope } from "../decision/types.js";
import type { StoreHealth } from "../stores/types.js";
import { isModeFlag, strictestMode, toMode } from "../document/modes.js";
import { inForce, scheduleOf } from "../document/schedule.js";

export interface FlagStatus {
  key: string;
  on: boolean;
  /** The strictest mode the flag puts anyone in. */
  mode: Mode;
  /** `site`/`feature` when it applies to everyone, `user` when to some users or other contexts (tenants); a decision's `scope` but for `context`. */
  scope: Exclude<Scope, "context">;
  /** Whether the flag's window / TTL puts it in force right now. */
  active: boolean;
  /** `active`, `scheduled` (its window has not started) or `ended` (window over or TTL expired). */
  state: "active" | "scheduled" | "ended";
  /** Users targeted into a mode (all of them; `userCount` is their number). */
  users: string[];
  /** How many users are targeted into a mode. */
  userCount: number;
  /** Contexts of other kinds (tenants) targeted into a mode, keys per kind: `{ organization: ["acme"] }`. */
  contexts: Record<string, string[]>;
  /** Percentage of users rolled into a mode, when a rollout does it. */
  percent: number | null;
  since: string | null;
  /** When the window starts, if it has one. */
  from: string | null;
  until: string | null;
  message: string | null;
  by: string | null;
}

/** A flag (not a mode flag) whose fallthrough splits users between its variations, e.g. `storage-cluster` at old 50 / dual 25 / new 25. */
export interface RolloutStatus {
  key: string;
  on: boolean;
  /** Each variation with a share, in the flag's variation order: `{ variation: "old", percent: 50 }`. */
  split: { variation: JsonValue; percent: number }[];
}

export interface DetourStatus {
  /** The store's health (`revision`: the document's, `null` before it loaded). */
  store: { kind: string; revision: number | null; ageMs: number | null; stale: boolean; error: string | null };
  flags: FlagStatus[];
  /** Percentage rollouts between the variations of flags that are not mode flags. */
  rollouts: RolloutStatus[];
  /**
   * What loading the document found wrong, flag by flag (`path`, the `flag`
   * when it has one, `message`): fields LaunchDarkly's SDK tolerates, flags
   * Detour could not load. Empty when the document validates.
   */
  problems: ValidationIssue[];
}

function modeOf(flag: Flag, index: number | undefined): Mode | null {
  return index === undefined ? null : toMode(flag.variations[index] as JsonValue);
}

/** What a mode flag does right now, for `detour status` and the admin console; `null` when it does nothing. */
export function flagStatus(flag: Flag, siteFlag: string, now: number): FlagStatus | null {
  const blocking = (mode: Mode | null): mode is Mode => mode === "read-only" || mode === "maintenance";
  const modes: Mode[] = [];
  const users: string[] = [];
  const contexts: Record<string, string[]> = {};
  let percent: number | null = null;
  let whole = false;
  if (!flag.on) {
    const off = modeOf(flag, flag.offVariation);
    if (blocking(off)) {
      modes.push(off);
      whole = true;
    }
  } else {
    for (const target of flag.targets ?? []) {
      const mode = modeOf(flag, target.variation);
      if (blocking(mode)) {
        modes.push(mode);
        // No spread: a target can hold a million user keys, more arguments than a call takes.
        for (const user of plainValues(target.values)) users.push(user);
      }
    }
    for (const target of flag.contextTargets ?? []) {
      const kind = target.contextKind;
      const mode = modeOf(flag, target.variation);
      // User entries stand for `targets`, counted above.
      if (!kind || kind === "user" || !blocking(mode) || !Array.isArray(target.values) || target.values.length === 0) continue;
      modes.push(mode);
      const keys = (contexts[kind] ??= []);
      for (const key of plainValues(target.values)) keys.push(key);
    }
    const fallthrough = flag.fallthrough;
    if (fallthrough?.variation !== undefined) {
      const mode = modeOf(flag, fallthrough.variation);
      if (blocking(mode)) {
        modes.push(mode);
        whole = true;
      }
    } else if (fallthrough?.rollout) {
      let weight = 0;
      for (const slot of fallthrough.rollout.variations) {
        const mode = modeOf(flag, slot.variation);
        if (blocking(mode)) {
          modes.push(mode);
          weight += slot.weight;
        }
      }
      if (fallthrough.rollout.variations.some((slot) => blocking(modeOf(flag, slot.variation)))) percent = weight / 1000;
      if (weight === 100000) whole = true;
    }
    for (const rule of flag.rules ?? []) {
      const mode = rule.variation !== undefined ? modeOf(flag, rule.variation) : null;
      if (blocking(mode)) modes.push(mode);
    }
  }
  if (modes.length === 0) return null;
  const settings = flag.detour;
  const schedule = scheduleOf(settings);
  return {
    key: flag.key,
    on: flag.on,
    mode: strictestMode(modes),
    scope: whole ? (flag.key === siteFlag ? "site" : "feature") : "user",
    active: inForce(schedule, now),
    state: inForce(schedule, now) ? "active" : now < schedule.from ? "scheduled" : "ended",
    users,
    userCount: users.length,
    contexts,
    percent,
    since: settings?.since ?? null,
    from: Number.isFinite(schedule.from) ? new Date(schedule.from).toISOString() : null,
    until: Number.isFinite(schedule.until) ? new Date(schedule.until).toISOString() : null,
    message: settings?.message ?? null,
    by: settings?.by ?? null,
  };
}

/** The split of a flag that is not a mode flag and rolls users out between its variations; `null` for any other flag. */
export function rolloutStatus(flag: Flag): RolloutStatus | null {
  const slots = flag.on ? flag.fallthrough?.rollout?.variations : undefined;
  if (!slots || slots.filter((slot) => slot.weight > 0).length < 2) return null;
  const split = slots
    .filter((slot) => slot.weight > 0)
    .map((slot) => ({ variation: (flag.variations[slot.variation] ?? null) as JsonValue, percent: slot.weight / 1000 }));
  return { key: flag.key, on: flag.on, split };
}

export function statusOf(snapshot: Snapshot | undefined, health: StoreHealth, siteFlag: string, now: number): DetourStatus {
  const flags: FlagStatus[] = [];
  const rollouts: RolloutStatus[] = [];
  for (const key of snapshot?.keys() ?? []) {
    const flag = snapshot!.definition(key)!;
    if (!isModeFlag(flag, siteFlag)) {
      const rollout = rolloutStatus(flag);
      if (rollout) rollouts.push(rollout);
      continue;
    }
    const status = flagStatus(flag, siteFlag, now);
    if (status) flags.push(status);
  }
  flags.sort((a, b) => (a.key === siteFlag ? -1 : b.key === siteFlag ? 1 : a.key.localeCompare(b.key)));
  rollouts.sort((a, b) => a.key.localeCompare(b.key));
  return {
    store: { kind: health.kind, revision: health.revision, ageMs: health.ageMs, stale: health.stale, error: health.error },
    flags,
    rollouts,
    problems: (snapshot?.problems ?? []).map((problem) => ({ ...problem })),
  };
}
