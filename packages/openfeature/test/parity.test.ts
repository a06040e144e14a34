/**
 * Property test: through the real OpenFeature SDK, DetourProvider answers what
 * Detour answers. For random flag documents and contexts of every form an
 * OpenFeature context can carry (Detour's flat user, single-kind `user` and
 * `org`, multi-kind with and without a user: the LaunchDarkly parity
 * generators of @detour/test-support, written as OpenFeature contexts the way
 * LaunchDarkly's OpenFeature provider reads them), every flag is asked as each
 * of the four OpenFeature types, and:
 *
 * - the value is `detour.variation(flag, context, default)` when the flag's
 *   value has the asked type (or is null), else the default with TYPE_MISMATCH;
 * - the reason and the error code are what the README's tables say (read
 *   from the README, so the documentation and the provider cannot drift
 *   apart: a reworded row fails this test until its condition is taught here);
 * - `variant` is the variation index; `flagMetadata` carries Detour's reason.
 *
 * The memory store validates documents strictly, and the generator makes
 * documents Detour's strict validation refuses on purpose for the LaunchDarkly
 * comparison (unknown operators, bad indexes): only documents it accepts are
 * used.
 *
 * Reproduce or explore: DETOUR_OF_PARITY_SEED=<n> DETOUR_OF_PARITY_RUNS=<n>.
 */
import { readFileSync } from "node:fs";
import { createDetour, memoryStore, Snapshot, type Detour, type EvaluationContext as DetourContext, type Flag, type JsonValue } from "@detour/core";
import { DetourProvider } from "@detour/openfeature";
import { ErrorCode, OpenFeature, type Client, type EvaluationDetails, type FlagValue } from "@openfeature/server-sdk";
import fc from "fast-check";
import { afterAll, expect, it } from "vitest";
import { flagDocumentArbitrary, ldContextArbitrary, type ParityContext } from "@detour/test-support/parity-arbitraries";
import { resetOpenFeature } from "./helpers.js";

const SEED = Number(process.env.DETOUR_OF_PARITY_SEED ?? 20261124);
const RUNS = Number(process.env.DETOUR_OF_PARITY_RUNS ?? 300);

type Type = "boolean" | "string" | "number" | "object";
const DEFAULTS: Record<Type, FlagValue> = { boolean: false, string: "default", number: -12345, object: { default: true } };

const README = readFileSync(new URL("../README.md", import.meta.url), "utf8");

/** The body rows of the README table whose header row starts with `| <firstHeader> |`, as trimmed cells. */
function readmeTable(firstHeader: string): string[][] {
  const lines = README.split("\n");
  const start = lines.findIndex((line) => line.startsWith(`| ${firstHeader} |`));
  if (start < 0) throw new Error(`the README has no table headed "${firstHeader}"`);
  const rows: string[][] = [];
  for (const line of lines.slice(start + 2)) {
    if (!line.startsWith("|")) break;
    rows.push(line.slice(1, -1).split("|").map((cell) => cell.trim()));
  }
  return rows;
}

const unquote = (cell: string) => cell.replace(/^`|`$/g, "");

/**
 * Whether a flag targets some context, read as LaunchDarkly's evaluator reads
 * targets: without context targets, the user targets count as they are; with
 * them, a user-kind context target stands for the first user target of its
 * variation (its own values are not read), and a target of another kind
 * counts with its own values.
 */
function targetsSomeContext(flag: Readonly<Flag>): boolean {
  const targets = flag.targets ?? [];
  const contextTargets = flag.contextTargets ?? [];
  if (contextTargets.length === 0) return targets.some((t) => t.values.length > 0);
  return contextTargets.some((c) =>
    !c.contextKind || c.contextKind === "user" ? (targets.find((t) => t.variation === c.variation)?.values.length ?? 0) > 0 : (c.values?.length ?? 0) > 0,
  );
}

/** "The flag has targets, rules or prerequisites", in the README's words. */
function hasTargeting(flag: Readonly<Flag>): boolean {
  return targetsSomeContext(flag) || (flag.rules ?? []).length > 0 || (flag.prerequisites ?? []).length > 0;
}

/** The conditions the README's reason table puts on a Detour reason, by the words it uses. */
const CONDITIONS: Record<string, (flag: Readonly<Flag>) => boolean> = {
  "the fallthrough is a rollout": (flag) => flag.fallthrough.rollout !== undefined,
  "fixed variation, the flag has targets, rules or prerequisites": (flag) => flag.fallthrough.rollout === undefined && hasTargeting(flag),
  "fixed variation, no targeting at all (e.g. a `flagValues` entry)": (flag) => flag.fallthrough.rollout === undefined && !hasTargeting(flag),
};

/** The README's "Detour reason → OpenFeature reason" table: `| \`FALLTHROUGH\`, <condition> | \`SPLIT\` | ... |`. */
const REASONS = readmeTable("Detour reason").map(([detour = "", openFeature = ""]) => {
  const [, kind = "", condition] = /^`([A-Z_]+)`(?:, (.+))?$/.exec(detour) ?? [];
  if (condition !== undefined && !(condition in CONDITIONS)) throw new Error(`the README's reason table has a condition this test does not know: "${condition}"`);
  return { kind, when: condition === undefined ? () => true : CONDITIONS[condition]!, reason: unquote(openFeature) };
});

