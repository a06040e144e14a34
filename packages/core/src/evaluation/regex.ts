import { RegExpParser, type AST } from "@eslint-community/regexpp";
import { RE2JS } from "re2js";

/*
 * The `matches` operator in linear time.
 *
 * LaunchDarkly runs `new RegExp(pattern).test(value)`: JavaScript's
 * backtracking engine, where `^/(a+)+$` and a 31-character path take seconds.
 * Detour translates the same JavaScript pattern (Annex B syntax, no flags:
 * UTF-16 code units, `.` without line terminators, `\s` with Unicode spaces)
 * into an equivalent RE2 pattern and runs it with re2js (RE2's automata in
 * pure JavaScript), which takes time linear in the input whatever the pattern.
 *
 * What RE2 cannot express (backreferences, lookahead and lookbehind, inline
 * modifiers, repetition counts over 1000) and patterns whose compiled program
 * exceeds MAX_PATTERN_INSTRUCTIONS are refused by validation; an unvalidated
 * flag holding one never matches. A pattern JavaScript itself refuses never
 * matches, as in the LaunchDarkly SDK. Values longer than MAX_MATCH_INPUT
 * code units never match.
 *
 * Surrogates: JavaScript without the `u` flag sees one code unit where RE2
 * would decode a surrogate pair into one code point. Inputs holding
 * surrogates are rewritten unit by unit into plane 15 (U+F0000 + unit -
 * 0xD800) and so are the surrogates of the pattern, so both count code units.
 */

/** Longest value (UTF-16 code units) `matches` reads: longer values never match. */
export const MAX_MATCH_INPUT = 8 * 1024;

/**
 * Largest compiled RE2 program accepted. RE2's time is linear in the input
 * and in the program: its lazy DFA caches the states it builds (within 8 MiB
 * per pattern), and a pattern whose DFA needs a new state for almost every
 * input character (`[ab]*a[ab]{94}$` on random input) pays for building each,
 * about 0.1 µs per input character and instruction on the benchmark machine:
 * ~45–60 ms for a 4 KiB value at this limit, the worst Detour accepts (the
 * ReDoS classic `^/(a+)+$` takes ~0.1–0.2 ms, plain patterns a few µs). The
 * limit keeps that product bounded; split longer patterns into several values.
 */
export const MAX_PATTERN_INSTRUCTIONS = 100;

/** A compiled `matches` operand. */
export interface LinearPattern {
  /** Whether the pattern matches somewhere in `value` (as `RegExp.prototype.test`). */
  test(value: string): boolean;
}

export type CompiledPattern =
  | { readonly kind: "ok"; readonly pattern: LinearPattern; readonly instructions: number }
  /** JavaScript refuses the pattern: it never matches (LaunchDarkly's behaviour). */
  | { readonly kind: "invalid"; readonly reason: string }
  /** JavaScript accepts it but Detour cannot run it in linear time. */
  | { readonly kind: "unsupported"; readonly reason: string };

class Unsupported extends Error {}

const parser = new RegExpParser({ strict: false, ecmaVersion: 2025 });

const SURROGATES = /[\uD800-\uDFFF]/;
const SURROGATE_MIN = 0xd800;
const SURROGATE_MAX = 0xdfff;
const PLANE_15 = 0xf0000;
const MAX_REPEAT = 1000;

type Range = readonly [number, number];

const DIGIT: readonly Range[] = [[0x30, 0x39]];
const WORD: readonly Range[] = [[0x30, 0x39], [0x41, 0x5a], [0x5f, 0x5f], [0x61, 0x7a]];
/** JavaScript's `\s`: WhiteSpace and LineTerminator (Unicode Zs included). */
export const SPACE: readonly Range[] = [
  [0x09, 0x0d], [0x20, 0x20], [0xa0, 0xa0], [0x1680, 0x1680], [0x2000, 0x200a],
  [0x2028, 0x2029], [0x202f, 0x202f], [0x205f, 0x205f], [0x3000, 0x3000], [0xfeff, 0xfeff],
];
/** What `.` does not match without the `s` flag. */
const LINE_TERMINATORS: readonly Range[] = [[0x0a, 0x0a], [0x0d, 0x0d], [0x2028, 0x2029]];

