import { existsSync } from "node:fs";
import { join, resolve } from "node:path";
import { Writable } from "node:stream";
import { describe, expect, it } from "vitest";
import { parseStoreUrl, run } from "../src/index.js";
import { temporaryDirectory } from "@detour/test-support/cli";

describe("parseStoreUrl", () => {
  it.each([
    ["file:./detour.json", "/srv/app/detour.json"],
    ["file:detour.json", "/srv/app/detour.json"],
    ["file:/etc/detour/flags.json", "/etc/detour/flags.json"],
    ["file:///etc/detour/flags.json", "/etc/detour/flags.json"],
    ["./flags/detour.json", "/srv/app/flags/detour.json"],
  ])("%s is the file %s", (spec, path) => {
    expect(parseStoreUrl(spec, { cwd: "/srv/app" })).toEqual({ kind: "file", path: resolve(path), display: `file:${resolve(path)}` });
  });

  it("parses Redis URLs, with the prefix from ?prefix= or --prefix (which wins)", () => {
    expect(parseStoreUrl("redis://127.0.0.1:6379/0")).toMatchObject({ kind: "redis", url: "redis://127.0.0.1:6379/0", prefix: "detour" });
    expect(parseStoreUrl("redis://127.0.0.1:6379/2?prefix=shop")).toMatchObject({ url: "redis://127.0.0.1:6379/2", prefix: "shop" });
    expect(parseStoreUrl("redis://127.0.0.1:6379/2?prefix=shop", { prefix: "other" })).toMatchObject({ prefix: "other" });
    expect(parseStoreUrl("rediss://cache.internal:6380")).toMatchObject({ kind: "redis", url: "rediss://cache.internal:6380" });
  });

  it("never shows a Redis password", () => {
    const location = parseStoreUrl("redis://app:s3cret@cache:6379/0?prefix=x");
    expect(location.kind === "redis" && location.url).toBe("redis://app:s3cret@cache:6379/0");
    expect(location.display).toBe("redis://app:***@cache:6379/0 (prefix x)");
  });

  it("parses Sentinel and Cluster URLs (hosts separated by commas), keeping credentials out of the display", () => {
    expect(parseStoreUrl("redis+sentinel://s1:26379,s2:26380/mymaster/3?prefix=shop")).toEqual({
      kind: "redis",
      url: "redis+sentinel://s1:26379,s2:26380/mymaster/3",
      prefix: "shop",
      display: "redis+sentinel://s1:26379,s2:26380/mymaster/3 (prefix shop)",
    });
    expect(parseStoreUrl("redis+cluster://:pw@n1:7000,n2:7001")).toMatchObject({
      url: "redis+cluster://:pw@n1:7000,n2:7001",
      prefix: "detour",
      display: "redis+cluster://:***@n1:7000,n2:7001 (prefix detour)",
    });
  });

  it.each([
    ["redis+sentinel://s1:26379,s2:26379", /expected the master's name/],
    ["redis+sentinel://s1:26379/mymaster/zero", /numeric DB/],
    ["redis+cluster://n1:7000/0", /Cluster has no database/],
    ["redis+cluster://n1:99999", /out of range/],
    ["redis+ring://n1:7000", /unsupported store/],
  ])("refuses the topology URL %j", (spec, message) => {
    expect(() => parseStoreUrl(spec)).toThrow(message);
  });

  it.each([
    ["", /empty/],
    ["http://example.com", /unsupported store/],
    ["redis://cache:6379/db1", /database must be a number/],
    ["redis://:6379", /not a valid Redis URL|names no host/],
    ["redis://cache:6379/0?prefix=", /non-empty key prefix/],
  ])("refuses %j", (spec, message) => {
    expect(() => parseStoreUrl(spec)).toThrow(message);
  });

  it("--prefix is only for Redis", () => {
    expect(() => parseStoreUrl("file:./x.json", { prefix: "p" })).toThrow(/only applies to a redis/);
  });
});

describe("run() with injected streams (no process)", () => {
  function sink(): Writable & { text: string } {
    const stream = new Writable({
      write(chunk, _encoding, done) {
        stream.text += String(chunk);
        done();
      },
    }) as Writable & { text: string };
    stream.text = "";
    return stream;
  }

  it("runs on/status against the injected cwd and env and returns the exit code", async () => {
    const { dir, cleanup } = await temporaryDirectory();
    try {
      const stdout = sink();
      const stderr = sink();
      const env = { DETOUR_STORE: "file:flags.json" };
      expect(await run(["on", "site", "--message", "hi", "--create"], { stdout, stderr, env, cwd: dir })).toBe(0);
      expect(await run(["status", "--json"], { stdout, stderr, env, cwd: dir })).toBe(0);
      expect(stdout.text).toContain('"site" is maintenance for everyone');
      expect(stdout.text).toContain(`"message": "hi"`);
      expect(await run(["on"], { stdout, stderr, env, cwd: dir })).toBe(1);
      expect(stderr.text).toBe("detour: missing required argument 'flag'\n");
      expect(existsSync(join(dir, "flags.json"))).toBe(true);
    } finally {
      await cleanup();
    }
  });
});
