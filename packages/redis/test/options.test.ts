import { describe, expect, it } from "vitest";
import { parseRedisUrl, redisKeys, redisStore } from "../src/index.js";

describe("topology options", () => {
  it.each([
    [{ url: "redis://x:1", cluster: [{ host: "a", port: 1 }] }, /^sentinels|^cluster: give one of url, sentinels, cluster or client/],
    [{ sentinels: [{ host: "a", port: 26379 }] }, /^name: expected the master's name/],
    [{ name: "m" }, /^name: only applies with sentinels/],
    [{ sentinels: [] }, /^sentinels: expected a non-empty array/],
    [{ cluster: [{ host: "a", port: 0 }] }, /^cluster\[0\]\.port: expected a port number/],
    [{ replicaAckTimeoutMs: -1 }, /^replicaAckTimeoutMs: expected a whole number/],
    [{ url: "memcached://x" }, /^url: expected redis:\/\//],
  ])("refuses %j", (options, message) => {
    expect(() => redisStore(options as never)).toThrow(message);
  });

  it("parses Sentinel and Cluster URLs", () => {
    expect(parseRedisUrl("redis+sentinel://u:p@s1:26379,s2/main/2")).toEqual({
      kind: "sentinel",
      sentinels: [
        { host: "s1", port: 26379 },
        { host: "s2", port: 26379 },
      ],
      name: "main",
      db: 2,
      tls: false,
      auth: { username: "u", password: "p" },
    });
    expect(parseRedisUrl("rediss+cluster://n1:7000,[::1]:7001")).toEqual({
      kind: "cluster",
      nodes: [
        { host: "n1", port: 7000 },
        { host: "::1", port: 7001 },
      ],
      tls: true,
      auth: {},
    });
  });

  it("on a Cluster wraps the prefix in a hash tag unless it has one", () => {
    expect(redisKeys("shop", { hashTag: true }).document).toBe("{shop}:document");
    expect(redisKeys("{shop}:flags", { hashTag: true }).revision).toBe("{shop}:flags:revision");
    expect(redisKeys("shop").channel).toBe("shop:changes");
    expect(redisStore({ cluster: [{ host: "127.0.0.1", port: 7000 }], prefix: "shop" }).keys.channel).toBe("{shop}:changes");
  });
});
