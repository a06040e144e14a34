import { readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import type { DetourStatus } from "@detour/core";
import { detour, emptyStore, nodeCommand, readJson, useWorkspace } from "@detour/test-support/cli";

// Per-tenant maintenance from the CLI: --context kind:key on on/off, guard --contexts-from --kind, status by kind.

const ws = useWorkspace();
let counter = 0;

function fresh(): { arg: string; path: string; log: string; list: string } {
  const n = ++counter;
  const path = join(ws.dir, `store-${n}.json`);
  return { arg: emptyStore(path), path, log: join(ws.dir, `log-${n}.txt`), list: join(ws.dir, `tenants-${n}.txt`) };
}

async function status(arg: string): Promise<DetourStatus> {
  return JSON.parse((await detour(["status", "--json", "--store", arg], { cwd: ws.dir })).stdout) as DetourStatus;
}

describe("detour on/off --context", () => {
  it("puts tenants read-only by kind, lists them by kind, and takes one out", async () => {
    const { arg, path } = fresh();
    const on = await detour(["on", "site", "--context", "organization:acme,organization:globex", "--context", "workspace:w1", "--store", arg], { cwd: ws.dir });
    expect(on.code).toBe(0);
    expect(on.stdout).toContain('"site" is read-only for organization acme, globex; workspace w1');
    expect((await status(arg)).flags).toEqual([expect.objectContaining({ key: "site", mode: "read-only", contexts: { organization: ["acme", "globex"], workspace: ["w1"] } })]);
    const table = await detour(["status", "--store", arg], { cwd: ws.dir });
    expect(table.stdout).toMatch(/site\s+in force\s+read-only\s+user\s+organization acme, globex; workspace w1/);

    const off = await detour(["off", "site", "--context", "organization:acme,organization:initech", "--store", arg], { cwd: ws.dir });
    expect(off.code).toBe(0);
    expect(off.stdout).toContain('removed organization:acme from "site"; "site" is read-only for organization globex; workspace w1');
    expect(off.stdout).toContain('organization:initech was not in maintenance ("site" is unchanged for it)');
    const audit = (await readJson(path)).audit!;
    expect(audit[0]).toMatchObject({ action: "disable", flag: "site", details: { contexts: [{ kind: "organization", key: "acme" }] } });
  });

  it("refuses a --context that is not kind:key, naming it, and writes nothing", async () => {
    const { arg, path } = fresh();
    const bad = await detour(["on", "site", "--context", "acme", "--store", arg], { cwd: ws.dir });
    expect(bad.code).not.toBe(0);
    expect(bad.stderr).toMatch(/--context.*expected kind:key, e\.g\. organization:acme.*"acme"/);
    expect((await readJson(path)).flags ?? {}).toEqual({});
  });
});

describe("detour guard --contexts-from --kind", () => {
  it("runs the command once per tenant with its key appended, that tenant read-only meanwhile, and ends with the flag off", async () => {
    const { arg, log, list } = fresh();
    await writeFile(list, "acme\nglobex\n");
    const record = nodeCommand(
      `const fs=require("fs");const {execFileSync}=require("child_process");const key=process.argv[process.argv.length-1];` +
        `const s=JSON.parse(execFileSync(process.execPath,[${JSON.stringify(ws.bin)},"status","--json","--store",${JSON.stringify(arg)}]).toString());` +
        `const f=s.flags.find(f=>f.key==="site");fs.appendFileSync(${JSON.stringify(log)},key+" "+(f?JSON.stringify(f.contexts):"-")+"\\n")`,
    );
    const run = await detour(["guard", "-f", "site", "--contexts-from", list, "--kind", "organization", "--store", arg, "--", ...record], { cwd: ws.dir });
    expect(run.stderr).toContain("organization");
    expect(run.code).toBe(0);
    expect(await readFile(log, "utf8")).toBe('acme {"organization":["acme"]}\nglobex {"organization":["globex"]}\n');
    expect((await status(arg)).flags).toEqual([]);
  });

  it("needs --kind with --contexts-from", async () => {
    const { arg, list } = fresh();
    await writeFile(list, "acme\n");
    const run = await detour(["guard", "-f", "site", "--contexts-from", list, "--store", arg, "--", "true"], { cwd: ws.dir });
    expect(run.code).not.toBe(0);
    expect(run.stderr).toContain("--contexts-from FILE and --kind KIND go together");
  });
});
