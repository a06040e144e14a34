import { describe, expect, test, vi } from "vitest";
import { type PageView, type Renderer, escapeHtml, respond } from "../../src/respond/index.js";
import { NOW, XSS, blocked, now } from "./fixtures.js";

const GET = (accept?: string) => ({ method: "GET", accept });
const UNTIL = new Date(NOW + 45 * 60_000); // 2026-12-01T03:00:00Z

const header = (response: { headers: Readonly<Record<string, unknown>> }, name: string) =>
  Object.entries(response.headers).find(([key]) => key.toLowerCase() === name.toLowerCase())?.[1];

describe("headers", () => {
  const common = {
    "Cache-Control": "no-store",
    "Detour-Mode": "maintenance",
    Vary: "Accept",
    "Retry-After": "600",
    "X-Content-Type-Options": "nosniff",
  };

  test.each([
    ["text/html", "text/html; charset=utf-8"],
    ["application/problem+json", "application/problem+json; charset=utf-8"],
    ["application/json", "application/json; charset=utf-8"],
    ["text/plain", "text/plain; charset=utf-8"],
  ])("Accept: %s", (accept, contentType) => {
    const response = respond(blocked({ retryAfter: 600 }), GET(accept), { now });
    expect(response.status).toBe(503);
    const csp = accept === "text/html" ? { "Content-Security-Policy": expect.stringContaining("default-src 'none'") } : {};
    expect(response.headers).toEqual({
      ...common,
      ...csp,
      "Content-Type": contentType,
      "Content-Length": String(Buffer.byteLength(response.body ?? "", "utf8")),
    });
  });

  test("Content-Length counts UTF-8 bytes, not UTF-16 units", () => {
    const response = respond(blocked({ message: "Mise à jour — café ☕ 🚧" }), GET("text/plain"), { now });
    const body = response.body ?? "";
    expect(body.length).not.toBe(Buffer.byteLength(body));
    expect(header(response, "Content-Length")).toBe(String(Buffer.byteLength(body)));
  });

  test("Detour-Mode carries the mode", () => {
    expect(header(respond(blocked({ mode: "read-only", scope: "user" }), GET(), { now }), "Detour-Mode")).toBe("read-only");
  });

  test("status comes from the decision; unusable statuses become 503", () => {
    expect(respond(blocked({ status: 423 }), GET(), { now }).status).toBe(423);
    expect(respond(blocked({ status: 500 }), GET(), { now }).status).toBe(500);
    for (const status of [304, 204, 99, 600, 503.5, Number.NaN]) {
      expect(respond(blocked({ status }), GET(), { now }).status).toBe(503);
    }
  });

  test("a decision that is not a block is a programming error", () => {
    expect(() => respond(blocked({ action: "pass" }), GET(), { now })).toThrow(/blocked decision.*"pass"/);
  });
});

describe("Retry-After", () => {
  test("whole seconds from retryAfter, rounded up", () => {
    expect(header(respond(blocked({ retryAfter: 600 }), GET(), { now }), "Retry-After")).toBe("600");
    expect(header(respond(blocked({ retryAfter: 12.2 }), GET(), { now }), "Retry-After")).toBe("13");
    expect(header(respond(blocked({ retryAfter: -5 }), GET(), { now }), "Retry-After")).toBe("0");
  });

  test("an HTTP date when the end is known, even when retryAfter is set", () => {
    const response = respond(blocked({ retryAfter: 600, until: UNTIL }), GET(), { now });
    expect(header(response, "Retry-After")).toBe("Tue, 01 Dec 2026 03:00:00 GMT");
    expect(header(response, "Retry-After")).toBe(UNTIL.toUTCString());
  });

  test("absent when nothing is known", () => {
    expect(header(respond(blocked(), GET(), { now }), "Retry-After")).toBeUndefined();
    expect(header(respond(blocked({ until: new Date(Number.NaN) }), GET(), { now }), "Retry-After")).toBeUndefined();
  });

  test("bodies count down to the end with the clock", () => {
    const problem = (at: number) => JSON.parse(respond(blocked({ until: UNTIL }), GET("application/json"), { now: () => at }).body ?? "");
    expect(problem(NOW).retryAfter).toBe(2700);
    expect(problem(NOW + 2_699_500).retryAfter).toBe(1);
    expect(problem(NOW + 3_600_000).retryAfter).toBe(0);
  });
});