/** The README's errors table, by situation: `| no such flag | \`FLAG_NOT_FOUND\` |`. */
const ERRORS = new Map(readmeTable("situation").map(([situation = "", code = ""]) => [situation, unquote(code) as ErrorCode]));
/** Which row of the errors table speaks of each of Detour's error kinds, and of a type mismatch. */
const SITUATIONS = {
  FLAG_NOT_FOUND: "no such flag",
  MALFORMED_FLAG: /`MALFORMED_FLAG`/,
  STORE_UNAVAILABLE: "the store never loaded a document",
  TYPE_MISMATCH: /^the flag's value has another type than asked/,
  USER_NOT_SPECIFIED: /^a context LaunchDarkly's SDK refuses/,
} as const;

function documentedErrorCode(situation: keyof typeof SITUATIONS): ErrorCode {
  const wanted = SITUATIONS[situation];
  const rows = [...ERRORS].filter(([text]) => (typeof wanted === "string" ? text === wanted : wanted.test(text)));
  if (rows.length !== 1) throw new Error(`the README's errors table has ${rows.length} rows for ${situation}`);
  return rows[0]![1];
}

function documentedReason(detour: Detour, key: string, kind: string): string {
  const flag = detour.snapshot()!.definition(key)!;
  const rows = REASONS.filter((row) => row.kind === kind && row.when(flag));
  if (rows.length !== 1) throw new Error(`the README's reason table has ${rows.length} rows for ${kind} on ${JSON.stringify(flag)}`);
  return rows[0]!.reason;
}

function accepted(document: unknown): boolean {
  try {
    Snapshot.from(document);
    return true;
  } catch {
    return false;
  }
}

/** One context part as OpenFeature carries it: the key as `targetingKey`, the attributes beside it. */
function openFeaturePart(part: Record<string, unknown>): Record<string, unknown> {
  const { key: targetingKey, kind: _kind, ...attributes } = part;
  return { ...attributes, targetingKey };
}

/**
 * The OpenFeature context standing for a Detour context: flat stays without a
 * kind, single-kind keeps its `kind`, multi-kind is `{ kind: "multi", <kind>:
 * { targetingKey, ...attributes } }` as LaunchDarkly's OpenFeature provider
 * reads it. Legacy users and invalid contexts have no OpenFeature form.
 */
function openFeatureContext({ form, detour }: ParityContext): Record<string, unknown> | null {
  const context = detour as Record<string, unknown>;
  switch (form) {
    case "flat":
      return openFeaturePart(context);
    case "user":
    case "other":
      return { ...openFeaturePart(context), kind: context.kind };
    case "multi": {
      const multi: Record<string, unknown> = { kind: "multi" };
      for (const [kind, part] of Object.entries(context)) if (kind !== "kind") multi[kind] = openFeaturePart(part as Record<string, unknown>);
      return multi;
    }
    case "legacy":
    case "invalid":
      return null;
  }
}

const caseArbitrary = fc.record({
  generated: flagDocumentArbitrary().filter((g) => accepted(g.document)),
  contexts: fc.array(
    ldContextArbitrary()
      .map((context) => ({ form: context.form, detour: context.detour, openFeature: openFeatureContext(context) }))
      .filter((context): context is { form: ParityContext["form"]; detour: DetourContext; openFeature: Record<string, unknown> } => context.openFeature !== null),
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
        for (const { form, detour: context, openFeature: ofContext } of contexts) {
          count(`form:${form}`);
          for (const flagKey of generated.flagKeys) {
            const explained = detour.explain(flagKey, context);
            const reasonKind = explained.reason.kind;
            for (const type of Object.keys(DEFAULTS) as Type[]) {
              const fallback = DEFAULTS[type];
              const details = await ask(client, type, flagKey, ofContext);
              const variation = detour.variation(flagKey, context, fallback as JsonValue);
              expect(details.flagMetadata.reasonKind).toBe(reasonKind);
              if (explained.reason.kind === "ERROR") {
                count(`error:${explained.reason.errorKind}`);
                expect(details).toMatchObject({ value: fallback, reason: "ERROR", errorCode: documentedErrorCode(explained.reason.errorKind) });
                continue;
              }
              if (explained.value !== null && !hasType(explained.value, type)) {
                count("TYPE_MISMATCH");
                expect(details).toMatchObject({ value: fallback, reason: "ERROR", errorCode: documentedErrorCode("TYPE_MISMATCH") });
                continue;
              }
              const reason = documentedReason(detour, flagKey, reasonKind);
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
  for (const what of ["DISABLED", "TARGETING_MATCH", "SPLIT", "DEFAULT", "STATIC", "TYPE_MISMATCH", "error:MALFORMED_FLAG", "form:flat", "form:user", "form:other", "form:multi"]) {
    expect(seen.get(what) ?? 0, `${what} never came up: ${JSON.stringify([...seen])}`).toBeGreaterThan(0);
  }
}, 120_000);
