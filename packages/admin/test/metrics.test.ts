import { createDetour, fileStore, type DetourRequest } from "@detour/core";
import { Registry } from "prom-client";
import { describe, expect, it } from "vitest";
import { createAdmin, detourMetrics } from "../src/index.js";
import { call, onCleanup, setup } from "./helpers.js";

describe("GET /metrics", () => {
  it("is off unless asked for", async () => {
    const { admin } = await setup();
    expect((await call(admin, { path: "metrics" })).status).toBe(404);
  });

  it("answers Prometheus text: store health and the flags in force, behind auth", async () => {
    const { admin, detour } = await setup({ metrics: true });
    await detour.enable("site", { mode: "read-only" });
    expect((await call(admin, { path: "metrics", anonymous: true })).status).toBe(401);
    const response = await call(admin, { path: "metrics" });
    expect(response.status).toBe(200);
    expect(response.headers["content-type"]).toMatch(/^text\/plain; version=0\.0\.4/);
    expect(response.body).toMatch(/^detour_store_age_seconds \d/m);
    expect(response.body).toMatch(/^detour_store_stale 0$/m);
    expect(response.body).toMatch(new RegExp(`^detour_store_revision ${detour.store.health().revision}$`, "m"));
    expect(response.body).toContain('detour_flag_in_force{flag="site",mode="read-only",scope="site"} 1');
  });

  it("counts decisions handed to onDecision, in the registry given", async () => {
    const registry = new Registry();
    const metrics = detourMetrics({ registry, prefix: "shop_detour_" });
    const { admin, detour } = await setup({ metrics });
    const counted = createDetour<DetourRequest>({ store: detour.store, onDecision: metrics.onDecision });
    await detour.enable("site");
    for (let i = 0; i < 4; i++) counted.decide({ method: "GET", path: "/" });
    const body = (await call(admin, { path: "metrics" })).body!;
    expect(body).toContain('shop_detour_decisions_total{action="block",mode="maintenance",scope="site",flag="site"} 4');
    // Counted once more between scrapes: counters only go up.
    counted.decide({ method: "GET", path: "/" });
    expect((await call(admin, { path: "metrics" })).body).toContain('shop_detour_decisions_total{action="block",mode="maintenance",scope="site",flag="site"} 5');
    expect(await registry.metrics()).toContain("shop_detour_store_age_seconds");
    expect(() => createAdmin({ detour, auth: () => "x", metrics })).toThrow(/^metrics: these metrics already belong to another admin/);
  });

  it("observes the propagation lag of changes made elsewhere", async () => {
    const { admin, file } = await setup({ metrics: true });
    await call(admin, { path: "metrics" });
    const writer = createDetour<DetourRequest>({ store: fileStore(file, { debounceMs: 10, pollIntervalMs: 200 }) });
    onCleanup(() => writer.close());
    await writer.ready;
    await writer.enable("site", {}, { actor: "cli:ops@box" });
    await expect
      .poll(async () => /^detour_propagation_lag_seconds_count (\d+)$/m.exec((await call(admin, { path: "metrics" })).body!)?.[1], { timeout: 3000 })
      .toBe("1");
  });
});
