import { readFile, readdir, rename, stat, writeFile, chmod, symlink } from "node:fs/promises";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { StoreClosedError, StoreUnavailableError, ValidationError } from "../../src/errors.js";
import { fileStore, type FileStore, type FileStoreOptions } from "../../src/stores/index.js";
import type { FlagDocument } from "../../src/document/types.js";
import type { Snapshot } from "../../src/snapshot.js";
import { isError, isSnapshot, recordEvents, sampleDocument, temporaryDirectory } from "./helpers.js";

const FAST: FileStoreOptions = { debounceMs: 10, pollIntervalMs: 100 };

let dir: string;
let cleanup: () => Promise<void>;
const open: FileStore[] = [];

beforeEach(async () => {
  ({ dir, cleanup } = await temporaryDirectory());
});

afterEach(async () => {
  await Promise.all(open.splice(0).map((store) => store.close()));
  await cleanup();
});

function store(path: string, options: FileStoreOptions = FAST): FileStore {
  const created = fileStore(path, options);
  open.push(created);
  return created;
}

async function writeDocument(path: string, doc: unknown): Promise<void> {
  await writeFile(path, `${JSON.stringify(doc, null, 2)}\n`);
}

/** Replaces the file the way editors and other writers do: write a sibling, rename over. */
async function replaceDocument(path: string, doc: FlagDocument): Promise<void> {
  const temporary = `${path}.editor-${Math.random().toString(36).slice(2)}`;
  await writeDocument(temporary, doc);
  await rename(temporary, path);
}

describe("fileStore: loading", () => {
  it("loads, exposes the path and reports health", async () => {
    const path = join(dir, "detour.json");
    await writeDocument(path, { ...sampleDocument(), revision: 4 });
    const s = store(path);
    expect(s.path).toBe(path);
    expect(s.kind).toBe("file");
    expect(s.snapshot()).toBeUndefined();
    expect(s.health()).toMatchObject({ kind: "file", revision: null, ageMs: null, stale: false, error: null });
    const snapshot = await s.load();
    expect(snapshot.revision).toBe(4);
    expect(snapshot.definition("site")?.detour?.message).toBe("Back soon");
    expect(await s.load()).toBe(snapshot);
    const health = s.health();
    expect(health).toMatchObject({ kind: "file", revision: 4, stale: false, error: null });
    expect(health.ageMs).toBeGreaterThanOrEqual(0);
    expect(health.ageMs).toBeLessThan(1_000);
  });

  it("rejects a missing file with an error naming the path, and can create it", async () => {
    const path = join(dir, "missing.json");
    const missing = store(path);
    const failure = missing.load();
    await expect(failure).rejects.toBeInstanceOf(StoreUnavailableError);
    await expect(failure).rejects.toThrow(path);
    expect(missing.health().error).toContain(path);
    await expect(missing.write(() => {})).rejects.toThrow(path);

    const created = store(path, { ...FAST, create: true });
    const snapshot = await created.load();
    expect(snapshot.keys()).toEqual([]);
    expect(JSON.parse(await readFile(path, "utf8"))).toEqual({ flags: {} });
    // No temporary or lock files left behind.
    expect(await readdir(dir)).toEqual(["missing.json"]);
  });

  it("reports a directory that does not exist clearly, even with create", async () => {
    const path = join(dir, "no-such-dir", "detour.json");
    const failure = store(path, { ...FAST, create: true }).load();
    await expect(failure).rejects.toBeInstanceOf(StoreUnavailableError);
    await expect(failure).rejects.toThrow(`cannot create lock file ${path}.lock`);
  });

  it("a store whose first load failed picks the file up when it appears", async () => {
    const path = join(dir, "later.json");
    const s = store(path);
    await expect(s.load()).rejects.toThrow(/does not exist/);
    const events = recordEvents(s);
    await replaceDocument(path, sampleDocument());
    await events.next(isSnapshot);
    expect(s.snapshot()?.keys()).toContain("site");
    expect(s.health().error).toBeNull();
  });

  it("rejects garbage and what is not an object of flags, naming the path; loads an invalid flag as MALFORMED_FLAG, naming flag and field", async () => {
    const path = join(dir, "bad.json");
    await writeFile(path, '{ "flags": ');
    await expect(store(path).load()).rejects.toThrow(new RegExp(`${path} is not valid JSON`));

    await writeFile(path, '{ "flags": [] }');
    const failure = store(path).load();
    await expect(failure).rejects.toBeInstanceOf(ValidationError);
    await expect(failure).rejects.toThrow(path);

    const doc = sampleDocument();
    doc.flags!.site!.variations = ["available", "down-for-lunch"];
    await writeDocument(path, doc);
    const loaded = store(path);
    await loaded.load();
    const snapshot = loaded.snapshot()!;
    expect(snapshot.unloadable.has("site")).toBe(true);
    expect(snapshot.evaluate("site", { key: "u" }).reason).toEqual({ kind: "ERROR", errorKind: "MALFORMED_FLAG" });
    expect(snapshot.problems.some((issue) => issue.flag === "site" && issue.path.startsWith("flags.site.variations"))).toBe(true);
    await loaded.close();
  });
});

