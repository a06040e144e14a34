/** Error coercion shared by stores: whatever a store catches becomes an `Error` before it is reported. */

/** `value` itself when it is an `Error`, else an `Error` whose message is `String(value)`. */
export function asError(value: unknown): Error {
  return value instanceof Error ? value : new Error(String(value));
}

/** The message of anything thrown. */
export function describeError(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/** True when `error` is a Node.js system error with this `code` (`ENOENT`, `EEXIST`...). */
export function hasCode(error: unknown, code: string): boolean {
  return error instanceof Error && (error as NodeJS.ErrnoException).code === code;
}
