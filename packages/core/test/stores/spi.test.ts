/** The store SPI on its own: StoreState, StoreBase, applyMutation, parseDocument, ReadOrder, writeAtomically. */
import { readFileSync } from "node:fs";
import { readFile, readdir, stat, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { ArgumentError, StoreClosedError, StoreUnavailableError, ValidationError } from "../../src/errors.js";
import { Snapshot } from "../../src/snapshot.js";
import {
  DocumentSyntaxError,
  ReadOrder,
  StoreBase,
  StoreState,
  applyMutation,
  parseDocument,
  writeAtomically,
  type Mutator,
  type StoreEvent,
} from "../../src/stores/index.js";
import { sampleDocument, temporaryDirectory } from "./helpers.js";

function clock(start = 1_000): { now: () => number; advance: (ms: number) => void } {
  let t = start;
  return { now: () => t, advance: (ms) => void (t += ms) };
}

describe("StoreState", () => {
  it("reports health from the injected clock: age since the last confirmation", () => {
    const time = clock();
    const state = new StoreState("test", time.now);
    expect(state.health()).toEqual({ kind: "test", revision: null, ageMs: null, stale: false, error: null });
    state.accept(Snapshot.from({ flags: {}, revision: 3 }));
    time.advance(250);
    expect(state.health()).toEqual({ kind: "test", revision: 3, ageMs: 250, stale: false, error: null });
    state.confirm();
    time.advance(40);
    expect(state.health().ageMs).toBe(40);
    expect(state.now()).toBe(1_290);
  });

  it("a failure keeps the snapshot, goes stale, and ends with a confirmation or a new snapshot", () => {
    const state = new StoreState("test");
    const seen: StoreEvent[] = [];
    state.subscribe((event) => seen.push(event));
    const good = Snapshot.from({ flags: {} });
    state.accept(good);
    state.fail("source unreachable");
    expect(seen.at(-1)).toEqual({ type: "error", error: new Error("source unreachable") });
    expect(state.health()).toMatchObject({ stale: true, error: "source unreachable" });
    expect(state.snapshot).toBe(good);
    state.confirm();
    expect(state.health()).toMatchObject({ stale: false, error: null });
    state.fail(new Error("again"), { emit: false });
    expect(seen.filter((e) => e.type === "error")).toHaveLength(1);
    state.accept(Snapshot.from({ flags: {} }));
    expect(state.health()).toMatchObject({ stale: false, error: null });
  });

  it("a refusal ends a failure, outranks later failures, is not confirmed away, and ends with a good document", () => {
    const time = clock();
    const state = new StoreState("test", time.now);
    state.accept(Snapshot.from({ flags: {} }));
    state.fail(new Error("down"), { emit: false });
    state.refuse(new Error("not JSON"), { emit: false });
    expect(state.failure).toBeUndefined();
    expect(state.health()).toMatchObject({ stale: true, error: "not JSON" });
    state.fail(new Error("down again"), { emit: false });
    expect(state.health().error).toBe("not JSON");
    time.advance(500);
    state.confirm(); // the source answers, but still holds the refused document
    expect(state.health()).toMatchObject({ stale: true, error: "not JSON", ageMs: 500 });
    state.accept(Snapshot.from({ flags: {} }));
    expect(state.health()).toMatchObject({ stale: false, error: null, ageMs: 0 });
  });

  it("accepting the snapshot already in force emits nothing; an unconfirmed snapshot keeps the failure and the age", () => {
    const time = clock();
    const state = new StoreState("test", time.now);
    const listener = vi.fn();
    state.subscribe(listener);
    const first = Snapshot.from({ flags: {} });
    state.accept(first);
    state.accept(first);
    expect(listener).toHaveBeenCalledTimes(1);
    state.fail(new Error("down"), { emit: false });
    time.advance(100);
    const bootstrap = Snapshot.from({ flags: {}, revision: 9 });
    state.accept(bootstrap, { confirmed: false });
    expect(listener).toHaveBeenLastCalledWith({ type: "snapshot", snapshot: bootstrap });
    expect(state.health()).toMatchObject({ revision: 9, stale: true, error: "down", ageMs: 100 });
  });

  it("after close: no events, and subscribing adds nothing", () => {
    const state = new StoreState("test");
    const before = vi.fn();
    state.subscribe(before);
    state.close();
    const after = vi.fn();
    const unsubscribe = state.subscribe(after);
    state.accept(Snapshot.from({ flags: {} }));
    state.fail(new Error("x"));
    expect(before).not.toHaveBeenCalled();
    expect(after).not.toHaveBeenCalled();
    expect(() => unsubscribe()).not.toThrow();
    expect(() => state.assertOpen()).toThrow(StoreClosedError);
  });
});

/** A store whose I/O is scripted by the test. */
class ScriptedStore extends StoreBase {
  opens = 0;
  shutdowns = 0;
  openWith: () => Promise<Snapshot> = async () => {
    const snapshot = Snapshot.from({ flags: {} });
    this.state.accept(snapshot);
    return snapshot;
  };
  commitWith: (mutator: Mutator) => Promise<Snapshot> = () => Promise.reject(new Error("no commit scripted"));

  constructor(now?: () => number) {
    super({ kind: "scripted", ...(now === undefined ? {} : { now }) });
  }

  get shared(): StoreState {
    return this.state;
  }

  protected override open(): Promise<Snapshot> {
    this.opens += 1;
    return this.openWith();
  }

  protected override commit(mutator: Mutator): Promise<Snapshot> {
    return this.commitWith(mutator);
  }

  protected override async shutdown(): Promise<void> {
    this.shutdowns += 1;
  }
}

describe("StoreBase", () => {
  it("opens once for concurrent loads, then answers from the snapshot in force", async () => {
    const store = new ScriptedStore();
    const [a, b] = await Promise.all([store.load(), store.load()]);
    expect(a).toBe(b);
    expect(await store.load()).toBe(a);
    expect(store.snapshot()).toBe(a);
    expect(store.opens).toBe(1);
  });

  it("a failed open rejects load(), health reports why, and the next load() tries again", async () => {
    const store = new ScriptedStore();
    store.openWith = () => Promise.reject(new StoreUnavailableError("cannot reach the source"));
    await expect(store.load()).rejects.toThrow("cannot reach the source");
    expect(store.health()).toMatchObject({ kind: "scripted", revision: null, stale: false, error: "cannot reach the source" });
    store.openWith = async () => {
      const snapshot = Snapshot.from({ flags: {}, revision: 2 });
      store.shared.accept(snapshot);
      return snapshot;
    };
    expect((await store.load()).revision).toBe(2);
    expect(store.health()).toMatchObject({ revision: 2, error: null });
    expect(store.opens).toBe(2);
  });

  it("keeps the reason open() recorded itself rather than its rejection", async () => {
    const store = new ScriptedStore();
    store.openWith = () => {
      store.shared.refuse(new ValidationError([{ path: "(document)", message: "not JSON" }], "source"), { emit: false });
      return Promise.reject(new StoreUnavailableError("gave up"));
    };
    await expect(store.load()).rejects.toThrow("gave up");
    expect(store.health().error).toBe("source: (document): not JSON");
  });

  it("write() delegates to commit() and turns a synchronous throw into a rejection", async () => {
    const store = new ScriptedStore();
    await store.load();
    store.commitWith = (mutator) => {
      const next = applyMutation(store.snapshot()!, mutator);
      store.shared.accept(next);
      return Promise.resolve(next);
    };
    expect((await store.write((draft) => void (draft.flagValues = { a: 1 }))).revision).toBe(1);
    store.commitWith = () => {
      throw new Error("thrown, not rejected");
    };
    await expect(store.write(() => {})).rejects.toThrow("thrown, not rejected");
  });

  it("close() shuts down once; afterwards load and write reject, commit is never called, subscribing adds nothing", async () => {
    const store = new ScriptedStore();
    await store.load();
    const commit = vi.fn(() => Promise.resolve(store.snapshot()!));
    store.commitWith = commit;
    await Promise.all([store.close(), store.close()]);
    expect(store.shutdowns).toBe(1);
    await expect(store.load()).rejects.toBeInstanceOf(StoreClosedError);
    await expect(store.write(() => {})).rejects.toThrow("the scripted store is closed");
    expect(commit).not.toHaveBeenCalled();
    const late = vi.fn();
    store.subscribe(late);
    store.shared.accept(Snapshot.from({ flags: {} }));
    expect(late).not.toHaveBeenCalled();
  });

  it("close() resolves only once a first load in progress has settled", async () => {
    const store = new ScriptedStore();
    let finish: () => void = () => {};
    store.openWith = () =>
      new Promise<Snapshot>((resolve) => {
        finish = () => resolve(Snapshot.from({ flags: {} }));
      });
    const loading = store.load();
    let closed = false;
    const closing = store.close().then(() => {
      closed = true;
    });
    await new Promise((resolve) => setTimeout(resolve, 10));
    expect(closed).toBe(false);
    finish();
    await closing;
    await expect(loading).resolves.toBeInstanceOf(Snapshot);
    expect(store.shutdowns).toBe(1);
  });

  it("uses the injected clock for health", async () => {
    const time = clock(50_000);
    const store = new ScriptedStore(time.now);
    await store.load();
    time.advance(1_234);
    expect(store.health().ageMs).toBe(1_234);
  });
});

describe("applyMutation", () => {
  const current = Snapshot.from({ ...sampleDocument(), revision: 4 });

  it("runs the mutator on a private copy and bumps the revision whatever the mutator set", () => {
    const next = applyMutation(current, (draft) => {
      draft.flags!.site!.on = true;
      draft.revision = 1;
    }, { source: "test", now: 42 });
    expect(next.revision).toBe(5);
    expect(next.createdAt).toBe(42);
    expect(next.definition("site")?.on).toBe(true);
    expect(current.definition("site")?.on).toBe(false);
  });

  it("goes above a source revision that differs from the snapshot's, and uses a draft the store supplies", () => {
    const draft = current.draft();
    const seen: unknown[] = [];
    const next = applyMutation(current, (d) => void seen.push(d), { sourceRevision: 10, draft });
    expect(seen[0]).toBe(draft);
    expect(next.revision).toBe(11);
  });

  it("refuses an asynchronous mutator and an invalid result, naming the source", () => {
    // @ts-expect-error mutators are synchronous
    expect(() => applyMutation(current, async () => {})).toThrow(ArgumentError);
    expect(() => applyMutation(current, () => Promise.resolve() as never)).toThrow(/mutator: must be synchronous/);
    const invalid = () => applyMutation(current, (d) => void (d.flags!.site!.offVariation = 9), { source: "the source" });
    expect(invalid).toThrow(ValidationError);
    expect(invalid).toThrow(/^the source: flags\.site\.offVariation/);
  });
});

describe("parseDocument", () => {
  it("parses and validates once, naming the source; the source's revision wins", () => {
    const snapshot = parseDocument(JSON.stringify({ ...sampleDocument(), revision: 1 }), { source: "src", revision: 7, now: 5 });
    expect(snapshot.revision).toBe(7);
    expect(snapshot.createdAt).toBe(5);
    expect(snapshot.keys()).toEqual(["site", "counter"]);
  });

  it("text that is not JSON is a DocumentSyntaxError: a ValidationError at (document) that says whether it was empty", () => {
    const error = (() => {
      try {
        parseDocument('{ "flags": ', { source: "redis detour:document" });
      } catch (e) {
        return e;
      }
      return undefined;
    })() as DocumentSyntaxError;
    expect(error).toBeInstanceOf(DocumentSyntaxError);
    expect(error).toBeInstanceOf(ValidationError);
    expect(error.code).toBe("DETOUR_INVALID_DOCUMENT");
    expect(error.message).toMatch(/^redis detour:document: \(document\): not JSON: /);
    expect(error.issues).toEqual([{ path: "(document)", message: `not JSON: ${error.reason}` }]);
    expect(error.empty).toBe(false);
    expect(error.cause).toBeInstanceOf(SyntaxError);
    expect(() => parseDocument("  \n", { source: "s" })).toThrow(expect.objectContaining({ empty: true }));
  });

  it("loads an invalid flag flag by flag, naming flag and field; what is not an object of flags is a ValidationError", () => {
    const doc = sampleDocument();
    doc.flags!.site!.fallthrough = { variation: 5 };
    const snapshot = parseDocument(JSON.stringify(doc), { source: "file.json" });
    expect(snapshot.problems).toEqual([expect.objectContaining({ flag: "site", path: "flags.site.fallthrough.variation" })]);
    expect(() => parseDocument(JSON.stringify({ flags: 1 }), { source: "file.json" })).toThrow(/^file\.json: flags: expected an object/);
  });
});

describe("ReadOrder", () => {
  it("drops a result whose read started before one already applied", () => {
    const order = new ReadOrder();
    const slow = order.next();
    const fast = order.next();
    expect(order.claim(fast)).toBe(true);
    expect(order.isStale(slow)).toBe(true);
    expect(order.claim(slow)).toBe(false);
    expect(order.applied).toBe(fast);
    expect(order.claim(order.applied)).toBe(true); // a result that must always win
  });
});

describe("writeAtomically", () => {
  let dir: string;
  let cleanup: () => Promise<void>;

  beforeEach(async () => {
    ({ dir, cleanup } = await temporaryDirectory());
  });

  afterEach(async () => {
    await cleanup();
  });

  it("replaces the file with exact permissions, calls onRenamed once the new file is in place, and leaves nothing behind", async () => {
    const path = join(dir, "out.json");
    await writeFile(path, "old");
    let seenAtRename: string | undefined;
    await writeAtomically(path, "new", {
      mode: 0o600,
      onRenamed: () => {
        seenAtRename = readFileSync(path, "utf8");
      },
    });
    expect(seenAtRename).toBe("new");
    expect(await readFile(path, "utf8")).toBe("new");
    expect((await stat(path)).mode & 0o777).toBe(0o600);
    expect(await readdir(dir)).toEqual(["out.json"]);
  });

  it("a beforeRename that throws leaves the file untouched and removes the temporary file", async () => {
    const path = join(dir, "out.json");
    await writeFile(path, "old");
    const onRenamed = vi.fn();
    await expect(
      writeAtomically(path, "new", {
        beforeRename: () => Promise.reject(new Error("lock lost")),
        onRenamed,
      }),
    ).rejects.toThrow("lock lost");
    expect(onRenamed).not.toHaveBeenCalled();
    expect(await readFile(path, "utf8")).toBe("old");
    expect(await readdir(dir)).toEqual(["out.json"]);
  });

  it("rejects with the file system's error when the directory is missing", async () => {
    await expect(writeAtomically(join(dir, "missing", "out.json"), "x")).rejects.toMatchObject({ code: "ENOENT" });
  });
});
