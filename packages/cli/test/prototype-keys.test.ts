/**
 * Flag keys that are Object.prototype names (constructor, toString, ...),
 * through the real `detour` binary, on a file store and a Redis store: each
 * is a flag like any other, never Object's member.
 */
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { REDIS_URL, deleteRedisKeys, detour, readJson, redisDocument, uniquePrefix, useWorkspace } from "@detour/test-support/cli";

const ws = useWorkspace();
const NAMES = ["constructor", "toString", "valueOf", "hasOwnProperty"];
const prefixes: string[] = [];

afterAll(async () => {
  for (const prefix of prefixes) await deleteRedisKeys(prefix);
});

/** A file store holding one flag, `site`. */
async function fileStoreArgs(name: string): Promise<{ args: string[]; path: string }> {
  const path = join(ws.dir, `proto-${name}.json`);
  const args = ["--store", `file:${path}`];
  expect((await detour(["on", "site", "--create", ...args], { cwd: ws.dir })).code).toBe(0);
  return { args, path };
}

function redisStoreArgs(): string[] {
  const prefix = uniquePrefix();
  prefixes.push(prefix);
  return ["--store", `${REDIS_URL}/0?prefix=${prefix}`];
}

describe.each(NAMES)("detour with a flag named %s", (name) => {
  it("off where it does not exist: the usual error naming the flags that do, with or without --user; nothing written", async () => {
    const { args, path } = await fileStoreArgs(name);
    const before = await readJson(path);
    for (const extra of [[], ["--user", "u1"]]) {
      const off = await detour(["off", name, ...extra, ...args], { cwd: ws.dir });
      expect(off.stderr).toBe(`detour: off: no flag "${name}" (its flags: site)\n`);
      expect(off.code).toBe(1);
    }
    expect(await readJson(path)).toEqual(before);
  });

  it("on, status, off --user and off on a file store", async () => {
    const { args, path } = await fileStoreArgs(`${name}-cycle`);
    const on = await detour(["on", name, "--user", "u1", ...args], { cwd: ws.dir });
    expect(on.stderr).toBe("");
    expect(on.code).toBe(0);
    const doc = await readJson(path);
    expect(Object.keys(doc.flags!).sort()).toEqual([name, "site"].sort());
    expect(doc.flags![name]!.targets).toEqual([{ variation: 1, values: ["u1"] }]);
    const status = await detour(["status", "--json", ...args], { cwd: ws.dir });
    expect((JSON.parse(status.stdout) as { flags: { key: string }[] }).flags.map((flag) => flag.key)).toContain(name);
    const offUser = await detour(["off", name, "--user", "u1", ...args], { cwd: ws.dir });
    expect(offUser.code).toBe(0);
    expect(offUser.stdout).toMatch(new RegExp(`^removed u1 from "${name}"`));
    const off = await detour(["off", name, ...args], { cwd: ws.dir });
    expect(off.code).toBe(0);
    expect((await readJson(path)).flags![name]!.on).toBe(false);
  });

  it("on and off on a Redis store", async () => {
    const args = redisStoreArgs();
    expect((await detour(["on", "site", ...args], { cwd: ws.dir })).code).toBe(0);
    const missing = await detour(["off", name, ...args], { cwd: ws.dir });
    expect(missing.stderr).toBe(`detour: off: no flag "${name}" (its flags: site)\n`);
    expect((await detour(["on", name, ...args], { cwd: ws.dir })).code).toBe(0);
    expect((await detour(["on", name, "--user", "u2", ...args], { cwd: ws.dir })).code).toBe(0);
    const doc = await redisDocument(prefixes.at(-1)!);
    expect(Object.keys(doc!.flags!).sort()).toEqual([name, "site"].sort());
    expect(doc!.flags![name]!.on).toBe(true);
    const off = await detour(["off", name, ...args], { cwd: ws.dir });
    expect(off.stderr).toBe("");
    expect(off.code).toBe(0);
  });
});
