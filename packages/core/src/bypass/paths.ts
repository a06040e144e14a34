import { OptionsError } from "../errors.js";

/**
 * Request paths and path patterns (allowed paths, feature paths).
 *
 * Normal form (`normalizePath`): the query string and fragment are cut off,
 * each segment is percent-decoded once, empty segments (`//`) and a trailing
 * slash are dropped, and `.`/`..` segments are resolved (never above `/`).
 * Escapes whose decoded byte would change how the path is split or read again
 * stay encoded, in upper case: `%2F` (/), `%5C` (\), `%3F` (?), `%23` (#),
 * `%25` (%) and control characters. Routers do the same (`a%2Fb` is one
 * segment for Express, Koa and Fastify), and it makes the normal form
 * idempotent: normalising a normalised path changes nothing, so callers may
 * normalise once, cache by the result, and hand it to a matcher.
 *
 * A path has no normal form (`null`) when it does not start with `/`, has a
 * malformed escape (`%zz`, `%`, invalid UTF-8) or contains a raw backslash or
 * control character.
 */

const SLASH = 47;
const PERCENT = 37;
const QUESTION = 63;
const HASH = 35;
const BACKSLASH = 92;
const DOT = 46;

const HEX_DIGITS = "0123456789ABCDEF";

function hexValue(code: number): number {
  if (code >= 48 && code <= 57) return code - 48;
  if (code >= 65 && code <= 70) return code - 55;
  if (code >= 97 && code <= 102) return code - 87;
  return -1;
}

/** Bytes that stay percent-encoded in the normal form. All ASCII, so never part of a multi-byte UTF-8 sequence. */
function keptEncoded(byte: number): boolean {
  return byte < 0x20 || byte === 0x7f || byte === PERCENT || byte === SLASH || byte === QUESTION || byte === HASH || byte === BACKSLASH;
}

function isControl(code: number): boolean {
  return code < 0x20 || code === 0x7f;
}

/** Decodes one segment's escapes (except the kept ones); `null` when an escape is malformed. */
function decodeSegment(segment: string): string | null {
  let out = "";
  let run = ""; // consecutive escapes still to decode, so multi-byte UTF-8 decodes as a whole
  let i = 0;
  while (i < segment.length) {
    const code = segment.charCodeAt(i);
    if (code === PERCENT) {
      const high = hexValue(segment.charCodeAt(i + 1));
      const low = hexValue(segment.charCodeAt(i + 2));
      if (high < 0 || low < 0) return null;
      const byte = high * 16 + low;
      if (keptEncoded(byte)) {
        if (run !== "") {
          try {
            out += decodeURIComponent(run);
          } catch {
            return null;
          }
          run = "";
        }
        out += "%" + HEX_DIGITS[high]! + HEX_DIGITS[low]!;
      } else {
        run += segment.slice(i, i + 3);
      }
      i += 3;
      continue;
    }
    if (run !== "") {
      try {
        out += decodeURIComponent(run);
      } catch {
        return null;
      }
      run = "";
    }
    out += segment[i];
    i++;
  }
  if (run !== "") {
    try {
      out += decodeURIComponent(run);
    } catch {
      return null;
    }
  }
  return out;
}

/**
 * True when `path` is already in normal form and has no escapes, so it needs
 * no work: the common case, checked without allocating.
 */
function isPlain(path: string): boolean {
  const length = path.length;
  if (length === 0 || path.charCodeAt(0) !== SLASH) return false;
  if (length === 1) return true;
  let segmentStart = 1;
  for (let i = 1; i <= length; i++) {
    const code = i < length ? path.charCodeAt(i) : SLASH;
    if (code === SLASH) {
      const size = i - segmentStart;
      if (size === 0) return false; // "//", or a trailing "/"
      if (path.charCodeAt(segmentStart) === DOT && (size === 1 || (size === 2 && path.charCodeAt(segmentStart + 1) === DOT))) {
        return false; // "." or ".."
      }
      segmentStart = i + 1;
    } else if (code === PERCENT || code === QUESTION || code === HASH || code === BACKSLASH || isControl(code)) {
      return false;
    }
  }
  return true;
}

/**
 * The path itself, or its part before `?`/`#`, when that is already in normal
 * form: the common cases, with no splitting. `null` when the slow path is needed.
 */
