import { createHash } from "node:crypto";
import { describe, expect, it } from "vitest";
import type { Flag, Rollout } from "../../src/document/types.js";
import { seededRandom as random } from "@detour/test-support/random";
import { BUCKET_SCALE, boundOf } from "../../src/evaluation/compile.js";
import { bucketFor, evaluate } from "../../src/evaluation/evaluate.js";
import { sharedSha1Prefix } from "../../src/evaluation/sha1.js";
import type { EvaluationContext } from "../../src/evaluation/types.js";

/** LaunchDarkly's bucket, computed the slow, obvious way. */
function referenceBucket(prefix: string, value: string): number {
  return parseInt(createHash("sha1").update(`${prefix}.${value}`).digest("hex").slice(0, 15), 16) / 0xfffffffffffffff;
}

const VARIATIONS = ["a", "b", "c"];

function rolloutFlag(rollout: Rollout, extra: Partial<Flag> = {}): Flag {
  return { key: "hashKey", on: true, salt: "saltyA", variations: VARIATIONS, fallthrough: { rollout }, ...extra };
}

/** A two-slot rollout whose boundary sits at `weight` (out of 100000). */
function split(weight: number, rest: Partial<Rollout> = {}): Rollout {
  return {
    variations: [
      { variation: 0, weight },
      { variation: 1, weight: 100000 - weight },
    ],
    ...rest,
  };
}

describe("percentage bucketing: the public LaunchDarkly vectors", () => {
  const vectors = [
    ["userKeyA", 0.42157587],
    ["userKeyB", 0.6708485],
    ["userKeyC", 0.10343106],
  ] as const;

  for (const [key, expected] of vectors) {
    it(`buckets ${key} of flag hashKey, salt saltyA, at ${expected}`, () => {
      expect(bucketFor(sharedSha1Prefix("hashKey.saltyA."), key)).toBeCloseTo(expected, 7);
    });

    it(`puts ${key} on the right side of a rollout boundary just around ${expected}`, () => {
      const at = Math.floor(expected * 100000); // e.g. 42157 for 0.42157587
      const below = evaluate(rolloutFlag(split(at)), { key });
      const above = evaluate(rolloutFlag(split(at + 1)), { key });
      expect(below.variationIndex).toBe(1); // bucket >= at/1e5: second slot
      expect(above.variationIndex).toBe(0); // bucket < (at+1)/1e5: first slot
      expect(above.reason).toEqual({ kind: "FALLTHROUGH" });
    });
  }
});

