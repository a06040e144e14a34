/**
 * What an operator types, through the real binary, answered by a real app
 * over HTTP, on a file store and on Redis: `down` with Laravel's options
 * (redirect, render, refresh, status, retry, secret) reaches every instance;
 * off means off; status tells the truth about scheduled, expired and huge
 * flags.
 */
import { writeFile } from "node:fs/promises";
import type { AddressInfo } from "node:net";
import { join } from "node:path";
import { createDetour, fileStore, type Detour, type FlagDocument } from "@detour/core";
import { detour as expressDetour } from "@detour/express";
import { redisStore } from "@detour/redis";
import express from "express";
import { afterAll, describe, expect, it } from "vitest";
import { REDIS_URL, detour, emptyStore, useWorkspace, waitFor } from "@detour/test-support/cli";

const ws = useWorkspace();
const KEY = "the-apps-cookie-signing-key";
let counter = 0;

interface Target {
  /** `--store` for the CLI. */
  arg: string;
  /** The app's own connection to the same store. */
  open(): Detour<express.Request>;
}

const targets: [string, () => Target][] = [
  [
    "file",
    () => {
      const path = join(ws.dir, `app-${++counter}.json`);
      const arg = emptyStore(path);
      return { arg, open: () => createDetour<express.Request>({ store: fileStore(path, { pollIntervalMs: 50 }) }) };
    },
  ],
  [
    "redis",
    () => {
      const prefix = ws.redisPrefix();
      return { arg: `${REDIS_URL}/0?prefix=${encodeURIComponent(prefix)}`, open: () => createDetour<express.Request>({ store: redisStore({ url: `${REDIS_URL}/0`, prefix }) }) };
    },
  ],
];

const servers: { close(): void }[] = [];
const instances: Detour<express.Request>[] = [];
afterAll(async () => {
  for (const server of servers) server.close();
  await Promise.all(instances.map((instance) => instance.close()));
});

