import { isDeepStrictEqual } from "node:util";
import type { Clause, Flag, Segment, Snapshot } from "@detour/core";

/**
 * The keys of the flags whose evaluation may differ between two snapshots:
 * flags added, removed or whose definition changed (a structural comparison
 * of the raw definitions), and, as LaunchDarkly's change tracker does, flags
 * that depend on a changed segment (through `segmentMatch`, directly or via
 * other segments) or on a changed flag (through prerequisites, transitively).
 * Sorted; empty when no flag can evaluate differently (e.g. only the audit log changed).
 */
export function changedFlags(before: Snapshot, after: Snapshot): string[] {
  const changed = new Set<string>();
  for (const key of new Set([...before.keys(), ...after.keys()])) {
    if (!isDeepStrictEqual(before.definition(key), after.definition(key))) changed.add(key);
  }

  const segmentsBefore = before.document.segments ?? {};
  const segmentsAfter = after.document.segments ?? {};
  const changedSegments = new Set<string>();
  for (const key of new Set([...Object.keys(segmentsBefore), ...Object.keys(segmentsAfter)])) {
    if (!isDeepStrictEqual(segmentsBefore[key], segmentsAfter[key])) changedSegments.add(key);
  }

  if (changedSegments.size > 0) {
    // A segment whose rules match on a changed segment changed too.
    let grew = true;
    while (grew) {
      grew = false;
      for (const [key, segment] of Object.entries(segmentsAfter)) {
        if (!changedSegments.has(key) && segmentRefs(segment).some((ref) => changedSegments.has(ref))) {
          changedSegments.add(key);
          grew = true;
        }
      }
    }
  }

  const flags = after.keys().map((key) => [key, after.definition(key)] as const);
  if (changedSegments.size > 0) {
    for (const [key, flag] of flags) {
      if (!changed.has(key) && flag && flagSegmentRefs(flag).some((ref) => changedSegments.has(ref))) changed.add(key);
    }
  }
  if (changed.size > 0) {
    let grew = true;
    while (grew) {
      grew = false;
      for (const [key, flag] of flags) {
        if (changed.has(key) || !flag || !Array.isArray(flag.prerequisites)) continue;
        if (flag.prerequisites.some((p) => changed.has(p.key))) {
          changed.add(key);
          grew = true;
        }
      }
    }
  }
  return [...changed].sort();
}

function clauseSegmentRefs(clauses: readonly Clause[] | undefined): string[] {
  const refs: string[] = [];
  if (!Array.isArray(clauses)) return refs;
  for (const clause of clauses) {
    if (clause?.op === "segmentMatch" && Array.isArray(clause.values)) {
      for (const value of clause.values) if (typeof value === "string") refs.push(value);
    }
  }
  return refs;
}

function flagSegmentRefs(flag: Readonly<Flag>): string[] {
  return (Array.isArray(flag.rules) ? flag.rules : []).flatMap((rule) => clauseSegmentRefs(rule.clauses));
}

function segmentRefs(segment: Readonly<Segment> | undefined): string[] {
  return (Array.isArray(segment?.rules) ? segment.rules : []).flatMap((rule) => clauseSegmentRefs(rule.clauses));
}
