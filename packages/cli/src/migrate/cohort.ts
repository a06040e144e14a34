import type { Flag, Rollout, VariationOrRollout } from "@detour/core";

/** A fallthrough as slots of the bucket range (0..100000), in the order LaunchDarkly assigns them. */
export type Slots = Array<{ variation: number; weight: number }>;

const TOTAL = 100_000;

export function slotsOf(fallthrough: VariationOrRollout, variations: number): Slots {
  if (fallthrough.rollout) return fallthrough.rollout.variations.map((v) => ({ variation: v.variation, weight: v.weight }));
  return [{ variation: fallthrough.variation ?? 0, weight: TOTAL }].filter((s) => s.variation < variations);
}

/** Weight per variation index, the slots' order aside. */
function perVariation(slots: Slots, variations: number): number[] {
  const weights = new Array<number>(variations).fill(0);
  for (const slot of slots) weights[slot.variation]! += slot.weight;
  return weights;
}

/**
 * The slots once `share` (0..100000) of the bucket range is at stage index
 * `target` or beyond. Forward: stages past the target keep their share, the
 * target takes the rest of `share`, and the earlier stages give it up from
 * the latest down, so each bucket's stage only moves forward. `back`: the
 * stages past the target fold into it, and the target holds exactly `share`.
 */
export function moveShare(slots: Slots, variations: number, target: number, share: number, back: boolean): Slots {
  const weights = perVariation(slots, variations);
  let beyond = 0;
  for (let v = target + 1; v < variations; v++) {
    if (back) weights[v] = 0;
    else beyond += weights[v]!;
  }
  weights[target] = Math.max(0, share - beyond);
  let below = TOTAL - beyond - weights[target]!;
  let current = weights.slice(0, target).reduce((a, b) => a + b, 0);
  // Earlier stages give up their share from the latest down...
  for (let v = target - 1; v >= 0 && current > below; v--) {
    const cut = Math.min(weights[v]!, current - below);
    weights[v]! -= cut;
    current -= cut;
  }
  // ...or, moving back, the latest earlier stage that has a share (else the one before the target) takes the rest.
  if (current < below && target > 0) {
    let v = target - 1;
    while (v > 0 && weights[v] === 0) v--;
    weights[v]! += below - current;
    current = below;
  }
  if (current < below) weights[target]! += below - current;
  return weights.map((weight, variation) => ({ variation, weight })).filter((s) => s.weight > 0);
}

/** The share (0..100000) of the bucket range whose stage index is lower in `after` than in `before`. */
export function movedBack(before: Slots, after: Slots): number {
  const edges = (slots: Slots) => {
    let at = 0;
    return slots.map((s) => ({ start: at, end: (at += s.weight), variation: s.variation }));
  };
  const a = edges(before);
  const b = edges(after);
  let back = 0;
  for (const x of a) for (const y of b) {
    const overlap = Math.min(x.end, y.end) - Math.max(x.start, y.start);
    if (overlap > 0 && y.variation < x.variation) back += overlap;
  }
  return back;
}

/** The fallthrough for slots: one variation when one slot holds everything. */
export function fallthroughOf(slots: Slots, previous: VariationOrRollout): VariationOrRollout {
  if (slots.length === 1) return { variation: slots[0]!.variation };
  const rollout: Rollout = { ...(previous.rollout ?? {}), variations: slots.map((s) => ({ variation: s.variation, weight: s.weight })) };
  return { rollout };
}

/** Share per variation (0..100 %), for status. */
export function percentages(flag: Readonly<Flag>): number[] {
  const weights = perVariation(slotsOf(flag.fallthrough, flag.variations.length), flag.variations.length);
  return weights.map((w) => w / 1000);
}
