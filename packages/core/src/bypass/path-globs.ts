import { OptionsError } from "../errors.js";
import { allowReading, analyze, decodeSegment, isControl, plainForm, SLASH, targetPath } from "./path-readings.js";

export { normalizePath } from "./path-readings.js";

/*
 * Path patterns: allowed paths (allow mode) and feature paths (guard mode),
 * matched against the readings of a request path (./readings.ts).
 */

/** One segment of a glob: `**`, a literal, or a segment pattern with `*` / `?`. */
type Segment =
  | { readonly kind: "globstar" }
  | { readonly kind: "literal"; readonly text: string }
  | { readonly kind: "wild"; readonly text: string };

const GLOBSTAR: Segment = { kind: "globstar" };

interface Glob {
  readonly segments: readonly Segment[];
  /** `/` + the leading literal segments (`/api` for `/api/**`), `""` when the first segment is not literal. */
  readonly prefix: string;
}

const MAX_EXPANSIONS = 256;
const MAX_PATTERN_LENGTH = 4096;
const UNSUPPORTED = new Set(["[", "]", "(", ")", "\\", "#"]);

/** `*` and `?` within one segment, two pointers: O(segment × pattern) at worst, no backtracking blow-up. */
function matchWild(pattern: string, text: string): boolean {
  let p = 0;
  let t = 0;
  let star = -1;
  let mark = 0;
  while (t < text.length) {
    const c = p < pattern.length ? pattern.charCodeAt(p) : -1;
    if (c === 42 /* * */) {
      star = p++;
      mark = t;
    } else if (c !== -1 && (c === 63 /* ? */ || c === text.charCodeAt(t))) {
      p++;
      t++;
    } else if (star !== -1) {
      p = star + 1;
      t = ++mark;
    } else {
      return false;
    }
  }
  while (p < pattern.length && pattern.charCodeAt(p) === 42) p++;
  return p === pattern.length;
}

function matchSegment(segment: Segment, text: string): boolean {
  return segment.kind === "literal" ? segment.text === text : matchWild((segment as { text: string }).text, text);
}

/** The same two-pointer walk one level up: `**` is the star, segments the characters. */
function matchGlob(segments: readonly Segment[], parts: readonly string[]): boolean {
  let p = 0;
  let t = 0;
  let star = -1;
  let mark = 0;
  while (t < parts.length) {
    const segment = p < segments.length ? segments[p]! : null;
    if (segment !== null && segment.kind === "globstar") {
      star = p++;
      mark = t;
    } else if (segment !== null && matchSegment(segment, parts[t]!)) {
      p++;
      t++;
    } else if (star !== -1) {
      p = star + 1;
      t = ++mark;
    } else {
      return false;
    }
  }
  while (p < segments.length && segments[p]!.kind === "globstar") p++;
  return p === segments.length;
}

/** Expands `{a,b}` groups (nested allowed); throws on unbalanced braces, ranges and groups without a comma. */
function expandBraces(pattern: string, fail: (message: string) => never, out: string[]): void {
  const open = pattern.indexOf("{");
  const close = pattern.indexOf("}");
  if (open < 0) {
    if (close >= 0) fail('has a "}" without a "{"');
    if (out.length >= MAX_EXPANSIONS) fail(`expands to more than ${MAX_EXPANSIONS} paths`);
    out.push(pattern);
    return;
  }
  if (close >= 0 && close < open) fail('has a "}" without a "{"');
  let depth = 0;
  let end = -1;
  const commas: number[] = [];
  for (let i = open; i < pattern.length; i++) {
    const c = pattern[i];
    if (c === "{") depth++;
    else if (c === "}" && --depth === 0) {
      end = i;
      break;
    } else if (c === "," && depth === 1) commas.push(i);
  }
  if (end < 0) fail('has a "{" without a "}"');
  if (commas.length === 0) {
    fail(pattern.slice(open + 1, end).includes("..") ? "brace ranges ({1..3}) are not supported" : `"${pattern.slice(open, end + 1)}" has no "," between alternatives`);
  }
  const head = pattern.slice(0, open);
  const tail = pattern.slice(end + 1);
  let from = open + 1;
  for (const comma of [...commas, end]) {
    expandBraces(head + pattern.slice(from, comma) + tail, fail, out);
    from = comma + 1;
  }
}

