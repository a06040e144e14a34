import { ArgumentError, DetourError } from "@detour/core";

/** Exit codes of `detour` (a guarded command's own status is passed through). */
export const EXIT = {
  OK: 0,
  /** Bad usage, a bad argument, or a document that does not validate. */
  USAGE: 1,
  /** The store could not be read or written. */
  STORE: 2,
} as const;

/** An error the CLI reports as one line (`detour: <message>`) and exits with `exitCode`. */
export class CliError extends Error {
  readonly exitCode: number;
  /** Extra lines printed after the message (e.g. every validation problem). */
  readonly details: readonly string[];

  constructor(message: string, exitCode: number, options: { cause?: unknown; details?: readonly string[] } = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = "CliError";
    this.exitCode = exitCode;
    this.details = options.details ?? [];
  }
}

/** Wrong usage or a bad argument: exit 1. */
export class UsageError extends CliError {
  constructor(message: string, options: { cause?: unknown; details?: readonly string[] } = {}) {
    super(message, EXIT.USAGE, options);
    this.name = "UsageError";
  }
}

/** The store cannot be reached: exit 2. */
export class StoreError extends CliError {
  constructor(message: string, options: { cause?: unknown } = {}) {
    super(message, EXIT.STORE, options);
    this.name = "StoreError";
  }
}

/** The exit code an error maps to: 2 for store trouble, 1 for everything else. */
export function exitCodeOf(error: unknown): number {
  if (error instanceof CliError) return error.exitCode;
  if (error instanceof DetourError) {
    switch (error.code) {
      case "DETOUR_STORE_UNAVAILABLE":
      case "DETOUR_WRITE_CONFLICT":
      case "DETOUR_STORE_CLOSED":
        return EXIT.STORE;
      default:
        return EXIT.USAGE;
    }
  }
  return EXIT.USAGE;
}

/** The one-line message of any error. */
export function messageOf(error: unknown): string {
  const message = error instanceof Error ? error.message : String(error);
  return message.replace(/\s*\n\s*/g, " ").trim() || (error instanceof Error ? error.name : "unknown error");
}

/** Core's argument names → the CLI options that carry them. */
const OPTION_OF: Readonly<Record<string, string>> = {
  "window.end": "--until",
  "window.start": "--from",
  retryAt: "--retry",
  retryAfter: "--retry-after",
  page: "--render",
  redirect: "--redirect",
  refresh: "--refresh",
  status: "--status",
  secret: "--secret",
  percent: "--percent",
  ttl: "--ttl",
  users: "--user",
  mode: "--mode",
  message: "--message",
};

/** A core `ArgumentError` about an option, reworded to name the CLI option (`--until: ...`); anything else as it is. */
export function asOptionError(error: unknown): unknown {
  if (!(error instanceof ArgumentError)) return error;
  const option = OPTION_OF[error.argument];
  if (option === undefined) return error;
  return new UsageError(`${option}${error.message.slice(error.argument.length)}`, { cause: error });
}
