import { OptionsError } from "@detour/core";

/** What the admin learns of each migration operation (`@detour/migrate` records it). */
export interface MigrationOpSeen {
  readonly flagKey: string;
  readonly operation: "read" | "write";
  readonly evaluation: { readonly stage: string };
  readonly invoked: { readonly old: boolean; readonly new: boolean };
  readonly errors: { readonly old: boolean; readonly new: boolean };
  /** Milliseconds per origin, NaN when not measured. */
  readonly latency: { readonly old: number; readonly new: number };
  readonly consistent: boolean | undefined;
  readonly checkThrew: boolean;
}

/**
 * The migrations of the admin's Detour instance: `migrationMetrics(detour)`
 * of `@detour/migrate` (the admin takes it by shape, not by import).
 */
export interface MigrationsSource {
  /** The live figures of the last minutes, per flag, stage and origin (JSON). */
  summary(minutes?: number): unknown;
  subscribe(listener: (record: MigrationOpSeen) => void): () => void;
}

export function migrationsOf(value: unknown): MigrationsSource | null {
  if (value === undefined) return null;
  const source = value as Partial<MigrationsSource> | null;
  if (typeof source !== "object" || source === null || typeof source.summary !== "function" || typeof source.subscribe !== "function") {
    throw new OptionsError("migrations", "expected migrationMetrics(detour) from @detour/migrate");
  }
  return source as MigrationsSource;
}

/** Minutes the console's Migrations panel covers. */
export const PANEL_MINUTES = 5;
