import type { Stats } from "node:fs";
import { readFile, stat } from "node:fs/promises";
import { StoreUnavailableError } from "../../errors.js";
import type { Snapshot } from "../../snapshot.js";
import { DocumentSyntaxError, parseDocument } from "../spi/document.js";
import { describeError, hasCode } from "../spi/errors.js";

/** What a file store writes when it creates its file. */
export const EMPTY_DOCUMENT = `${JSON.stringify({ flags: {} }, null, 2)}\n`;

/** The document file as read once. */
export interface FileRead {
  readonly text: string;
  /** Identity of the file (inode, size, times): a cheap stat tells whether it may have changed. */
  readonly signature: string;
  /** Permission bits, kept when the file is replaced. */
  readonly mode: number;
}

/** Reads the file; `undefined` when it does not exist. Other errors reject with a `StoreUnavailableError` naming the path. */
export async function readDocumentFile(path: string): Promise<FileRead | undefined> {
  try {
    // stat before reading: if the file changes in between, the next poll sees a new signature.
    const info = await stat(path);
    const text = await readFile(path, "utf8");
    return { text, signature: signatureOf(info), mode: info.mode & 0o7777 };
  } catch (error) {
    if (hasCode(error, "ENOENT")) return undefined;
    throw new StoreUnavailableError(`cannot read ${path}: ${describeError(error)}`, { cause: error });
  }
}

/** The signature of the file now, `undefined` when it cannot be stat'ed. */
export async function currentSignature(path: string): Promise<string | undefined> {
  try {
    return signatureOf(await stat(path));
  } catch {
    return undefined;
  }
}

/**
 * Validates and compiles the file's text. Errors never quote the file: it
 * may have been swapped for another (a symlink), and the message ends up in
 * `health().error`, the admin API and logs. Throws naming the path: a
 * `StoreUnavailableError` when the file is empty or not JSON (a half-written
 * file), a `ValidationError` naming every flag and field otherwise.
 */
export function parseDocumentFile(path: string, text: string, now: number, previous?: Snapshot): Snapshot {
  try {
    return parseDocument(text, { source: path, now, quoteValues: false, ...(previous === undefined ? {} : { previous }) });
  } catch (error) {
    if (!(error instanceof DocumentSyntaxError)) throw error;
    const what = error.empty ? "is empty" : `is not valid JSON (${error.reason})`;
    throw new StoreUnavailableError(`${path} ${what}`);
  }
}

export function missingFileError(path: string): StoreUnavailableError {
  return new StoreUnavailableError(`${path} does not exist; create it or pass { create: true } to fileStore()`);
}

function signatureOf(info: Stats): string {
  return `${info.ino}:${info.size}:${info.mtimeMs}:${info.ctimeMs}`;
}
