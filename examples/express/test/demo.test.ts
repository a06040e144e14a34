/**
 * `npm run demo` (the root script builds the packages, then runs
 * examples/demo.mjs, which this test starts as node would).
 */
import { spawn } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeAll, describe, expect, it } from "vitest";
import { ROOT, ensureBuilt } from "@detour/test-support/build";

function startDemo(env: Record<string, string>) {
  const child = spawn(process.execPath, ["examples/demo.mjs"], { cwd: ROOT, env: { ...process.env, ...env }, stdio: ["ignore", "pipe", "pipe"] });
  let output = "";
  child.stdout.on("data", (chunk: Buffer) => (output += chunk.toString()));
  child.stderr.on("data", (chunk: Buffer) => (output += chunk.toString()));
  const exited = new Promise<number | null>((resolve) => child.once("exit", (code) => resolve(code)));
  const ready = new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no URL within 20 s:\n${output}`)), 20_000);
    child.stdout.on("data", () => {
      const url = /(http:\/\/localhost:\d+)/.exec(output)?.[1];
      if (url && output.includes("Ctrl-C")) {
        clearTimeout(timer);
        resolve(url);
      }
    });
    void exited.then((code) => {
      clearTimeout(timer);
      reject(new Error(`the demo exited (${code}) before listening:\n${output}`));
    });
  });
  return { child, ready, exited, output: () => output };
}

describe("npm run demo", () => {
  let dir: string;
  beforeAll(() => ensureBuilt(["core", "express"]), 5 * 60_000);
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  for (const signal of ["SIGINT", "SIGTERM"] as const) {
    it(`serves the Express example on the port it prints (PORT=0), says how to toggle it, and stops on ${signal}`, async () => {
      dir = mkdtempSync(join(tmpdir(), "detour-demo-"));
      const store = join(dir, "detour.json");
      const demo = startDemo({ PORT: "0", DETOUR_STORE: `file:${store}` });
      try {
        const url = await demo.ready;
        expect(url).not.toBe("http://localhost:0");
        const home = await fetch(url, { headers: { "X-User": "alice" } });
        expect(home.status).toBe(200);
        expect(await home.text()).toContain("Add note");
        expect((await fetch(`${url}/health`)).status).toBe(200);
        expect(demo.output()).toContain(`npx @detour/cli on site --store file:${store}`);
        expect(demo.output()).toContain(`npx @detour/cli on site --store file:${store} --user alice`);
        expect(demo.output()).not.toContain("npx detour ");
      } finally {
        demo.child.kill(signal);
      }
      expect(await demo.exited).toBe(0);
    });
  }
});
