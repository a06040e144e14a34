/**
 * Percentage rollouts against the LaunchDarkly Node server SDK: every context
 * lands in the SDK's variation. The inputs aim at the SHA-1 fast paths: keys
 * of every UTF-8 shape (multi-byte characters, surrogate pairs, lone
 * surrogates, which Node hashes as U+FFFD), bucketing inputs around the 55-
 * and 64-byte block boundaries and past them, prefixes of 64 bytes and more
 * (whose blocks are hashed once per flag), seeds, `bucketBy` attributes
 * (strings and integers), other context kinds, experiments; and rollout
 * boundaries drawn at random, so the bucket comparison is exercised on both
 * sides of many thresholds.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { seededRandom } from "@detour/test-support/random";
import { afterAll, describe, expect, it } from "vitest";
import type { Flag, Rollout } from "../../src/document/types.js";
import { evaluate } from "../../src/evaluation/evaluate.js";
import type { EvaluationContext } from "../../src/evaluation/types.js";
import { offlineClient } from "./sdk.js";

const workDir = mkdtempSync(join(tmpdir(), "detour-ld-bucketing-"));
afterAll(() => rmSync(workDir, { recursive: true, force: true }));

const next = seededRandom(20261204);
const pick = <T>(items: readonly T[]): T => items[Math.floor(next() * items.length)]!;
const int = (lo: number, hi: number) => lo + Math.floor(next() * (hi - lo + 1));

/** One UTF-16 piece: ASCII, 2- and 3-byte characters, a surrogate pair, or a lone surrogate of either half. */
function piece(): string {
  const shape = next();
  if (shape < 0.55) return String.fromCharCode(int(0x20, 0x7e));
  if (shape < 0.7) return String.fromCharCode(int(0x80, 0x7ff));
  if (shape < 0.82) return String.fromCharCode(pick([int(0x800, 0xd7ff), int(0xe000, 0xffff)]));
  if (shape < 0.94) return String.fromCodePoint(int(0x10000, 0x10ffff));
  return String.fromCharCode(pick([int(0xd800, 0xdbff), int(0xdc00, 0xdfff)]));
}

function text(length: number, ascii: boolean): string {
  let out = "";
  while (out.length < length) out += ascii ? String.fromCharCode(int(0x21, 0x7e)) : piece();
  return out;
}

/** Keys of 1 to ~140 code units: short, around the 55/64-byte boundaries once a prefix is added, and long. */
function key(): string {
  const length = pick([int(1, 12), int(30, 64), int(64, 140)]);
  return text(length, next() < 0.4);
}

const VARIATIONS = ["a", "b", "c", "d"];

function rollout(): Rollout {
  const slots = int(2, 4);
  const weights: number[] = [];
  let left = 100000;
  for (let i = 0; i < slots - 1; i++) {
    const weight = int(0, left);
    weights.push(weight);
    left -= weight;
  }
  weights.push(left);
  const bucketBy = pick([undefined, undefined, "org", "num"]);
  return {
    variations: weights.map((weight, i) => ({ variation: i % VARIATIONS.length, weight })),
    ...(bucketBy ? { bucketBy } : {}),
    ...(next() < 0.3 ? { seed: pick([int(1, 1e6), -int(1, 1e6), int(1, 2 ** 31)]) } : {}),
    ...(next() < 0.2 ? { contextKind: "organization" } : {}),
    ...(next() < 0.15 ? { kind: "experiment" as const } : {}),
  };
}

function flag(index: number): Flag {
  // Flag key and salt: short, long enough that the prefix alone is 64 bytes or more, non-ASCII.
  const shape = index % 4;
  const flagKey = `f${index}-${shape === 1 ? text(int(60, 130), true) : shape === 2 ? text(int(1, 40), false) : text(int(1, 20), true)}`;
  const salt = pick([undefined, "", "salt", text(32, true), text(int(1, 70), false)]);
  return { key: flagKey, on: true, version: 1, salt, variations: VARIATIONS, offVariation: 0, fallthrough: { rollout: rollout() } };
}

function context(): EvaluationContext {
  const user: Record<string, unknown> = { key: key() };
  if (next() < 0.8) user.org = key();
  if (next() < 0.8) user.num = pick([int(0, 1e6), -int(1, 1e6), 2 ** 53 - int(1, 100)]);
  if (next() < 0.25) return { kind: "organization", ...user } as EvaluationContext;
  if (next() < 0.25) return { kind: "multi", user, organization: { key: key(), org: key() } } as EvaluationContext;
  return { kind: "user", ...user } as EvaluationContext;
}

describe("rollouts against the LaunchDarkly SDK", () => {
  it("put every context in the SDK's variation (random UTF-8 keys, long prefixes, seeds, bucketBy, kinds)", async () => {
    const flags: Record<string, Flag> = {};
    for (let i = 0; i < 60; i++) {
      const f = flag(i);
      flags[f.key] = f;
    }
    const contexts = Array.from({ length: 250 }, context);
    const client = await offlineClient({ flags }, join(workDir, "flags.json"));
    try {
      const differ: string[] = [];
      const seen = new Set<number | null>();
      for (const f of Object.values(flags)) {
        for (const c of contexts) {
          const ours = evaluate(f, c);
          const theirs = await client.variationDetail(f.key, c as never, null);
          seen.add(ours.variationIndex);
          if (ours.variationIndex !== (theirs.variationIndex ?? null) || "inExperiment" in ours.reason !== Boolean(theirs.reason?.inExperiment)) {
            differ.push(`${JSON.stringify(f.key)} ${JSON.stringify(c)}: Detour ${ours.variationIndex}, LaunchDarkly ${theirs.variationIndex}`);
          }
        }
      }
      expect(differ.slice(0, 5)).toEqual([]);
      expect([...seen].sort()).toEqual([0, 1, 2, 3]);
    } finally {
      client.close();
    }
  });
});
