/**
 * fast-check generators for random, valid-shaped LaunchDarkly flag documents
 * and contexts of every form (flat, single-kind, multi-kind, legacy), built so that contexts collide with clause values,
 * target lists and segment lists often enough that targets, rules, segments
 * and rollouts actually decide a good share of evaluations.
 *
 * Shared by core's LaunchDarkly parity test and the OpenFeature provider's
 * parity test. Everything a document refers to is namespaced by a random
 * `namespace` (`d<base36>`), so many generated documents can be merged into
 * one LaunchDarkly file without key clashes, and a document evaluates the same
 * (same flag keys, so the same buckets) whether it is checked alone or merged.
 *
 * Left out on purpose: `inCidr` (Detour only); `segmentMatch` inside unbounded
 * segments (the LaunchDarkly SDK recurses forever there); non-integer
 * variation indexes (LaunchDarkly serves `undefined` for them, Detour calls the
 * flag malformed; validation refuses them anyway); empty context keys and
 * context attributes named `kind` or `_meta` (not valid LaunchDarkly contexts).
 */
import fc from "fast-check";
import type {
  Clause,
  ClauseOp,
  EvaluationContext,
  Flag,
  FlagDocument,
  JsonValue,
  Prerequisite,
  Rollout,
  Rule,
  Segment,
  SegmentRule,
  SegmentTarget,
  Target,
  VariationOrRollout,
  WeightedVariation,
} from "@detour/core";

/** Context keys: target lists and segment lists are drawn from these, so they hit. */
export const CONTEXT_KEYS = ["user-1", "user-2", "user-3", "alice", "bob", "42", "ü-ser", "userKeyA"] as const;

/** Per-attribute value pools: contexts and clause values both draw from them. */
export const ATTRIBUTE_POOLS = {
  name: ["alpha", "alphabet", "beta", "Beta", "gamma", "", "a.b", "ü", "😀x"],
  email: ["alice@example.com", "bob@example.org", "carol@test.io", "ALICE@example.com"],
  age: [17, 18, 18.5, 21, 65, 0, -1, "18"],
  score: [0, 1, 1.5, 42, 100, -3, 1e21],
  version: ["1.2.3", "1.2", "2", "1.2.3-beta.1", "1.2.3-beta.2", "1.2.3+build.5", "2.0.0", "10.0.0", "v1.2.3", "1.2.3.4", "01.2.3", 3],
  created: [
    "2024-01-01T00:00:00Z",
    "2024-06-15T12:30:00.123+02:00",
    "2023-12-31T23:59:59-07",
    "2024-01-01T00:00:00.5Z",
    "2024-01-01",
    "2024-13-45T99:99:99Z",
    1704067200000,
    1718447400123,
    0,
  ],
  groups: ["admin", "beta", "staff"],
  country: ["DE", "US", "FR", "de"],
  anonymous: [true, false, "yes", 0],
} satisfies Record<string, JsonValue[]>;

type PooledAttribute = keyof typeof ATTRIBUTE_POOLS;
const POOLED: PooledAttribute[] = Object.keys(ATTRIBUTE_POOLS) as PooledAttribute[];

/** Every scalar of every pool: clause values sometimes come from here, across types. */
export const ALL_SCALARS: JsonValue[] = [...new Set<JsonValue>([...Object.values(ATTRIBUTE_POOLS).flat(), ...CONTEXT_KEYS, null, true])];

export const REGEXES = ["^al", "a$", "^\\d+$", "b.t", "[", "(?:ph)+", "ü", "^$", "@example\\.(com|org)$", "^user-"];

/** The clause operators LaunchDarkly knows (Detour's `inCidr` is left out: LaunchDarkly has none). */
export const LD_OPS = [
  "in",
  "startsWith",
  "endsWith",
  "contains",
  "matches",
  "lessThan",
  "lessThanOrEqual",
  "greaterThan",
  "greaterThanOrEqual",
  "before",
  "after",
  "semVerEqual",
  "semVerLessThan",
  "semVerGreaterThan",
] as const satisfies readonly ClauseOp[];