describe("rollouts", () => {
  const keys = Array.from({ length: 200 }, (_, i) => `user-${i}`);

  /** Which slot each key lands in, for a rollout with the boundary at 50%. */
  function slots(flag: Flag, contexts: EvaluationContext[]): (number | null)[] {
    return contexts.map((context) => evaluate(flag, context).variationIndex);
  }

  function expectedSlots(prefix: string, values: string[], weight = 50000): number[] {
    return values.map((value) => (referenceBucket(prefix, value) < weight / 100000 ? 0 : 1));
  }

  it("hash flagKey.salt.value without a seed", () => {
    const actual = slots(rolloutFlag(split(50000)), keys.map((key) => ({ key })));
    expect(actual).toEqual(expectedSlots("hashKey.saltyA", keys));
    // Both slots occur, so the comparison means something.
    expect(new Set(actual).size).toBe(2);
  });

  it("hash String(seed).value with a seed, ignoring flag key and salt", () => {
    const flag = rolloutFlag(split(50000, { seed: 61 }));
    const other = rolloutFlag(split(50000, { seed: 61 }), { key: "elsewhere", salt: "different" });
    const expected = expectedSlots("61", keys);
    expect(slots(flag, keys.map((key) => ({ key })))).toEqual(expected);
    expect(slots(other, keys.map((key) => ({ key })))).toEqual(expected);
    expect(expected).not.toEqual(expectedSlots("hashKey.saltyA", keys));
  });

  it("treat a negative seed as a seed", () => {
    expect(slots(rolloutFlag(split(50000, { seed: -7 })), keys.map((key) => ({ key })))).toEqual(expectedSlots("-7", keys));
  });

  it("treat seed 0 as no seed", () => {
    const actual = slots(rolloutFlag(split(50000, { seed: 0 })), keys.map((key) => ({ key })));
    expect(actual).toEqual(expectedSlots("hashKey.saltyA", keys));
    expect(actual).not.toEqual(expectedSlots("0", keys));
  });

  it("use an empty salt when the salt is missing (prefix `flagKey.`)", () => {
    const flag = rolloutFlag(split(50000), { salt: undefined });
    const actual = slots(flag, keys.map((key) => ({ key })));
    expect(actual).toEqual(expectedSlots("hashKey.", keys));
    expect(actual).not.toEqual(expectedSlots("hashKey.saltyA", keys));
  });

  it("bucket by another attribute with bucketBy, strings and integers alike", () => {
    const flag = rolloutFlag(split(50000, { bucketBy: "org" }));
    const orgs = keys.map((_, i) => `org-${i % 37}`);
    expect(slots(flag, orgs.map((org, i) => ({ key: `k${i}`, org })))).toEqual(expectedSlots("hashKey.saltyA", orgs));
    // An integer is bucketed as its decimal string.
    const numbers = keys.map((_, i) => i * 7919);
    expect(slots(flag, numbers.map((org) => ({ key: "same", org })))).toEqual(
      expectedSlots("hashKey.saltyA", numbers.map(String)),
    );
  });

  it("bucket non-string, non-integer values (and missing ones) at 0: the first slot with any weight", () => {
    // Weights 0 / 50000 / 50000: bucket 0 is not below 0, so it lands in slot 1.
    const flag = rolloutFlag({
      variations: [
        { variation: 0, weight: 0 },
        { variation: 1, weight: 50000 },
        { variation: 2, weight: 50000 },
      ],
      bucketBy: "org",
    });
    for (const org of [1.5, true, false, null, { id: 1 }, ["a"], undefined]) {
      expect(evaluate(flag, { key: "k", org }).variationIndex, JSON.stringify(org)).toBe(1);
    }
    // Sanity: a string value can land elsewhere.
    const landing = Array.from({ length: 50 }, (_, i) => evaluate(flag, { key: "k", org: `o${i}` }).variationIndex);
    expect(landing).toContain(2);
  });

  it("resolve bucketBy with a context kind as a reference path, and without one as a literal name", () => {
    const path = rolloutFlag(split(50000, { bucketBy: "/address/city", contextKind: "user" }));
    const literal = rolloutFlag(split(50000, { bucketBy: "/address/city" }));
    const cities = keys.slice(0, 60).map((key) => `city-${key}`);
    const contexts = cities.map((city) => ({ key: "same", address: { city }, "/address/city": "literal" }));
    expect(slots(path, contexts)).toEqual(expectedSlots("hashKey.saltyA", cities));
    const literalSlot = referenceBucket("hashKey.saltyA", "literal") < 0.5 ? 0 : 1;
    expect(slots(literal, contexts)).toEqual(cities.map(() => literalSlot));
  });

  it("fall past the end into the last slot when the weights add up to less than 100000", () => {
    const flag = rolloutFlag({
      variations: [
        { variation: 0, weight: 10000 },
        { variation: 2, weight: 10000 },
      ],
    });
    const expected = keys.map((key) => {
      const bucket = referenceBucket("hashKey.saltyA", key);
      return bucket < 0.1 ? 0 : 2; // slot 1 (variation 2) below 0.2, and past the end: still the last, variation 2
    });
    const actual = slots(flag, keys.map((key) => ({ key })));
    expect(actual).toEqual(expected);
    expect(keys.some((key) => referenceBucket("hashKey.saltyA", key) >= 0.2)).toBe(true);
  });

  it("sum weights the way LaunchDarkly does (floating point weight / 100000)", () => {
    // Three thirds: 33333 + 33333 + 33334. Thresholds are 0.33333, 0.66666, 1.
    const flag = rolloutFlag({
      variations: [
        { variation: 0, weight: 33333 },
        { variation: 1, weight: 33333 },
        { variation: 2, weight: 33334 },
      ],
    });
    const expected = keys.map((key) => {
      const bucket = referenceBucket("hashKey.saltyA", key);
      return bucket < 0.33333 ? 0 : bucket < 0.33333 + 0.33333 ? 1 : 2;
    });
    expect(slots(flag, keys.map((key) => ({ key })))).toEqual(expected);
  });
});

