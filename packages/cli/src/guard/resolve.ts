import { stat } from "node:fs/promises";
import { resolve } from "node:path";
import which from "which";
import { CliError } from "../errors.js";

/** The shell's status for a command that cannot be found (127) or run (126). */
export const NOT_FOUND = 127;
export const NOT_EXECUTABLE = 126;

/**
 * Finds the program a guard will run, before the flag is touched: a name
 * without a slash is looked up in `PATH`, a path is taken from `cwd`; either
 * must be an executable file. Throws a `CliError` with the shell's status
 * (127 not found, 126 not executable) naming what is wrong.
 */
export async function resolveCommand(command: string, env: Readonly<Record<string, string | undefined>>, cwd: string): Promise<string> {
  const isPath = command.includes("/") || (process.platform === "win32" && command.includes("\\"));
  const candidate = isPath ? resolve(cwd, command) : command;
  const found = await which(candidate, { nothrow: true, path: env.PATH ?? "" });
  if (found !== null) return found;
  if (!isPath) {
    throw new CliError(`cannot run ${JSON.stringify(command)}: command not found in PATH; nothing was changed`, NOT_FOUND);
  }
  const info = await stat(candidate).catch(() => undefined);
  if (info === undefined) throw new CliError(`cannot run ${JSON.stringify(command)}: no such file (${candidate}); nothing was changed`, NOT_FOUND);
  const why = info.isDirectory() ? "it is a directory" : `it is not executable (chmod +x ${command})`;
  throw new CliError(`cannot run ${JSON.stringify(command)}: ${why}; nothing was changed`, NOT_EXECUTABLE);
}
