import { describe, expect, it } from "vitest";
import { allowReading, decodedReadings, readRequestPaths, targetPath } from "../../src/bypass/index.js";

describe("targetPath", () => {
  const cases: [string, string | null][] = [
    ["/billing/charge", "/billing/charge"],
    ["/billing?x=1#f", "/billing"],
    ["//billing", "//billing"],
    // absolute-form (RFC 9112 §3.2.2): routers route its path, as Node's url.parse reads it
    ["http://anything/billing/charge", "/billing/charge"],
    ["HTTP://anything/billing/charge", "/billing/charge"],
    ["https://user:pw@anything:8443/billing?x=1", "/billing"],
    ["git+ssh://host/x", "/x"],
    ["http://anything", "/"],
    ["http://anything?x=/billing", "/"],
    ["http:/billing", "/billing"],
    // no path Detour can read
    ["*", null],
    ["billing", null],
    ["http:billing", null],
    ["", null],
    ["http://host\\billing", null],
    ["/a\\b", null],
  ];
  it.each(cases)("%j → %j", (target, expected) => {
    expect(targetPath(target)).toBe(expected);
  });
});

describe("readRequestPaths", () => {
  it("a plain path is its own single reading", () => {
    expect(readRequestPaths("/billing/x")).toEqual({ primary: "/billing/x", paths: ["/billing/x"], unreadable: false });
    expect(readRequestPaths("/billing/x", "/billing/x")).toEqual({ primary: "/billing/x", paths: ["/billing/x"], unreadable: false });
  });

  it("adds the part before ; (Fastify) and each segment before ; (matrix parameters)", () => {
    expect(readRequestPaths("/billing;x/charge;y=1").paths).toEqual(["/billing;x/charge;y=1", "/billing", "/billing/charge"]);
    expect(readRequestPaths("/;x").paths).toEqual(["/;x", "/"]);
  });

  it("reads both URLs when a rewrite changed one", () => {
    expect(readRequestPaths("/v2/billing/x", "/billing/x")).toEqual({ primary: "/v2/billing/x", paths: ["/v2/billing/x", "/billing/x"], unreadable: false });
  });

  it("is unreadable when a target has no path, a malformed escape or a control character", () => {
    expect(readRequestPaths("*")).toMatchObject({ primary: "*", paths: [], unreadable: true });
    expect(readRequestPaths("/x/%zz").unreadable).toBe(true);
    expect(readRequestPaths("/x", "/a%").unreadable).toBe(true);
    expect(readRequestPaths("http://h/billing")).toMatchObject({ primary: "/billing", unreadable: false });
  });
});

describe("decodedReadings", () => {
  it("adds the normal form and the decoded, unresolved segments", () => {
    expect(decodedReadings(["/%61dmin"])).toEqual(["/%61dmin", "/admin"]);
    expect(decodedReadings(["/x/../admin"])).toEqual(["/x/../admin", "/admin"]);
    expect(decodedReadings(["/a//b/"])).toEqual(["/a//b/", "/a/b"]);
    expect(decodedReadings(["/plain"])).toEqual(["/plain"]);
  });
});

describe("allowReading", () => {
  const cases: [string, string | null][] = [
    ["/health", "/health"],
    ["/health?x=1", "/health"],
    ["/", "/"],
    ["/_detour/", "/_detour/"], // one trailing slash kept, for /** patterns to take
    ["/caf%C3%A9", "/café"],
    ["//health", null],
    ["/health//", null],
    ["/%68ealth", null],
    ["/caf%c3%a9", null],
    ["/a%2Fb", null],
    ["/%C3", null],
    ["/a/./b", null],
    ["/a/../b", null],
    ["/a b", null],
    ["/a\\b", null],
    ["/é", null],
    ["http://h/health", null],
    ["health", null],
  ];
  it.each(cases)("%j → %j", (target, expected) => {
    expect(allowReading(target)).toBe(expected);
  });
});
