/** Stable, machine-readable error codes. They never change meaning between releases. */
export type DetourErrorCode =
  | "DETOUR_INVALID_DOCUMENT"
  | "DETOUR_INVALID_OPTION"
  | "DETOUR_INVALID_ARGUMENT"
  | "DETOUR_STORE_UNAVAILABLE"
  | "DETOUR_WRITE_CONFLICT"
  | "DETOUR_STORE_CLOSED"
  | "DETOUR_FLAG_NOT_FOUND";

export class DetourError extends Error {
  readonly code: DetourErrorCode;

  constructor(code: DetourErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = new.target.name;
    this.code = code;
  }
}

/** One problem found in a flag document: where (`path`) and what (`message`). */
export interface ValidationIssue {
  /** Dotted path from the document root, e.g. `flags.site.fallthrough.rollout.variations[1].weight`. */
  readonly path: string;
  /** The flag the problem belongs to, when it belongs to one. */
  readonly flag?: string;
  readonly message: string;
}

/** A flag document was refused. `issues` lists every problem, not just the first. */
export class ValidationError extends DetourError {
  readonly issues: readonly ValidationIssue[];

  constructor(issues: readonly ValidationIssue[], source?: string) {
    const first = issues[0];
    const head = first ? `${first.path}: ${first.message}` : "invalid document";
    const more = issues.length > 1 ? ` (and ${issues.length - 1} more problem${issues.length > 2 ? "s" : ""})` : "";
    super("DETOUR_INVALID_DOCUMENT", `${source ? `${source}: ` : ""}${head}${more}`);
    this.issues = issues;
  }
}

/** An option passed to a Detour factory is wrong; the message names it. */
export class OptionsError extends DetourError {
  readonly option: string;

  constructor(option: string, message: string) {
    super("DETOUR_INVALID_OPTION", `${option}: ${message}`);
    this.option = option;
  }
}

/** An argument to an operation (enable, disable, rollout...) is wrong; the message names it. */
export class ArgumentError extends DetourError {
  readonly argument: string;

  constructor(argument: string, message: string) {
    super("DETOUR_INVALID_ARGUMENT", `${argument}: ${message}`);
    this.argument = argument;
  }
}

export class StoreUnavailableError extends DetourError {
  constructor(message: string, options?: { cause?: unknown }) {
    super("DETOUR_STORE_UNAVAILABLE", message, options);
  }
}

/** A compare-and-set write kept losing to other writers and gave up. */
export class WriteConflictError extends DetourError {
  constructor(message: string) {
    super("DETOUR_WRITE_CONFLICT", message);
  }
}

export class StoreClosedError extends DetourError {
  constructor(kind: string) {
    super("DETOUR_STORE_CLOSED", `the ${kind} store is closed`);
  }
}
