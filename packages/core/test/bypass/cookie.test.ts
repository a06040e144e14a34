import { createHash, createHmac } from "node:crypto";
import { describe, expect, it } from "vitest";
import { OptionsError } from "../../src/errors.js";
import {
  BYPASS_COOKIE,
  compileSecretPathMatcher,
  issueBypassCookie,
  readCookies,
  verifyBypassCookie,
} from "../../src/bypass/index.js";

/** The first value of a cookie (what the policy reads). */
const readCookie = (header: string | readonly string[] | null | undefined, name: string) => readCookies(header, name)[0];

/** Whether `path` is the secret URL, a secret path that cannot be compiled matching nothing. */
function matchesSecretPath(path: string, secretPath: string): boolean {
  try {
    return compileSecretPathMatcher(secretPath)(path);
  } catch {
    return false;
  }
}

const secret = "correct-horse-battery-staple";
const period = "site@3@2026-12-01T02:00:00Z";
const periods = [period];
/** A period's tag in the payload: the first 16 bytes of its SHA-256, base64url. */
const tagOf = (p: string) => createHash("sha256").update(p).digest("base64url").slice(0, 22);
const NOW = Date.parse("2026-12-01T02:15:00Z");
const TTL = 3600;

function issue(overrides: Partial<Parameters<typeof issueBypassCookie>[0]> = {}): string {
  return issueBypassCookie({ secret, periods, now: NOW, ttlSeconds: TTL, secure: true, ...overrides });
}

/** `name=value` from a Set-Cookie header value. */
function pair(setCookie: string): string {
  return setCookie.split(";")[0]!;
}

function value(setCookie: string): string {
  return pair(setCookie).slice(pair(setCookie).indexOf("=") + 1);
}

function verify(header: unknown, overrides: Partial<Parameters<typeof verifyBypassCookie>[1]> = {}): boolean {
  return verifyBypassCookie(header as string, { secret, periods, now: NOW, ...overrides });
}

const B64URL = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

describe("issueBypassCookie", () => {
  it("sets detour_bypass with HttpOnly, SameSite=Lax, Path, Expires, Max-Age and Secure", () => {
    const cookie = issue();
    const [first, ...attributes] = cookie.split("; ");
    expect(first).toMatch(/^detour_bypass=[A-Za-z0-9_-]+\.[A-Za-z0-9_-]{43}$/);
    expect(attributes).toEqual([
      "HttpOnly",
      "SameSite=Lax",
      "Path=/",
      "Expires=Tue, 01 Dec 2026 03:15:00 GMT",
      "Max-Age=3600",
      "Secure",
    ]);
    expect(BYPASS_COOKIE).toBe("detour_bypass");
  });

  it("leaves Secure out when the request is not secure", () => {
    expect(issue({ secure: false })).not.toMatch(/Secure/);
  });

  it("takes a custom name and path", () => {
    const cookie = issue({ name: "let_me_in", path: "/app" });
    expect(cookie).toMatch(/^let_me_in=/);
    expect(cookie).toContain("; Path=/app;");
    expect(verify(pair(cookie), { name: "let_me_in" })).toBe(true);
    expect(verify(pair(cookie))).toBe(false); // looked for under the default name
  });

  it("defaults to 12 hours, rounds fractions down (1 s at least) and caps at 400 days", () => {
    expect(issueBypassCookie({ secret, periods, now: NOW, secure: false })).toContain("Max-Age=43200");
    expect(issue({ ttlSeconds: 90.9 })).toContain("Max-Age=90");
    expect(issue({ ttlSeconds: 0.5 })).toContain("Max-Age=1");
    expect(issue({ ttlSeconds: 10 * 365 * 86400 })).toContain(`Max-Age=${400 * 86400}`);
  });

  it("accepts a Date for now", () => {
    expect(issue({ now: new Date(NOW) })).toBe(issue());
  });

  it("binds expiry and periods into the payload and signs it with a key derived from the secret", () => {
    const v = value(issue());
    const [payload, mac] = v.split(".") as [string, string];
    const expires = Math.floor(NOW / 1000) + TTL;
    expect(Buffer.from(payload, "base64url").toString()).toBe(`2.${expires}.${tagOf(period)}`);
    const two = value(issue({ periods: ["billing@1@", period, period] }));
    expect(Buffer.from(two.split(".")[0]!, "base64url").toString()).toBe(`2.${expires}.${[tagOf("billing@1@"), tagOf(period)].sort().join("~")}`);
    const key = createHmac("sha256", secret).update("detour-bypass-cookie-v1").digest();
    expect(mac).toBe(createHmac("sha256", key).update(payload).digest("base64url"));
    // The URL secret itself is not the MAC key.
    expect(mac).not.toBe(createHmac("sha256", secret).update(payload).digest("base64url"));
  });

  it("refuses bad arguments with OptionsError", () => {
    expect(() => issue({ secret: "" })).toThrow(OptionsError);
    expect(() => issue({ secret: undefined as unknown as string })).toThrow(/allow\.secret/);
    expect(() => issue({ periods: undefined as unknown as string[] })).toThrow(/periods/);
    expect(() => issue({ periods: "site" as unknown as string[] })).toThrow(/periods/);
    expect(() => issue({ periods: [5 as unknown as string] })).toThrow(/periods/);
    expect(() => issue({ now: Number.NaN })).toThrow(/now/);
    expect(() => issue({ now: new Date("nope") })).toThrow(/now/);
    expect(() => issue({ ttlSeconds: 0 })).toThrow(/ttlSeconds/);
    expect(() => issue({ ttlSeconds: -5 })).toThrow(/ttlSeconds/);
    expect(() => issue({ ttlSeconds: Number.NaN })).toThrow(/ttlSeconds/);
    expect(() => issue({ name: "a b" })).toThrow(/cookie name/);
    expect(() => issue({ name: "a;b" })).toThrow(/cookie name/);
    expect(() => issue({ path: "app" })).toThrow(/cookie path/);
    expect(() => issue({ path: "/a;Domain=evil.example" })).toThrow(/cookie path/);
  });

  it("accepts an empty period (it is a period like any other)", () => {
    const cookie = issue({ periods: [""] });
    expect(verify(pair(cookie), { periods: [""] })).toBe(true);
    expect(verify(pair(cookie), { periods })).toBe(false);
  });

  it("opens exactly the periods it was issued for: each one, any subset, never another", () => {
    const header = pair(issue({ periods: ["site@3@", "billing@7@"] }));
    expect(verify(header, { periods: ["site@3@"] })).toBe(true);
    expect(verify(header, { periods: ["billing@7@"] })).toBe(true);
    expect(verify(header, { periods: ["billing@7@", "site@3@"] })).toBe(true);
    expect(verify(header, { periods: [] })).toBe(true);
    // A flag that went down after the cookie was issued is not opened by it.
    expect(verify(header, { periods: ["site@3@", "reports@1@"] })).toBe(false);
    expect(verify(header, { periods: ["billing@8@"] })).toBe(false);
  });
});

