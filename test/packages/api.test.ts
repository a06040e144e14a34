/**
 * The typings of @detour/core export what its README documents, entry point
 * by entry point, and nothing else: a name that leaks into the published
 * `.d.ts` (a compiled internal, a helper) fails here, and so does a README
 * that lists a name the package no longer has.
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import ts from "typescript";
import { beforeAll, describe, expect, it } from "vitest";
import { ROOT, ensureBuilt } from "@detour/test-support/build";

const DIST = join(ROOT, "packages/core/dist");
const README = readFileSync(join(ROOT, "packages/core/README.md"), "utf8");

const ENTRIES = {
  "@detour/core": "index.d.ts",
  "@detour/core/adapter": "adapter.d.ts",
  "@detour/core/store": "store.d.ts",
} as const;

/** The names in backticks of the README section `### \`<entry>\``, up to the next heading. */
function documented(entry: string): string[] {
  const start = README.indexOf(`### \`${entry}\``);
  if (start < 0) throw new Error(`packages/core/README.md has no "### \`${entry}\`" section`);
  const rest = README.slice(start + 1);
  const section = rest.slice(0, rest.search(/\n#{2,3} /));
  const prose = section.replace(/```[\s\S]*?```/g, "");
  return [...new Set([...prose.matchAll(/`([A-Za-z_$][\w$]*)(?:\(\))?`/g)].map((match) => match[1]!))].sort();
}

const DECISION_MEMBERS = ["context", "variation", "explain", "toJSON"];

let exported: Record<string, string[]>;

beforeAll(async () => {
  await ensureBuilt(["core"]);
  const files = Object.values(ENTRIES).map((file) => join(DIST, file));
  const program = ts.createProgram(files, { module: ts.ModuleKind.ESNext, moduleResolution: ts.ModuleResolutionKind.Bundler, skipLibCheck: true, types: [] });
  const checker = program.getTypeChecker();
  exported = Object.fromEntries(
    Object.entries(ENTRIES).map(([entry, file]) => {
      const module = checker.getSymbolAtLocation(program.getSourceFile(join(DIST, file))!)!;
      return [entry, checker.getExportsOfModule(module).map((symbol) => symbol.name).sort()];
    }),
  );
}, 5 * 60_000);

describe("@detour/core's published typings", () => {
  it.each(Object.keys(ENTRIES))("%s exports exactly the names its README section lists", (entry) => {
    expect(exported[entry]!.length).toBeGreaterThan(5);
    const names = documented(entry);
    expect(exported[entry]!.filter((name) => !names.includes(name)), "exported but not documented").toEqual([]);
    // Besides exports, the prose names only the members of a Decision.
    expect(names.filter((name) => !exported[entry]!.includes(name) && !DECISION_MEMBERS.includes(name)), "documented but not exported").toEqual([]);
  });

  it("leaks no compiled form and no second Decision", () => {
    const typings = Object.values(ENTRIES).map((file) => readFileSync(join(DIST, file), "utf8")).join("\n");
    expect(typings).not.toMatch(/CompiledFlag|CompiledSegment|Decision\$1|NormalizedOptions|PolicyView/);
  });
});
