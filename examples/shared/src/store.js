// @ts-check
/**
 * The store an example runs on, from `DETOUR_STORE`, in the notation of the
 * CLI's `--store`, so that the same string reaches the same flags from both:
 *
 * - unset or empty: the JSON file `defaultPath` (the example's `detour.json`);
 * - `file:PATH` or a bare path: a JSON file, a relative path taken from the
 *   current directory (as the CLI does);
 * - `redis://HOST:PORT/DB[?prefix=NAME]` (or `rediss://`): a Redis store from
 *   `@detour/redis`, which is only imported then (install it to use Redis).
 */
import { relative, resolve } from "node:path";
import { fileStore } from "@detour/core";

/** @typedef {import("@detour/core").Store} Store */

/**
 * @typedef {object} OpenedStore
 * @property {Store} store
 * @property {string} location what to pass to the CLI's `--store` (from the same directory) to reach this store
 */

/**
 * @param {string | undefined} spec `DETOUR_STORE`
 * @param {{ defaultPath: string, cwd?: string }} options
 * @returns {Promise<OpenedStore>}
 */
export async function openStore(spec, { defaultPath, cwd = process.cwd() }) {
  const text = spec?.trim() ?? "";
  if (/^rediss?:\/\//i.test(text)) {
    const url = new URL(text);
    const prefix = url.searchParams.get("prefix") ?? undefined;
    url.searchParams.delete("prefix");
    const { redisStore } = await import("@detour/redis");
    return { store: redisStore({ url: url.toString(), prefix }), location: text };
  }
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(text) && !/^file:/i.test(text)) {
    throw new Error(`DETOUR_STORE: unsupported store ${JSON.stringify(text)}; expected file:PATH or redis://HOST:PORT/DB`);
  }
  const path = text === "" ? defaultPath : resolve(cwd, text.replace(/^file:/i, ""));
  const shown = relative(cwd, path) || path;
  return { store: fileStore(path, { create: true }), location: `file:${shown.startsWith("..") ? path : shown}` };
}