function countWildcards(text: string): number {
  let n = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (c === "*" || c === "?" || c === "{" || c === "}" || c === "/") n++;
  }
  return n;
}

interface CompiledPatterns {
  readonly exact: ReadonlySet<string>;
  readonly globs: readonly Glob[];
}

function compilePatterns(patterns: readonly string[], option: string, foldCase: boolean): CompiledPatterns {
  if (!Array.isArray(patterns)) throw new OptionsError(option, "must be an array of paths");
  const exact = new Set<string>();
  const globs: Glob[] = [];
  patterns.forEach((pattern: unknown, index) => {
    const name = `${option}[${index}]`;
    if (typeof pattern !== "string") throw new OptionsError(name, `must be a string, got ${pattern === null ? "null" : typeof pattern}`);
    const fail = (message: string): never => {
      throw new OptionsError(name, `${JSON.stringify(pattern)} ${message}`);
    };
    if (pattern === "") throw new OptionsError(name, "must not be empty");
    if (!pattern.startsWith("/")) fail('must start with "/"');
    if (pattern.length > MAX_PATTERN_LENGTH) fail(`is longer than ${MAX_PATTERN_LENGTH} characters`);
    for (const c of pattern) {
      if (UNSUPPORTED.has(c)) fail(`contains "${c}": only exact paths, "*", "**", "?" and "{a,b}" are supported`);
      if (isControl(c.charCodeAt(0))) fail("contains a control character");
    }
    const expanded: string[] = [];
    expandBraces(foldCase ? pattern.toLowerCase() : pattern, fail, expanded);
    for (const alternative of expanded) {
      const segments: Segment[] = [];
      for (const part of alternative.split("/")) {
        if (part === "") continue;
        let text = part;
        if (part.includes("%")) {
          const decoded = decodeSegment(part);
          if (decoded === null) fail("has a malformed percent-escape");
          if (countWildcards(decoded!) !== countWildcards(part)) fail('encodes "*", "?", "{", "}" or "/": write them as they are, or not at all');
          text = foldCase ? decoded!.toLowerCase() : decoded!;
        }
        if (text === "." || text === "..") fail('must not contain "." or ".." segments');
        if (/^\*{2,}$/.test(text)) {
          if (segments.at(-1) !== GLOBSTAR) segments.push(GLOBSTAR); // "**/**" is "**"
        } else if (text.includes("*") || text.includes("?")) {
          segments.push({ kind: "wild", text: text.replace(/\*{2,}/g, "*") });
        } else {
          segments.push({ kind: "literal", text });
        }
      }
      if (segments.every((s) => s.kind === "literal")) {
        exact.add("/" + segments.map((s) => (s as { text: string }).text).join("/"));
      } else {
        const literal: string[] = [];
        for (const s of segments) {
          if (s.kind !== "literal") break;
          literal.push(s.text);
        }
        globs.push({ segments, prefix: literal.length > 0 ? "/" + literal.join("/") : "" });
      }
    }
  });
  return { exact, globs };
}

/** Whether some glob matches the normal-form path `path` (already case-folded when needed). */
function globsMatchPath(globs: readonly Glob[], path: string): boolean {
  let parts: string[] | undefined;
  for (const glob of globs) {
    const prefix = glob.prefix;
    if (prefix !== "" && !(path.startsWith(prefix) && (path.length === prefix.length || path.charCodeAt(prefix.length) === SLASH))) {
      continue;
    }
    parts ??= path === "/" ? [] : path.slice(1).split("/");
    if (matchGlob(glob.segments, parts)) return true;
  }
  return false;
}

function globsMatchParts(globs: readonly Glob[], parts: readonly string[]): boolean {
  for (const glob of globs) if (matchGlob(glob.segments, parts)) return true;
  return false;
}

