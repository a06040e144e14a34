/**
 * One maintenance period, from `enable` to `disable`: off means off, the
 * settings an operator gives for the period (Laravel's `down` options), and
 * what `status()` says about it.
 */
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { createDetour, fileStore, memoryStore, type Detour, type DetourRequest, type FlagDocument, type Store } from "../../src/index.js";
import { clock, detourWith, modeFlag, request, T0 } from "./helpers.js";

const dirs: string[] = [];
afterAll(() => Promise.all(dirs.map((dir) => rm(dir, { recursive: true, force: true }))));

const stores: [string, (doc: FlagDocument) => Promise<Store>][] = [
  ["memory", async (doc) => memoryStore(doc)],
  [
    "file",
    async (doc) => {
      const dir = await mkdtemp(join(tmpdir(), "detour-period-"));
      dirs.push(dir);
      const path = join(dir, "detour.json");
      const { writeFile } = await import("node:fs/promises");
      await writeFile(path, JSON.stringify(doc));
      return fileStore(path, { watch: false });
    },
  ],
];

async function detourOn(store: Store, options: Parameters<typeof createDetour<DetourRequest>>[0] = {}): Promise<Detour> {
  const detour = createDetour<DetourRequest>({ store, user: (req) => req.user as string, ...options });
  await detour.ready;
  return detour;
}

describe.each(stores)("off means off (%s store)", (_name, open) => {
  it("off, then users on again: only the new users are read-only", async () => {
    const detour = await detourOn(await open({ flags: {} }));
    await detour.enable("site", { users: ["bob"] });
    await detour.disable("site");
    const status = await detour.enable("site", { users: ["alice"] });
    expect(status.flags).toMatchObject([{ key: "site", scope: "user", users: ["alice"], userCount: 1 }]);
    expect(detour.decide(request({ method: "POST", user: "bob" })).action).toBe("pass");
    expect(detour.decide(request({ method: "POST", user: "alice" })).action).toBe("block");
    await detour.close();
  });

  it("off ends the percentage, the message, the window, the ttl and every setting of the period; exemptions stay", async () => {
    const detour = await detourOn(await open({ flags: modeFlag("site", { targets: [{ variation: 0, values: ["qa"] }] }) }));
    await detour.enable("site", {
      percent: 30,
      users: ["u1"],
      message: "Moving",
      retryAfter: 60,
      window: { end: new Date(Date.now() + 3_600_000) },
      ttl: 600,
      status: 502,
      redirect: "/status",
      refresh: 10,
      page: "<h1>Down</h1>",
      secret: "a-long-enough-secret",
      retryAt: new Date(Date.now() + 60_000),
    });
    await detour.disable("site");
    const flag = detour.document()!.flags!.site!;
    expect(flag.on).toBe(false);
    expect(flag.fallthrough).toEqual({ variation: 0 });
    expect(flag.targets).toEqual([{ variation: 0, values: ["qa"] }]);
    expect(Object.keys(flag.detour ?? {})).toEqual(["by"]);
    await detour.enable("site", { mode: "read-only" });
    expect(detour.decide(request({ method: "POST", user: "u1" })).message).toBeNull();
    expect(detour.decide(request({ method: "POST", user: "qa" })).action).toBe("pass");
    await detour.close();
  });
});

describe("a million targeted users", () => {
  it("adding one more, taking one out and reading the status do not overflow the stack", async () => {
    const users = Array.from({ length: 1_000_000 }, (_, i) => `user-${i}`);
    const detour = await detourWith({ flags: modeFlag("site", { targets: [{ variation: 1, values: users }] }) });
    const status = await detour.enable("site", { users: ["x"] });
    expect(status.flags[0]).toMatchObject({ key: "site", userCount: 1_000_001, mode: "read-only" });
    expect(status.flags[0]!.users.at(-1)).toBe("x");
    await detour.disable("site", { users: ["user-17"] });
    expect(detour.status().flags[0]!.userCount).toBe(1_000_000);
    await detour.close();
  }, 60_000);
});

describe("the window", () => {
  it("an end in the past is refused and nothing changes: it would release everyone at once", async () => {
    const time = clock();
    const detour = await detourWith({ flags: {} }, { now: time.now });
    await detour.enable("site", { users: ["u1"] });
    const before = detour.document();
    await expect(detour.enable("site", { users: ["u2"], window: { end: new Date(T0 - 1000) } })).rejects.toThrow(/^window\.end: .* is in the past/);
    expect(detour.document()).toBe(before);
    await detour.close();
  });
});

