import type { Context } from "../context.js";
import { describeFlag } from "../format.js";

export interface OffOptions {
  user?: string[];
}

/** `detour off <flag> [--user ID...]`: turns a flag off, or takes some users out of it. */
export async function offCommand(context: Context, flag: string, options: OffOptions): Promise<number> {
  const users = options.user && options.user.length > 0 ? [...new Set(options.user)] : undefined;
  const status = await context.write(async (detour) => {
    if (detour.document()?.flags?.[flag] === undefined) return null;
    return detour.disable(flag, users ? { users } : {}, { actor: context.actor });
  });
  if (status === null) {
    context.print(`"${flag}" does not exist; nothing to turn off`);
    return 0;
  }
  const still = status.flags.find((f) => f.key === flag);
  if (users) {
    const removed = users.join(", ");
    context.print(still ? `removed ${removed} from "${flag}"; ${describeFlag(still)}` : `removed ${removed} from "${flag}"; it is now off for everyone`);
  } else {
    context.print(still ? `"${flag}" turned off, but ${describeFlag(still)}` : `"${flag}" is off`);
  }
  return 0;
}
