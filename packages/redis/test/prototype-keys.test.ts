/**
 * Flag keys that are Object.prototype names on the Redis store. Its writes
 * hand mutators a draft parsed from the JSON it holds (no clone): that draft
 * must not let `flags.constructor` find Object's member.
 */
import { afterEach, describe, expect, it } from "vitest";
import { createDetour, type Detour } from "@detour/core";
import { redisStore } from "../src/index.js";
import { REDIS_URL, capture, deleteKeys, uniquePrefix } from "./helpers.js";

const prefixes: string[] = [];
const open: Detour[] = [];

afterEach(async () => {
  for (const detour of open.splice(0)) await detour.close();
  for (const prefix of prefixes.splice(0)) await deleteKeys(REDIS_URL, prefix);
});

describe("redis store: flags named constructor, toString, valueOf, hasOwnProperty", () => {
  it("turn on, take users and turn off like any flag; nothing lands on Object", async () => {
    const prefix = uniquePrefix();
    prefixes.push(prefix);
    const detour = createDetour({ store: redisStore({ url: REDIS_URL, prefix, logger: capture() }) });
    open.push(detour);
    await detour.ready;
    await detour.enable("site"); // so that the next writes start from a document Redis holds
    for (const name of ["constructor", "toString", "valueOf", "hasOwnProperty"]) {
      await detour.disable(name, { users: ["u1"] }); // absent: nothing to do
      expect(detour.document()!.flags![name], name).toBeUndefined();
      await detour.enable(name, { users: ["u1"] });
      await detour.enable(name, { users: ["u2"] });
      expect(detour.status().flags.find((flag) => flag.key === name)?.users, name).toEqual(["u1", "u2"]);
      await detour.disable(name, { users: ["u1"] });
      await detour.disable(name);
      expect(detour.document()!.flags![name]!.on, name).toBe(false);
    }
    for (const field of ["targets", "version", "on", "fallthrough"]) expect((Object as unknown as Record<string, unknown>)[field], field).toBeUndefined();
  });

  it("hands mutators drafts whose flag maps have no prototype", async () => {
    const prefix = uniquePrefix();
    prefixes.push(prefix);
    const store = redisStore({ url: REDIS_URL, prefix, logger: capture() });
    const detour = createDetour({ store });
    open.push(detour);
    await detour.ready;
    await detour.enable("site", { users: ["u1"] });
    const seen: unknown[] = [];
    for (let i = 0; i < 2; i++) {
      await store.write((doc) => {
        seen.push((doc.flags as Record<string, unknown>).constructor, Object.getPrototypeOf(doc.flags));
      });
    }
    expect(seen).toEqual([undefined, null, undefined, null]);
  });
});
