import { flagStatus, type ContextRef } from "@detour/core";
import type { Context } from "../context.js";
import { contextsIn, hasFlag, requireFlag, usersIn } from "../flags.js";
import { describeFlag, userList } from "../format.js";

export interface OffOptions {
  user?: string[];
  context?: ContextRef[];
}

const named = (ref: ContextRef) => `${ref.kind}:${ref.key}`;

/**
 * `detour off <flag> [--user ID...]` (and `detour up`): turns a flag off,
 * which ends it entirely (its users, percentage and settings included), or
 * takes some users out of it. A flag that does not exist is an error
 * naming the flags that do.
 */
export async function offCommand(context: Context, flag: string, options: OffOptions, command = "off"): Promise<number> {
  const users = options.user && options.user.length > 0 ? [...new Set(options.user)] : undefined;
  const contexts = options.context && options.context.length > 0 ? options.context : undefined;
  const lines = await context.write(async (detour): Promise<string[]> => {
    const definition = requireFlag(detour.document(), flag, command);
    if (contexts) {
      const present = contextsIn(definition);
      const removing = contexts.filter((ref) => present.has(named(ref)));
      const absent = contexts.filter((ref) => !present.has(named(ref)));
      const out: string[] = [];
      if (users || removing.length > 0) {
        const status = await detour.disable(flag, { users, contexts: removing }, { actor: context.actor });
        const still = status.flags.find((f) => f.key === flag);
        const gone = [...(users ?? []), ...removing.map(named)];
        out.push(`removed ${gone.join(", ")} from "${flag}"; ${still ? describeFlag(still) : "it is now off for everyone"}`);
      }
      if (absent.length > 0) out.push(`${absent.map(named).join(", ")} ${absent.length === 1 ? "was" : "were"} not in maintenance ("${flag}" is unchanged for ${absent.length === 1 ? "it" : "them"})`);
      return out;
    }
    if (users) {
      const present = usersIn(definition);
      const removing = users.filter((user) => present.has(user));
      const absent = users.filter((user) => !present.has(user));
      const out: string[] = [];
      if (removing.length > 0) {
        const status = await detour.disable(flag, { users: removing }, { actor: context.actor });
        const still = status.flags.find((f) => f.key === flag);
        out.push(`removed ${removing.join(", ")} from "${flag}"; ${still ? describeFlag(still) : "it is now off for everyone"}`);
      }
      if (absent.length > 0) out.push(`${absent.join(", ")} ${absent.length === 1 ? "was" : "were"} not in maintenance ("${flag}" is unchanged for ${absent.length === 1 ? "it" : "them"})`);
      return out;
    }
    const before = flagStatus(definition, detour.siteFlag, Date.now());
    await detour.disable(flag, {}, { actor: context.actor });
    const with_ = before !== null && before.userCount > 0 ? ` (for everyone, ${userList(before.users, before.userCount, 3)} included)` : "";
    return [`"${flag}" is off${with_}`];
  });
  for (const line of lines) context.print(line);
  return 0;
}

/** `detour up`: the site flag off. Nothing to do (exit 0) when the store has no site flag at all. */
export async function upCommand(context: Context, options: { flag?: string }): Promise<number> {
  const flag = options.flag ?? "site";
  if (options.flag === undefined) {
    const exists = await context.read((view) => hasFlag(view.document(), flag));
    if (!exists) {
      context.print(`nothing to bring up: the store has no "${flag}" flag`);
      return 0;
    }
  }
  return offCommand(context, flag, {}, "up");
}
