import { describe, expect, it } from "vitest";
import { clock, detourWith, modeFlag, request, T0 } from "./helpers.js";

const HOUR = 3600_000;

describe("windows and self-expiring maintenance", () => {
  it("a window is only in force between start and end, and Retry-After counts down to its end", async () => {
    const time = clock(T0 - HOUR);
    const window = { start: new Date(T0).toISOString(), end: new Date(T0 + HOUR).toISOString() };
    const detour = await detourWith(
      { flags: modeFlag("site", { fallthrough: { variation: 2 }, detour: { window, retryAfter: 5 } }) },
      { now: time.now },
    );
    expect(detour.decide(request()).action).toBe("pass");
    time.set(T0);
    const during = detour.decide(request());
    expect(during).toMatchObject({ action: "block", retryAfter: 3600 });
    expect(during.until?.toISOString()).toBe(window.end);
    time.advance(HOUR - 90_500);
    expect(detour.decide(request()).retryAfter).toBe(91);
    const response = detour.respond(detour.decide(request()), request());
    expect(response.headers["retry-after"] ?? response.headers["Retry-After"]).toBe(new Date(window.end).toUTCString());
    time.set(T0 + HOUR);
    expect(detour.decide(request()).action).toBe("pass");
    await detour.close();
  });

  it("ttl makes maintenance end by itself", async () => {
    const time = clock();
    const detour = await detourWith({ flags: {} }, { now: time.now });
    await detour.enable("site", { ttl: 600, message: "quick fix" });
    expect(detour.decide(request())).toMatchObject({ action: "block", retryAfter: 600, message: "quick fix" });
    time.advance(599_000);
    expect(detour.decide(request()).action).toBe("block");
    time.advance(1_000);
    expect(detour.decide(request()).action).toBe("pass");
    expect(detour.status().flags[0]).toMatchObject({ key: "site", active: false, state: "ended" });
    await detour.close();
  });

  it("a window that has not started yet is scheduled, not active", async () => {
    const time = clock();
    const detour = await detourWith({ flags: {} }, { now: time.now });
    await detour.enable("billing", { window: { start: new Date(T0 + HOUR), end: new Date(T0 + 2 * HOUR) } });
    expect(detour.status().flags).toMatchObject([
      { key: "billing", scope: "feature", active: false, state: "scheduled", from: new Date(T0 + HOUR).toISOString() },
    ]);
    expect(detour.decide(request(), { feature: "billing" }).action).toBe("pass");
    time.advance(HOUR);
    expect(detour.decide(request(), { feature: "billing" }).action).toBe("block");
    await detour.close();
  });
});
