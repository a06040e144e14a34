import picomatch from "picomatch";
import { describe, expect, it } from "vitest";
import { OptionsError } from "../../src/errors.js";
import { compilePathMatcher, normalizePath } from "../../src/bypass/index.js";

describe("normalizePath", () => {
  const cases: [string, string | null][] = [
    ["/", "/"],
    ["/health", "/health"],
    ["/health/", "/health"],
    ["//health", "/health"],
    ["///health///", "/health"],
    ["/a//b", "/a/b"],
    ["/health?full=1", "/health"],
    ["/health/?x=/../admin", "/health"],
    ["/health#frag", "/health"],
    ["/?x", "/"],
    ["/a/./b", "/a/b"],
    ["/a/b/..", "/a"],
    ["/a/b/../", "/a"],
    ["/health/../admin", "/admin"],
    ["/../../health", "/health"],
    ["/health/%2e%2e/admin", "/admin"],
    ["/health/%2E%2E/admin", "/admin"],
    ["/health/.%2e/admin", "/admin"],
    ["/a/%2e/b", "/a/b"],
    ["/%68ealth", "/health"],
    ["/caf%C3%A9", "/café"],
    ["/café", "/café"],
    ["/a%20b", "/a b"],
    ["/%252e%252e/x", "/%252e%252e/x"], // decoded once only: "%2e%2e" is not ".."
    // Escapes that would change how the path is split or read again stay encoded, in upper case.
    ["/a%2Fb", "/a%2Fb"],
    ["/a%2fb", "/a%2Fb"],
    ["/status/x%2F..%2F..%2Fadmin", "/status/x%2F..%2F..%2Fadmin"],
    ["/a%5Cb", "/a%5Cb"],
    ["/a%3Fb", "/a%3Fb"],
    ["/a%23b", "/a%23b"],
    ["/a%25b", "/a%25b"],
    ["/a%00b", "/a%00b"],
    ["/a%0ab", "/a%0Ab"],
    ["/%E2%82%AC%2F%E2%82%AC", "/€%2F€"],
    // No normal form.
    ["", null],
    ["health", null],
    ["*", null],
    ["http://example.com/health", null],
    ["/%zz", null],
    ["/a%", null],
    ["/a%4", null],
    ["/%C3", null], // truncated UTF-8
    ["/%C3%28", null], // invalid UTF-8
    ["/%FF", null],
    ["/a\\b", null],
    ["/a\\..\\admin", null],
    ["/a\u0000b", null],
    ["/a\nb", null],
  ];

  it.each(cases)("%j → %j", (input, expected) => {
    expect(normalizePath(input)).toBe(expected);
  });

  it("is idempotent: a normal form normalises to itself", () => {
    for (const [input] of cases) {
      const once = normalizePath(input);
      if (once !== null) expect(normalizePath(once), input).toBe(once);
    }
  });

  it("returns null for non-strings instead of throwing", () => {
    expect(normalizePath(undefined as unknown as string)).toBeNull();
    expect(normalizePath(42 as unknown as string)).toBeNull();
  });
});

