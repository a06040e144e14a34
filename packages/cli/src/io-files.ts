import { readFile } from "node:fs/promises";
import { resolve } from "node:path";
import { writeAtomically } from "@detour/core/store";
import { UsageError, messageOf } from "./errors.js";

/** Reads all of a stream as UTF-8. */
export async function readStream(stream: NodeJS.ReadableStream): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(typeof chunk === "string" ? Buffer.from(chunk) : (chunk as Buffer));
  return Buffer.concat(chunks).toString("utf8");
}

/** Reads `file` (relative to `cwd`), or stdin for `-`; a missing file is a `UsageError`. */
export async function readInput(file: string, cwd: string, stdin: NodeJS.ReadableStream): Promise<string> {
  if (file === "-") return readStream(stdin);
  try {
    return await readFile(resolve(cwd, file), "utf8");
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    const why = code === "ENOENT" ? "no such file" : code === "EISDIR" ? "it is a directory" : messageOf(error);
    throw new UsageError(`cannot read ${file}: ${why}`, { cause: error });
  }
}

/** Writes `text` to `path` atomically (core's `writeAtomically`: temporary file, fsync, rename, directory fsync); failures are a `UsageError`. */
export async function writeFileAtomically(path: string, text: string): Promise<void> {
  try {
    await writeAtomically(path, text);
  } catch (error) {
    throw new UsageError(`cannot write ${path}: ${messageOf(error)}`, { cause: error });
  }
}
