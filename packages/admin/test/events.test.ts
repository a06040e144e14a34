import { createServer, get } from "node:http";
import type { AddressInfo } from "node:net";
import { describe, expect, it } from "vitest";
import { sendNodeResponse } from "../src/index.js";
import { BASE, call, onCleanup, openStream, setup, TOKEN } from "./helpers.js";

describe("GET /api/events", () => {
  it("is an event stream that starts with the current status", async () => {
    const { admin, detour } = await setup();
    await detour.enable("site", { message: "Upgrading" });
    const response = await call(admin, { path: "api/events" });
    expect(response.status).toBe(200);
    expect(response.headers["content-type"]).toBe("text/event-stream; charset=utf-8");
    expect(response.headers["cache-control"]).toMatch(/no-store/);
    expect(response.body).toBeNull();
    const stream = openStream(response);
    expect(stream.text()).toMatch(/^retry: \d+\n\n/);
    const [first] = stream.events();
    expect(first).toMatchObject({ event: "status", data: { siteFlag: "site", flags: [{ key: "site", message: "Upgrading" }] } });
    expect(first!.id).toBe(String(detour.store.health().revision));
  });

  it("sends a change event when another instance changes the shared file store", async () => {
    const { admin, other } = await setup();
    const stream = openStream(await call(admin, { path: "api/events" }));
    const cli = await other();
    await cli.enable("site", { message: "From the CLI" }, { actor: "cli:ops@box" });
    await stream.until(() => stream.events().some((e) => e.event === "change"));
    const change = stream.events().find((e) => e.event === "change")!;
    expect(change.data.flags).toMatchObject([{ key: "site", mode: "maintenance", message: "From the CLI", by: "cli:ops@box" }]);
    expect(change.data.audit[0]).toMatchObject({ actor: "cli:ops@box", action: "enable", flag: "site" });

    await cli.disable("site", {}, { actor: "cli:ops@box" });
    await stream.until(() => stream.events().filter((e) => e.event === "change").length >= 2);
    expect(stream.events().at(-1)!.data.flags).toEqual([]);
  });

  it("sends one change per write through this admin", async () => {
    const { admin } = await setup();
    const stream = openStream(await call(admin, { path: "api/events" }));
    await call(admin, { method: "POST", path: "api/flags/billing/on" });
    await stream.until(() => stream.events().some((e) => e.event === "change"));
    await new Promise((resolve) => setTimeout(resolve, 400));
    expect(stream.events().filter((e) => e.event === "change")).toHaveLength(1);
  });

  it("sends heartbeats", async () => {
    const { admin } = await setup({ heartbeatMs: 30 });
    const stream = openStream(await call(admin, { path: "api/events" }));
    await stream.until(() => stream.text().split(": heartbeat\n\n").length > 2);
  });

  it("releases its subscription and timer when the client goes away", async () => {
    const { admin, store, detour } = await setup({ heartbeatMs: 20 });
    const before = store.subscribers;
    const streams = [openStream(await call(admin, { path: "api/events" })), openStream(await call(admin, { path: "api/events" }))];
    expect(store.subscribers).toBe(before + 2);
    expect(admin.openStreams).toBe(2);
    for (const stream of streams) {
      stream.stop();
      stream.stop();
    }
    expect(store.subscribers).toBe(before);
    expect(admin.openStreams).toBe(0);
    const length = streams[0]!.text().length;
    await detour.enable("site");
    await new Promise((resolve) => setTimeout(resolve, 80));
    expect(streams[0]!.text().length).toBe(length);
  });

  it("ends every open stream on admin.close()", async () => {
    const { admin, store } = await setup();
    const before = store.subscribers;
    const stream = openStream(await call(admin, { path: "api/events" }));
    admin.close();
    expect(stream.ended()).toBe(true);
    expect(store.subscribers).toBe(before);
  });

  it("through Node's http: streams to the client and releases the stream when it disconnects, even mid-authentication", async () => {
    let release: () => void = () => undefined;
    const gate = new Promise<void>((resolve) => (release = resolve));
    const { admin, store } = await setup({
      auth: async (req) => {
        if (req.headers["x-slow"]) await gate;
        return req.headers.authorization === `Bearer ${TOKEN}` ? "admin:test" : null;
      },
    });
    const before = store.subscribers;
    const server = createServer((req, res) => {
      void admin({ method: req.method!, path: req.url!, headers: req.headers, body: req, host: req.headers.host }).then((response) => sendNodeResponse(response, req, res));
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    onCleanup(() => new Promise<void>((resolve) => (server.closeAllConnections(), server.close(() => resolve()))));
    const port = (server.address() as AddressInfo).port;
    const open = (headers: Record<string, string>) => {
      const req = get({ host: "127.0.0.1", port, path: `${BASE}/api/events`, headers: { authorization: `Bearer ${TOKEN}`, ...headers } });
      req.on("error", () => undefined);
      return req;
    };

    const client = open({});
    const text = await new Promise<string>((resolve) => client.on("response", (res) => res.once("data", (chunk: Buffer) => resolve(chunk.toString()))));
    expect(text).toContain("event: status");
    expect(admin.openStreams).toBe(1);
    client.destroy();
    await expect.poll(() => admin.openStreams).toBe(0);

    // The client leaves while auth is still deciding: no stream may be left behind.
    const slow = open({ "x-slow": "1" });
    await new Promise((resolve) => setTimeout(resolve, 50));
    slow.destroy();
    await new Promise((resolve) => setTimeout(resolve, 50));
    release();
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(admin.openStreams).toBe(0);
    expect(store.subscribers).toBe(before);
  });
});
