import { DICTIONARIES, type DocumentChanges } from "./document/changes.js";
import { cloneJson } from "./document/clone.js";
import { isDerived } from "./document/target-values.js";
import { withTargetChanges } from "./document/target-changes.js";
import type { TargetChange } from "./document/target-values.js";
import { copyDictionary, withDictionaries } from "./document/dictionaries.js";
import { loadDocument, validateDocument } from "./validation/validate.js";
import type { ValidationIssue } from "./errors.js";
import type { Flag, FlagDocument } from "./document/types.js";
import { ValidationError } from "./errors.js";
import { compileFlag, compileSegment, flagFromValue, type CompiledFlag, type CompiledSegment } from "./evaluation/compile.js";
import { evaluateCompiled, invalidContext, type FlagLookup } from "./evaluation/evaluate.js";
import type { EvaluationContext, EvaluationResult } from "./evaluation/types.js";

const NOT_FOUND: EvaluationResult = Object.freeze({
  value: null,
  variationIndex: null,
  reason: Object.freeze({ kind: "ERROR", errorKind: "FLAG_NOT_FOUND" }),
});

function deepFreeze<T>(value: T): T {
  // A derived target list freezes itself when it is built; asking would build it.
  if (value === null || typeof value !== "object" || isDerived(value) || Object.isFrozen(value)) return value;
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

/**
 * Whether `changed` (the flag and flag value keys a patch names) replaces
 * entries only: each is, before and after, in the same one of `flags` and
 * `flagValues`, so the compiled flags of `before` can be copied in order and
 * the named ones set in place.
 */
function sameKeys(before: Readonly<FlagDocument>, after: Readonly<FlagDocument>, changed: readonly string[]): boolean {
  const has = (dictionary: Readonly<Record<string, unknown>> | undefined, key: string) => dictionary !== undefined && Object.prototype.hasOwnProperty.call(dictionary, key);
  for (const key of changed) {
    const inFlags = has(after.flags, key);
    const inValues = has(after.flagValues, key);
    // A key in neither (a removal of nothing) has no entry to set in place.
    if ((!inFlags && !inValues) || has(before.flags, key) !== inFlags || has(before.flagValues, key) !== inValues) return false;
  }
  return true;
}

/**
 * `flag` compiled; its target lists patched into `before`'s compiled groups
 * when `changes` (the patch's target deltas) start from the definition
 * `before` was compiled from (`oldFlag`, the previous document's entry).
 */
function compileDefinition(flag: Flag, before: CompiledFlag | undefined, oldFlag: unknown, changes: readonly TargetChange[] | undefined): CompiledFlag {
  const patch = changes && before && oldFlag === before.flag ? { previous: before, changes } : undefined;
  return compileFlag(flag, {}, patch);
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

/** The compiled form of a snapshot's segment: for the decision policy and tests of compiled-form sharing, never exported. */
export let compiledSegmentOf: (snapshot: Snapshot, key: string) => CompiledSegment | undefined;

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
  /**
   * What loading the document flag by flag found wrong (`Snapshot.load`):
   * flags and fields LaunchDarkly's SDK tolerates, and flags Detour could
   * not represent. Empty for a document that validates.
   */
  readonly problems: readonly ValidationIssue[];
  /** Keys of the flags Detour could not represent (kept at their last good version, or evaluating as MALFORMED_FLAG). */
  readonly unloadable: ReadonlySet<string>;
  readonly #flags: Map<string, CompiledFlag>;
  readonly #segments = new Map<string, CompiledSegment>();
  readonly #lookup: FlagLookup = { flag: (key) => this.#flags.get(key), segment: (key) => this.#segments.get(key) };

  static {
    compiledFlagOf = (snapshot, key) => snapshot.#flags.get(key);
    compiledSegmentOf = (snapshot, key) => snapshot.#segments.get(key);
    lookupOf = (snapshot) => snapshot.#lookup;
  }

  /** `previous`: a snapshot whose compiled flags and segments are reused where the definition is the same object. */
  private constructor(
    document: FlagDocument,
    createdAt: number,
    previous?: Snapshot,
    problems: readonly ValidationIssue[] = [],
    unloadable: ReadonlySet<string> = new Set(),
    targetChanges?: Readonly<Record<string, readonly TargetChange[]>>,
    changed?: readonly string[],
  ) {
    this.problems = Object.freeze([...problems]);
    this.unloadable = unloadable;
    this.document = deepFreeze(document);
    this.revision = document.revision ?? 0;
    this.createdAt = createdAt;
    const old = previous?.document;
    const oldFlags = previous ? previous.#flags : undefined;
    const oldSegments = previous ? previous.#segments : undefined;
    const flags = document.flags ?? {};
    if (changed !== undefined && old !== undefined && oldFlags !== undefined && sameKeys(old, document, changed)) {
      // A patch that adds and removes no key: every flag it does not name keeps its compiled form and its place.
      this.#flags = new Map(oldFlags);
      for (const key of changed) {
        const value = document.flagValues?.[key];
        if (value !== undefined) {
          this.#flags.set(key, compileFlag(flagFromValue(key, value)));
          continue;
        }
        this.#flags.set(key, compileDefinition(flags[key]!, oldFlags.get(key), old.flags?.[key], targetChanges?.[key]));
      }
    } else {
      this.#flags = new Map();
      this.#compileFlags(document, old, oldFlags, targetChanges);
    }
    const segments = document.segments ?? {};
    for (const key of Object.keys(segments)) {
      const segment = segments[key]!;
      const same = old?.segments?.[key] === segment;
      this.#segments.set(key, (same && oldSegments?.get(key)) || compileSegment(segment));
    }
  }

  /** Compiles every flag and flag value of `document`, reusing `oldFlags` where the definition is the same object. */
  #compileFlags(
    document: FlagDocument,
    old: Readonly<FlagDocument> | undefined,
    oldFlags: ReadonlyMap<string, CompiledFlag> | undefined,
    targetChanges: Readonly<Record<string, readonly TargetChange[]>> | undefined,
  ): void {
    // Key loops, not Object.entries: no pair allocated per flag of a large document on every patch.
    const flags = document.flags ?? {};
    for (const key of Object.keys(flags)) {
      const flag = flags[key]!;
      const same = old?.flags?.[key] === flag && old?.flagValues?.[key] === undefined;
      const before = oldFlags?.get(key);
      this.#flags.set(key, (same && before) || compileDefinition(flag, before, old?.flags?.[key], targetChanges?.[key]));
    }
    const values = document.flagValues ?? {};
    for (const key of Object.keys(values)) {
      const value = values[key]!;
      const same = old?.flagValues !== undefined && key in old.flagValues && old.flagValues[key] === value && old.flags?.[key] === undefined;
      this.#flags.set(key, (same && oldFlags?.get(key)) || compileFlag(flagFromValue(key, value)));
    }
  }

  /**
   * Validates `input` (a parsed JSON document) and compiles it. Throws a
   * `ValidationError` naming every problem; nothing is half-built.
   */
  static from(input: unknown, options: { source?: string; now?: number; quoteValues?: boolean } = {}): Snapshot {
    return new Snapshot(validateDocument(input, options.source, { quoteValues: options.quoteValues }), options.now ?? Date.now());
  }

  /**
   * This snapshot with `changes` applied (see `diffDocuments`) at `revision`:
   * only the entries it names are validated and compiled; every other flag
   * and segment is shared with this snapshot. Throws a `ValidationError`
   * naming what is wrong, as `from()` would for the whole document.
   */
  patch(changes: DocumentChanges, options: { revision: number; source?: string; now?: number }): Snapshot {
    const fragment: Record<string, unknown> = {};
    for (const name of DICTIONARIES) {
      const delta = changes[name];
      if (delta) fragment[name] = Object.fromEntries(Object.entries(delta).filter(([, v]) => v !== null));
    }
    // A flag changed by target deltas is validated with only the keys it adds in its changed lists.
    const targeted = withTargetChanges(fragment.flags as Record<string, unknown> | undefined, changes.targets, this.document.flags);
    if (targeted) fragment.flags = targeted.fragment;
    if (changes.auditAdded) fragment.audit = changes.auditAdded;
    const checked = validateDocument({ ...fragment, revision: options.revision }, options.source);
    const doc: FlagDocument = { revision: options.revision };
    for (const name of DICTIONARIES) {
      const before = this.document[name] as Record<string, unknown> | undefined;
      const delta = changes[name];
      if (!delta) {
        if (before) (doc as Record<string, unknown>)[name] = before;
        continue;
      }
      const merged = copyDictionary(before);
      for (const [key, value] of Object.entries(delta)) {
        if (value === null) delete merged[key];
        else merged[key] = (checked[name] as Record<string, unknown>)[key];
      }
      if (name === "flags" && targeted) targeted.derive(merged as Record<string, Flag>);
      (doc as Record<string, unknown>)[name] = merged;
    }
    const overlap = Object.keys(doc.flagValues ?? {}).find((key) => doc.flags?.[key] !== undefined);
    if (overlap !== undefined) {
      throw new ValidationError([{ path: `flagValues.${overlap}`, message: "also defined under flags; a key may appear in only one of them" }], options.source);
    }
    const audit = this.document.audit ?? [];
    if (changes.auditAdded || changes.auditLength !== undefined) {
      doc.audit = [...(checked.audit ?? []), ...audit].slice(0, changes.auditLength ?? Infinity);
    } else if (this.document.audit) doc.audit = this.document.audit as FlagDocument["audit"];
    // Problems found when the document was loaded stay reported, but for the entries this change replaced.
    const replaced = (path: string) => DICTIONARIES.some((name) => changes[name] && Object.keys(changes[name]!).some((key) => path === `${name}.${key}` || path.startsWith(`${name}.${key}.`)));
    const unloadable = new Set([...this.unloadable].filter((key) => !(key in (changes.flags ?? {})) && !(key in (changes.flagValues ?? {}))));
    const changed = [...new Set([...Object.keys(changes.flags ?? {}), ...Object.keys(changes.targets ?? {}), ...Object.keys(changes.flagValues ?? {})])];
    return new Snapshot(doc, options.now ?? Date.now(), this, this.problems.filter((problem) => !replaced(problem.path)), unloadable, targeted?.changes, changed);
  }

  /**
   * Loads `input` flag by flag, as LaunchDarkly's SDK loads a data file: what
   * the SDK loads is kept and evaluated as the SDK does, a flag Detour cannot
   * represent keeps its version in `previous` (else evaluates as
   * MALFORMED_FLAG), and every problem is in `problems`. Throws a
   * `ValidationError` only for a document that is not an object of flags.
   */
  static load(input: unknown, options: { source?: string; now?: number; quoteValues?: boolean; previous?: Snapshot } = {}): Snapshot {
    const loaded = loadDocument(input, options.source, {
      ...(options.quoteValues === undefined ? {} : { quoteValues: options.quoteValues }),
      ...(options.previous === undefined ? {} : { previous: options.previous.document }),
    });
    return new Snapshot(loaded.document, options.now ?? Date.now(), undefined, loaded.problems, loaded.unloadable);
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

  /** Evaluates a flag of this document for a context; USER_NOT_SPECIFIED for an invalid context, FLAG_NOT_FOUND when it has no such flag. */
  evaluate(key: string, context: EvaluationContext): EvaluationResult {
    const invalid = invalidContext(context);
    if (invalid !== null) return invalid;
    const flag = this.#flags.get(key);
    return flag === undefined ? NOT_FOUND : evaluateCompiled(flag, context, this.#lookup);
  }

  /**
   * A mutable deep copy of the document, for writers. Its `flags`,
   * `flagValues` and `segments` have no prototype, as the snapshot's own:
   * `draft.flags.constructor` is a flag named "constructor" or nothing.
   */
  draft(): FlagDocument {
    return withDictionaries(cloneJson(this.document) as FlagDocument);
  }
}