export interface PathMatcherOptions {
  /**
   * `"allow"` (default), for lists that let requests through (allowed paths):
   * a path matches only under its one literal reading (`allowReading`):
   * case-sensitive, undecoded but for non-ASCII escapes, no `//`, no dot
   * segments, no absolute-form target, a trailing `/` only under a pattern
   * ending in `/**`. `//health`, `/%68ealth`,
   * `/Health`, `/health/` and `/x/../health` never match `/health`: some router
   * would route them elsewhere (an SPA fallback, say).
   *
   * `"guard"`, for lists that block requests (feature paths): a path matches
   * when any reading matches, case-insensitively (Express and Koa route
   * case-insensitively by default), decoded (Fastify decodes), dot segments
   * resolved or not, the path of an absolute-form target; a path Detour cannot
   * read (no path, a malformed escape, a raw backslash or control character)
   * matches every guard: fail closed. Readings that need the whole request
   * (the part before `;`, a rewritten URL) are the caller's (`readRequestPaths`).
   */
  readonly mode?: "allow" | "guard";
}

/**
 * Compiles exact paths and globs into one test of a request path. Patterns
 * are anchored to the whole path: `/health` matches `/health` and
 * `/health?full=1`, never `/healthz` or `/health/x`. `*` matches within one
 * segment (`/status/*`: `/status/db`, not `/status` or `/status/a/b`), `**`
 * matches any number of segments, none included (`/api/**`: `/api`,
 * `/api/v1/users`), `?` one character, `{a,b}` either alternative; that is
 * picomatch's syntax with `{ dot: true }`, but matched segment by segment in
 * linear time, so no pattern can make a request path slow to match (picomatch's
 * regular expressions backtrack: `/a/*-*-*-*.css` takes seconds on a
 * 300-character path). Character classes, extglobs and escapes are refused.
 * Patterns are percent-decoded like paths (`/caf%C3%A9` and `/café` are the same).
 *
 * Throws `OptionsError` naming `option[index]` for an invalid pattern.
 */
export function compilePathMatcher(
  patterns: readonly string[],
  option: string,
  options: PathMatcherOptions = {},
): (path: string) => boolean {
  const guard = options.mode === "guard";
  if (options.mode !== undefined && options.mode !== "allow" && !guard) {
    throw new OptionsError(`${option} (mode)`, `must be "allow" or "guard", got ${JSON.stringify(options.mode)}`);
  }
  const { exact, globs } = compilePatterns(patterns, option, guard);

  if (exact.size === 0 && globs.length === 0) return () => false;

  const matchPath =
    globs.length === 0
      ? (path: string) => exact.has(path)
      : exact.size === 0
        ? (path: string) => globsMatchPath(globs, path)
        : (path: string) => exact.has(path) || globsMatchPath(globs, path);
  const matchParts = (parts: readonly string[]) =>
    exact.has("/" + parts.join("/")) || (globs.length > 0 && globsMatchParts(globs, parts));

  if (guard) {
    return (target) => {
      if (typeof target !== "string") return false;
      const path = targetPath(target);
      if (path === null) return true;
      const plain = plainForm(path);
      if (plain !== null) return matchPath(plain.toLowerCase());
      const { resolved, routed, same } = analyze(path);
      if (resolved === null) return true; // unreadable: counts as matching
      if (matchPath(resolved.toLowerCase())) return true;
      return !same && matchParts(routed!.map((part) => part.toLowerCase()));
    };
  }
  // A trailing slash is "under" a pattern ending in /** (a mount owns /_detour/ as much as /_detour/x), never an exact path's.
  const mounts = globs.filter((glob) => glob.segments.at(-1) === GLOBSTAR);
  return (target) => {
    if (typeof target !== "string") return false;
    const reading = allowReading(target);
    if (reading === null) return false;
    if (reading.length > 1 && reading.charCodeAt(reading.length - 1) === SLASH) return globsMatchPath(mounts, reading.slice(0, -1));
    return matchPath(reading);
  };
}