describe("HEAD", () => {
  test.each(["text/html", "application/json", "text/plain", undefined])("Accept: %s → the GET headers, no body", (accept) => {
    const decision = blocked({ retryAfter: 120, message: "Back soon — très bientôt" });
    const get = respond(decision, { method: "GET", accept }, { now });
    const head = respond(decision, { method: "HEAD", accept }, { now });
    expect(head.body).toBeNull();
    expect(head.status).toBe(get.status);
    expect(head.headers).toEqual(get.headers);
  });

  test("the method compares case-insensitively", () => {
    expect(respond(blocked(), { method: "head", accept: undefined }, { now }).body).toBeNull();
  });
});

describe("problem+json", () => {
  test("shape, with the flag's message as detail", () => {
    const response = respond(
      blocked({ mode: "read-only", scope: "feature", flag: "billing", message: "Invoices are read-only until 3am", retryAfter: 90 }),
      { method: "POST", accept: "application/problem+json" },
      { now },
    );
    expect(JSON.parse(response.body ?? "")).toStrictEqual({
      type: "https://detour.dev/problems/read-only",
      title: "Read-only mode",
      status: 503,
      detail: "Invoices are read-only until 3am",
      mode: "read-only",
      scope: "feature",
      retryAfter: 90,
    });
  });

  test("maintenance, default detail, null retryAfter, configured status", () => {
    const problem = JSON.parse(respond(blocked({ status: 500 }), GET("application/json"), { now }).body ?? "");
    expect(problem).toStrictEqual({
      type: "https://detour.dev/problems/maintenance",
      title: "Service under maintenance",
      status: 500,
      detail: expect.stringMatching(/maintenance/),
      mode: "maintenance",
      scope: "site",
      retryAfter: null,
    });
  });

  test("default details are worded for mode and scope", () => {
    const detail = (mode: "maintenance" | "read-only", scope: "site" | "feature" | "user") =>
      JSON.parse(respond(blocked({ mode, scope }), GET("application/json"), { now }).body ?? "").detail as string;
    expect(detail("maintenance", "feature")).toMatch(/this part of the service/i);
    expect(detail("maintenance", "user")).toMatch(/your account/i);
    expect(detail("read-only", "site")).toMatch(/read-only/);
    expect(detail("read-only", "user")).toMatch(/your account is in read-only mode/i);
    // a blank message is no message
    expect(JSON.parse(respond(blocked({ message: "  " }), GET("application/json"), { now }).body ?? "").detail).toMatch(/maintenance/);
  });
});

describe("plain text", () => {
  test("title, message and when to come back", () => {
    const body = respond(blocked({ message: "Upgrading the database", until: UNTIL }), GET("text/plain"), { now }).body;
    expect(body).toBe(
      "Service under maintenance\n\nUpgrading the database\n\nExpected back by 03:00 UTC, 1 December 2026 (in about 45 minutes).\n",
    );
  });

  test("retry delay without an end; unacceptable Accept falls back to text", () => {
    const response = respond(blocked({ mode: "read-only", retryAfter: 600 }), GET("image/png"), { now });
    expect(header(response, "Content-Type")).toBe("text/plain; charset=utf-8");
    expect(response.body).toMatch(/^Read-only mode\n\n.*\n\nPlease try again in about 10 minutes\.\n$/);
  });
});

