import { execFile } from "node:child_process";
import { existsSync } from "node:fs";
import { fileURLToPath } from "node:url";

const bin = fileURLToPath(new URL("../../cli/bin/detour.js", import.meta.url));
const dist = fileURLToPath(new URL("../../cli/dist", import.meta.url));

/** Runs the built `detour` CLI (npm run build first); resolves with its exit code and output. */
export function detour(args: string[], env: Record<string, string> = {}): Promise<{ code: number; stdout: string; stderr: string }> {
  if (!existsSync(dist)) throw new Error("packages/cli/dist is missing: run npm run build first");
  return new Promise((resolve) => {
    execFile(process.execPath, [bin, ...args], { env: { ...process.env, ...env }, timeout: 60_000 }, (error, stdout, stderr) => {
      const code = error ? (typeof error.code === "number" ? error.code : 1) : 0;
      resolve({ code, stdout, stderr });
    });
  });
}
