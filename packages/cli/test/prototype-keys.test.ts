/**
 * Flag keys that are Object.prototype names (constructor, toString, ...),
 * through the real `detour` binary, on a file store and a Redis store: each
 * is a flag like any other, never Object's member.
 */
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { REDIS_URL, deleteRedisKeys, detour, readJson, redisDocument, uniquePrefix, useWorkspace } from "./helpers.js";

const ws = useWorkspace();
const NAMES = ["constructor", "toString", "valueOf", "hasOwnProperty"];
const prefixes: string[] = [];

afterAll(async () => {
  for (const prefix of prefixes) await deleteRedisKeys(prefix);
});

function fileStoreArgs(name: string): { args: string[]; path: string } {
  const path = join(ws.dir, `proto-${name}.json`);
  return { args: ["--store", `file:${path}`], path };
}

function redisStoreArgs(): string[] {
  const prefix = uniquePrefix();
  prefixes.push(prefix);
  return ["--store", `${REDIS_URL}/0?prefix=${prefix}`];
}

describe.each(NAMES)("detour with a flag named %s", (name) => {
  it("off on a file store where it does not exist: nothing to turn off, with or without --user", async () => {
    const { args } = fileStoreArgs(name);
    const off = await detour(["off", name, ...args], { cwd: ws.dir });
    expect(off.stderr).toBe("");
    expect(off.code).toBe(0);
    expect(off.stdout).toBe(`"${name}" does not exist; nothing to turn off\n`);
    const offUser = await detour(["off", name, "--user", "u1", ...args], { cwd: ws.dir });
    expect(offUser.code).toBe(0);
    expect(offUser.stdout).toBe(`"${name}" does not exist; nothing to turn off\n`);
  });

  it("on, status, off --user and off on a file store", async () => {
    const { args, path } = fileStoreArgs(`${name}-cycle`);
    const on = await detour(["on", name, "--user", "u1", ...args], { cwd: ws.dir });
    expect(on.stderr).toBe("");
    expect(on.code).toBe(0);
    const doc = await readJson(path);
    expect(Object.keys(doc.flags!)).toEqual([name]);
    expect(doc.flags![name]!.targets).toEqual([{ variation: 1, values: ["u1"] }]);
    const status = await detour(["status", "--json", ...args], { cwd: ws.dir });
    expect((JSON.parse(status.stdout) as { flags: { key: string; users: string[] }[] }).flags).toMatchObject([{ key: name, users: ["u1"] }]);
    const offUser = await detour(["off", name, "--user", "u1", ...args], { cwd: ws.dir });
    expect(offUser.code).toBe(0);
    expect(offUser.stdout).toMatch(new RegExp(`^removed u1 from "${name}"`));
    const off = await detour(["off", name, ...args], { cwd: ws.dir });
    expect(off.code).toBe(0);
    expect((await readJson(path)).flags![name]!.on).toBe(false);
  });

  it("on and off on a Redis store", async () => {
    const args = redisStoreArgs();
    const missing = await detour(["off", name, ...args], { cwd: ws.dir });
    expect(missing.code).toBe(0);
    expect(missing.stdout).toBe(`"${name}" does not exist; nothing to turn off\n`);
    expect((await detour(["on", name, ...args], { cwd: ws.dir })).code).toBe(0);
    expect((await detour(["on", name, "--user", "u2", ...args], { cwd: ws.dir })).code).toBe(0);
    const prefix = prefixes.at(-1)!;
    const doc = await redisDocument(prefix);
    expect(Object.keys(doc!.flags!)).toEqual([name]);
    expect(doc!.flags![name]!.on).toBe(true);
    const off = await detour(["off", name, ...args], { cwd: ws.dir });
    expect(off.stderr).toBe("");
    expect(off.code).toBe(0);
  });
});
