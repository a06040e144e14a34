import type { Detour } from "@detour/core";

/** How messages and printed commands name the keys of a loop. */
export interface TargetNames {
  /** The flag. */
  readonly flag: string;
  /** What one key is, in messages: `user` (`failed for user "u3"`). */
  readonly noun: string;
  /** The arguments of `detour off` that turn the flag off for `keys`. */
  offArgs(keys: readonly string[]): string[];
}

/**
 * What a guard loop turns on and off, a batch of keys at a time: the users
 * of a flag (`--users-from`). Each key is also what the command gets as its
 * last argument. Other kinds of keys (tenants, any context kind) are other
 * implementations of this interface; the loop does not care which.
 */
export interface LoopTarget extends TargetNames {
  /** Turns the flag on for `keys` in one store write. */
  enable(keys: readonly string[]): Promise<void>;
  /** Turns the flag off for `keys` in one store write. */
  disable(keys: readonly string[]): Promise<void>;
}

/** The users of a flag, as messages name them. */
export function userNames(flag: string): TargetNames {
  return { flag, noun: "user", offArgs: (keys) => ["off", flag, "--user", keys.join(",")] };
}

/** How users are put in the mode: the `guard` options that apply while their commands run. */
export interface UserTargetOptions {
  flag: string;
  mode?: "read-only" | "maintenance";
  message?: string;
  retryAfter?: number;
  actor: string;
}

/** The users of one flag, on one open store. */
export function userTarget(detour: Detour, options: UserTargetOptions): LoopTarget {
  const { flag, mode, message, retryAfter, actor } = options;
  return {
    ...userNames(flag),
    async enable(keys) {
      await detour.enable(
        flag,
        { users: keys, ...(mode !== undefined ? { mode } : {}), ...(message !== undefined ? { message } : {}), ...(retryAfter !== undefined ? { retryAfter } : {}) },
        { actor },
      );
    },
    async disable(keys) {
      await detour.disable(flag, { users: keys }, { actor });
    },
  };
}