describe("fileStore: watching", () => {
  it("picks up a file replaced by rename (another writer, an editor)", async () => {
    const path = join(dir, "detour.json");
    await writeDocument(path, sampleDocument());
    const s = store(path);
    await s.load();
    const events = recordEvents(s);
    const doc = sampleDocument();
    doc.flags!.site!.on = true;
    doc.revision = 10;
    await replaceDocument(path, doc);
    const event = await events.next(isSnapshot);
    expect(event.type === "snapshot" && event.snapshot.revision).toBe(10);
    expect(s.snapshot()?.definition("site")?.on).toBe(true);
  });

  it("picks up a file rewritten in place", async () => {
    const path = join(dir, "detour.json");
    await writeDocument(path, sampleDocument());
    const s = store(path);
    await s.load();
    const events = recordEvents(s);
    await writeDocument(path, { ...sampleDocument(), revision: 3 });
    await events.next((e) => e.type === "snapshot" && e.snapshot.revision === 3);
  });

  it("picks up changes by polling alone when watching is off", async () => {
    const path = join(dir, "detour.json");
    await writeDocument(path, sampleDocument());
    const s = store(path, { watch: false, pollIntervalMs: 30 });
    await s.load();
    const events = recordEvents(s);
    await replaceDocument(path, { ...sampleDocument(), revision: 8 });
    await events.next((e) => e.type === "snapshot" && e.snapshot.revision === 8);
  });

  it("keeps the last good snapshot on a truncated, garbage or invalid file, reports it, and recovers", async () => {
    const path = join(dir, "detour.json");
    await writeDocument(path, { ...sampleDocument(), revision: 1 });
    const s = store(path);
    const good = await s.load();
    const events = recordEvents(s);

    // Half-written: the first bytes of a valid document.
    const full = JSON.stringify({ ...sampleDocument(), revision: 2 });
    await writeFile(path, full.slice(0, 40));
    const truncated = await events.next(isError);
    expect(truncated.type === "error" && truncated.error.message).toMatch(/not valid JSON/);
    expect(s.snapshot()).toBe(good);
    expect(s.health()).toMatchObject({ revision: 1, stale: true });
    expect(s.health().error).toContain(path);

    // Garbage, then an empty file.
    await writeFile(path, "\u0000\u0001 not json at all");
    await events.next(isError);
    await writeFile(path, "");
    const empty = await events.next(isError);
    expect(empty.type === "error" && empty.error.message).toMatch(/is empty/);
    expect(s.snapshot()).toBe(good);

    // Valid JSON, not an object of flags: refused whole, the error names the field.
    await replaceDocument(path, { flags: "nope" } as never);
    const refused = await events.next(isError);
    expect(refused.type === "error" && refused.error).toBeInstanceOf(ValidationError);
    expect(refused.type === "error" && refused.error.message).toContain("flags: expected an object");
    expect(s.snapshot()).toBe(good);
    expect(s.snapshot()?.evaluate("site", { key: "u" }).value).toBe("available");

    // Unchanged bad bytes are not reported again on every poll.
    const errorsSoFar = events.events.filter(isError).length;
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(events.events.filter(isError).length).toBe(errorsSoFar);
    expect(s.health().stale).toBe(true);

    // Recovery.
    await writeFile(path, full);
    const recovered = await events.next(isSnapshot);
    expect(recovered.type === "snapshot" && recovered.snapshot.revision).toBe(2);
    expect(s.health()).toMatchObject({ revision: 2, stale: false, error: null });
  });

  it("reports a removed file and recovers when it comes back", async () => {
    const path = join(dir, "detour.json");
    await writeDocument(path, sampleDocument());
    const s = store(path);
    const good = await s.load();
    const events = recordEvents(s);
    await rename(path, `${path}.moved`);
    await events.next(isError);
    expect(s.snapshot()).toBe(good);
    expect(s.health().stale).toBe(true);
    await rename(`${path}.moved`, path);
    await events.next(isSnapshot);
    expect(s.health().error).toBeNull();
  });

  it("confirms an unchanged file: ageMs stays small while the file is readable", async () => {
    const path = join(dir, "detour.json");
    await writeDocument(path, sampleDocument());
    const s = store(path, { watch: false, pollIntervalMs: 20 });
    await s.load();
    await new Promise((resolve) => setTimeout(resolve, 500));
    // Without confirmations ageMs would be >= 500.
    expect(s.health().ageMs).toBeLessThan(300);
  });
});