function plainForm(path: string): string | null {
  if (isPlain(path)) return path;
  let end = path.indexOf("?");
  const hash = path.indexOf("#");
  if (hash >= 0 && (end < 0 || hash < end)) end = hash;
  if (end <= 0) return null;
  const head = path.slice(0, end);
  return isPlain(head) ? head : null;
}

/** Both readings of a request path; see `analyze`. */
interface Readings {
  /** The normal form (dot segments resolved), or `null` when there is none. */
  readonly resolved: string | null;
  /**
   * The segments a router sees: decoded like the normal form but with `.` and
   * `..` kept as they are (Express, Koa and Fastify route the raw path; they do
   * not resolve dot segments). A segment whose escapes are malformed is kept raw.
   * `null` only when the path does not start with `/`.
   */
  readonly routed: readonly string[] | null;
  /** Whether both readings are the same path (no dot segment was resolved). */
  readonly same: boolean;
}

const UNREADABLE: Readings = { resolved: null, routed: null, same: true };

function analyze(path: string): Readings {
  if (path.charCodeAt(0) !== SLASH) return UNREADABLE;
  let end = path.length;
  const query = path.indexOf("?");
  if (query >= 0) end = query;
  const hash = path.indexOf("#");
  if (hash >= 0 && hash < end) end = hash;
  const raw = path.slice(0, end).split("/");
  const routed: string[] = [];
  const resolved: string[] = [];
  let readable = true;
  let dots = false;
  for (let i = 1; i < raw.length; i++) {
    const part = raw[i]!;
    if (part === "") continue;
    let segment = part;
    for (let j = 0; j < part.length; j++) {
      const code = part.charCodeAt(j);
      if (code === BACKSLASH || isControl(code)) readable = false;
    }
    if (part.includes("%")) {
      const decoded = decodeSegment(part);
      if (decoded === null) readable = false;
      else segment = decoded;
    }
    routed.push(segment);
    if (segment === ".") {
      dots = true;
    } else if (segment === "..") {
      dots = true;
      resolved.pop();
    } else {
      resolved.push(segment);
    }
  }
  return { resolved: readable ? "/" + resolved.join("/") : null, routed, same: !dots };
}

/**
 * The normal form of a request path (see the module comment), or `null` when
 * it has none: not starting with `/`, a malformed escape, a raw backslash or
 * control character. `/health/`, `//health`, `/health?x=1` and `/a/../health`
 * all become `/health`; `/health/%2e%2e/admin` becomes `/admin`.
 */
export function normalizePath(path: string): string | null {
  if (typeof path !== "string") return null;
  return plainForm(path) ?? analyze(path).resolved;
}

// ---------------------------------------------------------------------------
// Patterns

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
   * a path matches only when every reading of it matches: its normal form and
   * the unresolved segments a router sees, case-sensitively. `/x/../health`
   * does not match `/health` (a router may well send it to `/x/:id/*`), a
   * path with no normal form matches nothing.
   *
   * `"guard"`, for lists that block requests (feature paths): a path matches
   * when any reading matches, case-insensitively (Express and Koa route
   * case-insensitively by default), and a path with no normal form is still
   * read segment by segment, so `/BILLING/x`, `/billing/a%2Fb`,
   * `/billing/..%2fx` and `/billing/%zz` are all under `/billing/*`.
   */
  readonly mode?: "allow" | "guard";
}

/**
 * Compiles exact paths and globs into one test of a request path. Patterns
 * are anchored to the whole path: `/health` matches `/health`, `/health/` and
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
 * The request path may be raw (with query string, escapes, dot segments) or
 * already normalised: normalising is idempotent.
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
    return (path) => {
      if (typeof path !== "string") return false;
      const plain = plainForm(path);
      if (plain !== null) return matchPath(plain.toLowerCase());
      const { resolved, routed, same } = analyze(path);
      if (resolved !== null && matchPath(resolved.toLowerCase())) return true;
      if (routed === null || (same && resolved !== null)) return false;
      return matchParts(routed.map((part) => part.toLowerCase()));
    };
  }
  return (path) => {
    if (typeof path !== "string") return false;
    // Every exact entry is a normal form, and normal forms normalise to themselves: a hit needs no more work.
    if (exact.has(path)) return true;
    const plain = plainForm(path);
    if (plain !== null) return matchPath(plain);
    const { resolved, routed, same } = analyze(path);
    if (resolved === null || !matchPath(resolved)) return false;
    return same || matchParts(routed!);
  };
}
