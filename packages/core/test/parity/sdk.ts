import { writeFileSync } from "node:fs";
import { init, integrations, type LDClient } from "@launchdarkly/node-server-sdk";
import type { FlagDocument } from "../../src/document/types.js";

const silentLogger = { error() {}, warn() {}, info() {}, debug() {} };

/** The LaunchDarkly SDK on `document`, written to `path`, through its file data source: offline, no events, silent. */
export async function offlineClient(document: FlagDocument, path: string): Promise<LDClient> {
  writeFileSync(path, JSON.stringify(document));
  const client = init("sdk-parity-test", {
    updateProcessor: new integrations.FileDataSourceFactory({ paths: [path] }).getFactory(),
    sendEvents: false,
    diagnosticOptOut: true,
    logger: silentLogger,
  });
  await client.waitForInitialization({ timeout: 10 });
  return client;
}
