// One measured run for bench/guard/run.mjs, in a process of its own, printing
// one JSON line on stdout when it is done:
//
//   node once.mjs guard <cli bundle> <detour args...>
//     runs the CLI's run() (from the bundle) with those arguments, as the
//     `detour` binary does, and reports its exit code, the loop's own figures
//     (the --debug line: users, ms, store writes, time inside spawn()) and this process's CPU
//     (user + system, without the children's: getrusage RUSAGE_SELF).
//   node once.mjs spawn <concurrency> <count> <program>
//     the ceiling: spawns <program> <count> times, <concurrency> at a time,
//     as the guard does (no shell, stdio inherited), and nothing else.
import { spawn } from "node:child_process";
import { createRequire } from "node:module";

const [mode, ...rest] = process.argv.slice(2);

function report(fields) {
  const cpu = process.cpuUsage();
  process.stdout.write(`${JSON.stringify({ ...fields, cpuMs: (cpu.user + cpu.system) / 1000 })}\n`);
}

if (mode === "guard") {
  const [bundle, ...argv] = rest;
  const { run } = createRequire(import.meta.url)(bundle);
  let stderr = "";
  const t0 = performance.now();
  const code = await run(argv, { stderr: { write: (chunk) => void (stderr += chunk), isTTY: false } });
  const wallMs = performance.now() - t0;
  const m = /guard loop: (\d+) users in (\d+) ms; (\d+) store writes for (\d+) changes \(([\d.]+) per write\), (\d+) ms waiting for them; (\d+) spawns, (\d+) ms inside spawn\(\)/.exec(stderr);
  if (code !== 0 || !m) {
    process.stderr.write(stderr.slice(-3000));
    process.exit(code === 0 ? 1 : code);
  }
  report({ code, wallMs, users: Number(m[1]), loopMs: Number(m[2]), writes: Number(m[3]), changes: Number(m[4]), writeMs: Number(m[6]), spawnMs: Number(m[8]) });
} else if (mode === "spawn") {
  const [concurrency, count, program] = [Number(rest[0]), Number(rest[1]), rest[2]];
  const t0 = performance.now();
  let running = 0;
  let started = 0;
  await new Promise((done) => {
    const next = () => {
      while (running < concurrency && started < count) {
        started++;
        running++;
        spawn(program, [`u${started}`], { stdio: "inherit" }).once("exit", () => {
          running--;
          if (started === count && running === 0) done();
          else next();
        });
      }
    };
    next();
  });
  report({ loopMs: performance.now() - t0, users: count });
} else {
  throw new Error(`once.mjs: unknown mode ${mode}`);
}
