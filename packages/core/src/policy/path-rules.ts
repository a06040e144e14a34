import type { Mode } from "../document/types.js";
import { compileFlag, isPathClause, type CompiledFlag, type Outcome } from "../evaluation/compile.js";
import { partOf, withUserAttribute } from "../evaluation/context.js";
import { evaluateCompiled, type FlagLookup } from "../evaluation/evaluate.js";
import type { EvaluationContext, EvaluationResult } from "../evaluation/types.js";

/*
 * Rules on the `path` attribute in guard mode. A mode flag whose rules read
 * the request path is evaluated once per reading of the path a router could
 * route on (../bypass/path-readings.ts) and the strictest mode wins: a rule that
 * blocks `/admin` blocks `/ADMIN`, `/%61dmin` and `/admin;x`, and a rule that
 * exempts `/public` exempts only what every reading agrees is `/public`.
 * Case is folded on both sides by a second compilation of the flag (Express
 * and Koa route case-insensitively); flag evaluation proper (LaunchDarkly
 * parity, `variation()`) never sees it. An unreadable path counts as matching
 * any rule: the flag gives the strictest mode one of its rules can give.
 */

export interface PathRules {
  /** The flag compiled with its path clauses case-folded; `null` when none of its own clauses reads `path`. */
  readonly folded: CompiledFlag | null;
  /** What an unreadable path gets: the strictest result one of the rules (or the fallthrough) can give. */
  readonly unreadable: EvaluationResult | null;
}

const RANK: Readonly<Record<Mode, number>> = { available: 1, "read-only": 2, maintenance: 3 };
const STRICTEST = RANK.maintenance;

function rank(modes: readonly (Mode | null)[], result: EvaluationResult): number {
  const mode = result.variationIndex === null ? null : modes[result.variationIndex];
  return mode ? RANK[mode] : 0;
}

function outcomeResults(outcome: Outcome): readonly EvaluationResult[] {
  return outcome.type === "fixed" ? [outcome.result] : outcome.counted;
}

const cache = new WeakMap<CompiledFlag, PathRules | null>();

/**
 * How a compiled mode flag reads the path, worked out once per snapshot;
 * `null` when it never does (no clause on `path`, no segment, no prerequisite).
 */
export function pathRulesOf(flag: CompiledFlag, modes: readonly (Mode | null)[]): PathRules | null {
  let rules = cache.get(flag);
  if (rules !== undefined) return rules;
  const clauses = (Array.isArray(flag.flag.rules) ? flag.flag.rules : []).flatMap((rule) => (Array.isArray(rule.clauses) ? rule.clauses : []));
  const own = clauses.some(isPathClause);
  // Segments and prerequisites may read the path too (without case folding).
  const indirect = flag.prerequisites.length > 0 || clauses.some((clause) => clause.op === "segmentMatch");
  rules = null;
  if (own || indirect) {
    let unreadable: EvaluationResult | null = null;
    for (const outcome of [...flag.rules.map((rule) => rule.outcome), flag.fallthrough]) {
      for (const result of outcomeResults(outcome)) if (unreadable === null || rank(modes, result) > rank(modes, unreadable)) unreadable = result;
    }
    rules = { folded: own ? compileFlag(flag.flag, { foldPaths: true }) : null, unreadable };
  }
  cache.set(flag, rules);
  return rules;
}

/**
 * The strictest of `first` (the flag evaluated for `context` as it is) and
 * the flag evaluated with each of `readings` as the context's `path`, case
 * folded or not; `unreadable` adds what an unreadable path gets.
 */
export function strictestReading(
  flag: CompiledFlag,
  rules: PathRules,
  modes: readonly (Mode | null)[],
  context: EvaluationContext,
  readings: readonly string[],
  unreadable: boolean,
  lookup: FlagLookup,
  first: EvaluationResult,
): EvaluationResult {
  let best = first;
  let bestRank = rank(modes, first);
  const consider = (result: EvaluationResult) => {
    const r = rank(modes, result);
    if (r > bestRank) {
      best = result;
      bestRank = r;
    }
  };
  if (unreadable && rules.unreadable !== null) consider(rules.unreadable);
  const ownPath = partOf(context, "user")?.path;
  for (const path of readings) {
    if (bestRank === STRICTEST) break;
    const same = path === ownPath;
    const reading = same ? context : withUserAttribute(context, "path", path);
    if (!same) consider(evaluateCompiled(flag, reading, lookup));
    if (rules.folded !== null) consider(evaluateCompiled(rules.folded, reading, lookup));
  }
  return best;
}
