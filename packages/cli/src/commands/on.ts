import type { EnableOptions } from "@detour/core";
import type { Context } from "../context.js";
import { UsageError } from "../errors.js";
import { describeFlag } from "../format.js";

export interface OnOptions {
  mode?: "read-only" | "maintenance";
  user?: string[];
  percent?: number;
  message?: string;
  retryAfter?: number;
  from?: string;
  until?: string;
  ttl?: number;
}

/** Turns the CLI options of `on` (and `guard`) into core `EnableOptions`. */
export function enableOptions(options: OnOptions): EnableOptions {
  const enable: EnableOptions = {};
  if (options.mode !== undefined) enable.mode = options.mode;
  if (options.user !== undefined && options.user.length > 0) enable.users = [...new Set(options.user)];
  if (options.percent !== undefined) enable.percent = options.percent;
  if (options.message !== undefined) enable.message = options.message;
  if (options.retryAfter !== undefined) enable.retryAfter = options.retryAfter;
  if (options.ttl !== undefined) enable.ttl = options.ttl;
  if (options.from !== undefined || options.until !== undefined) {
    if (options.from !== undefined && options.until !== undefined && options.until <= options.from) {
      throw new UsageError(`--until (${options.until}) must be after --from (${options.from})`);
    }
    enable.window = {};
    if (options.from !== undefined) enable.window.start = options.from;
    if (options.until !== undefined) enable.window.end = options.until;
  }
  return enable;
}

/** `detour on <flag> ...`: turns a mode on for everyone, some users, or a percentage. */
export async function onCommand(context: Context, flag: string, options: OnOptions): Promise<number> {
  const enable = enableOptions(options);
  const status = await context.write((detour) => detour.enable(flag, enable, { actor: context.actor }));
  const now = status.flags.find((f) => f.key === flag);
  context.print(now ? describeFlag(now) : `"${flag}" is on`);
  return 0;
}
