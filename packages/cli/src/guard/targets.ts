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
 * of a flag (`--users-from`), or its contexts of another kind
 * (`--contexts-from F --kind organization`). Each key is also what the
 * command gets as its last argument; the loop does not care which kind.
 */
export interface LoopTarget extends TargetNames {
  /** Turns the flag off for the keys of `off` and on for those of `on`, in one store write. */
  retarget(on: readonly string[], off: readonly string[]): Promise<void>;
}

/** The contexts of one kind of a flag (`user`, or a tenant kind such as `organization`), as messages name them. */
export function contextNames(flag: string, kind = "user"): TargetNames {
  return {
    flag,
    noun: kind,
    offArgs: (keys) => (kind === "user" ? ["off", flag, "--user", keys.join(",")] : ["off", flag, "--context", keys.map((key) => `${kind}:${key}`).join(",")]),
  };
}

/** How contexts are put in the mode: the `guard` options that apply while their commands run. */
export interface ContextTargetOptions {
  flag: string;
  /** The context kind of the keys; default `user`. */
  kind?: string;
  mode?: "read-only" | "maintenance";
  message?: string;
  retryAfter?: number;
  actor: string;
}

/** The contexts of one kind of one flag, on one open store. */
export function contextTarget(detour: Detour, options: ContextTargetOptions): LoopTarget {
  const { flag, mode, message, retryAfter, actor } = options;
  const kind = options.kind ?? "user";
  const who = (keys: readonly string[]) => (kind === "user" ? { users: keys } : { contexts: keys.map((key) => ({ kind, key })) });
  const settings = { ...(mode !== undefined ? { mode } : {}), ...(message !== undefined ? { message } : {}), ...(retryAfter !== undefined ? { retryAfter } : {}) };
  return {
    ...contextNames(flag, kind),
    async retarget(on, off) {
      await detour.retarget(flag, { ...(on.length > 0 ? { on: { ...who(on), ...settings } } : {}), ...(off.length > 0 ? { off: who(off) } : {}) }, { actor });
    },
  };
}
