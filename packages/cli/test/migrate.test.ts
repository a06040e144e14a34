/**
 * `detour migrate`, through the real binary, on a file store and on Redis:
 * create a migration flag, move cohorts through its stages (forward only
 * unless --back), target single users and contexts, show the distribution.
 * Every document it writes is checked by evaluating it as the app would.
 */
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { init, integrations } from "@launchdarkly/node-server-sdk";
import { createDetour, fileStore as openFileStore, Snapshot, type FlagDocument, type Store } from "@detour/core";
import { createMigration, shareMigrationFigures } from "@detour/migrate";
import { redisStore } from "@detour/redis";
import { describe, expect, it } from "vitest";
import { detour, emptyStore, readJson, redisDocument, REDIS_URL, useWorkspace } from "@detour/test-support/cli";

const ws = useWorkspace();
let counter = 0;

function fileStore(): { path: string; arg: string } {
  const path = join(ws.dir, `migrate-${++counter}.json`);
  return { path, arg: emptyStore(path) };
}

async function ok(args: string[], store: string[]): Promise<string> {
  const result = await detour([...args, ...store], { cwd: ws.dir });
  if (result.code !== 0) throw new Error(`detour ${args.join(" ")} exited ${result.code}: ${result.stderr}`);
  return result.stdout;
}

/** Share of 2,000 users on each stage, evaluated on the document. */
function distribution(document: FlagDocument, flag: string): Record<string, number> {
  const snapshot = Snapshot.from(document);
  const counts: Record<string, number> = {};
  for (let i = 0; i < 2000; i++) {
    const stage = String(snapshot.evaluate(flag, { kind: "user", key: `user-${i}` }).value);
    counts[stage] = (counts[stage] ?? 0) + 1;
  }
  return counts;
}

function stageOf(document: FlagDocument, flag: string, context: { kind: string; key: string }): unknown {
  return Snapshot.from(document).evaluate(flag, context).value;
}

/**
 * The stage LaunchDarkly's SDK (offline, file data source) gives a context on
 * this document: the oracle for targets of other context kinds, which Detour's
 * evaluator does not read yet (issue 19).
 */
async function launchDarklyStage(document: FlagDocument, flag: string, context: { kind: string; key: string }): Promise<unknown> {
  const path = join(ws.dir, `ld-${++counter}.json`);
  writeFileSync(path, JSON.stringify({ flags: document.flags }));
  const silent = { error() {}, warn() {}, info() {}, debug() {} };
  const client = init("cli-migrate-test", { updateProcessor: new integrations.FileDataSourceFactory({ paths: [path] }).getFactory(), sendEvents: false, diagnosticOptOut: true, logger: silent });
  try {
    await client.waitForInitialization({ timeout: 10 });
    return await client.variation(flag, context, "default");
  } finally {
    client.close();
  }
}

