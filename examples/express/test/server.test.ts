import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, relative } from "node:path";
import { fileURLToPath } from "node:url";
import { openStore } from "@detour/example-shared";
import type { RedisStore } from "@detour/redis";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { listen } from "../src/server.js";

describe("listen() (src/server.js)", () => {
  let dir: string;
  beforeEach(() => void (dir = mkdtempSync(join(tmpdir(), "detour-example-server-"))));
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it("listens on a free port for port 0, on the store it is given, and closes", async () => {
    const path = join(dir, "flags.json");
    const running = await listen({ port: 0, store: `file:${path}` });
    try {
      expect(running.port).toBeGreaterThan(0);
      expect(running.url).toBe(`http://localhost:${running.port}`);
      expect(running.store).toBe(`file:${path}`);
      expect((await fetch(`${running.url}/health`)).status).toBe(200);
      expect(JSON.parse(readFileSync(path, "utf8"))).toMatchObject({ flags: {} });
    } finally {
      await running.close();
    }
    await expect(fetch(`${running.url}/health`)).rejects.toThrow();
  });

  it("refuses a PORT that is not a port", async () => {
    await expect(listen({ port: "http", store: `file:${join(dir, "flags.json")}` })).rejects.toThrow(/PORT/);
  });
});

describe("openStore() (DETOUR_STORE)", () => {
  const defaultPath = fileURLToPath(new URL("../detour.json", import.meta.url));

  it("defaults to the example's detour.json, shown relative to the current directory for the CLI", async () => {
    const opened = await openStore(undefined, { defaultPath });
    expect(opened.store.kind).toBe("file");
    expect(opened.location).toBe(`file:${relative(process.cwd(), defaultPath)}`);
    await opened.store.close();
  });

  it("takes file: paths from the current directory, as the CLI does", async () => {
    const opened = await openStore("file:./some/flags.json", { defaultPath, cwd: "/srv/app" });
    expect(opened.location).toBe("file:some/flags.json");
    await opened.store.close();
  });

  it("opens a Redis store for redis:// (imported only then), with the URL's prefix", async () => {
    const opened = await openStore("redis://127.0.0.1:6390/2?prefix=demo", { defaultPath });
    expect(opened.store.kind).toBe("redis");
    expect((opened.store as RedisStore).keys.document).toBe("demo:document");
    expect(opened.location).toBe("redis://127.0.0.1:6390/2?prefix=demo");
    await opened.store.close();
  });

  it("refuses other schemes", async () => {
    await expect(openStore("mysql://db/flags", { defaultPath })).rejects.toThrow(/DETOUR_STORE/);
  });
});
