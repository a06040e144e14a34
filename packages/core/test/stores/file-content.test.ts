/**
 * A store file swapped for another (a symlink to /etc/shadow, a credentials
 * file) must not leak that file's content through `health().error`, the
 * admin API or logs: the file store's errors never quote the file.
 */
import { symlink, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { fileStore, type FileStore } from "../../src/stores/index.js";
import { temporaryDirectory } from "./helpers.js";

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

async function errorFor(content: string): Promise<string> {
  const target = join(dir, "secret.txt");
  await writeFile(target, content);
  const path = join(dir, "detour.json");
  await symlink(target, path);
  const store = fileStore(path, { watch: false, pollIntervalMs: 0 });
  open.push(store);
  const error = await store.load().then(
    () => null,
    (e: unknown) => e as Error,
  );
  expect(error).toBeInstanceOf(Error);
  expect(store.health().error).toBe(error!.message);
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

  it("valid JSON that is not a flag document: paths, never values", async () => {
    const message = await errorFor(JSON.stringify({ flags: { prod: { variations: [true, false], on: "AKIAIOSFODNN7EXAMPLE-hunter2" } } }));
    expect(message).not.toContain("hunter2");
    expect(message).toContain("flags.prod.on: expected true or false, got a string of 28 characters");
  });
});
