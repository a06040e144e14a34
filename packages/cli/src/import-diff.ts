import { flagStatus, type Flag, type FlagDocument, type FlagStatus } from "@detour/core";
import { describeFlag } from "./format.js";

/** What an import changes, flag by flag, and which flags in force it touches. */
export interface ImportDiff {
  added: string[];
  removed: string[];
  changed: string[];
  unchanged: number;
  /** Flags in force (or scheduled) now that the import removes or changes. */
  touchesInForce: string[];
  /** One line per flag added, removed or changed, with what is in force before and after. */
  lines: string[];
}

/** A flag without the fields every write changes (version), as stable JSON, for comparison. */
function comparable(value: unknown): string {
  if (value !== null && typeof value === "object" && !Array.isArray(value)) {
    const { version: _version, ...rest } = value as Flag & { version?: number };
    return stableJson(rest);
  }
  return stableJson(value);
}

function stableJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(stableJson).join(",")}]`;
  if (value !== null && typeof value === "object") {
    const entries = Object.entries(value as Record<string, unknown>).filter(([, v]) => v !== undefined);
    entries.sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${stableJson(v)}`).join(",")}}`;
  }
  return JSON.stringify(value);
}

function entries(doc: Readonly<FlagDocument>): Map<string, unknown> {
  const out = new Map<string, unknown>();
  for (const [key, flag] of Object.entries(doc.flags ?? {})) out.set(key, flag);
  for (const [key, value] of Object.entries(doc.flagValues ?? {})) out.set(key, { flagValue: value });
  return out;
}

function inForce(doc: Readonly<FlagDocument>, key: string, now: number): FlagStatus | null {
  const flag = doc.flags?.[key];
  if (flag === undefined) return null;
  const status = flagStatus(flag as Flag, "site", now);
  return status !== null && status.state !== "ended" ? status : null;
}

function force(status: FlagStatus | null): string {
  return status === null ? "not in force" : describeFlag(status).replace(/^"[^"]*" is /, "");
}

/** Compares the document in the store with the one that would replace it. */
export function diffDocuments(before: Readonly<FlagDocument>, after: Readonly<FlagDocument>, now = Date.now()): ImportDiff {
  const old = entries(before);
  const next = entries(after);
  const diff: ImportDiff = { added: [], removed: [], changed: [], unchanged: 0, touchesInForce: [], lines: [] };
  for (const [key, value] of next) {
    if (!old.has(key)) diff.added.push(key);
    else if (comparable(old.get(key)) !== comparable(value)) diff.changed.push(key);
    else diff.unchanged++;
  }
  for (const key of old.keys()) if (!next.has(key)) diff.removed.push(key);
  for (const key of diff.added) diff.lines.push(`  + ${key}: added (${force(inForce(after, key, now))})`);
  for (const key of diff.changed) {
    const was = inForce(before, key, now);
    if (was !== null) diff.touchesInForce.push(key);
    diff.lines.push(`  ~ ${key}: changed (in force before: ${force(was)}; after: ${force(inForce(after, key, now))})`);
  }
  for (const key of diff.removed) {
    const was = inForce(before, key, now);
    if (was !== null) diff.touchesInForce.push(key);
    diff.lines.push(`  - ${key}: removed (in force before: ${force(was)})`);
  }
  return diff;
}

/** `2 added, 1 changed, 1 removed, 3 unchanged`. */
export function diffSummary(diff: ImportDiff): string {
  const parts = [`${diff.added.length} added`, `${diff.changed.length} changed`, `${diff.removed.length} removed`, `${diff.unchanged} unchanged`];
  return parts.join(", ");
}
