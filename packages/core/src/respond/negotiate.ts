/**
 * Content negotiation on the `Accept` header (RFC 9110 §12.5.1), limited to
 * what a blocked request can receive: an HTML page, a problem document, or
 * plain text.
 */

/** The three bodies the built-in responder can produce. */
export type Representation = "html" | "problem" | "text";

/** One element of an `Accept` header. Type, subtype and parameter names are lower-cased. */
export interface MediaRange {
  readonly type: string;
  readonly subtype: string;
  /** Media-range parameters (those before `q`), values unquoted. */
  readonly params: Readonly<Record<string, string>>;
  /** 0..1, default 1. */
  readonly q: number;
}

/** The outcome of negotiation: which body, and the media type to label it with. */
export interface Negotiated {
  readonly representation: Representation;
  /** Without parameters, e.g. `application/problem+json`. */
  readonly mediaType: string;
}

interface Offer extends Negotiated {
  readonly type: string;
  readonly subtype: string;
}

/**
 * What the server offers, in the server's order of preference (the last
 * tie-breaker). HTML comes first, so `*\/*` (curl, `fetch()`, no header at all)
 * gets the HTML page, as Laravel's maintenance mode does.
 */
const OFFERS: readonly Offer[] = [
  { representation: "html", mediaType: "text/html", type: "text", subtype: "html" },
  { representation: "problem", mediaType: "application/problem+json", type: "application", subtype: "problem+json" },
  { representation: "problem", mediaType: "application/json", type: "application", subtype: "json" },
  { representation: "text", mediaType: "text/plain", type: "text", subtype: "plain" },
];

/** The text/* offers are sent with `charset=utf-8`; a range asking for that charset still matches. */
const OFFER_CHARSET = "utf-8";

const FALLBACK: Negotiated = { representation: "text", mediaType: "text/plain" };
const DEFAULT: Negotiated = { representation: "html", mediaType: "text/html" };

const TOKEN = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;
const QVALUE = /^(?:0(?:\.\d{0,3})?|1(?:\.0{0,3})?)$/;

/** Splits on `sep` outside double-quoted strings (which may contain `\"`). */
function splitOutsideQuotes(input: string, sep: string): string[] {
  const parts: string[] = [];
  let start = 0;
  let quoted = false;
  for (let i = 0; i < input.length; i++) {
    const c = input[i];
    if (quoted) {
      if (c === "\\") i++;
      else if (c === '"') quoted = false;
    } else if (c === '"') {
      quoted = true;
    } else if (c === sep) {
      parts.push(input.slice(start, i));
      start = i + 1;
    }
  }
  parts.push(input.slice(start));
  return parts;
}

function unquote(value: string): string | null {
  if (!value.startsWith('"')) return TOKEN.test(value) ? value : null;
  if (value.length < 2 || !value.endsWith('"')) return null;
  return value.slice(1, -1).replace(/\\(.)/g, "$1");
}

function parseRange(element: string): MediaRange | null {
  const [range = "", ...rawParams] = splitOutsideQuotes(element, ";").map((part) => part.trim());
  const slash = range.indexOf("/");
  if (slash < 0) return null;
  const type = range.slice(0, slash).toLowerCase();
  const subtype = range.slice(slash + 1).toLowerCase();
  if (!TOKEN.test(type) || !TOKEN.test(subtype)) return null;
  if (type === "*" && subtype !== "*") return null;

  const params: Record<string, string> = {};
  let q = 1;
  for (const raw of rawParams) {
    if (raw === "") continue;
    const eq = raw.indexOf("=");
    if (eq < 0) return null;
    const name = raw.slice(0, eq).trim().toLowerCase();
    const value = unquote(raw.slice(eq + 1).trim());
    if (!TOKEN.test(name) || value === null) return null;
    if (name === "q") {
      if (!QVALUE.test(value)) return null;
      q = Number(value);
      // Anything after the weight is an accept-extension (RFC 7231), not part of the range.
      break;
    }
    params[name] = value;
  }
  return { type, subtype, params, q };
}

/**
 * Parses an `Accept` header into its media ranges, in header order. Malformed
 * elements (no slash, `*\/html`, a bad q-value such as `q=2` or `q=0.5555`, a
 * stray parameter) are dropped rather than failing the whole header.
 */
export function parseAccept(header: string): MediaRange[] {
  const ranges: MediaRange[] = [];
  for (const element of splitOutsideQuotes(header, ",")) {
    if (element.trim() === "") continue;
    const range = parseRange(element);
    if (range) ranges.push(range);
  }
  return ranges;
}

/**
 * How specifically `range` names `offer`; -1 when it does not match.
 * `*\/*` < `type/*` < `application/<x>+json` (any JSON-based type, answered
 * with problem+json) < the exact type; each matching parameter adds to it.
 */
function specificity(range: MediaRange, offer: Offer): number {
  let base: number;
  if (range.type === "*") base = 0;
  else if (range.type !== offer.type) return -1;
  else if (range.subtype === "*") base = 1;
  else if (range.subtype === offer.subtype) base = 3;
  else if (offer.subtype === "problem+json" && range.subtype.endsWith("+json")) base = 2;
  else return -1;

  let matched = 0;
  for (const [name, value] of Object.entries(range.params)) {
    // Only text/* offers carry a parameter (charset=utf-8); any other parameter
    // names a variant we do not produce.
    if (name === "charset" && offer.type === "text" && value.toLowerCase() === OFFER_CHARSET) matched++;
    else return -1;
  }
  return base * 100 + matched;
}

/**
 * Picks the body for an `Accept` header. For each offer, the most specific
 * matching range gives its quality (so `text/html;q=0, *\/*` excludes HTML
 * only); offers at q=0 are excluded; the rest are ordered by quality, then by
 * how specifically they were asked for, then by server preference (HTML,
 * problem+json, JSON, plain text).
 *
 * - No header, an empty one, or one with no parseable range: as `*\/*`, the
 *   HTML page.
 * - `application/json` is answered with the problem document labelled
 *   `application/json`; `application/problem+json` and any other
 *   `application/<x>+json` with `application/problem+json`.
 * - Nothing acceptable (`image/png`, `*\/*;q=0`): plain text, never a 406 — a
 *   maintenance response should always say why.
 */
export function negotiate(accept: string | undefined): Negotiated {
  if (accept === undefined) return DEFAULT;
  const ranges = parseAccept(accept);
  if (ranges.length === 0) return DEFAULT;

  let best: Offer | null = null;
  let bestQ = 0;
  let bestS = -1;
  for (const offer of OFFERS) {
    let q = 0;
    let s = -1;
    for (const range of ranges) {
      const rs = specificity(range, offer);
      if (rs > s || (rs === s && rs >= 0 && range.q > q)) {
        s = rs;
        q = range.q;
      }
    }
    if (s < 0 || q === 0) continue;
    // Offers are visited in server preference order, so strict comparisons keep the earlier one on ties.
    if (q > bestQ || (q === bestQ && s > bestS)) {
      best = offer;
      bestQ = q;
      bestS = s;
    }
  }
  return best ? { representation: best.representation, mediaType: best.mediaType } : FALLBACK;
}