/** Which attributes an operator is most useful on: clauses pick these most of the time. */
const FITTING: Record<(typeof LD_OPS)[number], (PooledAttribute | "key")[]> = {
  in: ["name", "email", "country", "groups", "age", "key", "anonymous"],
  startsWith: ["name", "email", "key"],
  endsWith: ["name", "email", "key"],
  contains: ["name", "email", "groups", "key"],
  matches: ["name", "email", "key"],
  lessThan: ["age", "score"],
  lessThanOrEqual: ["age", "score"],
  greaterThan: ["age", "score"],
  greaterThanOrEqual: ["age", "score"],
  before: ["created"],
  after: ["created"],
  semVerEqual: ["version"],
  semVerLessThan: ["version"],
  semVerGreaterThan: ["version"],
};

/** Bounds on what a generated document holds; indexes past them refer to missing flags/segments. */
export const LIMITS = { flags: 4, segments: 3, flagValues: 2 } as const;

const other = "org";

/**
 * Kinds LaunchDarkly never writes but a hand-made document may hold: `null`
 * (its loader strips nulls: the kind is absent) and `""` (a kind no context
 * has, except where LaunchDarkly reads any falsy kind as `user`).
 */
const oddKind = fc.constantFrom("", null) as fc.Arbitrary<string>;

// ---------------------------------------------------------------- contexts

const scalarOf = (pool: readonly JsonValue[]) => fc.constantFrom(...pool);

const randomKey = fc.string({ unit: "grapheme", minLength: 1, maxLength: 12 });

/** A context key: mostly one of CONTEXT_KEYS (targets hit), sometimes anything non-empty (rollouts spread). */
export const contextKeyArbitrary: fc.Arbitrary<string> = fc.oneof(
  { weight: 3, arbitrary: fc.constantFrom(...CONTEXT_KEYS) },
  { weight: 1, arbitrary: randomKey },
);

function attributeValue(name: PooledAttribute): fc.Arbitrary<unknown> {
  const pool = ATTRIBUTE_POOLS[name];
  if (name === "groups") {
    return fc.oneof(
      { weight: 3, arbitrary: fc.array(scalarOf(pool), { maxLength: 3 }) },
      { weight: 1, arbitrary: scalarOf(pool) },
      { weight: 1, arbitrary: fc.array(scalarOf(ALL_SCALARS), { maxLength: 2 }) },
    );
  }
  return fc.oneof(
    { weight: 8, arbitrary: scalarOf(pool) },
    { weight: 1, arbitrary: scalarOf(ALL_SCALARS) },
    { weight: 1, arbitrary: fc.array(scalarOf(pool), { maxLength: 2 }) },
  );
}

const nestedValue = fc.record(
  { x: scalarOf(ALL_SCALARS), y: fc.record({ z: scalarOf(ALL_SCALARS) }, { requiredKeys: [] }) },
  { requiredKeys: [] },
);

/**
 * A flat user context `{ key, ...attributes }`: any subset of the pooled
 * attributes, an object-valued `nested` (for `/nested/x` references) and a
 * stray integer or float (for bucketing by a number).
 */
export function userContextArbitrary(): fc.Arbitrary<EvaluationContext> {
  // Each attribute is there most of the time, so clauses find something to compare.
  const usually = (arbitrary: fc.Arbitrary<unknown>) =>
    fc.oneof({ weight: 5, arbitrary }, { weight: 1, arbitrary: fc.constant(undefined) });
  const attributes: Record<string, fc.Arbitrary<unknown>> = {};
  for (const name of POOLED) attributes[name] = usually(attributeValue(name));
  attributes.nested = usually(nestedValue);
  attributes.id = usually(fc.oneof(fc.integer({ min: -1000, max: 100000 }), fc.constantFrom(1.5, 2 ** 53, "7")));
  return fc
    .tuple(contextKeyArbitrary, fc.record(attributes))
    .map(([key, rest]) => ({ key, ...defined(rest) }) as EvaluationContext);
}

/** Attributes LaunchDarkly's legacy users keep at top level; the others go under `custom`. */
const LEGACY_BUILT_INS = new Set(["name", "ip", "firstName", "lastName", "email", "avatar", "country", "anonymous"]);

/**
 * A context in one of the forms both sides take, with what LaunchDarkly is
 * handed: Detour's flat form goes to LaunchDarkly as the single-kind user it
 * stands for; every LaunchDarkly form goes to both sides verbatim.
 */
export interface ParityContext {
  readonly form: "flat" | "user" | "other" | "multi" | "legacy" | "invalid";
  readonly detour: EvaluationContext;
  readonly launchDarkly: Record<string, unknown>;
}

