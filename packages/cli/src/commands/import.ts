import { ValidationError, loadDocument, mergeDocument, type FlagDocument, type ValidationIssue } from "@detour/core";
import type { Context } from "../context.js";
import { UsageError } from "../errors.js";
import { diffDocuments, diffSummary, type ImportDiff } from "../import-diff.js";
import { readInput } from "../io-files.js";

export interface ImportOptions {
  dryRun?: boolean;
  /** Upsert the file's flags by key and keep the store's other flags. */
  merge?: boolean;
  /** Import even when flags in force would be removed or changed. */
  yes?: boolean;
}

/** An import as loaded: the flags and segments to write, and what was left out and why. */
export interface LoadedImport {
  readonly document: FlagDocument;
  /** Each problem with its path (`flags.x.rules[0].clauses[0].op: unknown operator ...`). */
  readonly problems: readonly ValidationIssue[];
  /** Flags and segments left out because of their problems (`flags.x`, `segments.y`). */
  readonly skipped: readonly string[];
}

/**
 * Parses an import and loads it flag by flag, as LaunchDarkly's SDK loads an
 * export: a flag or segment with a problem (an operator Detour does not know,
 * a broken field) is left out and reported, the others are imported. Not JSON,
 * or not an object of flags, is a `UsageError` and nothing is imported.
 */
export function parseDocument(text: string, name: string): LoadedImport {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (error) {
    throw new UsageError(`${name} is not valid JSON (${(error as Error).message}); nothing was imported`);
  }
  let loaded;
  try {
    loaded = loadDocument(json, name);
  } catch (error) {
    if (!(error instanceof ValidationError)) throw error;
    const count = error.issues.length;
    throw new UsageError(`${name} is not a flag document: ${count} problem${count === 1 ? "" : "s"}; nothing was imported`, {
      cause: error,
      details: error.issues.map((issue) => `${issue.path}: ${issue.message}`),
    });
  }
  const document = loaded.document;
  const skipped = new Set<string>();
  for (const problem of loaded.problems) {
    if (problem.flag !== undefined && document.flags) {
      delete document.flags[problem.flag];
      skipped.add(`flags.${problem.flag}`);
    }
    const segment = /^segments\.([^.[]+)/.exec(problem.path)?.[1];
    if (segment !== undefined && document.segments) {
      delete document.segments[segment];
      skipped.add(`segments.${segment}`);
    }
  }
  return { document, problems: loaded.problems, skipped: [...skipped] };
}

/** The lines that report what an import left out. */
function problemLines(name: string, loaded: LoadedImport): string[] {
  if (loaded.problems.length === 0) return [];
  const what = loaded.skipped.length === 0 ? "" : `; left out: ${loaded.skipped.join(", ")}`;
  return [`${name}: ${loaded.problems.length} problem${loaded.problems.length === 1 ? "" : "s"}${what}`, ...loaded.problems.map((p) => `  ${p.path}: ${p.message}`)];
}

/** The import would remove or change flags in force without `--yes`. */
class NeedsConfirmation extends Error {
  readonly diff: ImportDiff;
  constructor(diff: ImportDiff) {
    super("needs --yes");
    this.diff = diff;
  }
}

/** The document the store would hold after importing `incoming` (`merge`: per-flag upsert, as core does it). */
function after(current: Readonly<FlagDocument>, incoming: FlagDocument, merge: boolean): FlagDocument {
  if (!merge) return incoming;
  const next = structuredClone(current) as FlagDocument;
  mergeDocument(next, incoming);
  return next;
}

/**
 * `detour import FILE [--merge] [--dry-run] [--yes]`: loads the document flag
 * by flag (a flag or segment with a problem is left out and reported), shows what changes flag by flag (added,
 * removed, changed; what is in force before and after), and writes it in
 * one atomic write: the whole document, or with `--merge` the file's flags
 * upserted into the store's. Removing or changing a flag in force needs
 * `--yes`; the check runs inside the write, against the newest document.
 * The store's audit log is kept. A missing file store is created.
 */
export async function importCommand(context: Context, file: string, options: ImportOptions): Promise<number> {
  const name = file === "-" ? "stdin" : file;
  const loaded = parseDocument(await readInput(file, context.io.cwd, context.io.stdin), name);
  const document = loaded.document;
  for (const line of problemLines(name, loaded)) context.say(line);
  const verb = options.merge ? "merging" : "importing";
  if (options.dryRun) {
    const current = (await context.missingFile()) ? { flags: {} } : await context.read((view) => view.document() ?? { flags: {} });
    const diff = diffDocuments(current, after(current, document, options.merge === true));
    context.print(`${name} ${loaded.problems.length === 0 ? "is valid" : "loads"}; ${verb} it into ${context.location.display}: ${diffSummary(diff)}`);
    for (const line of diff.lines) context.print(line);
    if (diff.touchesInForce.length > 0 && !options.yes) context.print(`(it changes flags in force: ${diff.touchesInForce.join(", ")}; the import needs --yes)`);
    context.print("(dry run: nothing changed)");
    return 0;
  }
  let diff: ImportDiff | undefined;
  try {
    const status = await context.write(
      (detour) =>
        detour.replace(document, {
          actor: context.actor,
          merge: options.merge === true,
          confirm: (before, after) => {
            diff = diffDocuments(before, after);
            if (diff.touchesInForce.length > 0 && !options.yes) throw new NeedsConfirmation(diff);
          },
        }),
      { create: true },
    );
    context.print(`imported ${name} into ${context.location.display} (revision ${status.store.revision ?? "?"}): ${diffSummary(diff!)}`);
    for (const line of diff!.lines) context.print(line);
    return 0;
  } catch (error) {
    if (!(error instanceof NeedsConfirmation)) throw error;
    context.print(`${verb} ${name} into ${context.location.display} would change: ${diffSummary(error.diff)}`);
    for (const line of error.diff.lines) context.print(line);
    const hint = options.merge ? "" : ", or --merge to keep the flags the file does not name";
    throw new UsageError(
      `import: it would remove or change flags in force (${error.diff.touchesInForce.join(", ")}); nothing was imported. Add --yes to import anyway${hint}`,
    );
  }
}
