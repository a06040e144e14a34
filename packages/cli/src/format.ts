import type { DetourStatus, FlagStatus } from "@detour/core";

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

/** Users and/or percentage of a flag in force, e.g. `u1, u2 +3 more; 25%`, or `everyone`. */
export function whoIsIn(flag: FlagStatus, maxUsers = 3): string {
  const parts: string[] = [];
  if (flag.users.length > 0) {
    const shown = flag.users.slice(0, maxUsers).join(", ");
    const more = flag.users.length > maxUsers ? ` +${flag.users.length - maxUsers} more` : "";
    parts.push(`${shown}${more}`);
  }
  if (flag.percent !== null && flag.scope === "users") parts.push(`${flag.percent}%`);
  if (parts.length === 0) return flag.scope === "users" ? "(rules)" : "everyone";
  return parts.join("; ");
}

/** One line describing a flag in force, for `on`, `off` and `guard`. */
export function describeFlag(flag: FlagStatus): string {
  const who = flag.scope === "users" ? `for ${whoIsIn(flag, 5)}` : `for everyone (${flag.scope})`;
  const until = flag.until ? `, until ${shortTime(flag.until)}` : "";
  const active = flag.active ? "" : " (not in force right now: outside its window)";
  return `"${flag.key}" is ${flag.mode} ${who}${until}${active}`;
}

/** The store line of `detour status`. */
export function storeLine(status: DetourStatus, display: string): string {
  const { store } = status;
  const parts = [`store: ${display}`];
  parts.push(store.version === null ? "no document yet" : `revision ${store.version}`);
  if (store.stale) parts.push(`STALE${store.error ? `: ${store.error}` : ""}`);
  else if (store.error) parts.push(`error: ${store.error}`);
  return parts.join(" · ");
}

function truncate(text: string, max: number): string {
  return text.length > max ? `${text.slice(0, max - 1)}…` : text;
}

/** The human table of `detour status`. */
export function statusTable(status: DetourStatus, display: string): string {
  const lines = [storeLine(status, display)];
  if (status.flags.length === 0) {
    lines.push("No flag in force.");
    return `${lines.join("\n")}\n`;
  }
  const header = ["FLAG", "MODE", "SCOPE", "USERS/PERCENT", "SINCE", "UNTIL", "MESSAGE", "BY"];
  const rows = status.flags.map((flag) => [
    flag.key,
    flag.active ? flag.mode : `${flag.mode} (inactive)`,
    flag.scope,
    flag.scope === "users" ? whoIsIn(flag) : flag.percent !== null ? `${flag.percent}%` : "everyone",
    shortTime(flag.since),
    shortTime(flag.until),
    flag.message === null ? "-" : truncate(flag.message.replace(/\s+/g, " "), 40),
    flag.by ?? "-",
  ]);
  const widths = header.map((title, column) => Math.max(title.length, ...rows.map((row) => row[column]!.length)));
  const format = (row: string[]) => row.map((cell, column) => (column === row.length - 1 ? cell : cell.padEnd(widths[column]!))).join("  ");
  lines.push("", format(header), ...rows.map(format));
  if (status.flags.some((flag) => !flag.active)) lines.push("", "(inactive): set, but outside its window or past its TTL right now.");
  return `${lines.join("\n")}\n`;
}