const attributesOf = (context: EvaluationContext): Record<string, unknown> => {
  const { key: _key, ...rest } = context as Record<string, unknown>;
  return rest;
};

/** Some contexts LaunchDarkly's SDK refuses (USER_NOT_SPECIFIED). */
const invalidContext: fc.Arbitrary<Record<string, unknown>> = fc.constantFrom<Record<string, unknown>>(
  { kind: "multi" },
  { kind: other, key: "" },
  { kind: "user" },
  { kind: "kind", key: "user-1" },
  { kind: "multi", user: { key: "user-1" }, [other]: "user-2" },
  { kind: "multi", user: { key: "" }, [other]: { key: "user-2" } },
  { kind: "not a kind", key: "user-1" },
  { kind: 7, key: "user-1" },
  { name: "no key" },
);

/**
 * A LaunchDarkly context of any form: flat (Detour's), single-kind `user`,
 * single-kind `org` (the other kind documents target), multi-kind (`org`
 * with or without a `user`), a legacy user with `custom` attributes, and now
 * and then an invalid one. Every part draws its key and attributes from the
 * same pools, so `org` targets, clauses, rollouts and segment lists hit.
 */
export function ldContextArbitrary(): fc.Arbitrary<ParityContext> {
  const user = userContextArbitrary();
  const part = user.map((context) => ({ ...context }));
  return fc.oneof(
    { weight: 4, arbitrary: user.map((context): ParityContext => ({ form: "flat", detour: context, launchDarkly: { ...context, kind: "user" } })) },
    { weight: 1, arbitrary: user.map((context): ParityContext => {
      const single = { kind: "user", ...context } as EvaluationContext;
      return { form: "user", detour: single, launchDarkly: single };
    }) },
    { weight: 2, arbitrary: part.map((context): ParityContext => {
      const single = { ...context, kind: other } as EvaluationContext;
      return { form: "other", detour: single, launchDarkly: single };
    }) },
    { weight: 4, arbitrary: fc.tuple(fc.option(part, { freq: 4 }), part).map(([userPart, otherPart]): ParityContext => {
      const multi = (userPart === null ? { kind: "multi", [other]: otherPart } : { kind: "multi", user: userPart, [other]: otherPart }) as EvaluationContext;
      return { form: "multi", detour: multi, launchDarkly: multi };
    }) },
    { weight: 2, arbitrary: user.map((context): ParityContext => {
      const top: Record<string, unknown> = { key: context.key };
      const custom: Record<string, unknown> = {};
      for (const [name, value] of Object.entries(attributesOf(context))) (LEGACY_BUILT_INS.has(name) ? top : custom)[name] = value;
      const legacy = { ...top, custom } as EvaluationContext;
      return { form: "legacy", detour: legacy, launchDarkly: legacy };
    }) },
    { weight: 1, arbitrary: invalidContext.map((context): ParityContext => ({ form: "invalid", detour: context as EvaluationContext, launchDarkly: context })) },
  );
}

// ---------------------------------------------------------------- blueprints
//
// Documents are generated as index-based blueprints (plain records, so they
// shrink well) and then laid out with the namespace: an index past the
// number of generated flags or segments refers to a key that is missing.

/** A variation choice: `n % count` normally; `-1` stands for an out-of-range index (a malformed flag). */
const variationChoice = fc.oneof({ weight: 40, arbitrary: fc.nat(1000) }, { weight: 1, arbitrary: fc.constant(-1) });

const contextKindChoice = fc.oneof(
  { weight: 12, arbitrary: fc.constant(undefined) },
  { weight: 6, arbitrary: fc.constant("user") },
  { weight: 2, arbitrary: fc.constant(other) },
  { weight: 1, arbitrary: oddKind },
);

interface ClauseBlueprint {
  type: "attribute" | "segment" | "bogus";
  op: string;
  attribute: string;
  values: JsonValue[];
  segments: number[];
  negate: boolean | undefined;
  contextKind: string | undefined;
}

const specialAttribute = fc.oneof(
  { weight: 6, arbitrary: fc.constant("/nested/x") },
  { weight: 3, arbitrary: fc.constant("/nested/y/z") },
  { weight: 3, arbitrary: fc.constant("kind") },
  { weight: 2, arbitrary: fc.constant("anonymous") },
  { weight: 1, arbitrary: fc.constant("/~1weird") },
  // Invalid references: a MALFORMED_FLAG error in both implementations.
  { weight: 1, arbitrary: fc.constantFrom("", "/", "/_meta", "a//b", "~") },
);

