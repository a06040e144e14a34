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
  /**
   * What the source makes of the parsed JSON before it is loaded: a store
   * that keeps parts of the document elsewhere (Redis sets of large target
   * lists) puts them back here.
   */
  readonly prepare?: (parsed: unknown) => unknown;
  /**
   * `false`: validation errors describe values by type, never quote them (for
   * sources that may hold someone else's bytes, such as a file replaced by a
   * symlink). Default `true`.
   */
  readonly quoteValues?: boolean;
  /** The snapshot in force, whose version of a flag Detour cannot load is kept. */
  readonly previous?: Snapshot;
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
  /** Where the JSON parser gave up (line and column), never quoting the text: V8's own messages do. */
  readonly reason: string;

  constructor(source: string, text: string, cause: unknown) {
    const reason = syntaxErrorPlace(text, cause);
    super([{ path: "(document)", message: `not JSON: ${reason}` }], source);
    this.empty = text.trim() === "";
    this.reason = reason;
    this.cause = cause;
  }
}

/**
 * Turns the text a store read into a snapshot: parses it as JSON, then
 * loads it flag by flag (`Snapshot.load`: problems are in the snapshot's
 * `problems`) and compiles it, once. Throws a {@link DocumentSyntaxError} when
 * the text is not JSON, or a `ValidationError` when it is not an object of
 * flags; both name `source`.
 */
export function parseDocument(text: string, options: ParseOptions): Snapshot {
  let input: unknown;
  try {
    input = JSON.parse(text);
  } catch (error) {
    throw new DocumentSyntaxError(options.source, text, error);
  }
  if (options.prepare !== undefined) input = options.prepare(input);
  if (options.revision !== undefined && input !== null && typeof input === "object" && !Array.isArray(input)) {
    input = { ...(input as object), revision: options.revision };
  }
  return Snapshot.load(input, {
    source: options.source,
    ...(options.now === undefined ? {} : { now: options.now }),
    ...(options.quoteValues === undefined ? {} : { quoteValues: options.quoteValues }),
    ...(options.previous === undefined ? {} : { previous: options.previous }),
  });
}

/** Where JSON.parse gave up, as line and column, without any of the text. */
function syntaxErrorPlace(text: string, error: unknown): string {
  const message = describeError(error);
  const position = /at position (\d+)/.exec(message);
  if (position === null) return /Unexpected end/i.test(message) ? "the text ends before the document does" : "syntax error";
  const offset = Math.min(Number(position[1]), text.length);
  const before = text.slice(0, offset);
  const line = before.split("\n").length;
  const column = offset - before.lastIndexOf("\n");
  return `syntax error at line ${line}, column ${column}`;
}