describe("HTML page", () => {
  const page = (overrides: Parameters<typeof blocked>[0] = {}, options: Parameters<typeof respond>[2] = {}, method = "GET") =>
    respond(blocked(overrides), { method, accept: "text/html" }, { now, ...options }).body ?? "";

  test("escapes the message: no markup from a flag reaches the page", () => {
    const html = page({ message: XSS });
    expect(html).toContain("&lt;script&gt;alert(1)&lt;/script&gt;&lt;img src=x onerror=alert(1)&gt;&quot;&#39;&amp;");
    expect(html).not.toContain("<script");
    expect(html).not.toContain("<img");
    expect(html).not.toMatch(/onerror=alert\(1\)>/);
  });

  test("escapeHtml escapes & < > \" '", () => {
    expect(escapeHtml(`&<>"'a`)).toBe("&amp;&lt;&gt;&quot;&#39;a");
    expect(escapeHtml("&amp;")).toBe("&amp;amp;");
  });

  test("is self-contained: no URL the browser would fetch", () => {
    const html = page({ until: UNTIL, message: "See https://status.example.com" });
    expect(html).toMatch(/<link rel="icon" href="data:image\/svg\+xml,[^"]+">/);
    // every src/href is a data: URI; the only http URL is the SVG namespace inside the data: favicon
    for (const [, url] of html.matchAll(/\s(?:src|href|srcset|action|poster|data)="([^"]*)"/g)) expect(url).toMatch(/^data:/);
    expect(html).not.toMatch(/@import|url\(|<script|<iframe|<object|<embed/);
  });

  test("is accessible: lang, main, one heading, the mode shown", () => {
    const html = page();
    expect(html).toMatch(/<html lang="en">/);
    expect(html.match(/<main\b/g)).toHaveLength(1);
    expect(html.match(/<h1\b/g)).toHaveLength(1);
    expect(html).toContain("Down for maintenance");
    expect(html).toContain("prefers-color-scheme:dark");
    expect(html).toContain('name="viewport"');
    expect(page({ mode: "read-only" })).toContain("Read-only: changes are paused");
  });

  test("shows the expected end in a <time datetime>", () => {
    const html = page({ until: UNTIL });
    expect(html).toContain('<time datetime="2026-12-01T03:00:00Z">03:00 UTC, 1 December 2026</time>');
    expect(html).toContain("in about 45 minutes");
    // an end that is not on the minute rounds up: "back by" never names a time already past
    expect(page({ until: new Date(UNTIL.getTime() + 20_000) })).toContain(">03:01 UTC, 1 December 2026</time>");
    expect(page()).not.toContain("<time");
  });

  describe("auto-refresh", () => {
    const refresh = (html: string) => /<meta http-equiv="refresh" content="(\d+)">/.exec(html)?.[1] ?? null;

    test("defaults to the retry delay clamped to 5..300 s, off when unknown", () => {
      expect(refresh(page({ retryAfter: 42 }))).toBe("42");
      expect(refresh(page({ retryAfter: 1 }))).toBe("5");
      expect(refresh(page({ retryAfter: 3600 }))).toBe("300");
      expect(refresh(page({ until: UNTIL }))).toBe("300");
      expect(refresh(page({ until: new Date(NOW + 30_000) }))).toBe("30");
      expect(refresh(page())).toBeNull();
    });

    test("a refused POST never reloads itself, even with an explicit refresh: that would send the form again", () => {
      expect(refresh(page({ retryAfter: 42 }, {}, "POST"))).toBeNull();
      expect(refresh(page({ retryAfter: 42 }, { refresh: 10 }, "POST"))).toBeNull();
    });

    test("an explicit number or false wins", () => {
      expect(refresh(page({}, { refresh: 15 }))).toBe("15");
      expect(refresh(page({ retryAfter: 42 }, { refresh: 2.4 }))).toBe("2");
      expect(refresh(page({ retryAfter: 42 }, { refresh: false }))).toBeNull();
    });

    test("an invalid value is refused", () => {
      for (const value of [0, -1, Number.NaN, Number.POSITIVE_INFINITY, "10" as unknown as number]) {
        expect(() => page({}, { refresh: value })).toThrow(/options\.refresh/);
      }
    });
  });
});

describe("template", () => {
  test("replaces the page and receives raw and escaped values", () => {
    let seen: PageView | undefined;
    const template = vi.fn((view: PageView) => {
      seen = view;
      return `<!doctype html><title>${view.html.title}</title><p>${view.html.message}</p>${view.html.until ?? ""}`;
    });
    const response = respond(blocked({ message: XSS, until: UNTIL, retryAfter: 99 }), GET("text/html"), { now, template });
    expect(response.body).toBe(
      `<!doctype html><title>Service under maintenance</title><p>${escapeHtml(XSS)}</p><time datetime="2026-12-01T03:00:00Z">03:00 UTC, 1 December 2026</time>`,
    );
    expect(header(response, "Content-Type")).toBe("text/html; charset=utf-8");
    expect(header(response, "Content-Length")).toBe(String(Buffer.byteLength(response.body ?? "")));
    // a template may load its own assets: the built-in page's CSP is not imposed on it
    expect(header(response, "Content-Security-Policy")).toBeUndefined();
    expect(seen).toMatchObject({
      mode: "maintenance",
      scope: "site",
      status: 503,
      message: XSS,
      retryAfter: 2700,
      until: UNTIL,
      refresh: 300,
      html: { message: escapeHtml(XSS), retryIn: "in about 45 minutes", refreshMeta: '<meta http-equiv="refresh" content="300">' },
    });
    expect(seen?.decision.flag).toBe("site");
  });

  test("is used for HTML only", () => {
    const template = vi.fn(() => "custom");
    expect(respond(blocked(), GET("application/json"), { now, template }).body).toMatch(/^\{/);
    expect(respond(blocked(), GET("text/plain"), { now, template }).body).toMatch(/^Service under maintenance/);
    expect(template).not.toHaveBeenCalled();
  });
});

describe("custom renderer", () => {
  test("receives the decision and the raw Accept; undefined falls back to the built-in", () => {
    const render = vi.fn<Renderer>(() => undefined);
    const decision = blocked({ retryAfter: 60 });
    const response = respond(decision, GET("application/json"), { now, render });
    expect(render).toHaveBeenCalledWith(decision, "application/json");
    expect(response).toEqual(respond(decision, GET("application/json"), { now }));
  });

  test("a partial response gets the standard headers, a text/plain default and its length", () => {
    const response = respond(blocked({ retryAfter: 60, status: 429 }), GET(), { now, render: () => ({ body: "nope ✋" }) });
    expect(response).toEqual({
      status: 429,
      headers: {
        "Cache-Control": "no-store",
        "Detour-Mode": "maintenance",
        Vary: "Accept",
        "Retry-After": "60",
        "Content-Type": "text/plain; charset=utf-8",
        "Content-Length": String(Buffer.byteLength("nope ✋")),
      },
      body: "nope ✋",
    });
  });

  test("its status and headers override the standard ones, case-insensitively", () => {
    const render: Renderer = (decision, accept) =>
      accept?.includes("json")
        ? { status: 200, headers: { "content-type": "application/json", "cache-control": "max-age=5", "x-custom": ["a", "b"] }, body: JSON.stringify({ down: decision.mode }) }
        : undefined;
    const response = respond(blocked(), GET("application/json"), { now, render });
    expect(response.status).toBe(200);
    expect(response.body).toBe('{"down":"maintenance"}');
    expect(response.headers).toEqual({
      "Detour-Mode": "maintenance",
      Vary: "Accept",
      "content-type": "application/json",
      "cache-control": "max-age=5",
      "x-custom": ["a", "b"],
      "Content-Length": "22",
    });
    // the same renderer leaves browsers to the built-in page
    expect(respond(blocked(), GET("text/html"), { now, render }).body).toMatch(/^<!doctype html>/);
  });

  test("HEAD drops the renderer's body and keeps its length", () => {
    const response = respond(blocked(), { method: "HEAD", accept: undefined }, { now, render: () => ({ body: "12345" }) });
    expect(response.body).toBeNull();
    expect(header(response, "Content-Length")).toBe("5");
  });
});