function clauseValues(op: (typeof LD_OPS)[number], attribute: string): fc.Arbitrary<JsonValue[]> {
  let pool: readonly JsonValue[] = ALL_SCALARS;
  if (attribute === "key") pool = CONTEXT_KEYS;
  else if (attribute === "kind") pool = ["user", other];
  else if (attribute in ATTRIBUTE_POOLS) pool = ATTRIBUTE_POOLS[attribute as PooledAttribute];
  const own = op === "matches" ? fc.oneof(scalarOf(REGEXES), scalarOf(pool)) : scalarOf(pool);
  const value = fc.oneof({ weight: 5, arbitrary: own }, { weight: 1, arbitrary: scalarOf(ALL_SCALARS) });
  return fc.array(value, { minLength: 1, maxLength: 3 });
}

const attributeClause: fc.Arbitrary<ClauseBlueprint> = fc
  .record({
    op: fc.constantFrom(...LD_OPS),
    pick: fc.nat(1000),
    fits: fc.nat(9),
    special: specialAttribute,
    negate: fc.constantFrom(undefined, false, true, false),
    contextKind: contextKindChoice,
  })
  .chain(({ op, pick, fits, special, negate, contextKind }) => {
    const fitting = FITTING[op];
    const attribute =
      fits < 6 ? fitting[pick % fitting.length]! : fits < 9 ? [...POOLED, "key"][pick % (POOLED.length + 1)]! : special;
    return clauseValues(op, attribute).map(
      (values): ClauseBlueprint => ({ type: "attribute", op, attribute, values, segments: [], negate, contextKind }),
    );
  });

const segmentClause: fc.Arbitrary<ClauseBlueprint> = fc
  .record({
    segments: fc.array(fc.nat(LIMITS.segments), { minLength: 1, maxLength: 2 }),
    negate: fc.constantFrom(undefined, false, true),
  })
  .map(({ segments, negate }) => ({
    type: "segment",
    op: "segmentMatch",
    attribute: "key",
    values: [],
    segments,
    negate,
    contextKind: undefined,
  }));

/** An operator neither implementation knows: never matches (so matches when negated). */
const bogusClause: fc.Arbitrary<ClauseBlueprint> = fc.record({
  type: fc.constant("bogus" as const),
  op: fc.constant("notAnOperator"),
  attribute: fc.constant("name"),
  values: fc.constant(["alpha"]),
  segments: fc.constant([] as number[]),
  negate: fc.boolean(),
  contextKind: fc.constant(undefined),
});

const clauseBlueprint = fc.oneof(
  { weight: 14, arbitrary: attributeClause },
  { weight: 4, arbitrary: segmentClause },
  { weight: 1, arbitrary: bogusClause },
);

const clauseList = fc.oneof(
  { weight: 3, arbitrary: fc.array(clauseBlueprint, { minLength: 1, maxLength: 1 }) },
  { weight: 1, arbitrary: fc.array(clauseBlueprint, { minLength: 2, maxLength: 3 }) },
);

const WEIGHTS = [0, 1, 25000, 50000, 75000, 99999, 100000];
const weight = fc.oneof(fc.constantFrom(...WEIGHTS), fc.nat(100000));

const bucketByChoice = fc.oneof(
  { weight: 6, arbitrary: fc.constant(undefined) },
  { weight: 2, arbitrary: fc.constantFrom("key", "name", "id", "email") },
  { weight: 2, arbitrary: fc.constantFrom("age", "score", "nested", "anonymous", "groups", "kind", "missing", "") },
  { weight: 1, arbitrary: fc.constantFrom("/nested/x", "/id", "/") },
);

interface RolloutBlueprint {
  slots: { variation: number; weight: number; untracked: boolean | undefined }[];
  bucketBy: string | undefined;
  seed: number | undefined;
  kind: "rollout" | "experiment" | undefined;
  contextKind: string | undefined;
}

