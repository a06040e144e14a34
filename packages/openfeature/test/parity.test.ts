/**
 * Property test: through the real OpenFeature SDK, DetourProvider answers what
 * Detour answers. For random flag documents and user contexts (the
 * LaunchDarkly parity generators of @detour/core), every flag is asked as each
 * of the four OpenFeature types, and:
 *
 * - the value is `detour.variation(flag, context, default)` when the flag's
 *   value has the asked type (or is null), else the default with TYPE_MISMATCH;
 * - the reason follows the README's table (OFF/PREREQUISITE_FAILED → DISABLED,
 *   TARGET_MATCH/RULE_MATCH → TARGETING_MATCH, FALLTHROUGH → SPLIT / DEFAULT /
 *   STATIC, ERROR → ERROR with its code);
 * - `variant` is the variation index; `flagMetadata` carries Detour's reason.
 *
 * Stores validate documents, and Detour refuses most of what the generator
 * makes on purpose for the LaunchDarkly comparison (unknown operators, bad
 * indexes, other context kinds): only documents Detour accepts are used.
 *
 * Reproduce or explore: DETOUR_OF_PARITY_SEED=<n> DETOUR_OF_PARITY_RUNS=<n>.
 */
import { createDetour, memoryStore, Snapshot, type Detour, type EvaluationContext as DetourContext, type JsonValue } from "@detour/core";
import { DetourProvider } from "@detour/openfeature";
import { ErrorCode, OpenFeature, StandardResolutionReasons, type Client, type EvaluationDetails, type FlagValue } from "@openfeature/server-sdk";
import fc from "fast-check";
import { afterAll, expect, it } from "vitest";
import { flagDocumentArbitrary, userContextArbitrary } from "../../core/test/parity/arbitraries.js";
import { resetOpenFeature } from "./helpers.js";

const SEED = Number(process.env.DETOUR_OF_PARITY_SEED ?? 20261124);
const RUNS = Number(process.env.DETOUR_OF_PARITY_RUNS ?? 300);

type Type = "boolean" | "string" | "number" | "object";
const DEFAULTS: Record<Type, FlagValue> = { boolean: false, string: "default", number: -12345, object: { default: true } };

const ERROR_CODES: Record<string, ErrorCode> = {
  FLAG_NOT_FOUND: ErrorCode.FLAG_NOT_FOUND,
  MALFORMED_FLAG: ErrorCode.PARSE_ERROR,
  STORE_UNAVAILABLE: ErrorCode.PROVIDER_NOT_READY,
};

function accepted(document: unknown): boolean {
  try {
    Snapshot.from(document);
    return true;
  } catch {
    return false;
  }
}

const caseArbitrary = fc.record({
  generated: flagDocumentArbitrary().filter((g) => accepted(g.document)),
  contexts: fc.array(
    fc.tuple(userContextArbitrary(), fc.constantFrom<"user" | undefined>(undefined, undefined, "user")),
    { minLength: 1, maxLength: 3 },
  ),
});

function ask(client: Client, type: Type, key: string, context: Record<string, unknown>): Promise<EvaluationDetails<FlagValue>> {
  const ctx = context as Parameters<Client["getBooleanDetails"]>[2];
  switch (type) {
    case "boolean":
      return client.getBooleanDetails(key, DEFAULTS.boolean as boolean, ctx);
    case "string":
      return client.getStringDetails(key, DEFAULTS.string as string, ctx);
    case "number":
      return client.getNumberDetails(key, DEFAULTS.number as number, ctx);
    case "object":
      return client.getObjectDetails(key, DEFAULTS.object as JsonValue, ctx);
  }
}

function hasType(value: JsonValue, type: Type): boolean {
  return type === "object" ? value !== null && typeof value === "object" : typeof value === type;
}

function expectedReason(detour: Detour, key: string, kind: string): string {
  const flag = detour.snapshot()!.traits(key)!;
  switch (kind) {
    case "OFF":
    case "PREREQUISITE_FAILED":
      return StandardResolutionReasons.DISABLED;
    case "TARGET_MATCH":
    case "RULE_MATCH":
      return StandardResolutionReasons.TARGETING_MATCH;
    case "FALLTHROUGH":
      if (flag.rolloutFallthrough) return StandardResolutionReasons.SPLIT;
      return flag.contextual ? StandardResolutionReasons.DEFAULT : StandardResolutionReasons.STATIC;
    default:
      return StandardResolutionReasons.ERROR;
  }
}

/** What the run went through, so a generator change that stops exercising a path is noticed. */
const seen = new Map<string, number>();
const count = (what: string) => seen.set(what, (seen.get(what) ?? 0) + 1);

afterAll(resetOpenFeature);

it("the OpenFeature result is detour.variation() with the reason mapped", async () => {
  await fc.assert(
    fc.asyncProperty(caseArbitrary, async ({ generated, contexts }) => {
      const detour = createDetour({ store: memoryStore(generated.document), onStoreError: () => {} });
      try {
        await OpenFeature.setProviderAndWait(new DetourProvider(detour));
        const client = OpenFeature.getClient();
        for (const [context, kind] of contexts) {
          const { key: targetingKey, ...attributes } = context;
          const ofContext = { ...attributes, targetingKey, ...(kind ? { kind } : {}) };
          for (const flagKey of generated.flagKeys) {
            const explained = detour.explain(flagKey, context as DetourContext);
            const reasonKind = explained.reason.kind;
            for (const type of Object.keys(DEFAULTS) as Type[]) {
              const fallback = DEFAULTS[type];
              const details = await ask(client, type, flagKey, ofContext);
              const variation = detour.variation(flagKey, context as DetourContext, fallback as JsonValue);
              expect(details.flagMetadata.reasonKind).toBe(reasonKind);
              if (explained.reason.kind === "ERROR") {
                count(`error:${explained.reason.errorKind}`);
                expect(details).toMatchObject({ value: fallback, reason: "ERROR", errorCode: ERROR_CODES[explained.reason.errorKind] });
                continue;
              }
              if (explained.value !== null && !hasType(explained.value, type)) {
                count("TYPE_MISMATCH");
                expect(details).toMatchObject({ value: fallback, reason: "ERROR", errorCode: ErrorCode.TYPE_MISMATCH });
                continue;
              }
              const reason = expectedReason(detour, flagKey, reasonKind);
              count(reason);
              expect(details.errorCode).toBeUndefined();
              expect(details.value).toEqual(variation);
              expect(details.reason).toBe(reason);
              expect(details.variant).toBe(explained.value === null || explained.variationIndex === null ? undefined : String(explained.variationIndex));
              expect(details.flagMetadata.inExperiment).toBe("inExperiment" in explained.reason && explained.reason.inExperiment === true);
              if (explained.reason.kind === "RULE_MATCH") expect(details.flagMetadata.ruleIndex).toBe(explained.reason.ruleIndex);
              if (explained.reason.kind === "PREREQUISITE_FAILED") {
                expect(details.flagMetadata.prerequisiteKey).toBe(explained.reason.prerequisiteKey);
              }
            }
          }
        }
      } finally {
        await detour.close();
      }
    }),
    { seed: SEED, numRuns: RUNS },
  );
  // Every mapping was exercised.
  for (const what of ["DISABLED", "TARGETING_MATCH", "SPLIT", "DEFAULT", "STATIC", "TYPE_MISMATCH", "error:MALFORMED_FLAG"]) {
    expect(seen.get(what) ?? 0, `${what} never came up: ${JSON.stringify([...seen])}`).toBeGreaterThan(0);
  }
}, 120_000);
