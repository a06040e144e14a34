import { createHash, timingSafeEqual } from "node:crypto";
import { OptionsError } from "../errors.js";

function digest(value: string): Buffer {
  return createHash("sha256").update(value).digest();
}

/** Tests a `Detour-Bypass` header value against the configured tokens in constant time. */
export function tokenMatcher(tokens: readonly string[]): (token: string) => boolean {
  const digests = tokens.map((token, i) => {
    if (typeof token !== "string" || token.length === 0) throw new OptionsError(`allow.token[${i}]`, "expected a non-empty token");
    return digest(token);
  });
  return (token) => {
    const candidate = digest(token);
    let found = false;
    // Compare against every token so the time taken does not depend on which one matched.
    for (const known of digests) found = timingSafeEqual(candidate, known) || found;
    return found;
  };
}