describe("compilePathMatcher (allow lists)", () => {
  const match = compilePathMatcher(["/health", "/status/*", "/api/**", "/assets/*.css", "/v?/ping", "/{ready,live}z"], "allow.paths");

  const cases: [string, boolean][] = [
    // exact, anchored
    ["/health", true],
    ["/health?verbose=1", true],
    ["/health#x", true],
    // only the literal reading: some router reads anything else as another path (an SPA fallback, say)
    ["/health/", false], // Fastify: no /health/ route
    ["//health", false],
    ["///health", false],
    ["/%68ealth", false], // Fastify decodes it to /health, Express and Koa do not
    ["/HEALTH", false], // Express and Koa would route it to /health, Fastify would not
    ["/health;x", false],
    ["http://example.com/health", false], // absolute-form
    ["/health%2F", false],
    ["/healthz", false],
    ["/healthz-admin/delete", false],
    ["/health/x", false],
    ["/x/health", false],
    ["/Health", false],
    // traversal
    ["/health/../admin", false],
    ["/health/%2e%2e/admin", false],
    ["/status/%2e%2e/admin", false],
    ["/status/db/../../admin", false],
    ["/admin/delete/../../health", false], // resolves to /health, but a router sees /admin/delete/...
    ["/admin/%2e%2e/health", false],
    ["/x/./../health", false],
    ["/health/.", false],
    // single-segment star
    ["/status/db", true],
    ["/status/db/", false],
    ["/status/.hidden", true],
    ["/status", false],
    ["/status/", false],
    ["/status/a/b", false],
    ["/statusx/a", false],
    ["/status/a%2Fb", false], // an escaped ASCII character: routers disagree on decoding it
    ["/status/x%2F..%2F..%2Fadmin", false],
    ["/status/%C3%A9", true], // escaped non-ASCII bytes are the only way to send them
    ["/status/%c3%a9", false], // lower case: not the form routers are given
    ["/status/%C3", false], // not UTF-8
    ["/status/a b", false],
    // globstar
    ["/api", true],
    ["/api/", true], // a trailing slash is under a /** pattern (a mount), never an exact path
    ["/api/v1/", true],
    ["/api//", false],
    ["/api/v1", true],
    ["/api/v1/users/7", true],
    ["/apix", false],
    ["/apix/v1", false],
    ["/api/../admin", false],
    ["/api/v1/../../admin", false],
    ["/api/%2e%2e/admin", false],
    // star inside a segment, ?, braces
    ["/assets/site.css", true],
    ["/assets/.css", true],
    ["/assets/site.css.map", false],
    ["/assets/css/site.css", false],
    ["/v1/ping", true],
    ["/v12/ping", false],
    ["/v/ping", false],
    ["/readyz", true],
    ["/livez", true],
    ["/deadz", false],
    // unreadable paths never match an allow list
    ["/health%zz", false],
    ["/health\\", false],
    ["/status/a\\..\\..\\admin", false],
    ["health", false],
    ["", false],
  ];

  it.each(cases)("%j → %s", (path, expected) => {
    expect(match(path)).toBe(expected);
  });

  it("matches nothing when given something other than a string", () => {
    expect(match(undefined as unknown as string)).toBe(false);
    expect(match(null as unknown as string)).toBe(false);
  });

  it("an empty list matches nothing", () => {
    const none = compilePathMatcher([], "allow.paths");
    expect(none("/")).toBe(false);
    expect(none("/health")).toBe(false);
  });

  it("the root pattern matches only the root", () => {
    const root = compilePathMatcher(["/"], "allow.paths");
    expect(root("/")).toBe(true);
    expect(root("//")).toBe(false);
    expect(root("/?x=1")).toBe(true);
    expect(root("/x")).toBe(false);
    expect(root("/x/..")).toBe(false);
  });

  it("normalises patterns (trailing and duplicate slashes, percent-escapes); requests are read literally", () => {
    const m = compilePathMatcher(["/health/", "//a//b", "/caf%C3%A9", "/a%2Fb", "/status/*/"], "allow.paths");
    expect(m("/health")).toBe(true);
    expect(m("/health/")).toBe(false);
    expect(m("/a/b")).toBe(true);
    expect(m("//a//b")).toBe(false);
    expect(m("/caf%C3%A9")).toBe(true);
    expect(m("/caf%c3%a9")).toBe(false);
    expect(m("/a%2Fb")).toBe(false); // the pattern's %2F stays one segment; a request may not escape ASCII
    expect(m("/a/b/c")).toBe(false);
    expect(m("/status/x")).toBe(true);
  });

  it("** matches zero or more whole segments anywhere", () => {
    const m = compilePathMatcher(["/**/metrics", "/a/**/z", "/**"], "features.x");
    expect(compilePathMatcher(["/**/metrics"], "p")("/metrics")).toBe(true);
    expect(compilePathMatcher(["/**/metrics"], "p")("/a/b/metrics")).toBe(true);
    expect(compilePathMatcher(["/**/metrics"], "p")("/a/b/metricsx")).toBe(false);
    expect(compilePathMatcher(["/a/**/z"], "p")("/a/z")).toBe(true);
    expect(compilePathMatcher(["/a/**/z"], "p")("/a/b/c/z")).toBe(true);
    expect(compilePathMatcher(["/a/**/z"], "p")("/a/b/c/z/d")).toBe(false);
    expect(m("/")).toBe(true);
    expect(m("/anything/at/all")).toBe(true);
    expect(m("/x/../y")).toBe(false); // dot segments are never allowed
  });

  it("** is zero or more segments even where picomatch disagrees (leading /**/, /*/** after a star)", () => {
    expect(picomatch("/**/metrics", { dot: true, windows: false })("/metrics")).toBe(false);
    expect(picomatch("/a/*/**", { dot: true, windows: false })("/a/b")).toBe(false);
    expect(compilePathMatcher(["/**/metrics"], "p")("/metrics")).toBe(true);
    expect(compilePathMatcher(["/a/*/**"], "p")("/a/b")).toBe(true);
    expect(compilePathMatcher(["/a/*/**"], "p")("/a")).toBe(false);
  });

  it("agrees with picomatch { dot: true } on the syntax it supports", () => {
    const patterns = [
      "/health", "/status/*", "/api/**", "/a/**/b", "/a/*/c", "/a/*.json", "/a/*-*-*.css", "/a/b*",
      "/a/*b*c", "/v?/x", "/a/??", "/{a,b}/c", "/a/{x,y/z}", "/a/{b,{c,d}}e", "/a/**b", "/a/b**", "/*", "/a/**/*", "/a/**/*/c",
      "/files/*.tar.gz", "/a+b/*", "/a@b/*", "/$x/*",
    ];
    const paths = [
      "/", "/health", "/healthz", "/status", "/status/db", "/status/a/b", "/api", "/api/x", "/api/x/y", "/apix",
      "/a", "/a/b", "/a/x/b", "/a/x/y/b", "/a/b/c", "/a/x/c", "/a/.x/c", "/a/x.json", "/a/.json", "/a/x.json/y",
      "/a/1-2-3.css", "/a/--.css", "/a/---.css", "/a/a-b.css", "/a/bc", "/a/bxc", "/a/xbyc", "/a/bc/d",
      "/v1/x", "/v12/x", "/a/xy", "/a/x", "/b/c", "/c/c", "/a/x", "/a/y/z", "/a/be", "/a/ce", "/a/de", "/a/xe",
      "/a/xb", "/a/b/x", "/x", "/files/a.tar.gz", "/files/a.tgz", "/a+b/x", "/aab/x", "/a@b/x", "/$x/y", "/.x",
      "/a/b/.c", "/a/x/y",
    ];
    const disagreements: string[] = [];
    for (const pattern of patterns) {
      const ours = compilePathMatcher([pattern], "allow.paths");
      const theirs = picomatch(pattern, { dot: true, windows: false });
      for (const path of paths) if (ours(path) !== theirs(path)) disagreements.push(`${pattern} ${path} ours=${ours(path)}`);
    }
    expect(disagreements).toEqual([]);
  });

  it("matches in linear time: no pattern makes a request slow (picomatch takes seconds on these)", () => {
    const m = compilePathMatcher(["/a/*-*-*-*.css", "/*a*a*a*a*a*b", "/**/x/**/y/**/z/**/w"], "allow.paths");
    const long = [
      "/a/" + "-".repeat(8000),
      "/" + "a".repeat(8000),
      "/x/y/z" + "/x".repeat(4000),
    ];
    const start = performance.now();
    for (const path of long) expect(m(path)).toBe(false);
    expect(performance.now() - start).toBeLessThan(250);
  });

  describe("invalid patterns", () => {
    const invalid: [unknown[], RegExp][] = [
      [["/ok", "/ok2", "health"], /^allow\.paths\[2\]: "health" must start with "\/"$/],
      [[""], /^allow\.paths\[0\]: must not be empty$/],
      [["/ok", 7], /^allow\.paths\[1\]: must be a string, got number$/],
      [[null], /^allow\.paths\[0\]: must be a string, got null$/],
      [["*"], /^allow\.paths\[0\]: "\*" must start with "\/"$/],
      [["**/x"], /must start with "\/"/],
      [["!/admin"], /must start with "\/"/],
      [["/a/[abc]"], /^allow\.paths\[0\]: "\/a\/\[abc\]" contains "\["/],
      [["/a/+(b)"], /contains "\("/],
      [["/a\\*"], /contains "\\"/],
      [["/a#b"], /contains "#"/],
      [["/a\nb"], /control character/],
      [["/a/{b,c"], /"{" without a "}"/],
      [["/a/b}"], /"}" without a "{"/],
      [["/a/{b}"], /no "," between alternatives/],
      [["/a/{1..3}"], /brace ranges/],
      [["/a/../b"], /must not contain "\." or "\.\." segments/],
      [["/a/./b"], /must not contain "\." or "\.\." segments/],
      [["/a/%2e%2e/b"], /must not contain "\." or "\.\." segments/],
      [["/a/%zz"], /malformed percent-escape/],
      [["/a/%2A"], /encodes "\*"/],
      [["/" + "{a,b}".repeat(9)], /expands to more than 256 paths/],
    ];
    it.each(invalid)("%j", (patterns, message) => {
      let error: unknown;
      try {
        compilePathMatcher(patterns as string[], "allow.paths");
      } catch (e) {
        error = e;
      }
      expect(error).toBeInstanceOf(OptionsError);
      expect((error as Error).message).toMatch(message);
      expect((error as OptionsError).code).toBe("DETOUR_INVALID_OPTION");
    });

    it("refuses a list that is not an array, naming the option", () => {
      expect(() => compilePathMatcher("/health" as unknown as string[], "allow.paths")).toThrow(/^allow\.paths: must be an array/);
    });

    it("refuses an unknown mode", () => {
      expect(() => compilePathMatcher(["/x"], "allow.paths", { mode: "block" as "allow" })).toThrow(OptionsError);
    });
  });
});