const rolloutBlueprint: fc.Arbitrary<RolloutBlueprint> = fc.record({
  slots: fc.array(
    fc.record({ variation: variationChoice, weight, untracked: fc.constantFrom(undefined, false, true, undefined) }),
    { minLength: 1, maxLength: 4 },
  ),
  bucketBy: bucketByChoice,
  seed: fc.oneof(
    { weight: 5, arbitrary: fc.constant(undefined) },
    { weight: 2, arbitrary: fc.constantFrom(0, 1, 42, -7) },
    { weight: 2, arbitrary: fc.integer() },
  ),
  kind: fc.constantFrom(undefined, "rollout", "experiment", "experiment"),
  contextKind: fc.oneof(
    { weight: 16, arbitrary: fc.constant(undefined) },
    { weight: 4, arbitrary: fc.constant("user") },
    { weight: 2, arbitrary: fc.constant(other) },
    { weight: 1, arbitrary: oddKind },
  ),
});

type OutcomeBlueprint = { variation: number } | { rollout: RolloutBlueprint };

const outcomeBlueprint = (rolloutWeight: number): fc.Arbitrary<OutcomeBlueprint> =>
  fc.oneof(
    { weight: 10 - rolloutWeight, arbitrary: variationChoice.map((variation) => ({ variation })) },
    { weight: rolloutWeight, arbitrary: rolloutBlueprint.map((rollout) => ({ rollout })) },
  );

const keyList = fc.subarray([...CONTEXT_KEYS], { maxLength: 3 });

/** Empty with weight `empty`, else 1..maxLength items with weight `full`. */
function sometimesEmpty<T>(item: fc.Arbitrary<T>, maxLength: number, empty: number, full: number): fc.Arbitrary<T[]> {
  return fc.oneof(
    { weight: empty, arbitrary: fc.constant([] as T[]) },
    { weight: full, arbitrary: fc.array(item, { minLength: 1, maxLength }) },
  );
}

const flagBlueprint = fc.record({
  on: fc.oneof({ weight: 6, arbitrary: fc.constant(true) }, { weight: 1, arbitrary: fc.constant(false) }),
  variations: fc.array(
    fc.oneof(
      { weight: 4, arbitrary: scalarOf(ALL_SCALARS) },
      { weight: 1, arbitrary: fc.jsonValue({ maxDepth: 2 }) as fc.Arbitrary<JsonValue> },
    ),
    { minLength: 1, maxLength: 4 },
  ),
  offVariation: fc.oneof(
    { weight: 3, arbitrary: variationChoice },
    { weight: 1, arbitrary: fc.constant(undefined) },
  ),
  targets: sometimesEmpty(
    fc.record({
      variation: variationChoice,
      values: keyList,
      contextKind: fc.oneof(
        { weight: 20, arbitrary: fc.constant(undefined) },
        { weight: 2, arbitrary: fc.constant("user") },
        { weight: 1, arbitrary: oddKind },
      ),
    }),
    3,
    1,
    2,
  ),
  contextTargets: sometimesEmpty(
    fc.record({
      contextKind: fc.oneof(
        { weight: 8, arbitrary: fc.constantFrom("user", other, "user") },
        { weight: 1, arbitrary: oddKind },
      ),
      variation: variationChoice,
      values: keyList,
    }),
    3,
    2,
    1,
  ),
  rules: sometimesEmpty(
    fc.record({
      id: fc.constantFrom(undefined, "rule-a", "rule-b"),
      clauses: clauseList,
      outcome: outcomeBlueprint(4),
    }),
    5,
    1,
    5,
  ),
  prerequisites: sometimesEmpty(
    fc.record({
      // An index into the document's flags (possibly past the end: missing, or
      // the flag itself: a cycle), or into its flagValues.
      flag: fc.nat(LIMITS.flags),
      toValue: fc.oneof({ weight: 5, arbitrary: fc.constant(false) }, { weight: 1, arbitrary: fc.constant(true) }),
      variation: fc.nat(3),
    }),
    2,
    3,
    1,
  ),
  fallthrough: outcomeBlueprint(5),
  salt: fc.oneof(
    { weight: 3, arbitrary: fc.constant(undefined) },
    { weight: 1, arbitrary: fc.constant("") },
    { weight: 3, arbitrary: fc.string({ maxLength: 8 }) },
    { weight: 1, arbitrary: fc.string({ maxLength: 4, unit: "grapheme" }) },
  ),
});

type FlagBlueprint = typeof flagBlueprint extends fc.Arbitrary<infer T> ? T : never;