describe("verifyBypassCookie", () => {
  it("round trip: a fresh cookie verifies", () => {
    expect(verify(pair(issue()))).toBe(true);
  });

  it("a cookie issued without Secure verifies the same", () => {
    expect(verify(pair(issue({ secure: false })))).toBe(true);
  });

  it("rejects every single-character change of the payload and of the MAC", () => {
    const v = value(issue());
    const dot = v.indexOf(".");
    let tried = 0;
    for (let i = 0; i < v.length; i++) {
      if (i === dot) continue;
      for (const replacement of [B64URL[(B64URL.indexOf(v[i]!) + 1) % 64]!, B64URL[(B64URL.indexOf(v[i]!) + 32) % 64]!]) {
        const tampered = v.slice(0, i) + replacement + v.slice(i + 1);
        expect(verify(`${BYPASS_COOKIE}=${tampered}`), `position ${i} (${i < dot ? "payload" : "MAC"})`).toBe(false);
        tried++;
      }
    }
    expect(tried).toBe(2 * (v.length - 1));
  });

  it("rejects a payload re-encoded with a later expiry under the old MAC", () => {
    const v = value(issue());
    const [payload, mac] = v.split(".") as [string, string];
    const [version, expires, tag] = Buffer.from(payload, "base64url").toString().split(".");
    const forged = Buffer.from(`${version}.${Number(expires) + 86400 * 365}.${tag}`).toString("base64url");
    expect(verify(`${BYPASS_COOKIE}=${forged}.${mac}`)).toBe(false);
  });

  it("rejects a cookie signed with the raw secret as key", () => {
    const expires = Math.floor(NOW / 1000) + TTL;
    const payload = Buffer.from(`2.${expires}.${tagOf(period)}`).toString("base64url");
    const mac = createHmac("sha256", secret).update(payload).digest("base64url");
    expect(verify(`${BYPASS_COOKIE}=${payload}.${mac}`)).toBe(false);
  });

  it("rejects a cookie signed with another secret", () => {
    expect(verify(pair(issue({ secret: "another-secret-entirely" })))).toBe(false);
  });

  it("expires: valid until the last millisecond, not at or after the expiry", () => {
    const header = pair(issue());
    const expiry = (Math.floor(NOW / 1000) + TTL) * 1000;
    expect(verify(header, { now: NOW + 1000 })).toBe(true);
    expect(verify(header, { now: expiry - 1 })).toBe(true);
    expect(verify(header, { now: expiry })).toBe(false);
    expect(verify(header, { now: expiry + 86_400_000 })).toBe(false);
    expect(verify(header, { now: new Date(expiry - 1) })).toBe(true);
  });

  it("is worthless in another maintenance period (replay)", () => {
    const header = pair(issue());
    expect(verify(header, { periods: ["site@3@2026-12-08T02:00:00Z"] })).toBe(false);
    expect(verify(header, { periods: ["site@4@2026-12-01T02:00:00Z"] })).toBe(false);
    expect(verify(header, { periods: [`${period} `] })).toBe(false);
    expect(verify(header, { periods })).toBe(true);
  });

  it("finds the cookie among others, with or without spaces, quoted, in several headers", () => {
    const v = value(issue());
    const headers: unknown[] = [
      `${BYPASS_COOKIE}=${v}`,
      `a=b; ${BYPASS_COOKIE}=${v}; c=d`,
      `a=b;${BYPASS_COOKIE}=${v};c=d`,
      `  a=b ;   ${BYPASS_COOKIE} =  ${v}  ; c=d`,
      `${BYPASS_COOKIE}="${v}"`,
      `;;a;=;${BYPASS_COOKIE}=${v};;`,
      `${BYPASS_COOKIE}=junk; ${BYPASS_COOKIE}=${v}`, // a planted cookie first does not hide the real one
      ["a=b", `${BYPASS_COOKIE}=${v}`],
    ];
    for (const header of headers) expect(verify(header), JSON.stringify(header)).toBe(true);
  });

  it("does not take a cookie whose name merely contains the name", () => {
    const v = value(issue());
    expect(verify(`x${BYPASS_COOKIE}=${v}`)).toBe(false);
    expect(verify(`${BYPASS_COOKIE}x=${v}`)).toBe(false);
    expect(verify(`a=${BYPASS_COOKIE}=${v}`)).toBe(false);
  });

  it("returns false, never throws, on garbage", () => {
    const v = value(issue());
    const [payload, mac] = v.split(".") as [string, string];
    const garbage: unknown[] = [
      undefined, null, "", ";", ";;;", "=", "==", BYPASS_COOKIE, `${BYPASS_COOKIE}=`, `${BYPASS_COOKIE}=.`,
      `${BYPASS_COOKIE}=a.b`, `${BYPASS_COOKIE}="`, `${BYPASS_COOKIE}=""`, `${BYPASS_COOKIE}=${v}x`,
      `${BYPASS_COOKIE}=${v}.`, `${BYPASS_COOKIE}=.${v}`, `${BYPASS_COOKIE}=${payload}`, `${BYPASS_COOKIE}=${mac}`,
      `${BYPASS_COOKIE}=${payload}..${mac}`, `${BYPASS_COOKIE}=${payload}=.${mac}`, `${BYPASS_COOKIE}=${payload}.${mac}=`,
      `${BYPASS_COOKIE}=${payload.replace(/^./, "+")}.${mac}`, `${BYPASS_COOKIE}=${mac}.${payload}`,
      `${BYPASS_COOKIE}=${"A".repeat(100_000)}.${mac}`, `${BYPASS_COOKIE}=${"é".repeat(50)}.${"€".repeat(43)}`,
      `${BYPASS_COOKIE}=\u0000\u0001.\uFFFF`, "x".repeat(100_000), 42, {}, [42, null], [],
      `${BYPASS_COOKIE}=${Buffer.from("1.99999999999.x").toString("base64url")}.${mac}`,
    ];
    for (const header of garbage) expect(() => verify(header), JSON.stringify(header)?.slice(0, 80)).not.toThrow();
    for (const header of garbage) expect(verify(header), JSON.stringify(header)?.slice(0, 80)).toBe(false);
  });

  it("a validly signed payload that is not ours is refused", () => {
    const key = createHmac("sha256", secret).update("detour-bypass-cookie-v1").digest();
    const tag = tagOf(period);
    const expires = Math.floor(NOW / 1000) + TTL;
    const sign = (text: string) => {
      const payload = Buffer.from(text).toString("base64url");
      return `${BYPASS_COOKIE}=${payload}.${createHmac("sha256", key).update(payload).digest("base64url")}`;
    };
    expect(verify(sign(`2.${expires}.${tag}`))).toBe(true); // the construction, for reference
    expect(verify(sign(`1.${expires}.${tag}`))).toBe(false); // the version before periods were listed
    expect(verify(sign(`3.${expires}.${tag}`))).toBe(false); // unknown version
    expect(verify(sign(`2.${expires}.${tag}.x`))).toBe(false);
    expect(verify(sign(`2.${expires}e3.${tag}`))).toBe(false);
    expect(verify(sign(`2.-${expires}.${tag}`))).toBe(false);
    expect(verify(sign(`2..${tag}`))).toBe(false);
  });

  it("throws only on programming errors", () => {
    expect(() => verify("a=b", { secret: "" })).toThrow(OptionsError);
    expect(() => verify("a=b", { now: Number.NaN })).toThrow(OptionsError);
    expect(() => verify("a=b", { periods: 5 as unknown as string[] })).toThrow(OptionsError);
  });
});

