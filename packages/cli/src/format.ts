import type { DetourStatus, FlagStatus, JsonValue, RolloutStatus } from "@detour/core";

/** How many user ids a line or a JSON list shows before it says how many more there are. */
export const SHOWN_USERS = 5;
export const JSON_USERS = 20;

/** `2026-12-01T02:00:00.000Z` → `2026-12-01 02:00:00Z`; `-` for null. */
export function shortTime(iso: string | null): string {
  if (iso === null) return "-";
  const date = new Date(iso);
  if (Number.isNaN(date.getTime())) return iso;
  return `${date.toISOString().slice(0, 19).replace("T", " ")}Z`;
}

/** `1h05m`, `42s`, `3d4h`. */
export function duration(ms: number): string {
  if (ms < 10_000) return `${(Math.max(0, ms) / 1000).toFixed(1)}s`;
  const s = Math.round(ms / 1000);
  if (s < 60) return `${s}s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m}m${String(s % 60).padStart(2, "0")}s`;
  const h = Math.floor(m / 60);
  if (h < 24) return `${h}h${String(m % 60).padStart(2, "0")}m`;
  return `${Math.floor(h / 24)}d${h % 24}h`;
}

/**
 * `bob`, `bob, alice`, or `1000000 users: user-0, user-1, user-2, user-3, user-4, …`;
 * with `counted`, the count always comes first (`2 users: bob, alice`).
 */
export function userList(users: readonly string[], count = users.length, max = SHOWN_USERS, counted = false): string {
  const shown = users.slice(0, max).join(", ");
  if (count <= max && !counted) return shown;
  return `${count} user${count === 1 ? "" : "s"}: ${shown}${count > max ? ", …" : ""}`;
}

/**
 * Who a flag puts in its mode: `everyone`, `bob, alice`, `25% of users`; for
 * `status` (`counted`) with the count of ids. A flag on for everyone that
 * still lists users says so: `all users; also listed: 2 users: bob, alice`.
 */
export function whoIsIn(flag: FlagStatus, counted = false): string {
  if (flag.scope !== "user") {
    if (flag.userCount === 0) return "everyone";
    return `all users; also listed: ${userList(flag.users, flag.userCount, 3, true)}`;
  }
  const parts: string[] = [];
  if (flag.userCount > 0) parts.push(userList(flag.users, flag.userCount, SHOWN_USERS, counted));
  parts.push(...contextLists(flag));
  if (flag.percent !== null) parts.push(`${flag.percent}% of users`);
  return parts.length === 0 ? "some users (by rules)" : parts.join("; ");
}

/** Targeted contexts of other kinds, one entry per kind: `organization acme, globex`. */
export function contextLists(flag: FlagStatus): string[] {
  return Object.entries(flag.contexts ?? {}).map(([kind, keys]) => {
    const shown = keys.slice(0, SHOWN_USERS).join(", ");
    return `${kind} ${keys.length > SHOWN_USERS ? `(${keys.length}): ${shown}, …` : shown}`;
  });
}

/** One line describing a flag, for `on`, `off`, `down` and `guard`. */
export function describeFlag(flag: FlagStatus): string {
  const who = flag.scope === "user" ? `for ${whoIsIn(flag)}` : `for everyone (${flag.scope})`;
  const from = flag.state === "scheduled" && flag.from ? `, from ${shortTime(flag.from)}` : "";
  const until = flag.until ? `, until ${shortTime(flag.until)}` : "";
  const state = flag.state === "scheduled" ? " (scheduled: not in force yet)" : flag.state === "ended" ? " (ended: its window or ttl is over)" : "";
  return `"${flag.key}" is ${flag.mode} ${who}${from}${until}${state}`;
}

/**
 * What happens to the users listed in a flag that is on for everyone: they
 * stay listed, and are in the whole flag's mode with everyone else until
 * `off` ends it all.
 */
