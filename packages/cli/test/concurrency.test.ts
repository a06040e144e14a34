import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { detour, emptyStore, readJson, redisDocument, REDIS_URL, useWorkspace } from "@detour/test-support/cli";

const PROCESSES = 12;

const ws = useWorkspace();

const users = Array.from({ length: PROCESSES }, (_, i) => `u${i + 1}`);

async function race(store: string[]): Promise<void> {
  const results = await Promise.all(users.map((user) => detour(["on", "billing", "--user", user, ...store], { cwd: ws.dir, timeoutMs: 30_000 })));
  for (const result of results) expect(result, result.stderr).toMatchObject({ code: 0 });
}

function targeted(doc: { flags?: Record<string, { targets?: { values: string[] }[] }> } | null): string[] {
  return (doc?.flags?.billing?.targets ?? []).flatMap((t) => t.values).sort();
}

describe(`${PROCESSES} concurrent "detour on billing --user uN" processes lose no user`, () => {
  it("against a file store", async () => {
    const path = join(ws.dir, "concurrent.json");
    await race(["--store", emptyStore(path)]);
    const doc = await readJson(path);
    expect(targeted(doc)).toEqual([...users].sort());
    expect(doc.revision).toBe(PROCESSES);
    expect(doc.audit).toHaveLength(PROCESSES);
  });

  it("against Redis (URL prefix), then --prefix reads the same document", async () => {
    const prefix = ws.redisPrefix();
    await race(["--store", `${REDIS_URL}/0?prefix=${encodeURIComponent(prefix)}`]);
    const doc = await redisDocument(prefix);
    expect(targeted(doc)).toEqual([...users].sort());
    expect(doc?.audit).toHaveLength(PROCESSES);
    const status = await detour(["status", "--json", "--store", `${REDIS_URL}/0`, "--prefix", prefix], { cwd: ws.dir });
    expect(status.code).toBe(0);
    const parsed = JSON.parse(status.stdout) as { store: { kind: string }; flags: { key: string; users: string[] }[] };
    expect(parsed.store.kind).toBe("redis");
    expect(parsed.flags[0]!.users.sort()).toEqual([...users].sort());
  });
});
