import { MAX_PAGE_BYTES, generateFlagSecret, type ContextRef, type EnableOptions } from "@detour/core";
import type { Retry } from "../args.js";
import type { Context } from "../context.js";
import { UsageError, asOptionError } from "../errors.js";
import { checkNewFlag } from "../flags.js";
import { describeFlag, listedUsersNote } from "../format.js";
import { readInput } from "../io-files.js";

/** The options of `on` and `down` (Laravel's `down` options included). */
export interface OnOptions {
  mode?: "read-only" | "maintenance";
  user?: string[];
  context?: ContextRef[];
  percent?: number;
  message?: string;
  retryAfter?: number;
  from?: string;
  until?: string;
  ttl?: number;
  /** Make a new flag even when its name is close to one that exists. */
  create?: boolean;
  redirect?: string;
  /** A file whose HTML becomes the maintenance page. */
  render?: string;
  refresh?: number;
  status?: number;
  retry?: Retry;
  secret?: string;
  withSecret?: boolean;
}

/** Turns the CLI options of `on` (and `down`, `guard`) into core `EnableOptions`; `secret` is the bypass secret as given or generated. */
export async function enableOptions(context: Context, options: OnOptions, now = Date.now()): Promise<{ enable: EnableOptions; secret?: string }> {
  const enable: EnableOptions = {};
  if (options.mode !== undefined) enable.mode = options.mode;
  if (options.user !== undefined && options.user.length > 0) enable.users = [...new Set(options.user)];
  if (options.context !== undefined && options.context.length > 0) enable.contexts = options.context;
  if (options.percent !== undefined) enable.percent = options.percent;
  if (options.message !== undefined) enable.message = options.message;
  if (options.retryAfter !== undefined && options.retry !== undefined) throw new UsageError("give --retry or --retry-after, not both");
  if (options.retryAfter !== undefined) enable.retryAfter = options.retryAfter;
  if (options.retry !== undefined) {
    if ("seconds" in options.retry) enable.retryAfter = options.retry.seconds;
    else if (Date.parse(options.retry.at) <= now) throw new UsageError(`--retry: ${options.retry.at} is in the past`);
    else enable.retryAt = options.retry.at;
  }
  if (options.ttl !== undefined) enable.ttl = options.ttl;
  if (options.from !== undefined || options.until !== undefined) {
    if (options.from !== undefined && options.until !== undefined && options.until <= options.from) {
      throw new UsageError(`--until (${options.until}) must be after --from (${options.from})`);
    }
    if (options.until !== undefined && Date.parse(options.until) <= now) {
      throw new UsageError(`--until (${options.until}) is in the past: the flag would end at once and release everyone in it`);
    }
    enable.window = {};
    if (options.from !== undefined) enable.window.start = options.from;
    if (options.until !== undefined) enable.window.end = options.until;
  }
  if (options.status !== undefined) enable.status = options.status;
  if (options.refresh !== undefined) enable.refresh = options.refresh;
  if (options.redirect !== undefined) enable.redirect = options.redirect;
  if (options.render !== undefined) {
    const page = await readInput(options.render, context.io.cwd, context.io.stdin);
    const bytes = Buffer.byteLength(page, "utf8");
    if (bytes > MAX_PAGE_BYTES) throw new UsageError(`--render: ${options.render} is ${bytes} bytes; a stored page may be at most ${MAX_PAGE_BYTES} (256 KiB)`);
    if (page.trim() === "") throw new UsageError(`--render: ${options.render} is empty`);
    enable.page = page;
  }
  if (options.secret !== undefined && options.withSecret) throw new UsageError("give --secret or --with-secret, not both");
  const secret = options.withSecret ? generateFlagSecret() : options.secret;
  if (secret !== undefined) enable.secret = secret;
  return secret === undefined ? { enable } : { enable, secret };
}

/** What the Laravel options set, e.g. `blocked requests: status 503, Retry-After 600 s, Refresh 15 s`; null when none was given. */
export function settingsLine(enable: EnableOptions): string | null {
  const parts: string[] = [];
  if (enable.status !== undefined) parts.push(`status ${enable.status}`);
  if (enable.retryAfter !== undefined) parts.push(`Retry-After ${enable.retryAfter} s`);
  if (enable.retryAt !== undefined) parts.push(`Retry-After counting down to ${enable.retryAt}`);
  if (enable.refresh !== undefined) parts.push(`Refresh ${enable.refresh} s`);
  if (enable.redirect !== undefined) parts.push(`page views redirected to ${enable.redirect}`);
  if (enable.page !== undefined) parts.push(`the stored page (${Buffer.byteLength(enable.page, "utf8")} bytes) as the maintenance page`);
  return parts.length === 0 ? null : `blocked requests get: ${parts.join("; ")}`;
}

/** The lines that say how to use a flag secret. */
export function secretLines(secret: string): string[] {
  return [
    `bypass: open /${secret} on the site to get the bypass cookie for this maintenance period`,
    "        (apps that set allow.secret sign it; the secret is stored hashed and shown only now)",
  ];
}

/** `detour on <flag> ...` (and `detour down`): turns a mode on for everyone, some users, or a percentage. */
export async function onCommand(context: Context, flag: string, options: OnOptions): Promise<number> {
  const { enable, secret } = await enableOptions(context, options);
  const status = await context.write(
    async (detour) => {
      checkNewFlag(detour.document(), flag, options.create);
      return detour.enable(flag, enable, { actor: context.actor }).catch((error: unknown) => {
        throw asOptionError(error);
      });
    },
    { create: options.create === true },
  );
  const now = status.flags.find((f) => f.key === flag);
  context.print(now ? describeFlag(now) : `"${flag}" is on`);
  const note = now ? listedUsersNote(now) : null;
  if (note !== null) context.print(note);
  const settings = settingsLine(enable);
  if (settings !== null) context.print(settings);
  if (secret !== undefined) for (const line of secretLines(secret)) context.print(line);
  return 0;
}