describe("detour migrate on a file store", () => {
  it("--help shows the move form, the subcommands and examples", async () => {
    const result = await detour(["migrate", "--help"], { cwd: ws.dir });
    expect(result.code).toBe(0);
    expect(result.stdout).toMatch(/^Usage: detour migrate <flag> <stage> \[--percent N\]/);
    expect(result.stdout).toMatch(/create \[options\] <flag>[\s\S]*status \[options\] <flag>[\s\S]*detour migrate storage-cluster dualwrite --percent 25/);
  });

  it("creates flags from LaunchDarkly's 2-, 4- and 6-stage templates, with a check ratio", async () => {
    const { path, arg } = fileStore();
    const store = ["--store", arg];
    expect(await ok(["migrate", "create", "two", "--stages", "2"], store)).toContain("off → complete");
    await ok(["migrate", "create", "four", "--stages", "4"], store);
    await ok(["migrate", "create", "six", "--check-ratio", "3"], store);
    const doc = await readJson(path);
    expect(doc.flags!.two!.variations).toEqual(["off", "complete"]);
    expect(doc.flags!.four!.variations).toEqual(["off", "dualwrite", "rampdown", "complete"]);
    expect(doc.flags!.six).toMatchObject({ variations: ["off", "dualwrite", "shadow", "live", "rampdown", "complete"], migration: { checkRatio: 3 }, on: true });
    expect(doc.audit![0]).toMatchObject({ action: "migrate-create", flag: "six", details: { checkRatio: 3 } });
    const again = await detour(["migrate", "create", "six", ...store], { cwd: ws.dir });
    expect(again.code).toBe(1);
    expect(again.stderr).toMatch(/^detour: migrate create: "six" already exists/);
    const bad = await detour(["migrate", "create", "x", "--stages", "3", ...store], { cwd: ws.dir });
    expect(bad.stderr).toMatch(/--stages must be 2, 4 or 6, got "3"/);
  });

  it("moves everyone through the six stages in 25 % steps, forward only, and shows the distribution", async () => {
    const { path, arg } = fileStore();
    const store = ["--store", arg];
    await ok(["migrate", "create", "storage"], store);
    const seen = new Map<string, string>();
    const stages = ["dualwrite", "shadow", "live", "rampdown", "complete"];
    for (const stage of stages) {
      for (const percent of [25, 50, 75, 100]) {
        await ok(["migrate", "storage", stage, "--percent", String(percent)], store);
        const doc = await readJson(path);
        const counts = distribution(doc, "storage");
        // The share at this stage is about `percent` (bucketing of 2,000 users: within 5 points).
        expect(Math.abs((counts[stage] ?? 0) / 20 - percent)).toBeLessThan(5);
        // Nobody ever moves back.
        const snapshot = Snapshot.from(doc);
        for (let i = 0; i < 2000; i += 7) {
          const key = `user-${i}`;
          const now = String(snapshot.evaluate("storage", { kind: "user", key }).value);
          const before = seen.get(key);
          if (before) expect(stages.indexOf(now) >= stages.indexOf(before) || before === "off").toBe(true);
          seen.set(key, now);
        }
      }
    }
    expect(distribution(await readJson(path), "storage")).toEqual({ complete: 2000 });
    const status = await ok(["migrate", "status", "storage"], store);
    expect(status).toMatch(/complete\s+100% of everyone/);
    const json = JSON.parse(await ok(["migrate", "status", "storage", "--json"], store));
    expect(json.stages.map((s: { stage: string; percent: number }) => [s.stage, s.percent])).toEqual([
      ["off", 0], ["dualwrite", 0], ["shadow", 0], ["live", 0], ["rampdown", 0], ["complete", 100],
    ]);
  });

  it("refuses to move anyone back without --back, and moves them back with it", async () => {
    const { path, arg } = fileStore();
    const store = ["--store", arg];
    await ok(["migrate", "create", "storage"], store);
    await ok(["migrate", "storage", "live", "--percent", "50"], store);
    const back = await detour(["migrate", "storage", "shadow", ...store], { cwd: ws.dir });
    expect(back.code).toBe(0);
    // Forward only: everyone not yet past shadow is now on shadow; live stays live.
    const counts = distribution(await readJson(path), "storage");
    expect(Object.keys(counts).sort()).toEqual(["live", "shadow"]);
    const before = await readJson(path);
    const down = await detour(["migrate", "storage", "live", "--percent", "10", ...store], { cwd: ws.dir });
    expect(down.code).toBe(1);
    expect(down.stderr).toMatch(/^detour: migrate: this would move 40% of contexts back to an earlier stage; pass --back to do so/);
    // Refused: nothing was written.
    expect(await readJson(path)).toEqual(before);
    await ok(["migrate", "storage", "off", "--back"], store);
    expect(distribution(await readJson(path), "storage")).toEqual({ off: 2000 });
  });

  it("gives a stage to single users and contexts, forward only unless --back", async () => {
    const { path, arg } = fileStore();
    const store = ["--store", arg];
    await ok(["migrate", "create", "storage"], store);
    expect(await ok(["migrate", "storage", "live", "--user", "alice,bob", "--context", "tenant:acme"], store)).toContain("alice, bob, tenant:acme now on live");
    let doc = await readJson(path);
    expect(stageOf(doc, "storage", { kind: "user", key: "alice" })).toBe("live");
    expect(await launchDarklyStage(doc, "storage", { kind: "tenant", key: "acme" })).toBe("live");
    expect(await launchDarklyStage(doc, "storage", { kind: "user", key: "alice" })).toBe("live");
    expect(stageOf(doc, "storage", { kind: "user", key: "carol" })).toBe("off");
    const back = await detour(["migrate", "storage", "shadow", "--user", "alice", ...store], { cwd: ws.dir });
    expect(back.code).toBe(1);
    expect(back.stderr).toMatch(/user:alice is past shadow already; moving back needs --back/);
    await ok(["migrate", "storage", "shadow", "--user", "alice", "--back"], store);
    doc = await readJson(path);
    expect(stageOf(doc, "storage", { kind: "user", key: "alice" })).toBe("shadow");
    expect(stageOf(doc, "storage", { kind: "user", key: "bob" })).toBe("live");
    expect(await ok(["migrate", "status", "storage"], store)).toMatch(/shadow\s+0% of everyone\s+\+ 1 targeted[\s\S]*live\s+0% of everyone\s+\+ 2 targeted/);
  });

  it("names what is wrong: a flag that is not a migration flag, a stage it does not have, a bad context", async () => {
    const { arg } = fileStore();
    const store = ["--store", arg];
    await ok(["on", "billing", "--create"], store);
    await ok(["migrate", "create", "two", "--stages", "2"], store);
    const cases: [string[], RegExp][] = [
      [["migrate", "billing", "live"], /"billing" is not a migration flag: its variation "available" is not a stage/],
      [["migrate", "two", "live"], /"two" has no stage "live"; its stages are off, complete/],
      [["migrate", "two", "sideways"], /"sideways" is not a stage; its stages are off, complete/],
      [["migrate", "two", "complete", "--context", "acme"], /--context: expected kind:key \(e.g. tenant:acme\), got "acme"/],
      [["migrate", "two", "complete", "--percent", "120"], /expected a percentage from 0 to 100, got "120"/],
      [["migrate", "nope", "complete"], /no flag "nope"/],
    ];
    for (const [args, message] of cases) {
      const result = await detour([...args, ...store], { cwd: ws.dir });
      expect(result.code, args.join(" ")).toBe(1);
      expect(result.stderr).toMatch(message);
    }
  });
});

