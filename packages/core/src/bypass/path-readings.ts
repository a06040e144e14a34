/**
 * How a request target is read: every reading a router could route a request
 * on, derived in one place for the whole of Detour.
 *
 * - `targetPath`: the path of a target, origin-form (`/a?b`) or absolute-form
 *   (`http://host/a`, RFC 9112 §3.2.2, any scheme and case): routers route
 *   absolute-form on its path, as Node's `url.parse` reads it.
 * - `readRequestPaths`: guard mode's readings (feature paths, rules on the
 *   `path` attribute): the paths of the original and the rewritten URL, each
 *   also before its first `;` (Fastify's `useSemicolonDelimiter`) and with each
 *   segment cut at `;` (matrix parameters); whether some target is unreadable.
 *   The guard matcher (./paths.ts) adds case folding, decoding and dot
 *   segments, resolved and not; `decodedReadings` gives the same to rules.
 * - `allowReading`: allow mode's one literal reading (allowed paths).
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

export const SLASH = 47;
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

export function isControl(code: number): boolean {
  return code < 0x20 || code === 0x7f;
}

/** Decodes one segment's escapes (except the kept ones); `null` when an escape is malformed. */
export function decodeSegment(segment: string): string | null {
  let out = "";
  let run = ""; // consecutive escapes still to decode, so multi-byte UTF-8 decodes as a whole
  const flush = (): boolean => {
    if (run === "") return true;
    try {
      out += decodeURIComponent(run);
    } catch {
      return false;
    }
    run = "";
    return true;
  };
  let i = 0;
  while (i < segment.length) {
    const code = segment.charCodeAt(i);
    if (code === PERCENT) {
      const high = hexValue(segment.charCodeAt(i + 1));
      const low = hexValue(segment.charCodeAt(i + 2));
      if (high < 0 || low < 0) return null;
      if (keptEncoded(high * 16 + low)) {
        if (!flush()) return null;
        out += "%" + HEX_DIGITS[high]! + HEX_DIGITS[low]!;
      } else {
        run += segment.slice(i, i + 3);
      }
      i += 3;
      continue;
    }
    if (!flush()) return null;
    out += segment[i];
    i++;
  }
  return flush() ? out : null;
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

/** Where the path part of `target` (from `start`) ends: at the first `?` or `#`, else at the end. */
function pathEnd(target: string, start = 0): number {
  let end = target.indexOf("?", start);
  if (end < 0) end = target.length;
  const hash = target.indexOf("#", start);
  return hash >= 0 && hash < end ? hash : end;
}

/**
 * The path itself, or its part before `?`/`#`, when that is already in normal
 * form: the common cases, with no splitting. `null` when the slow path is needed.
 */
export function plainForm(path: string): string | null {
  if (isPlain(path)) return path;
  const end = pathEnd(path);
  if (end <= 0 || end === path.length) return null;
  const head = path.slice(0, end);
  return isPlain(head) ? head : null;
}

/** Both readings of a request path; see `analyze`. */
export interface Readings {
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

export function analyze(path: string): Readings {
  if (path.charCodeAt(0) !== SLASH) return UNREADABLE;
  const raw = path.slice(0, pathEnd(path)).split("/");
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
// Request targets

/** Index just after `scheme:` when `target` starts with a URI scheme, else -1. */
function schemeEnd(target: string): number {
  const first = target.charCodeAt(0);
  if (!((first >= 65 && first <= 90) || (first >= 97 && first <= 122))) return -1;
  for (let i = 1; i < target.length; i++) {
    const c = target.charCodeAt(i);
    if (c === 58 /* : */) return i + 1;
    const alnum = (c >= 48 && c <= 57) || (c >= 65 && c <= 90) || (c >= 97 && c <= 122);
    if (!alnum && c !== 43 /* + */ && c !== 45 /* - */ && c !== DOT) return -1;
  }
  return -1;
}

/**
 * The path of a request target, query and fragment cut off: origin-form as it
 * is, absolute-form (`http://host/billing`, `HTTP://h/x`, `https:/x`) its path,
 * as Node's `url.parse` (and so Express, Koa and Fastify) reads it; `/` when
 * the authority has no path after it. `null` when the target has no path
 * Detour can read: `*`, `billing`, or a raw backslash before the query (which
 * `url.parse` would turn into a slash).
 */
export function targetPath(target: string): string | null {
  if (typeof target !== "string" || target.length === 0) return null;
  let start = 0;
  if (target.charCodeAt(0) !== SLASH) {
    start = schemeEnd(target);
    if (start < 0) return null;
    if (target.charCodeAt(start) === SLASH && target.charCodeAt(start + 1) === SLASH) {
      let i = start + 2;
      while (i < target.length) {
        const c = target.charCodeAt(i);
        if (c === SLASH || c === QUESTION || c === HASH || c === BACKSLASH) break;
        i++;
      }
      if (target.charCodeAt(i) === BACKSLASH) return null;
      if (i >= target.length || target.charCodeAt(i) !== SLASH) return "/";
      start = i;
    } else if (target.charCodeAt(start) !== SLASH) {
      return null;
    }
  }
  const end = pathEnd(target, start);
  const backslash = target.indexOf("\\", start);
  if (backslash >= 0 && backslash < end) return null;
  return start === 0 && end === target.length ? target : target.slice(start, end);
}

/** Guard mode's readings of one request. */
export interface RequestPaths {
  /** The original target's path (`targetPath`), or the target itself when it has none: the context's `path`. */
  readonly primary: string;
  /** Every distinct path a router could route the request on, as received (undecoded). */
  readonly paths: readonly string[];
  /** Some target has no path Detour can read (none at all, a malformed escape, a raw backslash or control character): guards count it as matching. */
  readonly unreadable: boolean;
}

function add(list: string[], value: string): void {
  if (!list.includes(value)) list.push(value);
}

function withoutParameters(path: string, into: string[]): void {
  const semicolon = path.indexOf(";");
  if (semicolon < 0) return;
  add(into, semicolon === 1 ? "/" : path.slice(0, semicolon)); // Fastify: the path ends at the first ";"
  add(into, path.split("/").map((segment) => { const at = segment.indexOf(";"); return at < 0 ? segment : segment.slice(0, at); }).join("/"));
}

function readable(path: string): boolean {
  return plainForm(path) !== null || analyze(path).resolved !== null;
}

/**
 * Guard mode's readings of a request: its original target and, when a
 * middleware rewrote the URL before Detour (or the framework keeps a second
 * URL), that one too. See the module comment.
 */
export function readRequestPaths(original: string, alternate?: string): RequestPaths {
  const first = targetPath(original);
  const primary = first ?? original;
  if (first !== null && (alternate === undefined || alternate === original) && first.indexOf(";") < 0 && plainForm(first) !== null) {
    return { primary, paths: [first], unreadable: false };
  }
  const paths: string[] = [];
  let unreadable = false;
  for (const path of alternate === undefined || alternate === original ? [first] : [first, targetPath(alternate)]) {
    if (path === null) {
      unreadable = true;
      continue;
    }
    add(paths, path);
    withoutParameters(path, paths);
  }
  for (const path of paths) if (!readable(path)) unreadable = true;
  return { primary, paths, unreadable };
}

/**
 * The readings of `paths` for rules on the `path` attribute: each path as
 * received, its normal form and its decoded segments with dot segments kept
 * (what a router that decodes without resolving sees), distinct.
 */
export function decodedReadings(paths: readonly string[]): string[] {
  const out: string[] = [];
  for (const path of paths) {
    add(out, path);
    if (plainForm(path) === path) continue;
    const { resolved, routed } = analyze(path);
    if (resolved !== null) add(out, resolved);
    if (routed !== null) add(out, "/" + routed.join("/"));
  }
  return out;
}

function isUpperHex(code: number): boolean {
  return (code >= 48 && code <= 57) || (code >= 65 && code <= 70);
}

/**
 * Allow mode's one reading of a request target: its path read literally,
 * case-sensitively, as every router would route it; `null` (never allowed)
 * for anything a router might read otherwise: an absolute-form target, an
 * empty segment (`//`; one trailing `/` is kept in the reading: only a
 * pattern ending in `/**` takes it), a `.` or `..` segment, a backslash,
 * a space, a control or raw non-ASCII character, a `%` escape of an ASCII
 * character (Fastify decodes `/%68ealth` to `/health`, Express and Koa do not)
 * or a malformed or lower-case one. Escapes of non-ASCII bytes (`%C3%A9`) are
 * decoded: `/caf%C3%A9` reads `/café`.
 */
export function allowReading(target: string): string | null {
  if (typeof target !== "string" || target.charCodeAt(0) !== SLASH) return null;
  const end = pathEnd(target);
  if (end === 1) return "/";
  let escaped = false;
  let segmentStart = 1;
  for (let i = 1; i <= end; i++) {
    const code = i < end ? target.charCodeAt(i) : SLASH;
    if (code === SLASH) {
      const size = i - segmentStart;
      if (size === 0) {
        if (i === end && i > 1) break; // one trailing slash: kept, for the matcher to judge
        return null;
      }
      if (target.charCodeAt(segmentStart) === DOT && (size === 1 || (size === 2 && target.charCodeAt(segmentStart + 1) === DOT))) return null;
      segmentStart = i + 1;
    } else if (code === PERCENT) {
      const high = target.charCodeAt(i + 1);
      if (!isUpperHex(high) || !isUpperHex(target.charCodeAt(i + 2)) || hexValue(high) < 8) return null;
      escaped = true;
      i += 2;
    } else if (code <= 0x20 || code >= 0x7f || code === BACKSLASH) {
      return null;
    }
  }
  const path = end === target.length ? target : target.slice(0, end);
  if (!escaped) return path;
  try {
    return decodeURIComponent(path);
  } catch {
    return null; // not UTF-8
  }
}
