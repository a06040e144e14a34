import { resolve } from "node:path";
import type { Context } from "../context.js";
import { writeFileAtomically } from "../io-files.js";

export interface ExportOptions {
  out?: string;
}

/** `detour export [--out FILE]`: the whole document as JSON (stdout, or FILE written atomically). */
export async function exportCommand(context: Context, options: ExportOptions): Promise<number> {
  const document = await context.read((view) => view.document() ?? { flags: {} });
  const text = `${JSON.stringify(document, null, 2)}\n`;
  if (options.out === undefined || options.out === "-") {
    context.io.stdout.write(text);
    return 0;
  }
  const path = resolve(context.io.cwd, options.out);
  await writeFileAtomically(path, text);
  const flags = Object.keys(document.flags ?? {}).length + Object.keys(document.flagValues ?? {}).length;
  context.say(`exported ${flags} flag${flags === 1 ? "" : "s"}${document.revision !== undefined ? ` (revision ${document.revision})` : ""} to ${options.out}`);
  return 0;
}
