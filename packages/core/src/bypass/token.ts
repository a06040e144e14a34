import { hash, timingSafeEqual } from "node:crypto";
import { OptionsError } from "../errors.js";

/** Visible ASCII, inner spaces allowed: header values arrive trimmed and as Latin-1, so nothing else could ever match. */
const TOKEN = /^[\x21-\x7e](?:[\x20-\x7e]*[\x21-\x7e])?$/;

function digest(value: string): Buffer {
  return hash("sha256", value, "buffer");
}

/**
 * Compiles the tokens accepted in the `Detour-Bypass: <token>` header into one
 * test of a header value. Both sides are hashed with SHA-256 and compared with
 * `timingSafeEqual` against every token (no early exit), so neither the
 * length nor the content of a token, nor which token matched, shows in the
 * time taken. A missing or empty header matches nothing; an array (repeated
 * header) matches when one of its values does.
 *
 * Throws `OptionsError` (`allow.token[1]: must not be empty`) for an empty
 * token or one that no header could carry (control characters, non-ASCII,
 * leading or trailing spaces).
 */
export function tokenMatcher(
  tokens: string | readonly string[],
  option = "allow.token",
): (token: string | readonly string[] | undefined) => boolean {
  const list: readonly unknown[] = typeof tokens === "string" ? [tokens] : tokens;
  if (!Array.isArray(list)) throw new OptionsError(option, "must be a token or an array of tokens");
  const digests = list.map((token, index) => {
    const name = typeof tokens === "string" ? option : `${option}[${index}]`;
    if (typeof token !== "string") throw new OptionsError(name, `must be a string, got ${token === null ? "null" : typeof token}`);
    if (token === "") throw new OptionsError(name, "must not be empty");
    if (!TOKEN.test(token)) {
      throw new OptionsError(name, "must be printable ASCII without leading or trailing spaces (an HTTP header could not carry it)");
    }
    return digest(token);
  });
  if (digests.length === 0) return () => false;

  const test = (value: string): boolean => {
    if (value === "") return false;
    const candidate = digest(value);
    let found = 0;
    for (const known of digests) found |= timingSafeEqual(candidate, known) ? 1 : 0;
    return found === 1;
  };
  return (token) => {
    if (typeof token === "string") return test(token);
    if (!Array.isArray(token)) return false;
    let found = false;
    for (const value of token) if (typeof value === "string" && test(value)) found = true;
    return found;
  };
}
