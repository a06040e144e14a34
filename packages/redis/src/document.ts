/** Reading documents: what Redis holds, parsed and validated, and the bootstrap document. */
import { readFile } from "node:fs/promises";
import type { FlagDocument } from "@detour/core";
import { parseDocument, Snapshot, ValidationError } from "@detour/core/store";
import { assemble } from "./layout.js";
import type { RedisStoreKeys } from "./options.js";
import type { SetId } from "./targets.js";

/** What Redis was seen to hold: whether the document key exists and the revision key's raw value. */
export interface Observed {
  readonly exists: boolean;
  readonly rev: string | null;
}

/** A compact identity of an observation, to compare what Redis holds now with what was acted upon. */
export const tokenOf = (o: Observed): string => `${o.exists ? 1 : 0}:${o.rev ?? ""}`;

/** A revision as the revision key holds it. */
export const INTEGER = /^(0|[1-9][0-9]{0,15})$/;

/** The revision key's value as a number, or `fallback` when it is absent or not an integer. */
export function revisionOf(rev: string | null, fallback: number): number {
  return rev !== null && INTEGER.test(rev) ? Number(rev) : fallback;
}

/** No target sets: the document holds every list inline. */
export const NO_SETS: ReadonlyMap<SetId, readonly string[]> = new Map();

/**
 * Validates the document JSON read from Redis, with the values of the target
 * lists held in sets (`members`) put back; the revision key, when set, is the
 * document's revision. Throws a `ValidationError` naming the key (not JSON, a
 * non-integer revision) or the flag and field at fault.
 */
export function parseStored(
  raw: string,
  rev: string | null,
  keys: RedisStoreKeys,
  source: string,
  now: number,
  members: ReadonlyMap<SetId, readonly string[]> = NO_SETS,
): Snapshot {
  if (rev !== null && !INTEGER.test(rev)) {
    throw new ValidationError([{ path: "(revision)", message: `${keys.revision} holds ${JSON.stringify(rev.slice(0, 40))}, expected an integer` }], source);
  }
  return parseDocument(raw, {
    source,
    now,
    ...(rev === null ? {} : { revision: Number(rev) }),
    ...(members.size === 0 ? {} : { prepare: (parsed: unknown) => assemble(parsed, members) }),
  });
}

/** The bootstrap option as a snapshot: a JSON file read and validated, or a document validated. */
export async function loadBootstrap(given: string | FlagDocument, now: number): Promise<Snapshot> {
  if (typeof given !== "string") return Snapshot.from(given, { source: "bootstrap", now });
  return parseDocument(await readFile(given, "utf8"), { source: given, now });
}
