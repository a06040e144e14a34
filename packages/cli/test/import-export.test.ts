import { readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import type { FlagDocument } from "@detour/core";
import { detour, emptyStore, readJson, REDIS_URL, useWorkspace, writeJson } from "@detour/test-support/cli";

const ldFixture = fileURLToPath(new URL("./fixtures/launchdarkly-flags.json", import.meta.url));

const ws = useWorkspace();
let counter = 0;

function fresh(): { path: string; arg: string } {
  const path = join(ws.dir, `store-${++counter}.json`);
  return { path, arg: emptyStore(path) };
}

const invalid = {
  flags: {
    site: {
      key: "site",
      on: true,
      variations: ["available", "maintenance"],
      offVariation: 7,
      fallthrough: { rollout: { variations: [{ variation: 0, weight: 150000 }] } },
      rules: [{ clauses: [{ attribute: "ip", op: "near", values: ["10.0.0.0/8"] }], variation: 1 }],
    },
    other: { key: "other", on: true, variations: ["a", "b"], fallthrough: { variation: 9 } },
  },
  extra: true,
};

describe("import", () => {
  it("loads a LaunchDarkly export flag by flag: the flags with problems are left out and reported, the others imported", async () => {
    const { path, arg } = fresh();
    const file = join(ws.dir, "invalid.json");
    await writeJson(file, { ...invalid, flags: { ...invalid.flags, good: { key: "good", on: true, variations: ["a", "b"], fallthrough: { variation: 1 } } } });

    const result = await detour(["import", file, "--store", arg], { cwd: ws.dir });
    expect(result.code).toBe(0);
    const lines = result.stderr.trimEnd().split("\n");
    expect(lines[0]).toMatch(/invalid\.json: \d+ problems; left out: flags\.site, flags\.other$/);
    const problems = lines.slice(1).map((line) => line.replace(/^detour: /, "").trim());
    expect(problems).toEqual(
      expect.arrayContaining([
        expect.stringMatching(/^extra: unknown top-level field/),
        expect.stringMatching(/^flags\.site\.offVariation: /),
        expect.stringMatching(/^flags\.site\.fallthrough\.rollout\.variations\[0\]\.weight: /),
        expect.stringMatching(/^flags\.site\.rules\[0\]\.clauses\[0\]\.op: unknown operator "near"/),
        expect.stringMatching(/^flags\.other\.fallthrough\.variation: /),
      ]),
    );
    expect(result.stdout).toMatch(/imported .*invalid\.json .*: 1 added/);
    expect(Object.keys((await readJson(path)).flags ?? {})).toEqual(["good"]);
  });

  it("status reports a store document's problems, naming path and field, with the other flags in force", async () => {
    const { path, arg } = fresh();
    await writeJson(path, {
      flags: {
        site: { key: "site", on: true, variations: ["available", "read-only"], fallthrough: { variation: 1 }, detour: {} },
        future: { key: "future", on: true, variations: [true, false], fallthrough: { variation: 0 }, rules: [{ clauses: [{ attribute: "key", op: "isTomorrow", values: [] }], variation: 1 }] },
      },
    });
    const table = await detour(["status", "--store", arg], { cwd: ws.dir });
    expect(table.code).toBe(0);
    expect(table.stdout).toMatch(/site\s+in force\s+read-only/);
    expect(table.stdout).toContain("The document loaded with 1 problem (the other flags are in force):\n  flags.future.rules[0].clauses[0].op: unknown operator");
    const json = JSON.parse((await detour(["status", "--json", "--store", arg], { cwd: ws.dir })).stdout) as { problems: { path: string; flag: string }[] };
    expect(json.problems).toEqual([expect.objectContaining({ path: "flags.future.rules[0].clauses[0].op", flag: "future" })]);
  });

  it("refuses what is not an object of flags and changes nothing", async () => {
    const { path, arg } = fresh();
    await detour(["on", "site", "--message", "before", "--store", arg], { cwd: ws.dir });
    const before = await readFile(path, "utf8");
    const file = join(ws.dir, "not-flags.json");
    await writeJson(file, { flags: ["site"] });
    for (const extra of [[], ["--dry-run"]]) {
      const result = await detour(["import", file, ...extra, "--store", arg], { cwd: ws.dir });
      expect(result.code).toBe(1);
      expect(result.stderr).toMatch(/not-flags\.json is not a flag document: 1 problem; nothing was imported\n.*flags: expected an object/);
    }
    expect(await readFile(path, "utf8")).toBe(before);
  });

  it("refuses a file that is not JSON, or missing, with exit 1", async () => {
    const { arg } = fresh();
    const file = join(ws.dir, "broken.json");
    await writeFile(file, '{ "flags": ');
    const broken = await detour(["import", file, "--store", arg], { cwd: ws.dir });
    expect(broken.code).toBe(1);
    expect(broken.stderr).toMatch(/^detour: .*broken\.json is not valid JSON .*nothing was imported\n$/);
    const missing = await detour(["import", join(ws.dir, "nope.json"), "--store", arg], { cwd: ws.dir });
    expect(missing.code).toBe(1);
    expect(missing.stderr).toContain("no such file");
  });

  it("imports a LaunchDarkly flag-data file unchanged, and export gives it back", async () => {
    const { path, arg } = fresh();
    await detour(["on", "site", "--store", arg], { cwd: ws.dir });
    const dry = await detour(["import", ldFixture, "--dry-run", "--store", arg], { cwd: ws.dir });
    expect(dry.code).toBe(0);
    expect(dry.stdout).toMatch(/is valid; importing it into file:.*: 3 added, 0 changed, 1 removed, 0 unchanged\n/);
    expect(dry.stdout).toContain("  + new-checkout: added (maintenance for user-17, user-42; 20% of users)\n");
    expect(dry.stdout).toContain("  - site: removed (in force before: maintenance for everyone (site))\n");
    expect(dry.stdout).toMatch(/needs --yes\)\n\(dry run: nothing changed\)\n$/);
    expect((await readJson(path)).revision).toBe(1);

    // site is in force: replacing the document would remove it, which needs --yes.
    const refused = await detour(["import", ldFixture, "--store", arg], { cwd: ws.dir });
    expect(refused.code).toBe(1);
    expect(refused.stderr).toMatch(/^detour: import: it would remove or change flags in force \(site\); nothing was imported\. Add --yes/);
    expect((await readJson(path)).revision).toBe(1);
    const result = await detour(["import", ldFixture, "--yes", "--store", arg], { cwd: ws.dir });
    expect(result.code).toBe(0);
    const source = JSON.parse(await readFile(ldFixture, "utf8")) as FlagDocument & Record<string, unknown>;
    const exported = JSON.parse((await detour(["export", "--store", arg], { cwd: ws.dir })).stdout) as FlagDocument;
    // LaunchDarkly writes nulls for absent optional fields; Detour drops them. Everything else is kept as it was.
    const withoutNulls = JSON.parse(JSON.stringify(source, (_key, value: unknown) => (value === null ? undefined : value))) as FlagDocument;
    expect(exported.flags).toEqual(withoutNulls.flags);
    expect(exported.flagValues).toEqual(source.flagValues);
    expect(exported.segments).toEqual(source.segments);
    expect(exported.revision).toBe(2);
    // The audit log is kept across the replace, with the import on top.
    expect(exported.audit?.map((entry) => entry.action)).toEqual(["replace", "enable"]);
  });

  it("export --out then import round-trips into another store (Redis), from stdin too", async () => {
    const { arg } = fresh();
    await detour(["import", ldFixture, "--store", arg], { cwd: ws.dir });
    await detour(["rollout", "storage-cluster", "old=50", "new=50", "--store", arg], { cwd: ws.dir });
    const out = join(ws.dir, "backup.json");
    const exported = await detour(["export", "--out", out, "--store", arg], { cwd: ws.dir });
    expect(exported.code).toBe(0);
    expect(exported.stderr).toMatch(/exported 3 flags \(revision 2\) to .*backup\.json/);

    const prefix = ws.redisPrefix();
    const redis = `${REDIS_URL}/0?prefix=${encodeURIComponent(prefix)}`;
    const text = await readFile(out, "utf8");
    const imported = await detour(["import", "-", "--store", redis], { cwd: ws.dir, input: text });
    expect(imported.code, imported.stderr).toBe(0);
    const back = JSON.parse((await detour(["export", "--store", redis], { cwd: ws.dir })).stdout) as FlagDocument;
    const original = JSON.parse(text) as FlagDocument;
    expect(back.flags).toEqual(original.flags);
    expect(back.flagValues).toEqual(original.flagValues);
  });

  it("export of an empty store (as the app creates it) prints an empty document", async () => {
    const { arg } = fresh();
    const result = await detour(["export", "--store", arg], { cwd: ws.dir });
    expect(result.code).toBe(0);
    expect(JSON.parse(result.stdout)).toEqual({ flags: {} });
  });
});

