import type { Context } from "../context.js";
import { statusJson, statusTable } from "../format.js";

export interface StatusOptions {
  json?: boolean;
}

/** `detour status [--json]`: every flag in force or scheduled, the rollouts, and the store's health. */
export async function statusCommand(context: Context, options: StatusOptions): Promise<number> {
  const status = await context.read((view) => view.status());
  if (options.json) context.print(JSON.stringify(statusJson(status), null, 2));
  else context.io.stdout.write(statusTable(status, context.location.display));
  return 0;
}
