import { beforeEach, describe, expect, it, vi } from "vitest";

// Spy on timingSafeEqual: secrets must be compared with it, on equal-length buffers.
vi.mock("node:crypto", async (importOriginal) => {
  const crypto = await importOriginal<typeof import("node:crypto")>();
  return { ...crypto, timingSafeEqual: vi.fn(crypto.timingSafeEqual) };
});

const { timingSafeEqual } = await import("node:crypto");
const { issueBypassCookie, compileSecretPathMatcher, tokenMatcher, verifyBypassCookie } = await import(
  "../../src/bypass/index.js"
);
const spy = vi.mocked(timingSafeEqual);

function calls(): [number, number][] {
  return spy.mock.calls.map(([a, b]) => [(a as Buffer).length, (b as Buffer).length]);
}

describe("secrets are compared in constant time", () => {
  beforeEach(() => {
    spy.mockClear();
  });

  it("the cookie MAC", () => {
    const options = { secret: "a-secret-of-some-length", periods: ["p1"], now: 1_000_000 };
    const cookie = issueBypassCookie({ ...options, ttlSeconds: 60, secure: false }).split(";")[0]!;
    spy.mockClear();
    expect(verifyBypassCookie(cookie, options)).toBe(true);
    expect(calls()).toEqual([[43, 43]]);
    spy.mockClear();
    expect(verifyBypassCookie(cookie.slice(0, -1) + (cookie.endsWith("A") ? "B" : "A"), options)).toBe(false);
    expect(calls()).toEqual([[43, 43]]);
  });

  it("the header token, whatever the candidate's length, against every token", () => {
    const match = tokenMatcher(["short", "a-much-longer-token-value"]);
    expect(match("x")).toBe(false);
    expect(calls()).toEqual([[32, 32], [32, 32]]);
    spy.mockClear();
    expect(match("short")).toBe(true); // no early exit on the first hit
    expect(calls()).toEqual([[32, 32], [32, 32]]);
  });

  it("the secret path, whatever the request path's length", () => {
    const matches = compileSecretPathMatcher("/the-secret-path-value");
    expect(matches("/x")).toBe(false); // another length: refused before hashing (the secret URL's length is no secret)
    expect(matches("/the-secret-path-value")).toBe(true);
    expect(matches("/the-secret-path-valuX")).toBe(false);
    expect(calls()).toEqual([[32, 32], [32, 32]]);
  });
});