/** A code unit as the RE2 input sees it (surrogates moved to plane 15). */
function mapped(unit: number): number {
  return unit >= SURROGATE_MIN && unit <= SURROGATE_MAX ? PLANE_15 + (unit - SURROGATE_MIN) : unit;
}

function hex(codePoint: number): string {
  return `\\x{${codePoint.toString(16)}}`;
}

function literal(unit: number): string {
  const isAlnum = (unit >= 0x30 && unit <= 0x39) || (unit >= 0x41 && unit <= 0x5a) || (unit >= 0x61 && unit <= 0x7a);
  return isAlnum ? String.fromCharCode(unit) : hex(mapped(unit));
}

function normalizeRanges(ranges: Range[]): Range[] {
  ranges.sort((a, b) => a[0] - b[0]);
  const out: [number, number][] = [];
  for (const [lo, hi] of ranges) {
    const last = out[out.length - 1];
    if (last !== undefined && lo <= last[1] + 1) last[1] = Math.max(last[1], hi);
    else out.push([lo, hi]);
  }
  return out;
}

/** The code units (0..0xFFFF) not in `ranges` (normalised). */
function complement(ranges: readonly Range[]): Range[] {
  const out: Range[] = [];
  let next = 0;
  for (const [lo, hi] of ranges) {
    if (lo > next) out.push([next, lo - 1]);
    next = hi + 1;
  }
  if (next <= 0xffff) out.push([next, 0xffff]);
  return out;
}

/** An RE2 class for a set of code units, surrogates mapped to plane 15. */
function classOf(ranges: readonly Range[], negate: boolean): string {
  const parts: string[] = [];
  const add = (lo: number, hi: number) => parts.push(lo === hi ? hex(lo) : `${hex(lo)}-${hex(hi)}`);
  for (const [lo, hi] of normalizeRanges([...ranges])) {
    // Split around the surrogate block: inside it, units are mapped.
    if (lo < SURROGATE_MIN) add(lo, Math.min(hi, SURROGATE_MIN - 1));
    if (hi >= SURROGATE_MIN && lo <= SURROGATE_MAX) add(mapped(Math.max(lo, SURROGATE_MIN)), mapped(Math.min(hi, SURROGATE_MAX)));
    if (hi > SURROGATE_MAX) add(Math.max(lo, SURROGATE_MAX + 1), hi);
  }
  if (parts.length === 0) return negate ? "[\\x{0}-\\x{10ffff}]" : "[^\\x{0}-\\x{10ffff}]";
  return `[${negate ? "^" : ""}${parts.join("")}]`;
}

function escapeSet(kind: "digit" | "space" | "word"): readonly Range[] {
  return kind === "digit" ? DIGIT : kind === "space" ? SPACE : WORD;
}

function classElementRanges(element: AST.CharacterClassElement, into: Range[]): void {
  switch (element.type) {
    case "Character":
      into.push([element.value, element.value]);
      return;
    case "CharacterClassRange":
      into.push([element.min.value, element.max.value]);
      return;
    case "CharacterSet":
      if (element.kind === "property") throw new Unsupported("Unicode property escapes");
      into.push(...(element.negate ? complement(escapeSet(element.kind)) : escapeSet(element.kind)));
      return;
    default:
      throw new Unsupported("class set operations");
  }
}

function alternatives(list: readonly AST.Alternative[]): string {
  return `(?:${list.map((alternative) => alternative.elements.map(element).join("")).join("|")})`;
}

function repeat(min: number, max: number, greedy: boolean): string {
  if (min > MAX_REPEAT || (max !== Infinity && max > MAX_REPEAT)) throw new Unsupported(`repetition counts over ${MAX_REPEAT}`);
  let quantifier: string;
  if (max === Infinity) quantifier = min === 0 ? "*" : min === 1 ? "+" : `{${min},}`;
  else if (min === 0 && max === 1) quantifier = "?";
  else quantifier = min === max ? `{${min}}` : `{${min},${max}}`;
  return greedy ? quantifier : `${quantifier}?`;
}