describe("experiments", () => {
  const experiment = (rest: Partial<Rollout> = {}): Rollout => ({
    kind: "experiment",
    variations: [
      { variation: 0, weight: 50000 },
      { variation: 1, weight: 50000, untracked: true },
    ],
    ...rest,
  });
  const keys = Array.from({ length: 100 }, (_, i) => `user-${i}`);

  it("mark inExperiment for tracked slots, and not for untracked ones", () => {
    const flag = rolloutFlag(experiment());
    let tracked = 0;
    for (const key of keys) {
      const result = evaluate(flag, { key });
      const slot = referenceBucket("hashKey.saltyA", key) < 0.5 ? 0 : 1;
      expect(result.variationIndex).toBe(slot);
      if (slot === 0) {
        tracked++;
        expect(result.reason).toEqual({ kind: "FALLTHROUGH", inExperiment: true });
      } else {
        expect(result.reason).toEqual({ kind: "FALLTHROUGH" });
      }
    }
    expect(tracked).toBeGreaterThan(20);
    expect(tracked).toBeLessThan(80);
  });

  it("mark inExperiment on a rule's rollout too", () => {
    const flag = rolloutFlag(split(100000), {
      rules: [{ id: "r", clauses: [{ attribute: "key", op: "in", values: ["user-1"] }], rollout: experiment({ variations: [{ variation: 2, weight: 100000 }] }) }],
    });
    expect(evaluate(flag, { key: "user-1" })).toEqual({
      value: "c",
      variationIndex: 2,
      reason: { kind: "RULE_MATCH", ruleIndex: 0, ruleId: "r", inExperiment: true },
    });
  });

  it("bucket by key whatever bucketBy says", () => {
    const flag = rolloutFlag(experiment({ bucketBy: "org" }));
    for (const key of keys.slice(0, 30)) {
      const slot = referenceBucket("hashKey.saltyA", key) < 0.5 ? 0 : 1;
      expect(evaluate(flag, { key, org: "one-org-for-all" }).variationIndex).toBe(slot);
    }
  });

  it("is not a plain rollout: no inExperiment without kind experiment", () => {
    const flag = rolloutFlag({ ...experiment(), kind: "rollout" });
    for (const key of keys.slice(0, 20)) expect(evaluate(flag, { key }).reason).toEqual({ kind: "FALLTHROUGH" });
  });

  it("keeps a context of another kind out of the experiment (bucket 0), except past the end", () => {
    const org = rolloutFlag(experiment({ contextKind: "org" }));
    expect(evaluate(org, { key: "user-1" })).toEqual({ value: "a", variationIndex: 0, reason: { kind: "FALLTHROUGH" } });
    // Past the end LaunchDarkly marks the experiment without looking at the context.
    const pastTheEnd = rolloutFlag(
      experiment({ contextKind: "org", variations: [{ variation: 0, weight: 0 }, { variation: 1, weight: 0 }] }),
    );
    expect(evaluate(pastTheEnd, { key: "user-1" })).toEqual({ value: "b", variationIndex: 1, reason: { kind: "FALLTHROUGH", inExperiment: true } });
  });

  it("past the end: the last slot, in the experiment unless it is untracked", () => {
    const short = (untracked: boolean) =>
      rolloutFlag(experiment({ variations: [{ variation: 0, weight: 0 }, { variation: 2, weight: 0, untracked }] }));
    expect(evaluate(short(false), { key: "user-1" })).toEqual({ value: "c", variationIndex: 2, reason: { kind: "FALLTHROUGH", inExperiment: true } });
    expect(evaluate(short(true), { key: "user-1" })).toEqual({ value: "c", variationIndex: 2, reason: { kind: "FALLTHROUGH" } });
  });
});

describe("the bucket bounds (thresholds on the hash itself)", () => {
  const SCALE = 0xfffffffffffffff; // the double LaunchDarkly divides by
  const bits = new BigInt64Array(1);
  const float = new Float64Array(bits.buffer);
  const below = (x: number) => {
    float[0] = x;
    bits[0]! -= 1n;
    return float[0]!;
  };

  /** Whether the bound is the least double whose bucket is not below the threshold (the one below it has a bucket below). */
  function exact(threshold: number): boolean {
    const bound = boundOf(threshold);
    return bound / SCALE >= threshold && (bound === 0 || below(bound) / SCALE < threshold);
  }

  it("divide by the same double LaunchDarkly divides by", () => {
    expect(BUCKET_SCALE).toBe(SCALE);
  });

  it("are exact for every threshold a single weight gives, and for running sums of random weights", () => {
    const wrong: number[] = [];
    for (let weight = 1; weight <= 100000; weight++) if (!exact(weight / 1e5)) wrong.push(weight / 1e5);
    const next = random(5);
    for (let run = 0; run < 2000; run++) {
      let sum = 0;
      for (let slot = 0; slot < 5; slot++) {
        sum += Math.floor(next() * 40000) / 1e5;
        if (!exact(sum)) wrong.push(sum);
      }
    }
    expect(wrong).toEqual([]);
  });

  it("agree with the float comparison on hashes around each bound and at random", () => {
    const next = random(6);
    const wrong: number[][] = [];
    for (let k = 0; k < 5000; k++) {
      const threshold = Math.floor(next() * 100001) / 1e5;
      const bound = boundOf(threshold);
      for (const hash of [bound, below(bound), bound + 2 ** 8, Math.max(0, bound - 2 ** 8), Math.floor(next() * 2 ** 60)]) {
        if (hash < bound !== hash / SCALE < threshold) wrong.push([threshold, hash]);
      }
    }
    expect(wrong).toEqual([]);
  });

  it("leave nothing below a threshold of 0 or less or NaN, and everything below one past every bucket", () => {
    expect(boundOf(0)).toBe(0);
    expect(boundOf(-1)).toBe(0);
    expect(boundOf(Number.NaN)).toBe(-Infinity);
    expect(boundOf(2)).toBeGreaterThan(2 ** 60);
    expect(boundOf(1e300)).toBe(Infinity);
  });
});
