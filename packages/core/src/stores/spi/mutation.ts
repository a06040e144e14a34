import { diffDocuments } from "../../document/changes.js";
import type { FlagDocument } from "../../document/types.js";
import { ArgumentError, ValidationError, type ValidationIssue } from "../../errors.js";
import { Snapshot } from "../../snapshot.js";
import { isTargetAware, lazyDraft, settleDraft } from "./lazy-draft.js";
import type { Mutator } from "../types.js";

/** Options of {@link applyMutation}. */
export interface MutationOptions {
  /** Names the document in validation errors (a path, a key). */
  readonly source?: string;
  /**
   * The revision the source holds, when it may differ from `current.revision`
   * (e.g. a revision kept apart from the document): the new revision is above both.
   */
  readonly sourceRevision?: number;
  /**
   * A private, mutable copy of `current.document` when the store has a cheaper
   * one than a deep clone (e.g. the raw JSON it read, parsed again).
   */
  readonly draft?: FlagDocument;
  /** Creation time of the new snapshot (epoch ms). Default: now. */
  readonly now?: number;
  /**
   * Validate and compile only the entries the mutator changed (`Snapshot.patch`),
   * sharing the others with `current`, instead of the whole document. Same
   * result, same errors; a draft whose changes cannot be told entry by entry
   * is validated whole. Without `draft`, the mutator gets a copy that copies
   * an entry only when read, so untouched entries cost nothing.
   */
  readonly incremental?: boolean;
}

/**
 * The pure part of a write, the same for every store: runs `mutator` on a
 * private copy of `current`, sets `revision` to the current revision + 1
 * (whatever the mutator did with it, so revisions only ever grow), validates
 * and compiles the result.
 *
 * Throws what the mutator throws, an `ArgumentError` when the mutator returns
 * a promise (mutators are synchronous), or a `ValidationError` naming each
 * flag and field at fault. Nothing is changed when it throws.
 */
export function applyMutation(current: Snapshot, mutator: Mutator, options: MutationOptions = {}): Snapshot {
  const draft = options.draft ?? (options.incremental ? lazyDraft(current.document, { trackTargets: isTargetAware(mutator) }) : current.draft());
  const returned: unknown = mutator(draft);
  if (isPromiseLike(returned)) {
    throw new ArgumentError("mutator", "must be synchronous; it returned a promise (read what you need before calling write())");
  }
  const next = settleDraft(returned === undefined ? draft : returned);
  const revision = Math.max(current.revision, options.sourceRevision ?? -1) + 1;
  const changes = options.incremental ? diffDocuments(current.document, next as FlagDocument) : null;
  if (changes) {
    return current.patch(changes, {
      revision,
      ...(options.source === undefined ? {} : { source: options.source }),
      ...(options.now === undefined ? {} : { now: options.now }),
    });
  }
  const document: unknown =
    next !== null && typeof next === "object" && !Array.isArray(next) ? { ...(next as FlagDocument), revision } : next;
  const snapshot = Snapshot.load(document, {
    ...(options.source === undefined ? {} : { source: options.source }),
    ...(options.now === undefined ? {} : { now: options.now }),
  });
  const refused = touchedProblems(current, snapshot);
  if (refused.length > 0) throw new ValidationError(refused, options.source);
  return snapshot;
}

/**
 * Detour's own writes stay strict: the problems of the flags and segments a
 * write changed (and of the document itself) refuse it. A broken flag loaded
 * from elsewhere does not stop writes to the others.
 */
function touchedProblems(current: Snapshot, next: Snapshot): ValidationIssue[] {
  const changed = new Map<string, boolean>();
  const touched = (kind: "flags" | "segments", key: string) => {
    const id = `${kind}\u0000${key}`;
    let result = changed.get(id);
    if (result === undefined) {
      const before = current.document[kind];
      const after = next.document[kind];
      const own = (map: Record<string, unknown> | undefined) => (map && Object.prototype.hasOwnProperty.call(map, key) ? map[key] : undefined);
      result = next.unloadable.has(key) || JSON.stringify(own(before)) !== JSON.stringify(own(after));
      changed.set(id, result);
    }
    return result;
  };
  return next.problems.filter((issue) => {
    if (issue.flag !== undefined) return touched("flags", issue.flag);
    const segment = /^segments(?:\.([A-Za-z_$][\w$-]*)|\["((?:[^"\\]|\\.)*)"\])/.exec(issue.path);
    if (segment) return touched("segments", segment[1] ?? (JSON.parse(`"${segment[2]}"`) as string));
    return true;
  });
}

function isPromiseLike(value: unknown): value is PromiseLike<unknown> {
  return (
    value !== null &&
    (typeof value === "object" || typeof value === "function") &&
    typeof (value as { then?: unknown }).then === "function"
  );
}