function element(node: AST.Element): string {
  switch (node.type) {
    case "Character":
      return literal(node.value);
    case "CharacterSet":
      if (node.kind === "any") return classOf(LINE_TERMINATORS, true);
      if (node.kind === "property") throw new Unsupported("Unicode property escapes");
      return classOf(escapeSet(node.kind), node.negate);
    case "CharacterClass": {
      if (node.unicodeSets) throw new Unsupported("class set operations");
      const ranges: Range[] = [];
      for (const item of node.elements) classElementRanges(item, ranges);
      return classOf(ranges, node.negate);
    }
    case "Group":
      if (node.modifiers) throw new Unsupported("inline modifiers such as (?i:)");
      return alternatives(node.alternatives);
    case "CapturingGroup":
      return alternatives(node.alternatives);
    case "Quantifier":
      return `(?:${element(node.element)})${repeat(node.min, node.max, node.greedy)}`;
    case "Assertion":
      switch (node.kind) {
        case "start":
          return "^";
        case "end":
          return "$";
        case "word":
          return node.negate ? "\\B" : "\\b";
        default:
          throw new Unsupported(node.kind === "lookahead" ? "lookahead (?= / (?!" : "lookbehind (?<= / (?<!");
      }
    case "Backreference":
      throw new Unsupported("backreferences");
    default:
      throw new Unsupported(`${(node as AST.Node).type} nodes`);
  }
}

/**
 * The RE2 form of a JavaScript pattern (no flags), or throws: `SyntaxError`
 * when JavaScript refuses it, `Unsupported` when RE2 cannot express it.
 */
function translate(source: string): string {
  new RegExp(source); // JavaScript decides what is a pattern; throws SyntaxError
  let pattern: AST.Pattern;
  try {
    pattern = parser.parsePattern(source, 0, source.length, { unicode: false, unicodeSets: false });
  } catch {
    throw new Unsupported("syntax this engine does not read"); // valid for V8, not for the parser: newer syntax
  }
  return alternatives(pattern.alternatives);
}

function describe(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/**
 * Compiles a `matches` operand (a JavaScript pattern, as LaunchDarkly takes
 * it). `foldCase` compiles it case-insensitively (Detour's guard readings of
 * request paths; never used where LaunchDarkly parity matters).
 */
export function compilePattern(source: string, options: { foldCase?: boolean } = {}): CompiledPattern {
  let translated: string;
  try {
    translated = translate(source);
  } catch (error) {
    if (error instanceof Unsupported) return { kind: "unsupported", reason: `it uses ${error.message}, which RE2 cannot run` };
    return { kind: "invalid", reason: describe(error) };
  }
  let re2: RE2JS;
  try {
    re2 = RE2JS.compile(translated, options.foldCase ? RE2JS.CASE_INSENSITIVE : 0);
  } catch (error) {
    return { kind: "unsupported", reason: `RE2 refuses it (${describe(error)})` };
  }
  const instructions = Number(re2.re2().numberOfInstructions());
  if (!(instructions <= MAX_PATTERN_INSTRUCTIONS)) {
    return {
      kind: "unsupported",
      reason: `it compiles to ${instructions} RE2 instructions, more than ${MAX_PATTERN_INSTRUCTIONS}; split it into several patterns (a clause matches when any of its values does)`,
    };
  }
  return { kind: "ok", pattern: { test: (value) => matchValue(re2, value) }, instructions };
}

function matchValue(re2: RE2JS, value: string): boolean {
  if (value.length > MAX_MATCH_INPUT) return false;
  return re2.test(SURROGATES.test(value) ? unpair(value) : value);
}

/** Each surrogate code unit as its own plane-15 code point, so that RE2 counts code units as JavaScript does. */
function unpair(value: string): string {
  let out = "";
  let from = 0;
  for (let i = 0; i < value.length; i++) {
    const unit = value.charCodeAt(i);
    if (unit < SURROGATE_MIN || unit > SURROGATE_MAX) continue;
    out += value.slice(from, i) + String.fromCodePoint(mapped(unit));
    from = i + 1;
  }
  return out + value.slice(from);
}
