/**
 * The "Writing a store" example of packages/core/README.md, run as written:
 * the code block is read from the README, so the README cannot drift from
 * what works.
 */
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { StoreClosedError, ValidationError } from "../../src/errors.js";
import type { Store, StoreEvent } from "../../src/stores/types.js";
import type { Detour } from "../../src/detour.js";

interface Cell {
  get(): Promise<{ text: string; version: number }>;
  setIf(version: number, text: string): Promise<boolean>;
  listenerCount(event: string): number;
}
interface Example {
  VersionedCell: new () => Cell;
  CellStore: new (cell: Cell) => Store;
  detour: Detour;
  cell: Cell;
}

let example: Example;
let dir: string;

async function readmeExample(): Promise<string> {
  const readme = await readFile(fileURLToPath(new URL("../../README.md", import.meta.url)), "utf8");
  const section = readme.slice(readme.indexOf("### Writing a store"));
  const block = /```ts\n([\s\S]*?)```/.exec(section);
  if (!block?.[1]) throw new Error('no ```ts block under "### Writing a store" in packages/core/README.md');
  return block[1];
}

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "detour-readme-store-"));
  const file = join(dir, "cell-store.ts");
  await writeFile(file, `${await readmeExample()}\nexport { VersionedCell, CellStore, detour, cell };\n`);
  example = (await import(/* @vite-ignore */ file)) as Example;
});

afterAll(async () => {
  await example?.detour.close();
  await rm(dir, { recursive: true, force: true });
});

const siteOn = (text: string) => (JSON.parse(text) as { flags: { site?: { on: boolean } } }).flags.site?.on;
const settle = () => new Promise((resolve) => setTimeout(resolve, 20));

function events(store: Store): StoreEvent[] {
  const seen: StoreEvent[] = [];
  store.subscribe((event) => seen.push(event));
  return seen;
}

describe("the README's store on StoreBase", () => {
  it("runs as written: the site goes into maintenance through the store", async () => {
    expect(example.detour.decide({ method: "GET", path: "/" }).action).toBe("block");
    const { text, version } = await example.cell.get();
    expect(version).toBe(1);
    expect(siteOn(text)).toBe(true);
  });

  it("propagates writes between stores on one cell, announcing each change once, and loses no concurrent update", async () => {
    const cell = new example.VersionedCell();
    const a = new example.CellStore(cell);
    const b = new example.CellStore(cell);
    await Promise.all([a.load(), b.load()]);
    const seenByA = events(a);
    const seenByB = events(b);
    const written = await a.write((draft) => {
      draft.flagValues = { n: 1 };
    });
    await settle();
    expect(seenByA).toEqual([{ type: "snapshot", snapshot: written }]);
    expect(seenByB).toHaveLength(1);
    expect(b.snapshot()?.document.flagValues).toEqual({ n: 1 });

    await Promise.all(
      Array.from({ length: 8 }, (_, i) =>
        (i % 2 ? a : b).write((draft) => {
          const n = draft.flagValues?.n;
          draft.flagValues = { n: (typeof n === "number" ? n : 0) + 1 };
        }),
      ),
    );
    await settle();
    expect(JSON.parse((await cell.get()).text)).toMatchObject({ flagValues: { n: 9 }, revision: 9 });
    expect(a.snapshot()?.revision).toBe(9);
    expect(b.snapshot()?.revision).toBe(9);
    await Promise.all([a.close(), b.close()]);
  });

  it("refuses a bad document from outside, keeps the last good snapshot, and recovers", async () => {
    const cell = new example.VersionedCell();
    const store = new example.CellStore(cell);
    const good = await store.load();
    const seen = events(store);
    await cell.setIf(0, "{ not json");
    await settle();
    expect(store.snapshot()).toBe(good);
    expect(store.health()).toMatchObject({ kind: "cell", stale: true, revision: 0 });
    expect(store.health().error).toMatch(/^cell: \(document\): not JSON/);
    expect(seen.map((e) => e.type === "error" && e.error)).toEqual([expect.any(ValidationError)]);
    await cell.setIf(1, JSON.stringify({ flags: {}, flagValues: { back: true } }));
    await settle();
    expect(store.snapshot()?.document.flagValues).toEqual({ back: true });
    expect(store.health()).toMatchObject({ stale: false, error: null });
    await store.close();
  });

  it("a first load of a bad document rejects, naming it, and health reports it", async () => {
    const cell = new example.VersionedCell();
    await cell.setIf(0, JSON.stringify({ flags: [{ key: "site", on: true, variations: ["available"], fallthrough: { variation: 4 } }] }));
    const store = new example.CellStore(cell);
    await expect(store.load()).rejects.toThrow(/^cell: flags: expected an object/);
    expect(store.health()).toMatchObject({ revision: null, stale: false, error: expect.stringMatching(/flags: expected an object/) });
    await store.close();
  });

  it("closes: stops listening to the cell, refuses work, and adds no listener afterwards", async () => {
    const cell = new example.VersionedCell();
    const store = new example.CellStore(cell);
    await store.load();
    expect(cell.listenerCount("change")).toBe(1);
    await store.close();
    expect(cell.listenerCount("change")).toBe(0);
    await expect(store.load()).rejects.toBeInstanceOf(StoreClosedError);
    await expect(store.write(() => {})).rejects.toBeInstanceOf(StoreClosedError);
    const late: StoreEvent[] = [];
    store.subscribe((event) => late.push(event));
    await cell.setIf(0, JSON.stringify({ flags: {}, flagValues: { late: true } }));
    await settle();
    expect(late).toEqual([]);
  });
});
