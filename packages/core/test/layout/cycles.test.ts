/**
 * Core's modules import one way: no file imports itself through others, and
 * no folder does (`respond/` reads `decision/`, `policy/` calls `respond/`,
 * never the reverse). Type-only imports count: they tie the modules together
 * just the same for a reader.
 */
import { fileURLToPath } from "node:url";
import madge from "madge";
import { beforeAll, describe, expect, it } from "vitest";

const src = fileURLToPath(new URL("../../src", import.meta.url));

/** A module's part: its folder, or the file itself at the top (`stores/` holds files and folders of its own: one level down). */
function partOf(file: string): string {
  const parts = file.split("/");
  if (parts[0] === "stores") return parts.length > 2 ? `stores/${parts[1]}` : file;
  return parts.length === 1 ? file : parts[0]!;
}

/** Cycles of a graph (each once, as the path that closes it). */
function cyclesOf(graph: ReadonlyMap<string, ReadonlySet<string>>): string[][] {
  const cycles: string[][] = [];
  const done = new Set<string>();
  const visit = (node: string, path: string[]) => {
    const at = path.indexOf(node);
    if (at >= 0) {
      cycles.push([...path.slice(at), node]);
      return;
    }
    if (done.has(node)) return;
    for (const next of graph.get(node) ?? []) visit(next, [...path, node]);
    done.add(node);
  };
  for (const node of graph.keys()) visit(node, []);
  return cycles;
}

let files: Record<string, string[]>;

beforeAll(async () => {
  const result = await madge(src, { fileExtensions: ["ts"], tsConfig: fileURLToPath(new URL("../../tsconfig.json", import.meta.url)) });
  files = result.obj();
}, 60_000);

describe("core's import graph", () => {
  it("reads every module (the graph is not empty)", () => {
    expect(Object.keys(files)).toEqual(expect.arrayContaining(["index.ts", "detour.ts", "policy/policy.ts", "respond/index.ts", "decision/types.ts"]));
    expect(files["policy/policy.ts"]).toContain("respond/index.ts");
  });

  it("has no cycle between files", () => {
    const graph = new Map(Object.entries(files).map(([file, imports]) => [file, new Set(imports)]));
    expect(cyclesOf(graph)).toEqual([]);
  });

  it("has no cycle between folders", () => {
    const graph = new Map<string, Set<string>>();
    for (const [file, imports] of Object.entries(files)) {
      for (const imported of imports) {
        const from = partOf(file);
        const to = partOf(imported);
        if (from === to) continue;
        if (!graph.has(from)) graph.set(from, new Set());
        graph.get(from)!.add(to);
      }
    }
    expect(cyclesOf(graph)).toEqual([]);
  });
});