describe("fileStore: writing", () => {
  it("writes atomically, bumps revision, swaps the snapshot and notifies", async () => {
    const path = join(dir, "detour.json");
    await writeDocument(path, sampleDocument());
    await chmod(path, 0o640);
    const s = store(path);
    await s.load();
    const events = recordEvents(s);
    const written = await s.write((draft) => {
      draft.flags!.site!.on = true;
    });
    expect(written.revision).toBe(1);
    expect(s.snapshot()).toBe(written);
    expect(events.events[0]).toEqual({ type: "snapshot", snapshot: written });
    const onDisk = JSON.parse(await readFile(path, "utf8")) as FlagDocument;
    expect(onDisk.revision).toBe(1);
    expect(onDisk.flags?.site?.on).toBe(true);
    expect((await stat(path)).mode & 0o777).toBe(0o640);
    expect((await readdir(dir)).sort()).toEqual(["detour.json"]);
    // Our own write, seen again by the watcher, is not announced twice.
    await new Promise((resolve) => setTimeout(resolve, 250));
    expect(events.events.filter(isSnapshot)).toHaveLength(1);
  });

  it("announces each write once, with the written snapshot, even when the watcher re-reads at once", async () => {
    // The watcher reads as soon as the rename lands (no debounce) and polls
    // every millisecond: a write must be in force before the lock is
    // released, or the watcher announces the file first with a snapshot of
    // its own (same document, another createdAt) and the write announces it again.
    const path = join(dir, "detour.json");
    await writeDocument(path, sampleDocument());
    const s = store(path, { debounceMs: 0, pollIntervalMs: 1 });
    await s.load();
    const events = recordEvents(s);
    const written: Snapshot[] = [];
    for (let i = 0; i < 30; i++) {
      written.push(
        await s.write((draft) => {
          draft.flagValues = { i };
        }),
      );
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
    const announced = events.events.filter(isSnapshot).map((event) => event.type === "snapshot" && event.snapshot);
    expect(announced).toHaveLength(written.length);
    announced.forEach((snapshot, i) => expect(snapshot).toBe(written[i]));
  });

  it("reads the file under the lock rather than trusting its snapshot", async () => {
    const path = join(dir, "detour.json");
    await writeDocument(path, sampleDocument());
    const s = store(path, { watch: false, pollIntervalMs: 0 });
    await s.load();
    // Another writer changes the file; this store never notices (no watching).
    await replaceDocument(path, { ...sampleDocument(), flagValues: { banner: true }, revision: 5 });
    const written = await s.write((draft) => {
      draft.flags!.site!.on = true;
    });
    expect(written.revision).toBe(6);
    expect(written.keys()).toContain("banner");
    expect(written.definition("site")?.on).toBe(true);
  });

  it("a mutator that throws leaves the file byte-identical", async () => {
    const path = join(dir, "detour.json");
    await writeFile(path, '{"flags":{},   "flagValues": {"x": 1}}');
    const before = await readFile(path);
    const s = store(path);
    await s.load();
    await expect(
      s.write((draft) => {
        draft.flagValues = {};
        throw new Error("abort");
      }),
    ).rejects.toThrow("abort");
    expect((await readFile(path)).equals(before)).toBe(true);
    expect(await readdir(dir)).toEqual(["detour.json"]);
  });

  it("an invalid result is refused naming the flag and field; the file is untouched", async () => {
    const path = join(dir, "detour.json");
    await writeDocument(path, sampleDocument());
    const before = await readFile(path);
    const s = store(path);
    await s.load();
    const write = s.write((draft) => {
      draft.flags!.counter!.variations = [];
      draft.flags!.site!.detour = { retryAfter: -5 };
    });
    const error = (await write.catch((e: unknown) => e)) as ValidationError;
    expect(error).toBeInstanceOf(ValidationError);
    expect(error.message).toContain(path);
    expect(error.issues.map((issue) => issue.flag)).toEqual(expect.arrayContaining(["counter", "site"]));
    expect(error.issues.some((issue) => issue.path === "flags.site.detour.retryAfter")).toBe(true);
    expect((await readFile(path)).equals(before)).toBe(true);
    expect(s.snapshot()?.revision).toBe(0);
  });

  it("refuses to read-modify-write a file that is not a valid document", async () => {
    const path = join(dir, "detour.json");
    await writeFile(path, "{ oops");
    const s = store(path);
    await expect(s.write(() => ({ flags: {} }))).rejects.toThrow(/not valid JSON/);
    expect(await readFile(path, "utf8")).toBe("{ oops");
  });

  it("creates the file on write when asked to", async () => {
    const path = join(dir, "new.json");
    const s = store(path, { create: true });
    const written = await s.write((draft) => {
      draft.flagValues = { banner: true };
    });
    expect(written.revision).toBe(1);
    expect(JSON.parse(await readFile(path, "utf8"))).toEqual({ flags: {}, flagValues: { banner: true }, revision: 1 });
  });

  it("serialises concurrent writes from one process", async () => {
    const path = join(dir, "detour.json");
    await writeDocument(path, sampleDocument());
    const a = store(path);
    const b = store(path);
    await Promise.all(
      Array.from({ length: 40 }, (_, i) =>
        (i % 2 ? a : b).write((draft) => {
          const counter = draft.flags!.counter!;
          counter.version = (counter.version ?? 0) + 1;
        }),
      ),
    );
    const doc = JSON.parse(await readFile(path, "utf8")) as FlagDocument;
    expect(doc.flags?.counter?.version).toBe(40);
    expect(doc.revision).toBe(40);
  });

  it("close() during the first load waits for it: the store touches the directory no more once closed", async () => {
    const path = join(dir, "created.json");
    const s = store(path, { ...FAST, create: true });
    let settled = false;
    const loading = s.load().finally(() => {
      settled = true;
    });
    await s.close();
    expect(settled).toBe(true);
    await loading.catch(() => undefined);
    expect(await readdir(dir)).toEqual(["created.json"]);
  });

  it("closes cleanly and refuses work afterwards", async () => {
    const path = join(dir, "detour.json");
    await writeDocument(path, sampleDocument());
    const s = store(path);
    await s.load();
    const pending = s.write((draft) => {
      draft.flags!.site!.on = true;
    });
    await s.close();
    await expect(pending).resolves.toMatchObject({ revision: 1 }); // close waits for writes in progress
    await expect(s.write(() => {})).rejects.toBeInstanceOf(StoreClosedError);
    await expect(s.load()).rejects.toBeInstanceOf(StoreClosedError);
    await s.close();
  });
});

/*
 * A store file swapped for another (a symlink to /etc/shadow, a credentials
 * file) must not leak that file's content through `health().error`, the
 * admin API or logs: the file store's errors never quote the file.
 */
async function errorFor(content: string): Promise<string> {
  const target = join(dir, "secret.txt");
  await writeFile(target, content);
  const path = join(dir, "detour.json");
  await symlink(target, path);
  const created = store(path, { watch: false, pollIntervalMs: 0 });
  const error = await created.load().then(
    () => null,
    (e: unknown) => e as Error,
  );
  expect(error).toBeInstanceOf(Error);
  expect(created.health().error).toBe(error!.message);
  return error!.message;
}

describe("file store errors never quote the file", () => {
  it("not valid JSON: the place of the error, none of the text", async () => {
    const message = await errorFor("root:$6$saltsalt$hunter2hunter2:19000:0:99999:7:::\n");
    expect(message).not.toMatch(/root|hunter2|salt/);
    expect(message).toMatch(/is not valid JSON \(syntax error\)$/);
    const positioned = await (async () => {
      await cleanup();
      ({ dir, cleanup } = await temporaryDirectory());
      return errorFor('{"password": "hunter2", x}');
    })();
    expect(positioned).not.toContain("hunter2");
    expect(positioned).toMatch(/syntax error at line 1, column 25/);
  });

  it("valid JSON that is not a flag document, and the problems of a flag it loads: paths, never values", async () => {
    const message = await errorFor(JSON.stringify({ flags: "AKIAIOSFODNN7EXAMPLE-hunter2" }));
    expect(message).not.toContain("hunter2");
    expect(message).toContain("flags: expected an object, got a string of 28 characters");

    const path = join(dir, "loaded.json");
    await writeFile(path, JSON.stringify({ flags: { prod: { variations: [true, false], on: "AKIAIOSFODNN7EXAMPLE-hunter2" } } }));
    const loaded = store(path, { watch: false, pollIntervalMs: 0 });
    await loaded.load();
    const problems = loaded.snapshot()!.problems.map((p) => `${p.path}: ${p.message}`).join("\n");
    expect(problems).not.toContain("hunter2");
    expect(problems).toContain("flags.prod.on: expected true or false, got a string of 28 characters");
    await loaded.close();
  });
});
