import { UsageError } from "../errors.js";
import { readInput } from "../io-files.js";

/**
 * Reads user ids, one per line: blank lines and lines starting with `#` are
 * skipped, surrounding whitespace is trimmed, repeated ids are run once.
 */
export function parseUsers(text: string): string[] {
  const users: string[] = [];
  const seen = new Set<string>();
  for (const line of text.split(/\r?\n/)) {
    const id = line.trim();
    if (id === "" || id.startsWith("#") || seen.has(id)) continue;
    seen.add(id);
    users.push(id);
  }
  return users;
}

/** The users of `--users-from FILE|-`, and the index of `--resume-from ID` when given (else 0). */
export async function loadUsers(
  source: string,
  resumeFrom: string | undefined,
  io: { cwd: string; stdin: NodeJS.ReadableStream },
): Promise<{ users: string[]; first: number }> {
  const name = source === "-" ? "stdin" : source;
  const users = parseUsers(await readInput(source, io.cwd, io.stdin));
  if (users.length === 0) throw new UsageError(`--users-from: ${name} lists no user ids (one per line)`);
  if (resumeFrom === undefined) return { users, first: 0 };
  const first = users.indexOf(resumeFrom.trim());
  if (first < 0) throw new UsageError(`--resume-from: user "${resumeFrom}" is not in ${name}`);
  return { users, first };
}