const segmentTargets = fc.oneof(
  { weight: 3, arbitrary: fc.constant(undefined) },
  {
    weight: 1,
    arbitrary: fc.array(
      fc.record({
        contextKind: fc.oneof({ weight: 8, arbitrary: fc.constantFrom("user", other) }, { weight: 1, arbitrary: oddKind }),
        values: keyList,
      }),
      { minLength: 1, maxLength: 2 },
    ),
  },
);

const segmentBlueprint = fc.record({
  included: keyList,
  excluded: keyList,
  includedContexts: segmentTargets,
  excludedContexts: segmentTargets,
  rules: fc.array(
    fc.record({
      clauses: clauseList,
      weight: fc.oneof({ weight: 2, arbitrary: fc.constant(undefined) }, { weight: 1, arbitrary: weight }),
      bucketBy: fc.oneof({ weight: 3, arbitrary: fc.constant(undefined) }, { weight: 1, arbitrary: bucketByChoice }),
      rolloutContextKind: fc.oneof(
        { weight: 12, arbitrary: fc.constant(undefined) },
        { weight: 2, arbitrary: fc.constantFrom("user", other) },
        { weight: 1, arbitrary: oddKind },
      ),
    }),
    { maxLength: 3 },
  ),
  salt: fc.constantFrom(undefined, "", "pepper"),
  unbounded: fc.oneof(
    { weight: 20, arbitrary: fc.constant(undefined) },
    {
      weight: 1,
      arbitrary: fc.record({
        generation: fc.constantFrom(undefined, 1),
        unboundedContextKind: fc.constantFrom(undefined, "user", other, "", null),
      }),
    },
  ),
});

type SegmentBlueprint = typeof segmentBlueprint extends fc.Arbitrary<infer T> ? T : never;

// ---------------------------------------------------------------- layout

/** Copies the defined properties only: the document is plain JSON, as a file would hold. */
function defined<T extends object>(value: T): T {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as T;
}

export const flagKey = (namespace: string, index: number) => `${namespace}-f${index}`;
export const valueKey = (namespace: string, index: number) => `${namespace}-v${index}`;
export const segmentKey = (namespace: string, index: number) => `${namespace}-s${index}`;

function layOutClause(namespace: string, clause: ClauseBlueprint): Clause {
  if (clause.type === "segment") {
    return defined({
      attribute: "key",
      op: "segmentMatch" as const,
      values: clause.segments.map((s) => segmentKey(namespace, s)),
      negate: clause.negate,
    });
  }
  return defined({
    attribute: clause.attribute,
    op: clause.op as ClauseOp,
    values: clause.values,
    negate: clause.negate,
    contextKind: clause.contextKind,
  });
}

function index(choice: number, count: number): number {
  return choice < 0 ? count : choice % count;
}

function layOutRollout(rollout: RolloutBlueprint, count: number): Rollout {
  return defined({
    variations: rollout.slots.map((slot): WeightedVariation =>
      defined({ variation: index(slot.variation, count), weight: slot.weight, untracked: slot.untracked }),
    ),
    bucketBy: rollout.bucketBy,
    seed: rollout.seed,
    kind: rollout.kind,
    contextKind: rollout.contextKind,
  });
}

function layOutOutcome(outcome: OutcomeBlueprint, count: number): VariationOrRollout {
  return "variation" in outcome
    ? { variation: index(outcome.variation, count) }
    : { rollout: layOutRollout(outcome.rollout, count) };
}

function layOutFlag(namespace: string, i: number, blueprint: FlagBlueprint, valueCount: number): Flag {
  const count = blueprint.variations.length;
  const key = flagKey(namespace, i);
  return defined({
    key,
    version: 1,
    on: blueprint.on,
    variations: blueprint.variations,
    offVariation: blueprint.offVariation === undefined ? undefined : index(blueprint.offVariation, count),
    targets: blueprint.targets.map(
      (t): Target => defined({ variation: index(t.variation, count), values: t.values, contextKind: t.contextKind }),
    ),
    contextTargets: blueprint.contextTargets.map(
      (t): Target => ({
        contextKind: t.contextKind,
        variation: index(t.variation, count),
        // LaunchDarkly keeps user keys in `targets` and leaves user context targets empty.
        values: t.contextKind === "user" ? [] : t.values,
      }),
    ),
    rules: blueprint.rules.map(
      (rule): Rule =>
        defined({ id: rule.id, clauses: rule.clauses.map((c) => layOutClause(namespace, c)), ...layOutOutcome(rule.outcome, count) }),
    ),
    prerequisites: blueprint.prerequisites.map(
      (p): Prerequisite => ({
        key: p.toValue && valueCount > 0 ? valueKey(namespace, p.flag % valueCount) : flagKey(namespace, p.flag),
        variation: p.variation,
      }),
    ),
    fallthrough: layOutOutcome(blueprint.fallthrough, count),
    salt: blueprint.salt,
  });
}

