export type MigrationOrigin = "old" | "new";

/** What a migration method may return (LaunchDarkly's form); a plain value counts as a success. */
export type MigrationMethodResult<T> = { success: true; result: T } | { success: false; error: unknown };

/** The outcome of one origin's method. */
export type MigrationResult<T> =
  | { success: true; origin: MigrationOrigin; result: T }
  | { success: false; origin: MigrationOrigin; error: unknown };

/** The outcome of `read()`: the authoritative origin's result for the stage. */
export type MigrationReadResult<T> = MigrationResult<T>;

/** The outcome of `write()`: the authoritative write, and the other one unless it was skipped (stage, or the first failed). */
export interface MigrationWriteResult<T> {
  authoritative: MigrationResult<T>;
  nonAuthoritative?: MigrationResult<T>;
}

export function migrationSuccess<T>(result: T): { success: true; result: T } {
  return { success: true, result };
}

export function migrationError(error: unknown): { success: false; error: unknown } {
  return { success: false, error };
}

function isMethodResult(value: unknown): value is MigrationMethodResult<unknown> {
  if (typeof value !== "object" || value === null) return false;
  const { success } = value as { success?: unknown };
  return (success === true && "result" in value) || (success === false && "error" in value);
}

/**
 * Runs one method: whatever it returns or throws, synchronously or not,
 * becomes a result (a throw carries the thrown object), never a rejection.
 */
export async function settle<T>(
  origin: MigrationOrigin,
  method: (payload: never) => unknown,
  payload: unknown,
): Promise<MigrationResult<T>> {
  try {
    const value: unknown = await method(payload as never);
    if (!isMethodResult(value)) return { success: true, origin, result: value as T };
    return value.success ? { success: true, origin, result: value.result as T } : { success: false, origin, error: value.error };
  } catch (error) {
    return { success: false, origin, error };
  }
}
