/**
 * What an operator sets on the flag (`detour down --redirect/--render/--refresh`),
 * API paths and JSON bodies that always get problem+json, and the page of a
 * blocked write.
 */
import { describe, expect, test } from "vitest";
import { isJsonType, respond, type RespondRequest } from "../../src/respond/index.js";
import { blocked, now } from "./fixtures.js";

const get = (fields: Partial<RespondRequest> = {}): RespondRequest => ({ method: "GET", accept: "text/html", path: "/", ...fields });

describe("problem+json whatever Accept says", () => {
  test("for the json option's paths", () => {
    const response = respond(blocked(), get({ accept: "text/html,*/*" }), { now, json: true });
    expect(response.headers["Content-Type"]).toBe("application/problem+json; charset=utf-8");
    expect(JSON.parse(response.body!)).toMatchObject({ status: 503, mode: "maintenance", scope: "site" });
    // A client that asked for JSON keeps the media type it asked for.
    expect(respond(blocked(), get({ accept: "application/json" }), { now, json: true }).headers["Content-Type"]).toBe("application/json; charset=utf-8");
  });

  test.each(["application/json", "application/json; charset=utf-8", "application/merge-patch+json", "APPLICATION/JSON"])(
    "for a %s body",
    (contentType) => {
      const response = respond(blocked(), get({ method: "POST", accept: "*/*", contentType }), { now });
      expect(response.headers["Content-Type"]).toBe("application/problem+json; charset=utf-8");
    },
  );

  test("not for form posts or text", () => {
    expect(isJsonType("application/x-www-form-urlencoded")).toBe(false);
    expect(isJsonType("text/json-ish")).toBe(false);
    expect(isJsonType(undefined)).toBe(false);
    expect(respond(blocked(), get({ contentType: "multipart/form-data; boundary=x" }), { now }).headers["Content-Type"]).toMatch(/^text\/html/);
  });

  test("a custom renderer is told the request wants problem+json", () => {
    let seen: string | undefined;
    respond(blocked(), get(), { now, json: true, render: (_d, accept) => ((seen = accept), undefined) });
    expect(seen).toBe("application/problem+json");
  });
});

describe("the flag's redirect", () => {
  const settings = { redirect: "/status" };

  test("a blocked GET or HEAD that would get the page is redirected, with the maintenance headers", () => {
    for (const method of ["GET", "HEAD"]) {
      const response = respond(blocked({ retryAfter: 60 }), get({ method, path: "/notes" }), { now, settings });
      expect(response.status).toBe(302);
      expect(response.headers).toMatchObject({ Location: "/status", "Cache-Control": "no-store", "Retry-After": "60", "Detour-Mode": "maintenance" });
      expect(response.body).toBeNull();
    }
  });

  test("the target itself, writes and API clients get the usual answer", () => {
    expect(respond(blocked(), get({ path: "/status/" }), { now, settings }).status).toBe(503);
    expect(respond(blocked(), get({ method: "POST", path: "/notes" }), { now, settings }).status).toBe(503);
    expect(respond(blocked(), get({ accept: "application/json", path: "/notes" }), { now, settings }).status).toBe(503);
    expect(respond(blocked(), get({ path: "/api/notes" }), { now, settings, json: true }).status).toBe(503);
  });

  test("an absolute URL is redirected to from everywhere", () => {
    const response = respond(blocked(), get({ path: "/status" }), { now, settings: { redirect: "https://status.example.com/" } });
    expect(response.headers.Location).toBe("https://status.example.com/");
  });
});

describe("the flag's pre-rendered page", () => {
  const page = "<!doctype html><title>Down</title><h1>Back at three</h1>";

  test("is the HTML answer, over the template and the renderer, under a CSP that runs no script", () => {
    const response = respond(blocked(), get(), {
      now,
      settings: { page },
      template: () => "template",
      render: () => ({ body: "renderer" }),
    });
    expect(response.status).toBe(503);
    expect(response.body).toBe(page);
    expect(response.headers["Content-Type"]).toBe("text/html; charset=utf-8");
    expect(response.headers["Content-Security-Policy"]).toContain("script-src 'none'");
    expect(response.headers["Content-Length"]).toBe(String(Buffer.byteLength(page)));
  });

  test("API clients still get problem+json", () => {
    expect(respond(blocked(), get({ accept: "application/json" }), { now, settings: { page } }).body).not.toBe(page);
  });
});

describe("the flag's refresh", () => {
  test("sends Refresh and reloads the page on GET, overriding the app's option", () => {
    const response = respond(blocked(), get(), { now, refresh: false, settings: { refresh: 15 } });
    expect(response.headers.Refresh).toBe("15");
    expect(response.body).toContain('<meta http-equiv="refresh" content="15">');
    expect(response.body).toContain("This page checks again every 15 seconds.");
  });

  test("never on a write", () => {
    const response = respond(blocked(), get({ method: "POST" }), { now, settings: { refresh: 15 } });
    expect(response.headers.Refresh).toBeUndefined();
    expect(response.body).not.toContain('http-equiv="refresh"');
  });
});

describe("a blocked write", () => {
  test("offers Go back to the page the form came from, never a reload", () => {
    const response = respond(blocked({ mode: "read-only", scope: "user", retryAfter: 30 }), get({ method: "POST", path: "/notes", referer: "http://localhost:3000/?tab=notes" }), {
      now,
    });
    expect(response.body).toContain('<a href="/?tab=notes">Go back</a>');
    expect(response.body).toContain("Your changes were not saved.");
    expect(response.body).not.toContain("Reload the page");
    expect(response.body).not.toContain('http-equiv="refresh"');
  });

  test("without a Referer it says to use the Back button; a foreign Referer only ever links to this site", () => {
    expect(respond(blocked(), get({ method: "POST" }), { now }).body).toContain("Go back with your browser\u2019s Back button");
    const foreign = respond(blocked(), get({ method: "PUT", referer: "https://evil.example/x?<y>" }), { now }).body!;
    expect(foreign).toContain('<a href="/x?%3Cy%3E">Go back</a>');
    expect(foreign).not.toContain("evil.example");
  });

  test("a GET still says Reload", () => {
    expect(respond(blocked(), get(), { now }).body).toContain("Reload the page to check again.");
  });
});
