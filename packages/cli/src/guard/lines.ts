import { commandLine } from "./shell.js";

/** What the printed `detour guard` commands repeat of the run. */
export interface LineOptions {
  flag: string;
  mode?: "read-only" | "maintenance";
  message?: string;
  retryAfter?: number;
  concurrency: number;
  /** The context kind a loop's list holds (`--contexts-from F --kind K`); default `user` (`--users-from`). */
  kind?: string;
}

/**
 * The commands a guard prints for the operator to run (`detour off ...`,
 * the command that resumes a loop), quoted for a POSIX shell, with the
 * `--store`/`--prefix` arguments as they were given.
 */
export class GuardLines {
  readonly #storeArgs: readonly string[];
  readonly #options: LineOptions;
  readonly #command: readonly string[];

  constructor(storeArgs: readonly string[], options: LineOptions, command: readonly string[]) {
    this.#storeArgs = storeArgs;
    this.#options = options;
    this.#command = command;
  }

  /** `detour <args> [--store ...]`. */
  detour(args: readonly string[]): string {
    return commandLine(["detour", ...args, ...this.#storeArgs]);
  }

  /** `detour off <flag> [--user ID]`. */
  off(user?: string): string {
    return this.detour(["off", this.#options.flag, ...(user === undefined ? [] : ["--user", user])]);
  }

  /** The `detour guard` line that runs the loop over `usersFrom` again, with `extra` options (`--resume-from ID`, `--journal F --resume`). */
  loop(usersFrom: string, extra: readonly string[] = []): string {
    const o = this.#options;
    const args = ["detour", "guard", ...this.#storeArgs, "-f", o.flag];
    if (o.mode !== undefined) args.push("--mode", o.mode);
    if (o.message !== undefined) args.push("--message", o.message);
    if (o.retryAfter !== undefined) args.push("--retry-after", String(o.retryAfter));
    if (o.kind === undefined || o.kind === "user") args.push("--users-from", usersFrom);
    else args.push("--contexts-from", usersFrom, "--kind", o.kind);
    if (o.concurrency > 1) args.push("--concurrency", String(o.concurrency));
    args.push(...extra, "--", ...this.#command);
    const stdin = usersFrom === "-" ? `   (feed it the same ${o.kind ?? "user"} list on stdin)` : "";
    return `${commandLine(args)}${stdin}`;
  }
}