/** An app instance on the flag store: 10 reads on shadow (the new side failing 2), its figures published to `figures`. */
async function publishFigures(flags: Store, figures: Store): Promise<void> {
  const app = createDetour({ store: flags });
  await app.ready;
  await figures.load();
  const fleet = shareMigrationFigures(app, { store: figures, instance: "app-1", intervalMs: 60_000 });
  let n = 0;
  const notes = createMigration(app, {
    readOld: () => 1,
    readNew: () => {
      if (++n <= 2) throw new Error("new is warming up");
      return n % 4 === 0 ? 2 : 1;
    },
    writeOld: () => 1,
    writeNew: () => 1,
    check: (a, b) => a === b,
  });
  for (let i = 0; i < 10; i++) await notes.read("storage", { key: `user-${i}` }, "off");
  await fleet.publish();
  await figures.close();
  await app.close();
}

describe("detour migrate status --figures", () => {
  it("shows the live figures the app instances publish to a figures store", async () => {
    const { path, arg } = fileStore();
    const store = ["--store", arg];
    await ok(["migrate", "create", "storage"], store);
    await ok(["migrate", "storage", "shadow"], store);
    const figuresPath = join(ws.dir, `figures-${++counter}.json`);
    await publishFigures(openFileStore(path), openFileStore(figuresPath, { create: true }));
    const out = await ok(["migrate", "status", "storage", "--figures", `file:${figuresPath}`], store);
    expect(out).toMatch(/live, last 5 min, 1 instance:\n\s+shadow\s+new 10 calls, errors 20\.0%, p50 [\d.]+ (µs|ms), p99 [\d.]+ (µs|ms); old 10 calls, errors 0%, p50 .*; consistent 75\.0% of 8/);
    const json = JSON.parse(await ok(["migrate", "status", "storage", "--figures", `file:${figuresPath}`, "--json"], store));
    expect(json.figures).toMatchObject({ minutes: 5, instances: 1, stages: [{ stage: "shadow", checks: { consistent: 6, inconsistent: 2 } }] });
    const missing = await detour(["migrate", "status", "storage", "--figures", `file:${join(ws.dir, "nope.json")}`, ...store], { cwd: ws.dir });
    expect(missing.code).toBe(2);
    expect(missing.stderr).toMatch(/^detour: --figures: cannot read file:/);
  });

  it("reads the figures from Redis too", async () => {
    const prefix = ws.redisPrefix();
    const figuresPrefix = ws.redisPrefix();
    const store = ["--store", `${REDIS_URL}/0?prefix=${encodeURIComponent(prefix)}`];
    await ok(["migrate", "create", "storage"], store);
    await ok(["migrate", "storage", "shadow"], store);
    await publishFigures(redisStore({ url: `${REDIS_URL}/0`, prefix }), redisStore({ url: `${REDIS_URL}/0`, prefix: figuresPrefix }));
    const out = await ok(["migrate", "status", "storage", "--figures", `${REDIS_URL}/0?prefix=${encodeURIComponent(figuresPrefix)}`], store);
    expect(out).toMatch(/shadow\s+new 10 calls, errors 20\.0%/);
  });
});

describe("detour migrate on Redis", () => {
  it("creates, moves and shows a migration flag in a Redis store", async () => {
    const prefix = ws.redisPrefix();
    const store = ["--store", `${REDIS_URL}/0?prefix=${encodeURIComponent(prefix)}`];
    await ok(["migrate", "create", "storage", "--check-ratio", "2"], store);
    await ok(["migrate", "storage", "dualwrite", "--percent", "25"], store);
    await ok(["migrate", "storage", "live", "--context", "tenant:acme"], store);
    const doc = (await redisDocument(prefix))!;
    const counts = distribution(doc, "storage");
    expect(Math.abs(counts.dualwrite! / 20 - 25)).toBeLessThan(5);
    expect(await launchDarklyStage(doc, "storage", { kind: "tenant", key: "acme" })).toBe("live");
    expect(await ok(["migrate", "status", "storage"], store)).toMatch(/checks 1 read in 2[\s\S]*dualwrite\s+25% of everyone/);
  });
});
