import { randomBytes } from "node:crypto";
import { open, readFile, rename, unlink } from "node:fs/promises";
import { basename, dirname, join, resolve } from "node:path";
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

/** Writes `text` to `path` atomically: a temporary file in the same directory, fsynced, renamed over it. */
export async function writeFileAtomically(path: string, text: string): Promise<void> {
  const temporary = join(dirname(path), `.${basename(path)}.${process.pid}.${randomBytes(4).toString("hex")}.tmp`);
  let renamed = false;
  try {
    const handle = await open(temporary, "wx", 0o666);
    try {
      await handle.writeFile(text, "utf8");
      await handle.sync();
    } finally {
      await handle.close();
    }
    await rename(temporary, path);
    renamed = true;
  } catch (error) {
    throw new UsageError(`cannot write ${path}: ${messageOf(error)}`, { cause: error });
  } finally {
    if (!renamed) await unlink(temporary).catch(() => undefined);
  }
}