function layOutSegment(namespace: string, j: number, blueprint: SegmentBlueprint): Segment {
  const targets = (list: typeof blueprint.includedContexts) =>
    list?.map((t): SegmentTarget => ({ contextKind: t.contextKind, values: t.values }));
  return defined({
    key: segmentKey(namespace, j),
    version: 1,
    included: blueprint.included,
    excluded: blueprint.excluded,
    includedContexts: targets(blueprint.includedContexts),
    excludedContexts: targets(blueprint.excludedContexts),
    rules: blueprint.rules.map(
      (rule): SegmentRule =>
        defined({
          // LaunchDarkly's big-segment path forgets which segments it has visited, so a
          // segmentMatch inside an unbounded segment can recurse forever (an SDK bug; real
          // big segments have no rules): keep those out.
          clauses: rule.clauses
            .filter((c) => !(blueprint.unbounded && c.type === "segment"))
            .map((c) => layOutClause(namespace, c)),
          weight: rule.weight,
          bucketBy: rule.bucketBy,
          rolloutContextKind: rule.rolloutContextKind,
        }),
    ),
    salt: blueprint.salt,
    ...(blueprint.unbounded ? defined({ unbounded: true, ...blueprint.unbounded }) : {}),
  });
}

export interface GeneratedDocument {
  /** Prefix of every key in the document. */
  namespace: string;
  document: FlagDocument;
  /** Every flag to evaluate: the `flags` keys, then the `flagValues` keys. */
  flagKeys: string[];
}

/** A namespace that is never biased toward small values, so merged documents rarely clash. */
export const namespaceArbitrary: fc.Arbitrary<string> = fc
  .noBias(fc.integer({ min: 0, max: 2 ** 31 - 1 }))
  .map((n) => `d${n.toString(36)}`);

/**
 * A random flag document: 1..4 flags (targets, context targets of kind `user`
 * and `org`, rules over every LaunchDarkly operator with negate and
 * contextKind, prerequisites among the document's flags, to missing flags, to
 * `flagValues` flags and to themselves, fixed or rollout/experiment
 * fallthroughs with seeds, salts and bucketBy), 0..3 segments (included,
 * excluded, context lists, plain and weighted rules, nested `segmentMatch`,
 * cycles) and 0..2 `flagValues`.
 */
export function flagDocumentArbitrary(): fc.Arbitrary<GeneratedDocument> {
  return fc
    .record({
      namespace: namespaceArbitrary,
      flags: fc.array(flagBlueprint, { minLength: 1, maxLength: LIMITS.flags }),
      segments: fc.array(segmentBlueprint, { maxLength: LIMITS.segments }),
      flagValues: fc.array(scalarOf(ALL_SCALARS), { maxLength: LIMITS.flagValues }),
    })
    .map(({ namespace, flags, segments, flagValues }) => {
      const document: FlagDocument = {
        flags: Object.fromEntries(
          flags.map((f, i) => [flagKey(namespace, i), layOutFlag(namespace, i, f, flagValues.length)]),
        ),
        segments: Object.fromEntries(segments.map((s, j) => [segmentKey(namespace, j), layOutSegment(namespace, j, s)])),
        flagValues: Object.fromEntries(flagValues.map((v, k) => [valueKey(namespace, k), v])),
      };
      return { namespace, document, flagKeys: [...Object.keys(document.flags!), ...Object.keys(document.flagValues!)] };
    });
}

export interface ParityCase extends GeneratedDocument {
  contexts: ParityContext[];
}

/** One document and a few contexts to evaluate every one of its flags for. */
export function parityCaseArbitrary(options: { maxContexts?: number } = {}): fc.Arbitrary<ParityCase> {
  return fc
    .tuple(flagDocumentArbitrary(), fc.array(ldContextArbitrary(), { minLength: 1, maxLength: options.maxContexts ?? 3 }))
    .map(([generated, contexts]) => ({ ...generated, contexts }));
}
