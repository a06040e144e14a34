/**
 * The CLI README's examples are the ones this test runs. Every ```console
 * block is a transcript: each `$ command` line runs through a shell with the
 * real `detour` binary on PATH, in a fresh store (a file store, then a Redis
 * store), and what it prints (stdout and stderr, in order) must be the lines
 * that follow it. `$ echo $?` prints the previous command's exit status.
 *
 * Before comparing, both sides are normalised: times, the store's location,
 * the audit actor, a generated secret, and runs of spaces (table widths).
 * `DETOUR_UPDATE_README=1` rewrites the README's outputs from a file-store
 * run instead of comparing (then review the diff).
 *
 * A block preceded by `<!-- readme-test: no-store -->` runs without a store
 * (it shows what a mistyped store says); it runs on the file store only.
 */
import { spawnSync } from "node:child_process";
import { chmodSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { REDIS_URL, emptyStore, useWorkspace } from "@detour/test-support/cli";

const README = fileURLToPath(new URL("../README.md", import.meta.url));
const UPDATE = process.env.DETOUR_UPDATE_README === "1";

interface Step {
  command: string;
  expected: string[];
}

interface Block {
  /** 1-based line of the opening fence. */
  line: number;
  noStore: boolean;
  steps: Step[];
}

/** The ```console blocks of the README, as transcripts. */
function transcripts(text: string): Block[] {
  const lines = text.split("\n");
  const blocks: Block[] = [];
  for (let i = 0; i < lines.length; i++) {
    if (lines[i] !== "```console") continue;
    const block: Block = { line: i + 1, noStore: /readme-test: no-store/.test(lines[i - 1] ?? "") || /readme-test: no-store/.test(lines[i - 2] ?? ""), steps: [] };
    for (i++; i < lines.length && lines[i] !== "```"; i++) {
      const line = lines[i]!;
      if (line.startsWith("$ ")) block.steps.push({ command: line.slice(2), expected: [] });
      else if (block.steps.length === 0) throw new Error(`README.md:${i + 1}: a console block must start with a "$ " command`);
      else block.steps.at(-1)!.expected.push(line);
    }
    blocks.push(block);
  }
  return blocks;
}

/** What may differ between runs and stores, replaced on both sides. */
function normalise(lines: readonly string[]): string[] {
  return lines
    .map((line) =>
      line
        .replace(/\d{4}-\d\d-\d\d[ T]\d\d:\d\d:\d\d(\.\d+)?Z/g, "<time>")
        .replace(/(file:\S+?\.json|redis:\/\/\S+ \(prefix [^)]*\))/g, "<store>")
        .replace(/cli:[^\s@"]+@[^\s"]+/g, "cli:<actor>")
        .replace(/open \/[A-Za-z0-9._~-]+ on the site/g, "open /<secret> on the site")
        .replace(/\brevision \d+/g, "revision <n>")
        .replace(/"kind": "(file|redis)"/g, '"kind": "<kind>"')
        .replace(/"ageMs": \d+/g, '"ageMs": <ms>')
        .replace(/\b(ok in|ETA) [\d.]+[smhd][\dhms]*/g, "$1 <duration>")
        .replace(/\b[\d.]+ users\/s\b/g, "<n> users/s")
        .replace(/ {2,}/g, " ")
        .trimEnd(),
    )
    .filter((line, index, all) => !(line === "" && index === all.length - 1));
}

/** The files the README's examples use, in the directory they run in. */
function fixtures(dir: string): void {
  const script = (name: string, body: string) => {
    writeFileSync(join(dir, name), `#!/bin/sh\n${body}\n`);
    chmodSync(join(dir, name), 0o755);
  };
  script("migrate.sh", 'echo "... migrate.sh output ..."\nexit 3');
  script("move-invoices.sh", 'echo "moving the invoices of $1"\n[ "$1" != u2 ] || [ -e fixed ]');
  script("fix-user.sh", '[ "$1" != u2 ] || [ -e fixed ]');
  writeFileSync(join(dir, "users.txt"), "u1\nu2\nu3\n");
  writeFileSync(join(dir, "maintenance.html"), "<!doctype html><title>Back soon</title><h1>Back at 03:00 UTC</h1>\n");
  writeFileSync(
    join(dir, "flags.json"),
    `${JSON.stringify({ flags: { billing: { key: "billing", on: true, variations: ["available", "read-only", "maintenance"], offVariation: 0, fallthrough: { variation: 2 } } } }, null, 2)}\n`,
  );
  writeFileSync(
    join(dir, "storage.json"),
    `${JSON.stringify({ flags: { "storage-cluster": { key: "storage-cluster", on: true, variations: ["old", "dual", "new"], fallthrough: { variation: 0 } } } }, null, 2)}\n`,
  );
}