describe("rollout", () => {
  async function withClusterFlag(): Promise<{ path: string; arg: string }> {
    const store = fresh();
    await detour(["import", ldFixture, "--store", store.arg], { cwd: ws.dir });
    return store;
  }

  it("sets a multivariate split", async () => {
    const { path, arg } = await withClusterFlag();
    const result = await detour(["rollout", "storage-cluster", "old=50", "dual=25", "new=25", "--store", arg], { cwd: ws.dir });
    expect(result.code).toBe(0);
    expect(result.stdout).toContain('"storage-cluster" now rolls out old 50%, dual 25%, new 25%');
    const flag = (await readJson(path)).flags?.["storage-cluster"];
    expect(flag?.fallthrough).toEqual({
      rollout: {
        variations: [
          { variation: 0, weight: 50000 },
          { variation: 1, weight: 25000 },
          { variation: 2, weight: 25000 },
        ],
      },
    });
  });

  it.each([
    [["old=50", "new=40"], /^detour: rollout: percentages must sum to 100, got 90 \(old=50 \+ new=40\)$/],
    [["old=50", "blue=25", "green=25"], /^detour: rollout: "storage-cluster" has no variations "blue", "green"; its variations are "old", "dual", "new"$/],
    [["old=fifty", "new=50"], /^detour: rollout: old: expected a percentage from 0 to 100, got "fifty"$/],
    [["old", "new=100"], /^detour: rollout: "old" is not <variation>=<percent>$/],
    [["old=50", "old=50"], /^detour: rollout: old is given twice$/],
  ])("%j is refused with exit 1 and changes nothing", async (split, message) => {
    const { path, arg } = await withClusterFlag();
    const before = await readFile(path, "utf8");
    const result = await detour(["rollout", "storage-cluster", ...split, "--store", arg], { cwd: ws.dir });
    expect(result.code).toBe(1);
    expect(result.stderr.trimEnd()).toMatch(message);
    expect(await readFile(path, "utf8")).toBe(before);
  });

  it("names a missing flag", async () => {
    const { arg } = await withClusterFlag();
    const result = await detour(["rollout", "storage", "old=100", "--store", arg], { cwd: ws.dir });
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/^detour: rollout: no flag "storage" \(flags: new-checkout, storage-cluster\)/);
  });
});