describe('compilePathMatcher (mode: "guard", feature paths)', () => {
  const billing = compilePathMatcher(["/billing/**", "/api/invoices/*"], "features.billing", { mode: "guard" });

  const cases: [string, boolean][] = [
    ["/billing", true],
    ["/billing/pay", true],
    ["/billing/pay?x=1", true],
    ["/api/invoices/7", true],
    ["/api/invoices", false],
    ["/api/invoices/7/pdf", false],
    ["/shop", false],
    ["/billingx", false],
    // any reading that lands in the feature counts
    ["/BILLING/pay", true], // Express and Koa route case-insensitively
    ["/Api/Invoices/7", true],
    ["/billing/a%2Fb", true],
    ["/billing/%zz", true], // unreadable: counts as matching
    ["/billing/a\\b", true],
    ["http://example.com/billing/pay", true], // absolute-form: routers route its path
    ["HTTP://example.com/billing", true],
    ["https://x@example.com:8443/BILLING/pay?x", true],
    ["http:/billing/pay", true], // url.parse reads the path after a single slash too
    ["http://example.com", false], // its path is /
    ["http://example.com/shop", false],
    ["/billing/../shop", true], // a router that does not resolve ".." routes it under /billing
    ["/shop/../billing/pay", true], // one that does, under /billing
    ["/api/invoices/%2e%2e", true], // routed: /api/invoices/<..>; resolved: /api
    ["/api/invoices/%2e%2e/x", false], // four segments however it is read
    ["/shop/../shop", false],
    ["/shop/%zz", true], // unreadable: fail closed
    ["/shop\\x", true],
    ["shop", true], // no path at all: fail closed
    ["*", true],
  ];

  it.each(cases)("%j → %s", (path, expected) => {
    expect(billing(path)).toBe(expected);
  });

  it("exact feature paths fold case too", () => {
    const m = compilePathMatcher(["/Admin"], "features.admin", { mode: "guard" });
    expect(m("/admin")).toBe(true);
    expect(m("/ADMIN/")).toBe(true);
    expect(m("/admins")).toBe(false);
  });

  it("an allow list does not fold case", () => {
    const m = compilePathMatcher(["/billing/**"], "allow.paths");
    expect(m("/BILLING/pay")).toBe(false);
    expect(m("/billing/pay")).toBe(true);
  });
});