interface Run {
  outputs: string[][];
}

function runBlock(block: Block, dir: string, bin: string, store: string | null): Run {
  const binDir = join(dir, "bin");
  mkdirSync(binDir, { recursive: true });
  writeFileSync(join(binDir, "detour"), `#!/bin/sh\nexec "${process.execPath}" "${bin}" "$@"\n`);
  chmodSync(join(binDir, "detour"), 0o755);
  fixtures(dir);
  const env: NodeJS.ProcessEnv = { ...process.env, PATH: `${binDir}:${process.env.PATH ?? ""}`, COLUMNS: "200" };
  delete env.DETOUR_STORE;
  delete env.DETOUR_DEBUG;
  if (store !== null) env.DETOUR_STORE = store;
  const outputs: string[][] = [];
  let status = 0;
  for (const step of block.steps) {
    if (step.command === "echo $?") {
      outputs.push([String(status)]);
      continue;
    }
    const result = spawnSync("/bin/sh", ["-c", `${step.command} 2>&1`], { cwd: dir, env, encoding: "utf8", timeout: 30_000 });
    if (result.error) throw result.error;
    status = result.status ?? 128;
    outputs.push(result.stdout.replace(/\n$/, "").split("\n"));
  }
  return { outputs };
}

const blocks = transcripts(readFileSync(README, "utf8"));
const ws = useWorkspace();
let counter = 0;

describe("the CLI README's examples", () => {
  it("has examples, and every command example in it is a transcript this test runs", () => {
    expect(blocks.length).toBeGreaterThan(8);
    const text = readFileSync(README, "utf8");
    // Other fenced blocks may show installation or code, never an untested `detour` command line.
    const others = [...text.matchAll(/```(sh|bash|shell)?\n([\s\S]*?)```/g)].filter((m) => /^\s*(\$ )?detour /m.test(m[2]!));
    expect(others.map((m) => m[2])).toEqual([]);
  });

  const stores: ["file" | "redis", (dir: string) => string][] = [
    ["file", (dir) => emptyStore(join(dir, "detour.json"))],
    ["redis", () => `${REDIS_URL}/0?prefix=${encodeURIComponent(ws.redisPrefix())}`],
  ];
  for (const [kind, makeStore] of stores) {
    for (const block of blocks) {
      if (block.noStore && kind === "redis") continue;
      it(`README.md:${block.line} (${kind} store): ${block.steps[0]!.command}`, () => {
        const dir = join(ws.dir, `block-${++counter}`);
        mkdirSync(dir, { recursive: true });
        const run = runBlock(block, dir, ws.bin, block.noStore ? null : makeStore(dir));
        block.steps.forEach((step, i) => {
          const actual = run.outputs[i]!.map((line) => line.replaceAll(dir, "/srv/app"));
          if (UPDATE && kind === "file") {
            step.expected = actual.map((line) => line.replace(/cli:[^\s@"]+@[^\s"]+/g, "cli:ops@web-1"));
            return;
          }
          expect(normalise(actual), `README.md:${block.line}: $ ${step.command}`).toEqual(normalise(step.expected));
        });
      }, 60_000);
    }
  }

  if (UPDATE) {
    it("rewrites the README's outputs (DETOUR_UPDATE_README=1)", () => {
      const lines = readFileSync(README, "utf8").split("\n");
      const out: string[] = [];
      let b = 0;
      for (let i = 0; i < lines.length; i++) {
        out.push(lines[i]!);
        if (lines[i] !== "```console") continue;
        const block = blocks[b++]!;
        for (const step of block.steps) out.push(`$ ${step.command}`, ...step.expected.filter((line, j, all) => !(line === "" && j === all.length - 1)));
        while (lines[i + 1] !== "```") i++;
      }
      writeFileSync(README, out.join("\n"));
    });
  }
});