/** An Express app on the store, with a cookie-signing key and API paths, listening on a free port. */
async function app(target: Target): Promise<string> {
  const base = target.open();
  instances.push(base);
  await base.ready;
  const maintenance = expressDetour(
    createDetour<express.Request>({ store: base.store, allow: { secret: { value: KEY, path: false } }, json: ["/api/**"], user: (req) => req.get("x-user") }),
  );
  const server = express()
    .use(maintenance)
    .get("/", (_req, res) => void res.send("home"))
    .get("/status", (_req, res) => void res.send("status"))
    .get("/api/notes", (_req, res) => void res.json([]))
    .post("/notes", (_req, res) => void res.status(201).send("saved"))
    .listen(0, "127.0.0.1");
  servers.push(server);
  await new Promise((resolve) => server.once("listening", resolve));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

async function cli(args: string[], target: Target, timeoutMs?: number) {
  const result = await detour([...args, "--store", target.arg], { cwd: ws.dir, timeoutMs });
  expect(result.code, `detour ${args.join(" ")}: ${result.stderr}`).toBe(0);
  return result;
}

describe.each(targets)("through the binary, answered over HTTP (%s store)", (kind, make) => {
  it("down with Laravel's options reaches the app; up brings it back", async () => {
    const target = make();
    const url = await app(target);
    const page = join(ws.dir, `page-${++counter}.html`);
    await writeFile(page, "<!doctype html><h1>Back at three</h1>");
    const down = await cli(["down", "--redirect", "/status", "--render", page, "--refresh", "15", "--status", "502", "--retry", "600", "--with-secret"], target);
    const secret = /open \/(\S+) on the site/.exec(down.stdout)?.[1];
    expect(secret).toMatch(/^[\w-]{32}$/);

    const home = await waitFor(async () => {
      const response = await fetch(url, { headers: { accept: "text/html" }, redirect: "manual" });
      return response.status === 302 ? response : null;
    }, 10_000, "the redirect");
    expect(home.headers.get("location")).toBe("/status");
    const status = await fetch(`${url}/status`, { headers: { accept: "text/html" } });
    expect(status.status).toBe(502);
    expect(await status.text()).toBe("<!doctype html><h1>Back at three</h1>");
    expect(status.headers.get("refresh")).toBe("15");
    expect(status.headers.get("retry-after")).toBe("600");
    const api = await fetch(`${url}/api/notes`, { headers: { accept: "text/html,*/*" } });
    expect(api.headers.get("content-type")).toBe("application/problem+json; charset=utf-8");

    const visit = await fetch(`${url}/${secret}`, { redirect: "manual" });
    expect(visit.status).toBe(302);
    const cookie = visit.headers.get("set-cookie")!.split(";")[0]!;
    expect((await fetch(url, { headers: { cookie } })).status).toBe(200);

    await cli(["up"], target);
    await waitFor(async () => (await fetch(url, { redirect: "manual" })).status === 200, 10_000, "the site back up");
  });

  it("off means off: bob is not read-only again when alice is put in the flag", async () => {
    const target = make();
    const url = await app(target);
    await cli(["on", "site", "--user", "bob"], target);
    await cli(["off", "site"], target);
    const alice = await cli(["on", "site", "--user", "alice"], target);
    expect(alice.stdout).toBe('"site" is read-only for alice\n');
    const post = (user: string) => fetch(`${url}/notes`, { method: "POST", headers: { "x-user": user } }).then((r) => r.status);
    await waitFor(async () => (await post("alice")) === 503, 10_000, "alice read-only");
    expect(await post("bob")).toBe(201);
    // Her refused form post offers "Go back" to the page it came from, never a reload that would send it again.
    const form = await fetch(`${url}/notes`, { method: "POST", headers: { "x-user": "alice", accept: "text/html", referer: `${url}/?tab=notes` } });
    expect(form.status).toBe(503);
    const body = await form.text();
    expect(body).toContain('<a href="/?tab=notes">Go back</a>');
    expect(body).not.toContain('http-equiv="refresh"');
    const absent = await cli(["off", "site", "--user", "99"], target);
    expect(absent.stdout).toBe('99 was not in maintenance ("site" is unchanged for it)\n');
  });

  it("--render refuses a page over 256 KiB, naming the file and the limit; nothing changes", async () => {
    const target = make();
    const page = join(ws.dir, `big-${++counter}.html`);
    await writeFile(page, `<!doctype html>${"x".repeat(256 * 1024)}`);
    const result = await detour(["down", "--render", page, "--store", target.arg], { cwd: ws.dir });
    expect(result.code).toBe(1);
    expect(result.stderr).toBe(`detour: --render: ${page} is 262159 bytes; a stored page may be at most 262144 (256 KiB)\n`);
    expect((await cli(["status"], target)).stdout).toContain("No flag in force.");
  });

  it("a million targeted users: on --user x neither crashes nor prints them all; status shows the count", async () => {
    const target = make();
    // Each command reads and compiles a million users (~10 s on a busy 2-core machine): the CLI's own 60 s load wait, not the 15 s default.
    const slow = 60_000;
    const users = Array.from({ length: 1_000_000 }, (_, i) => `user-${i}`);
    const doc: FlagDocument = {
      flags: { site: { key: "site", on: true, variations: ["available", "read-only", "maintenance"], offVariation: 0, fallthrough: { variation: 0 }, targets: [{ variation: 1, values: users }] } },
    };
    const file = join(ws.dir, `million-${++counter}.json`);
    await writeFile(file, JSON.stringify(doc));
    await cli(["import", file, "--yes"], target, slow);
    const on = await cli(["on", "site", "--user", "x"], target, slow);
    // The file keeps the list's order; Redis keeps a large list in a set and reads it back sorted.
    const first = (kind === "redis" ? [...users, "x"].sort() : users).slice(0, 5).join(", ");
    expect(on.stdout).toBe(`"site" is read-only for 1000001 users: ${first}, …\n`);
    const table = await cli(["status"], target, slow);
    expect(table.stdout).toContain(`1000001 users: ${first}, …`);
    expect(table.stdout.length).toBeLessThan(2000);
    const json = JSON.parse((await cli(["status", "--json"], target, slow)).stdout) as { flags: { users: string[]; userCount: number }[] };
    expect(json.flags[0]).toMatchObject({ userCount: 1_000_001 });
    expect(json.flags[0]!.users).toHaveLength(20);
  }, 300_000);

  it("an expired ttl or window is not listed as in force; a scheduled flag is, with its start", async () => {
    const target = make();
    const past = new Date(Date.now() - 3_600_000).toISOString();
    const file = join(ws.dir, `expired-${++counter}.json`);
    const flag = (key: string, detour: object) => ({ key, on: true, variations: ["available", "read-only", "maintenance"], offVariation: 0, fallthrough: { variation: 2 }, detour });
    await writeFile(file, JSON.stringify({ flags: { site: flag("site", { since: past, ttl: 60 }), billing: flag("billing", { window: { end: new Date(Date.now() - 1000).toISOString() } }) } }));
    await cli(["import", file, "--yes"], target);
    expect((await cli(["status"], target)).stdout).toMatch(/No flag in force\.\n$/);
    await cli(["on", "reports", "--from", "+1h"], target);
    const table = (await cli(["status"], target)).stdout;
    expect(table).toMatch(/reports +scheduled +maintenance +feature +everyone +\d{4}-\d\d-\d\d \d\d:\d\d:\d\dZ/);
    expect(table).not.toMatch(/^(site|billing) /m);
  });
});
