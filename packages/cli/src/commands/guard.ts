import { isValidKind } from "@detour/core";
import type { Context } from "../context.js";
import { UsageError } from "../errors.js";
import { Guard, type GuardOptions } from "../guard/guard.js";
import { resolveCommand } from "../guard/resolve.js";

/**
 * `detour guard -f FLAG [-u USER] -- COMMAND...` and
 * `detour guard -f FLAG --users-from FILE|- [--concurrency N] [--journal FILE [--resume]] [--resume-from ID] -- COMMAND...`.
 */
export async function guardCommand(context: Context, given: GuardOptions & { contextsFrom?: string }, command: readonly string[]): Promise<number> {
  const { contextsFrom, ...options } = given;
  if (contextsFrom !== undefined || options.kind !== undefined) {
    if (contextsFrom === undefined || options.kind === undefined) throw new UsageError("guard: --contexts-from FILE and --kind KIND go together (e.g. --contexts-from tenants.txt --kind organization)");
    if (options.usersFrom !== undefined || options.user !== undefined) throw new UsageError("guard: give --contexts-from or --users-from/--user, not both");
    if (!isValidKind(options.kind)) {
      throw new UsageError(`guard: --kind ${JSON.stringify(options.kind)} is not a context kind (letters, digits, ".", "_" or "-")`);
    }
    options.usersFrom = contextsFrom;
  }
  if (command.length === 0 || command[0] === "") throw new UsageError("guard: no command given; put it after --, e.g. detour guard -f site -- ./migrate.sh");
  if (options.user !== undefined && options.usersFrom !== undefined) throw new UsageError("guard: give either --user or --users-from, not both");
  for (const [given, name] of [
    [options.resumeFrom, "--resume-from"],
    [options.concurrency, "--concurrency"],
    [options.journal, "--journal"],
    [options.resume, "--resume"],
  ] as const) {
    if (given !== undefined && options.usersFrom === undefined) throw new UsageError(`guard: ${name} needs --users-from`);
  }
  if (options.resume === true && options.journal === undefined) throw new UsageError("guard: --resume needs --journal FILE (the journal of the run to resume)");
  if (options.resume === true && options.resumeFrom !== undefined) throw new UsageError("guard: give either --resume (the journal knows where to go on) or --resume-from, not both");
  if (options.user !== undefined && options.user.trim() === "") throw new UsageError("guard: --user needs a non-empty user id");
  // A mistyped command must fail before the flag is touched, not leave the site down (exit 127/126).
  const file = await resolveCommand(command[0]!, context.io.env, context.io.cwd);
  const guard = new Guard(context, options, command, file);
  return options.usersFrom === undefined ? guard.single() : guard.loop();
}
