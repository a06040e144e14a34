/**
 * The provider on a file store, as in the README's LaunchDarkly migration: the
 * flag file LaunchDarkly's file data source reads, a corrupted file (the store
 * goes stale and keeps the last good snapshot) and an edited one.
 */
import { mkdtempSync, renameSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileStore, type FlagDocument } from "@detour/core";
import { DetourProvider } from "@detour/openfeature";
import { OpenFeature, ProviderEvents, ProviderStatus } from "@openfeature/server-sdk";
import { afterEach, beforeEach, expect, it } from "vitest";
import { nextEvent, resetOpenFeature } from "./helpers.js";

let dir: string;
let path: string;

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), "detour-openfeature-"));
  path = join(dir, "flags.json");
});

afterEach(async () => {
  await resetOpenFeature();
  rmSync(dir, { recursive: true, force: true });
});

/** Replaces the file whole (temp file + rename), as editors and exporters do. */
function replaceFile(document: FlagDocument): void {
  const temp = `${path}.tmp`;
  writeFileSync(temp, JSON.stringify(document));
  renameSync(temp, path);
}

function flags(siteFallthrough: number): FlagDocument {
  return {
    flags: {
      site: {
        key: "site",
        on: true,
        variations: ["available", "read-only", "maintenance"],
        targets: [{ variation: 1, values: ["user-17"] }],
        fallthrough: { variation: siteFallthrough },
      },
    },
    flagValues: { "beta-banner": true },
  };
}

it("goes STALE when the file turns bad, serves the last good snapshot, and comes back with the edit", async () => {
  replaceFile(flags(0));
  const provider = new DetourProvider(fileStore(path, { pollIntervalMs: 20, debounceMs: 5 }), { healthCheckIntervalMs: 10 });
  await OpenFeature.setProviderAndWait(provider);
  const client = OpenFeature.getClient();
  expect(await client.getBooleanValue("beta-banner", false)).toBe(true);
  expect(await client.getStringValue("site", "x", { targetingKey: "user-17" })).toBe("read-only");

  const stale = nextEvent(client, ProviderEvents.Stale);
  writeFileSync(path, "{ half a document");
  expect((await stale)?.message).toMatch(/flags\.json is not valid JSON/);
  expect(client.providerStatus).toBe(ProviderStatus.STALE);
  expect(await client.getStringValue("site", "x", { targetingKey: "nobody" })).toBe("available");

  const ready = nextEvent(client, ProviderEvents.Ready);
  const changed = nextEvent(client, ProviderEvents.ConfigurationChanged);
  replaceFile(flags(2));
  await ready;
  expect((await changed)?.flagsChanged).toEqual(["site"]);
  expect(client.providerStatus).toBe(ProviderStatus.READY);
  expect(await client.getStringValue("site", "x", { targetingKey: "nobody" })).toBe("maintenance");
});
