// Two versions of core's sources as bundles: a git ref (its packages/core/src
// taken out with `git archive`) and the working tree. Used by ab.mjs and ir.mjs.
import { execFileSync } from "node:child_process";
import { mkdirSync } from "node:fs";
import { join } from "node:path";
import { build } from "esbuild";
import { root } from "../lib/bundle.mjs";

async function bundle(outfile, sourceRoot) {
  await build({
    entryPoints: [join(sourceRoot, "packages/core/src/index.ts")],
    bundle: true,
    format: "esm",
    platform: "node",
    target: "node20",
    outfile,
    nodePaths: [join(root, "node_modules")],
    logLevel: "warning",
  });
  return outfile;
}

/** Bundles `ref` and the working tree into `work`: `{ commit, base, head }` (the short commit of `ref` and the two files). */
export async function bundleVersions(ref, work) {
  const baseRoot = join(work, "base");
  mkdirSync(baseRoot, { recursive: true });
  execFileSync("sh", ["-c", `git -C "${root}" archive "${ref}" packages/core/src | tar -x -C "${baseRoot}"`]);
  const commit = execFileSync("git", ["-C", root, "rev-parse", "--short", ref], { encoding: "utf8" }).trim();
  return { commit, base: await bundle(join(work, "base.mjs"), baseRoot), head: await bundle(join(work, "head.mjs"), root) };
}