export function listedUsersNote(flag: FlagStatus): string | null {
  if (flag.scope === "user" || flag.userCount === 0) return null;
  const n = flag.userCount;
  const they = n === 1 ? "it is" : "they are";
  return `${n} user${n === 1 ? " is" : "s are"} listed in "${flag.key}" (${userList(flag.users, n, 3)}): ${they} in ${flag.mode} with everyone else while the whole flag is, and stay listed until "detour off ${flag.key}" ends it for all`;
}

/** The store line of `detour status`. */
export function storeLine(status: DetourStatus, display: string): string {
  const { store } = status;
  const parts = [`store: ${display}`];
  parts.push(store.revision === null ? "no document yet" : `revision ${store.revision}`);
  if (store.stale) parts.push(`STALE${store.error ? `: ${store.error}` : ""}`);
  else if (store.error) parts.push(`error: ${store.error}`);
  return parts.join(" · ");
}

function truncate(text: string, max: number): string {
  return text.length > max ? `${text.slice(0, max - 1)}…` : text;
}

function variationName(value: JsonValue): string {
  return typeof value === "string" ? value : JSON.stringify(value);
}

/** `old 50%, dual 25%, new 25%`. */
export function splitText(rollout: RolloutStatus): string {
  return rollout.split.map((slot) => `${variationName(slot.variation)} ${slot.percent}%`).join(", ");
}

function table(header: string[], rows: string[][]): string[] {
  const widths = header.map((title, column) => Math.max(title.length, ...rows.map((row) => row[column]!.length)));
  const format = (row: string[]) => row.map((cell, column) => (column === row.length - 1 ? cell : cell.padEnd(widths[column]!))).join("  ");
  return [format(header), ...rows.map(format)];
}

/** The flags `detour status` lists: those in force and those scheduled; a flag whose window or ttl is over is not in force. */
export function listedFlags(status: DetourStatus): FlagStatus[] {
  return status.flags.filter((flag) => flag.state !== "ended");
}

/** The human table of `detour status`. */
export function statusTable(status: DetourStatus, display: string): string {
  const lines = [storeLine(status, display)];
  const flags = listedFlags(status);
  if (flags.length === 0) {
    lines.push("No flag in force.");
  } else {
    const rows = flags.map((flag) => [
      flag.key,
      flag.state === "active" ? "in force" : "scheduled",
      flag.mode,
      flag.scope,
      whoIsIn(flag, true),
      shortTime(flag.state === "scheduled" ? flag.from : flag.since),
      shortTime(flag.until),
      flag.message === null ? "-" : truncate(flag.message.replace(/\s+/g, " "), 40),
      flag.by ?? "-",
    ]);
    lines.push("", ...table(["FLAG", "STATE", "MODE", "SCOPE", "WHO", "FROM", "UNTIL", "MESSAGE", "BY"], rows));
  }
  if (status.rollouts.length > 0) {
    lines.push("", ...table(["ROLLOUT", "SPLIT"], status.rollouts.map((rollout) => [rollout.key, splitText(rollout)])));
  }
  const problems = status.problems ?? [];
  if (problems.length > 0) {
    lines.push("", `The document loaded with ${problems.length} problem${problems.length === 1 ? "" : "s"} (the other flags are in force):`);
    for (const problem of problems) lines.push(`  ${problem.path}: ${problem.message}`);
  }
  return `${lines.join("\n")}\n`;
}

/** A flag as `status --json` prints it: at most `JSON_USERS` ids, with their count. */
export interface FlagJson extends Omit<FlagStatus, "users"> {
  users: string[];
}

/** What `detour status --json` prints (documented field by field in the README). */
export function statusJson(status: DetourStatus): { store: DetourStatus["store"]; flags: FlagJson[]; rollouts: RolloutStatus[]; problems: DetourStatus["problems"] } {
  return {
    store: status.store,
    flags: status.flags.map((flag) => ({ ...flag, users: flag.users.slice(0, JSON_USERS) })),
    rollouts: status.rollouts,
    problems: status.problems ?? [],
  };
}
