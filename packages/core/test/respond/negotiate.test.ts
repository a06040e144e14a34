import { describe, expect, test } from "vitest";
import { negotiate, parseAccept } from "../../src/respond/negotiate.js";

const CHROME = "text/html,application/xhtml+xml,application/xml;q=0.9,image/avif,image/webp,image/apng,*/*;q=0.8";

describe("negotiate", () => {
  test.each<[string | undefined, string, string]>([
    // absent or meaningless: as */*, the page
    [undefined, "html", "text/html"],
    ["", "html", "text/html"],
    ["   ", "html", "text/html"],
    ["garbage", "html", "text/html"],
    // wildcards
    ["*/*", "html", "text/html"], // curl, fetch(): HTML, as Laravel does
    ["text/*", "html", "text/html"],
    ["application/*", "problem", "application/problem+json"],
    [CHROME, "html", "text/html"],
    // exact types
    ["text/html", "html", "text/html"],
    ["application/problem+json", "problem", "application/problem+json"],
    ["application/json", "problem", "application/json"],
    ["application/vnd.api+json", "problem", "application/problem+json"],
    ["application/ld+json;q=0.5, text/plain;q=0.4", "problem", "application/problem+json"],
    ["text/plain", "text", "text/plain"],
    ["TEXT/HTML", "html", "text/html"],
    // q first...
    ["text/html;q=0.5, application/json", "problem", "application/json"],
    ["text/plain; q=1.0, text/html; q=0.999", "text", "text/plain"],
    ["application/json;q=0.9, application/problem+json;q=0.8", "problem", "application/json"],
    ["text/plain, */*;q=0.1", "text", "text/plain"],
    // ...then specificity...
    ["application/json, */*", "problem", "application/json"],
    ["*/*, text/plain", "text", "text/plain"],
    ["application/*, application/json", "problem", "application/json"],
    // ...then server preference: html, problem+json, json, text
    ["application/json, text/html", "html", "text/html"],
    ["text/plain, application/problem+json", "problem", "application/problem+json"],
    ["application/json, application/problem+json", "problem", "application/problem+json"],
    // q=0 excludes; the most specific range decides
    ["text/html;q=0, */*", "problem", "application/problem+json"],
    ["application/problem+json;q=0, application/json", "problem", "application/json"],
    ["text/*;q=0, text/plain", "text", "text/plain"],
    ["text/html;q=0, text/*", "text", "text/plain"],
    ["text/html, text/html;q=0.2, application/json;q=0.5", "html", "text/html"],
    // nothing acceptable: plain text, never 406
    ["image/png", "text", "text/plain"],
    ["*/*;q=0", "text", "text/plain"],
    ["image/*, */*;q=0", "text", "text/plain"],
    ["text/html;q=0, application/*;q=0, text/plain;q=0", "text", "text/plain"],
    // parameters must describe what is sent (text/* in utf-8, no other parameter)
    ["text/html;charset=UTF-8", "html", "text/html"],
    ["text/html;charset=iso-8859-1, application/json;q=0.1", "problem", "application/json"],
    ["text/html;level=1, text/plain;q=0.5", "text", "text/plain"],
    // malformed elements are dropped, not fatal
    ["text/html;q=2, text/plain", "text", "text/plain"],
    ["text/html;q=0.5555, application/json;q=0.1", "problem", "application/json"],
    ["*/html, text/plain;q=0.3", "text", "text/plain"],
    ["text/html;q, text/plain;q=0.3", "text", "text/plain"],
    // commas inside quoted strings do not split the header
    ['text/plain;q=0.5, application/json;q=0.1;ext="x, text/html, y"', "text", "text/plain"],
  ])("Accept: %s → %s (%s)", (accept, representation, mediaType) => {
    expect(negotiate(accept)).toEqual({ representation, mediaType });
  });
});

describe("parseAccept", () => {
  test("types, parameters and weights", () => {
    expect(parseAccept('Text/HTML; Level=1; q=0.7; ext=1, application/json;profile="a;b", */*;q=0')).toEqual([
      { type: "text", subtype: "html", params: { level: "1" }, q: 0.7 },
      { type: "application", subtype: "json", params: { profile: "a;b" }, q: 1 },
      { type: "*", subtype: "*", params: {}, q: 0 },
    ]);
  });

  test("accepts the q-value forms of RFC 9110 and no others", () => {
    const q = (value: string) => parseAccept(`text/plain;q=${value}`)[0]?.q;
    expect([q("0"), q("0."), q("0.5"), q("0.125"), q("1"), q("1."), q("1.000")]).toEqual([0, 0, 0.5, 0.125, 1, 1, 1]);
    expect([q("1.001"), q("2"), q("-1"), q(".5"), q("0.1234"), q("abc"), q("")]).toEqual(Array(7).fill(undefined));
  });

  test("skips empty and malformed elements", () => {
    expect(parseAccept(",, text/plain ,foo, a/b/c, text/ , /html").map((r) => `${r.type}/${r.subtype}`)).toEqual(["text/plain"]);
  });
});
