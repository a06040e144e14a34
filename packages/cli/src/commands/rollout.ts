import type { Context } from "../context.js";
import { UsageError } from "../errors.js";

/** `old=50` → `["old", 50]`; throws naming the bad argument. */
export function parseSplit(args: readonly string[]): Record<string, number> {
  if (args.length === 0) throw new UsageError("rollout: expected <variation>=<percent> arguments, e.g. old=50 new=50");
  const split: Record<string, number> = {};
  const problems: string[] = [];
  for (const arg of args) {
    const at = arg.lastIndexOf("=");
    const name = at > 0 ? arg.slice(0, at) : "";
    const value = at > 0 ? arg.slice(at + 1).trim().replace(/%$/, "") : "";
    if (name === "" || value === "") {
      problems.push(`${JSON.stringify(arg)} is not <variation>=<percent>`);
    } else if (!/^\d+(\.\d{1,3})?$/.test(value) || Number(value) > 100) {
      problems.push(`${name}: expected a percentage from 0 to 100, got ${JSON.stringify(value)}`);
    } else if (Object.prototype.hasOwnProperty.call(split, name)) {
      problems.push(`${name} is given twice`);
    } else {
      split[name] = Number(value);
    }
  }
  if (problems.length > 0) throw new UsageError(`rollout: ${problems.join("; ")}`);
  const total = Object.values(split).reduce((sum, p) => sum + Math.round(p * 1000), 0) / 1000;
  if (total !== 100) {
    const terms = Object.entries(split).map(([name, p]) => `${name}=${p}`).join(" + ");
    throw new UsageError(`rollout: percentages must sum to 100, got ${total} (${terms})`);
  }
  return split;
}

function variationName(value: unknown): string {
  return typeof value === "string" ? value : JSON.stringify(value);
}

/** `detour rollout <flag> <variation>=<percent>...`: sets a percentage split between a flag's variations. */
export async function rolloutCommand(context: Context, flag: string, args: readonly string[]): Promise<number> {
  const split = parseSplit(args);
  await context.write(async (detour) => {
    // Checked here for a message naming every unknown variation; core checks again inside the atomic write.
    const definition = detour.document()?.flags?.[flag];
    if (!definition) {
      const known = Object.keys(detour.document()?.flags ?? {});
      throw new UsageError(`rollout: no flag "${flag}"${known.length ? ` (flags: ${known.join(", ")})` : " (the store has no flags)"}`);
    }
    const names = definition.variations.map(variationName);
    const unknown = Object.keys(split).filter((name) => !names.includes(name));
    if (unknown.length > 0) {
      const list = unknown.map((name) => `"${name}"`).join(", ");
      throw new UsageError(
        `rollout: "${flag}" has no variation${unknown.length > 1 ? "s" : ""} ${list}; its variations are ${names.map((n) => `"${n}"`).join(", ")}`,
      );
    }
    return detour.rollout(flag, split, { actor: context.actor });
  });
  const summary = Object.entries(split)
    .map(([name, p]) => `${name} ${p}%`)
    .join(", ");
  context.print(`"${flag}" now rolls out ${summary}`);
  return 0;
}
