#!/usr/bin/env node
import { run } from "./program.js";

run(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
    // Everything is closed by now; if a stray handle lingers, do not hang the shell.
    setTimeout(() => process.exit(code), 2000).unref();
  },
  (error: unknown) => {
    process.stderr.write(`detour: ${error instanceof Error ? error.message : String(error)}\n`);
    process.exitCode = 1;
  },
);
