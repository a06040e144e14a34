import { ValidationError } from "../../errors.js";
import { Snapshot } from "../../snapshot.js";
import { describeError } from "./errors.js";

/** Options of {@link parseDocument}. */
export interface ParseOptions {
  /** Names the document in errors: a path, a Redis key, "bootstrap". */
  readonly source: string;
  /**
   * The revision the source keeps apart from the document (a Redis revision
   * key, a database column): it replaces the document's own `revision`.
   */
  readonly revision?: number;
  /** Creation time of the snapshot (epoch ms). Default: now. */
  readonly now?: number;
}

/**
 * The text a store read is not JSON at all. A `ValidationError`
 * (`DETOUR_INVALID_DOCUMENT`) with one issue at `(document)`, so it is
 * reported like any refused document; `empty` and `reason` let a store word
 * it its own way.
 */
export class DocumentSyntaxError extends ValidationError {
  /** True when the text was empty or only whitespace (a file truncated to nothing, a key set to ""). */
  readonly empty: boolean;
  /** What the JSON parser said. */
  readonly reason: string;

  constructor(source: string, text: string, cause: unknown) {
    const reason = describeError(cause);
    super([{ path: "(document)", message: `not JSON: ${reason}` }], source);
    this.empty = text.trim() === "";
    this.reason = reason;
    this.cause = cause;
  }
}

/**
 * Turns the text a store read into a snapshot: parses it as JSON, then
 * validates and compiles it, once. Throws a {@link DocumentSyntaxError} when
 * the text is not JSON, or a `ValidationError` naming every flag and field at
 * fault; both name `source`.
 */
export function parseDocument(text: string, options: ParseOptions): Snapshot {
  let input: unknown;
  try {
    input = JSON.parse(text);
  } catch (error) {
    throw new DocumentSyntaxError(options.source, text, error);
  }
  if (options.revision !== undefined && input !== null && typeof input === "object" && !Array.isArray(input)) {
    input = { ...(input as object), revision: options.revision };
  }
  return Snapshot.from(input, { source: options.source, ...(options.now === undefined ? {} : { now: options.now }) });
}
