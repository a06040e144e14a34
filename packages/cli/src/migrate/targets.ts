import type { Flag, Target } from "@detour/core";

/** One context a stage is given to: `user:alice`, `tenant:acme`. */
export interface ContextRef {
  kind: string;
  key: string;
}

export function parseContextRef(value: string): ContextRef {
  const at = value.indexOf(":");
  if (at <= 0 || at === value.length - 1) throw new Error(`expected kind:key (e.g. tenant:acme), got ${JSON.stringify(value)}`);
  return { kind: value.slice(0, at), key: value.slice(at + 1) };
}

/**
 * Targets `refs` at variation `variation`, taking them out of every other
 * target first. Users go in `targets` (LaunchDarkly's form for kind `user`),
 * other kinds in `contextTargets`.
 */
export function targetContexts(flag: Flag, refs: readonly ContextRef[], variation: number): void {
  const keysOf = (kind: string) => refs.filter((r) => r.kind === kind).map((r) => r.key);
  const place = (targets: Target[], kind: string, isUser: boolean): Target[] => {
    const keys = keysOf(kind);
    if (keys.length === 0) return targets;
    const out = targets.map((t) => ((isUser || t.contextKind === kind) ? { ...t, values: t.values.filter((v) => !keys.includes(v)) } : t));
    const at = out.find((t) => t.variation === variation && (isUser || t.contextKind === kind));
    if (at) at.values = [...at.values, ...keys];
    else out.push(isUser ? { variation, values: keys } : { contextKind: kind, variation, values: keys });
    return out;
  };
  flag.targets = place(flag.targets ?? [], "user", true).filter((t) => t.values.length > 0);
  let contextTargets = (flag.contextTargets ?? []).filter((t) => t.contextKind && t.contextKind !== "user");
  for (const kind of new Set(refs.map((r) => r.kind))) if (kind !== "user") contextTargets = place(contextTargets, kind, false);
  contextTargets = contextTargets.filter((t) => t.values.length > 0);
  // LaunchDarkly's form: once there are context targets, user targets count only through a
  // user-kind entry (with no values) of the same variation in contextTargets.
  if (contextTargets.length > 0) {
    for (const t of flag.targets) contextTargets.push({ contextKind: "user", variation: t.variation, values: [] });
    flag.contextTargets = contextTargets;
  } else {
    delete flag.contextTargets;
  }
  if (flag.targets.length === 0) delete flag.targets;
}

/** How many contexts are targeted at each variation (targets and contextTargets together). */
export function targetedCounts(flag: Readonly<Flag>): number[] {
  const counts = new Array<number>(flag.variations.length).fill(0);
  for (const t of [...(flag.targets ?? []), ...(flag.contextTargets ?? [])]) if (t.variation < counts.length) counts[t.variation]! += t.values.length;
  return counts;
}