describe("readCookie / readCookies", () => {
  it("reads values by exact name, in order, unquoting", () => {
    const header = 'a=1; b="2"; a=3; c; =4; d=5=6';
    expect(readCookies(header, "a")).toEqual(["1", "3"]);
    expect(readCookie(header, "a")).toBe("1");
    expect(readCookie(header, "b")).toBe("2");
    expect(readCookie(header, "c")).toBeUndefined();
    expect(readCookie(header, "d")).toBe("5=6");
    expect(readCookie(header, "")).toBe("4");
    expect(readCookie(header, "x")).toBeUndefined();
    expect(readCookies(["a=1", "a=2; b=3"], "a")).toEqual(["1", "2"]);
    expect(readCookies(undefined, "a")).toEqual([]);
  });

  it("finds nothing in a header without the name, or with it only inside other names or values", () => {
    expect(readCookies("sid=s%3A8f1c; theme=dark", "detour_bypass")).toEqual([]);
    expect(readCookies("xdetour_bypass=1; detour_bypassx=2; a=detour_bypass", "detour_bypass")).toEqual([]);
    expect(readCookies("xdetour_bypass=1;  detour_bypass =2", "detour_bypass")).toEqual(["2"]);
  });
});

describe("the secret URL", () => {
  const SECRET_PATH = "/correct-horse-battery-staple";

  const cases: [string, boolean][] = [
    [SECRET_PATH, true],
    [`${SECRET_PATH}/`, true],
    [`/${SECRET_PATH}`, true],
    [`${SECRET_PATH}?next=/admin`, true],
    ["/%63orrect-horse-battery-staple", true],
    ["/x/..//correct-horse-battery-staple", true], // no bypass: it answers with a cookie and a redirect to /
    ["/Correct-horse-battery-staple", false],
    [`${SECRET_PATH}x`, false],
    [`${SECRET_PATH}/x`, false],
    ["/correct-horse-battery-stapl", false],
    ["/correct-horse", false],
    ["/", false],
    ["", false],
    ["/%zz", false],
  ];

  it.each(cases)("matchesSecretPath(%j) → %s", (path, expected) => {
    expect(matchesSecretPath(path, SECRET_PATH)).toBe(expected);
    expect(compileSecretPathMatcher(SECRET_PATH)(path)).toBe(expected);
  });

  it("takes a bare secret as /<secret>", () => {
    expect(matchesSecretPath("/correct-horse-battery-staple", "correct-horse-battery-staple")).toBe(true);
    expect(matchesSecretPath("/other", "correct-horse-battery-staple")).toBe(false);
  });

  it("compares encoded secret paths in normal form", () => {
    const odd = "s3cr3t with space/and slash";
    const path = `/${encodeURIComponent(odd)}`; // how the engine builds it
    expect(matchesSecretPath("/s3cr3t%20with%20space%2Fand%20slash", path)).toBe(true);
    expect(matchesSecretPath("/s3cr3t%20with%20space%2fand%20slash", path)).toBe(true);
    expect(matchesSecretPath("/s3cr3t with space%2Fand slash", path)).toBe(true);
    expect(matchesSecretPath("/s3cr3t%20with%20space/and%20slash", path)).toBe(false);
  });

  it("a secret path that normalises to / never matches, and cannot be compiled", () => {
    for (const bad of ["", "/", "//", "/.", "/x/..", "/%zz"]) {
      expect(matchesSecretPath("/", bad)).toBe(false);
      expect(matchesSecretPath(bad, bad)).toBe(false);
      expect(() => compileSecretPathMatcher(bad)).toThrow(/^allow\.secret\.path: /);
    }
  });

  it("handles non-string input without throwing", () => {
    expect(matchesSecretPath(undefined as unknown as string, SECRET_PATH)).toBe(false);
    expect(matchesSecretPath(SECRET_PATH, undefined as unknown as string)).toBe(false);
  });
});