describe("Laravel's down options, stored on the flag", () => {
  it("retryAt: Retry-After counts down to it", async () => {
    const time = clock();
    const detour = await detourWith({ flags: {} }, { now: time.now, retryAfter: 5 });
    await detour.enable("site", { retryAt: new Date(T0 + 90_000) });
    expect(detour.decide(request()).retryAfter).toBe(90);
    time.advance(30_000);
    const decision = detour.decide(request());
    expect(decision.retryAfter).toBe(60);
    expect(detour.respond(decision, request()).headers["Retry-After"]).toBe("60");
    await detour.close();
  });

  it("redirect, refresh, status and page reach the response of every instance; the app's options are the defaults", async () => {
    const store = memoryStore({ flags: {} });
    const writer = await detourOn(store);
    const app = await detourOn(store, { status: 503, refresh: false });
    await writer.enable("site", { redirect: "/status", refresh: 20, status: 502, page: "<h1>Back soon</h1>" });
    const html = { headers: { accept: "text/html" } };
    const page = app.decide(request({ ...html, path: "/notes" }));
    expect(app.respond(page, request({ ...html, path: "/notes" }))).toMatchObject({ status: 302, headers: { Location: "/status" } });
    const target = app.respond(app.decide(request({ ...html, path: "/status" })), request({ ...html, path: "/status" }));
    expect(target).toMatchObject({ status: 502, body: "<h1>Back soon</h1>", headers: { Refresh: "20" } });
    await writer.close();
    await app.close();
  });

  it("the json option: API paths and JSON bodies get problem+json whatever they accept", async () => {
    const detour = await detourWith({ flags: modeFlag("site", { fallthrough: { variation: 2 } }) }, { json: ["/api/**"] });
    const api = request({ path: "/api/notes", headers: { accept: "text/html,*/*" } });
    expect(detour.respond(detour.decide(api), api).headers["Content-Type"]).toBe("application/problem+json; charset=utf-8");
    const body = request({ method: "POST", path: "/notes", headers: { accept: "*/*", "content-type": "application/json" } });
    expect(detour.respond(detour.decide(body), body).headers["Content-Type"]).toBe("application/problem+json; charset=utf-8");
    const page = request({ path: "/notes", headers: { accept: "text/html" } });
    expect(detour.respond(detour.decide(page), page).headers["Content-Type"]).toBe("text/html; charset=utf-8");
    await expect(async () => createDetour({ store: { flags: {} }, json: ["no-slash"] })).rejects.toThrow(/^json/);
    await detour.close();
  });
});

describe("a flag's bypass secret", () => {
  const SECRET = "let-me-in-please-0123";
  const KEY = "the-apps-own-signing-key";

  it("is stored salted and hashed, never as given, nor in the audit log", async () => {
    const dir = await mkdtemp(join(tmpdir(), "detour-secret-"));
    dirs.push(dir);
    const path = join(dir, "detour.json");
    const detour = createDetour({ store: fileStore(path, { create: true, watch: false }) });
    await detour.ready;
    await detour.enable("site", { secret: SECRET });
    const text = await readFile(path, "utf8");
    expect(text).not.toContain(SECRET);
    expect(detour.document()!.flags!.site!.detour!.secret).toEqual({ salt: expect.any(String), sha256: expect.stringMatching(/^[\w-]{43}$/) });
    expect(detour.audit()[0]!.details).toMatchObject({ secret: "set" });
    await expect(detour.enable("site", { secret: "short" })).rejects.toThrow(/^secret:/);
    await detour.close();
  });

  it("visiting /<secret> issues the app's cookie for this period; the cookie then passes; the next period needs a new visit", async () => {
    const time = clock();
    const detour = await detourWith({ flags: {} }, { now: time.now, allow: { secret: { value: KEY, path: false } } });
    await detour.enable("site", { secret: SECRET });
    // The app's own secret URL is off (path: false): only the flag's secret opens the door.
    expect(detour.decide(request({ path: `/${KEY}` })).action).toBe("block");
    const visit = detour.decide(request({ path: `/${SECRET}` }));
    expect(visit).toMatchObject({ action: "redirect", reason: "BYPASS_SECRET", mode: "maintenance" });
    const cookie = String(detour.respond(visit, request({ path: `/${SECRET}` })).headers["set-cookie"]).split(";")[0]!;
    expect(detour.decide(request({ headers: { cookie } }))).toMatchObject({ action: "pass", reason: "BYPASS_COOKIE" });
    expect(detour.decide(request({ path: "/let-me-in-please-0124" })).action).toBe("block");
    await detour.disable("site");
    time.advance(1000);
    await detour.enable("site", { secret: SECRET });
    expect(detour.decide(request({ headers: { cookie } })).action).toBe("block");
    await detour.close();
  });

  it("an app with no allow.secret has no key to sign with: the secret URL stays blocked", async () => {
    const detour = await detourWith({ flags: {} });
    await detour.enable("site", { secret: SECRET });
    expect(detour.decide(request({ path: `/${SECRET}` })).action).toBe("block");
    await detour.close();
  });
});

describe("replace: merge and confirm", () => {
  it("merge upserts by key and keeps the rest; confirm sees both documents inside the write and can refuse", async () => {
    const detour = await detourWith({ flags: { ...modeFlag("site"), ...modeFlag("billing") }, flagValues: { banner: true } });
    await detour.replace({ flags: modeFlag("billing", { fallthrough: { variation: 2 } }), flagValues: { site: false } }, { merge: true });
    const doc = detour.document()!;
    expect(Object.keys(doc.flags!)).toEqual(["billing"]);
    expect(doc.flagValues).toEqual({ banner: true, site: false });
    expect(doc.flags!.billing!.fallthrough).toEqual({ variation: 2 });
    expect(detour.audit()[0]!.action).toBe("merge");

    const before = detour.document();
    await expect(
      detour.replace({ flags: {} }, { confirm: (was, next) => {
        expect(Object.keys(was.flags ?? {})).toEqual(["billing"]);
        expect(next.flags).toEqual({});
        throw new Error("refused");
      } }),
    ).rejects.toThrow("refused");
    expect(detour.document()).toBe(before);
    await detour.close();
  });
});

describe("status", () => {
  it("lists percentage rollouts of flags that are not mode flags, with their split", async () => {
    const detour = await detourWith({
      flags: { "storage-cluster": { key: "storage-cluster", on: true, variations: ["old", "dual", "new"], fallthrough: { variation: 0 } } },
    });
    expect(detour.status().rollouts).toEqual([]);
    await detour.rollout("storage-cluster", { old: 50, dual: 25, new: 25 });
    expect(detour.status().rollouts).toEqual([
      { key: "storage-cluster", on: true, split: [{ variation: "old", percent: 50 }, { variation: "dual", percent: 25 }, { variation: "new", percent: 25 }] },
    ]);
    expect(detour.status().flags).toEqual([]);
    await detour.close();
  });
});
