import parse from "semver/functions/parse.js";
import type SemVer from "semver/classes/semver.js";

const COMPONENTS = /^\d+(\.\d+)?(\.\d+)?/;

/**
 * LaunchDarkly's lenient semver parsing: strict semver first, then `1` and
 * `1.2` are completed to `1.0.0` / `1.2.0`; a leading `v` is never accepted.
 */
export function parseSemver(input: unknown): SemVer | null {
  if (typeof input !== "string" || input.startsWith("v")) return null;
  const strict = parse(input);
  if (strict) return strict;
  const match = COMPONENTS.exec(input);
  if (!match) return null;
  let completed = match[0];
  if (match[1] === undefined) completed += ".0";
  if (match[2] === undefined) completed += ".0";
  return parse(completed + input.slice(match[0].length));
}
