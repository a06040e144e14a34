import type { DetourFlagSettings } from "./types.js";

/** When a flag's own schedule puts it in force: `[from, until)` in epoch ms (either may be open). */
export interface Schedule {
  readonly from: number;
  readonly until: number;
}

export const ALWAYS: Schedule = Object.freeze({ from: -Infinity, until: Infinity });

/** The window (`start`/`end`) and self-expiry (`since` + `ttl`) of a flag, combined. */
export function scheduleOf(settings: DetourFlagSettings | undefined): Schedule {
  if (!settings) return ALWAYS;
  let from = -Infinity;
  let until = Infinity;
  if (settings.window?.start) from = Date.parse(settings.window.start);
  if (settings.window?.end) until = Date.parse(settings.window.end);
  if (settings.ttl !== undefined && settings.since) {
    until = Math.min(until, Date.parse(settings.since) + settings.ttl * 1000);
  }
  return from === -Infinity && until === Infinity ? ALWAYS : { from, until };
}

export function inForce(schedule: Schedule, now: number): boolean {
  return now >= schedule.from && now < schedule.until;
}
