import type { Context } from "../context.js";
import { UsageError } from "../errors.js";
import { Guard, type GuardOptions } from "../guard/guard.js";
import { resolveCommand } from "../guard/resolve.js";

/**
 * `detour guard -f FLAG [-u USER] -- COMMAND...` and
 * `detour guard -f FLAG --users-from FILE|- [--resume-from ID] -- COMMAND...`.
 */
export async function guardCommand(context: Context, options: GuardOptions, command: readonly string[]): Promise<number> {
  if (command.length === 0 || command[0] === "") throw new UsageError("guard: no command given; put it after --, e.g. detour guard -f site -- ./migrate.sh");
  if (options.user !== undefined && options.usersFrom !== undefined) throw new UsageError("guard: give either --user or --users-from, not both");
  if (options.resumeFrom !== undefined && options.usersFrom === undefined) throw new UsageError("guard: --resume-from needs --users-from");
  if (options.user !== undefined && options.user.trim() === "") throw new UsageError("guard: --user needs a non-empty user id");
  // A mistyped command must fail before the flag is touched, not leave the site down (exit 127/126).
  await resolveCommand(command[0]!, context.io.env, context.io.cwd);
  const guard = new Guard(context, options, command);
  return options.usersFrom === undefined ? guard.single() : guard.loop();
}
