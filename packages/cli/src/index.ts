/**
 * `@detour/cli`: the `detour` binary. The programmatic entry runs it with
 * injected arguments and streams (for tests and wrappers).
 */
export { run, type CliIO } from "./program.js";
export { parseStoreUrl, openStore, DEFAULT_STORE, DEFAULT_PREFIX, type StoreLocation } from "./store-url.js";
export { EXIT, CliError, UsageError, StoreError } from "./errors.js";
export { cliActor } from "./context.js";
