import { withDictionaries } from "./document/dictionaries.js";
import { validateDocument } from "./validation/validate.js";
import type { Flag, FlagDocument } from "./document/types.js";
import { compileFlag, compileSegment, flagFromValue, type CompiledFlag, type CompiledSegment } from "./evaluation/compile.js";
import { evaluateCompiled, type FlagLookup } from "./evaluation/evaluate.js";
import type { EvaluationContext, EvaluationResult } from "./evaluation/types.js";

const NOT_FOUND: EvaluationResult = Object.freeze({
  value: null,
  variationIndex: null,
  reason: Object.freeze({ kind: "ERROR", errorKind: "FLAG_NOT_FOUND" }),
});

function deepFreeze<T>(value: T): T {
  if (value === null || typeof value !== "object" || Object.isFrozen(value)) return value;
  Object.freeze(value);
  if (Array.isArray(value)) {
    // Target lists can hold many thousands of user keys: only descend into the objects.
    for (let i = 0; i < value.length; i++) {
      const item: unknown = value[i];
      if (item !== null && typeof item === "object") deepFreeze(item);
    }
  } else {
    for (const key in value) deepFreeze((value as Record<string, unknown>)[key]);
  }
  return value;
}

/** What a flag's evaluation depends on, for integrations that report it (the OpenFeature provider's reasons). */
export interface FlagTraits {
  /** The fallthrough is a percentage rollout (or an experiment). */
  readonly rolloutFallthrough: boolean;
  /** The value can differ between contexts (targets, rules, rollouts or prerequisites). */
  readonly contextual: boolean;
}

/** The compiled form of a snapshot's flag: for the decision policy, never exported. */
export let compiledFlagOf: (snapshot: Snapshot, key: string) => CompiledFlag | undefined;

/** Where evaluations against a snapshot look up prerequisites and segments: for the decision policy, never exported. */
export let lookupOf: (snapshot: Snapshot) => FlagLookup;

/**
 * An immutable, validated and compiled flag document. Stores replace their
 * snapshot whole when the document changes; evaluation reads one snapshot
 * and never does I/O.
 */
export class Snapshot {
  /** The validated document, deeply frozen. */
  readonly document: Readonly<FlagDocument>;
  /** The document's revision (incremented by every write through Detour; 0 when never written). */
  readonly revision: number;
  /** When this snapshot was built (epoch milliseconds). */
  readonly createdAt: number;
  readonly #flags = new Map<string, CompiledFlag>();
  readonly #segments = new Map<string, CompiledSegment>();
  readonly #lookup: FlagLookup = { flag: (key) => this.#flags.get(key), segment: (key) => this.#segments.get(key) };

  static {
    compiledFlagOf = (snapshot, key) => snapshot.#flags.get(key);
    lookupOf = (snapshot) => snapshot.#lookup;
  }

  private constructor(document: FlagDocument, createdAt: number) {
    this.document = deepFreeze(document);
    this.revision = document.revision ?? 0;
    this.createdAt = createdAt;
    for (const [key, flag] of Object.entries(document.flags ?? {})) this.#flags.set(key, compileFlag(flag));
    for (const [key, value] of Object.entries(document.flagValues ?? {})) {
      this.#flags.set(key, compileFlag(flagFromValue(key, value)));
    }
    for (const [key, segment] of Object.entries(document.segments ?? {})) this.#segments.set(key, compileSegment(segment));
  }

  /**
   * Validates `input` (a parsed JSON document) and compiles it. Throws a
   * `ValidationError` naming every problem; nothing is half-built.
   */
  static from(input: unknown, options: { source?: string; now?: number; quoteValues?: boolean } = {}): Snapshot {
    return new Snapshot(validateDocument(input, options.source, { quoteValues: options.quoteValues }), options.now ?? Date.now());
  }

  /** An empty document: no flags, nothing in force. */
  static empty(now = Date.now()): Snapshot {
    return new Snapshot({}, now);
  }

  /** What the flag's evaluation depends on; `undefined` when the document has no such flag. */
  traits(key: string): FlagTraits | undefined {
    const flag = this.#flags.get(key);
    return flag === undefined ? undefined : { rolloutFallthrough: flag.fallthrough.type === "rollout", contextual: flag.contextual };
  }

  /** The raw flag definition (`flagValues` entries appear as the flag they stand for). */
  definition(key: string): Readonly<Flag> | undefined {
    return this.#flags.get(key)?.flag;
  }

  /** Every flag key, `flags` and `flagValues` alike. */
  keys(): string[] {
    return [...this.#flags.keys()];
  }

  /** Evaluates a flag of this document for a context; FLAG_NOT_FOUND when it has none. */
  evaluate(key: string, context: EvaluationContext): EvaluationResult {
    const flag = this.#flags.get(key);
    return flag === undefined ? NOT_FOUND : evaluateCompiled(flag, context, this.#lookup);
  }

  /**
   * A mutable deep copy of the document, for writers. Its `flags`,
   * `flagValues` and `segments` have no prototype, as the snapshot's own:
   * `draft.flags.constructor` is a flag named "constructor" or nothing.
   */
  draft(): FlagDocument {
    return withDictionaries(structuredClone(this.document) as FlagDocument);
  }
}
