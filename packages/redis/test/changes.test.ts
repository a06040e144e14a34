import { Redis } from "ioredis";
import { afterEach, describe, expect, it } from "vitest";
import type { FlagDocument } from "@detour/core";
// The compiled forms, to check which ones a change shares: core internals, never exported.
import { compiledFlagOf } from "../../core/src/snapshot.js";
import { redisStore, type RedisStore } from "../src/index.js";
import { REDIS_URL, capture, deleteKeys, uniquePrefix, waitFor } from "./helpers.js";

/** Thirty flags, each targeting a few users. */
function fleetDocument(draft: FlagDocument): void {
  draft.flags ??= {};
  for (let i = 0; i < 30; i++) {
    draft.flags[`f${i}`] = {
      key: `f${i}`,
      on: true,
      variations: ["available", "read-only", "maintenance"],
      offVariation: 0,
      targets: [{ variation: 1, values: [`u${i}`, `v${i}`] }],
      fallthrough: { variation: 0 },
    };
  }
}

describe("change notices carry the changes, not the document", () => {
  const opened: RedisStore[] = [];
  const clients: Redis[] = [];
  const prefix = uniquePrefix();

  afterEach(async () => {
    await Promise.all(opened.splice(0).map((store) => store.close()));
    for (const client of clients.splice(0)) client.disconnect();
    await deleteKeys(REDIS_URL, prefix);
  });

  async function pair() {
    const [a, b] = [0, 1].map(() => redisStore({ url: REDIS_URL, prefix, logger: capture(), pollIntervalMs: 60_000 })) as [RedisStore, RedisStore];
    opened.push(a, b);
    await Promise.all([a.load(), b.load()]);
    const notices: string[] = [];
    const listener = new Redis(REDIS_URL);
    clients.push(listener);
    listener.on("message", (_channel, message: string) => notices.push(message));
    await listener.subscribe(a.keys.channel);
    const publisher = new Redis(REDIS_URL);
    clients.push(publisher);
    return { a, b, notices, publisher };
  }

  it("adding a user to one flag of thirty sends that flag alone; the receiver recompiles it and shares every other compiled flag", async () => {
    const { a, b, notices, publisher } = await pair();
    await a.write(fleetDocument);
    await waitFor(() => b.snapshot()?.definition("f29"), 10_000, "the thirty flags on b");
    const before = b.snapshot()!;

    const written = await a.write((draft) => {
      draft.flags!.f7!.targets![0]!.values.push("new-user");
    });
    await waitFor(() => b.snapshot()?.revision === written.revision, 10_000, "the change on b");
    const notice = notices.find((n) => n.startsWith(`${written.revision}\n`))!;
    expect(notice.split("\n")[1]).toBe(`changes ${before.revision}`);
    expect(Object.keys(JSON.parse(notice.split("\n")[2]!).flags)).toEqual(["f7"]);

    const after = b.snapshot()!;
    expect(after.evaluate("f7", { key: "new-user" }).value).toBe("read-only");
    expect(compiledFlagOf(after, "f7")).not.toBe(compiledFlagOf(before, "f7"));
    for (const key of before.keys().filter((k) => k !== "f7")) expect(compiledFlagOf(after, key)).toBe(compiledFlagOf(before, key));
    // What b holds is what Redis holds.
    const stored = JSON.parse((await publisher.get(a.keys.document)) ?? "{}") as FlagDocument;
    expect(JSON.parse(JSON.stringify(after.document))).toEqual(stored);
  });

  it("changes from a base the receiver does not hold, or that do not parse, make it read the document instead", async () => {
    const { a, b, publisher } = await pair();
    await a.write(fleetDocument);
    await waitFor(() => b.snapshot()?.definition("f29"), 10_000, "the thirty flags on b");
    const held = b.snapshot()!.revision;

    // Another writer changed Redis without a notice; then a notice with changes from that unseen revision.
    const doc = JSON.parse((await publisher.get(a.keys.document))!) as FlagDocument;
    doc.flags!.f1!.on = false;
    doc.revision = held + 1;
    await publisher.mset(a.keys.document, JSON.stringify(doc), a.keys.revision, String(held + 1));
    await publisher.publish(a.keys.channel, `${held + 2}\nchanges ${held + 1}\n{"flags":{}}`);
    await waitFor(() => b.snapshot()?.revision === held + 1, 10_000, "b to read the document");
    expect(b.snapshot()!.evaluate("f1", { key: "u1" }).value).toBe("available");

    await publisher.publish(a.keys.channel, `${held + 2}\nchanges ${held + 1}\n{not json`);
    const written = await a.write((draft) => {
      draft.flagValues = { marker: 1 };
    });
    await waitFor(() => b.snapshot()?.revision === written.revision, 10_000, "the next change on b");
    expect(b.health()).toMatchObject({ stale: false, error: null });
  });
});
