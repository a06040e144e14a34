import picomatch from "picomatch";
import { OptionsError } from "../errors.js";

/**
 * Normalises a request path for matching: no query string, percent-decoded,
 * duplicate slashes collapsed, `.` and `..` resolved, no trailing slash (but
 * `/`). Returns `null` for a path that cannot be decoded.
 */
export function normalizePath(raw: string): string | null {
  const query = raw.search(/[?#]/);
  let path = query >= 0 ? raw.slice(0, query) : raw;
  if (path.includes("%")) {
    try {
      path = decodeURIComponent(path);
    } catch {
      return null;
    }
  }
  if (!path.startsWith("/")) path = `/${path}`;
  if (!/\/\/|\/\.\.?(\/|$)|.\/$/.test(path)) return path;
  const out: string[] = [];
  for (const segment of path.split("/")) {
    if (segment === "" || segment === ".") continue;
    if (segment === "..") out.pop();
    else out.push(segment);
  }
  return `/${out.join("/")}`;
}

/**
 * Compiles exact paths and globs (`/health`, `/status/*`, `/api/**`) into
 * one anchored test of a request path: a pattern always covers the whole
 * normalised path, never a part of it.
 */
export function compilePathMatcher(patterns: readonly string[], option: string): (path: string) => boolean {
  const exact = new Set<string>();
  const globs: string[] = [];
  patterns.forEach((pattern, i) => {
    if (typeof pattern !== "string" || !pattern.startsWith("/")) {
      throw new OptionsError(`${option}[${i}]`, `must start with "/", got ${JSON.stringify(pattern)}`);
    }
    const normalized = pattern === "/" ? "/" : pattern.replace(/\/+$/, "");
    if (picomatch.scan(normalized).isGlob) globs.push(normalized);
    else exact.add(normalizePath(normalized) ?? normalized);
  });
  const glob = globs.length > 0 ? picomatch(globs, { dot: true }) : null;
  return (raw) => {
    const path = normalizePath(raw);
    if (path === null) return false;
    return exact.has(path) || (glob !== null && glob(path));
  };
}
