import type { FlagDocument, Mode } from "../../src/index.js";
import { createDetour, type DetourOptions, type DetourRequest } from "../../src/index.js";

export const T0 = Date.parse("2026-12-01T02:00:00Z");

/** A clock tests can move. */
export function clock(start = T0) {
  let now = start;
  return { now: () => now, set: (t: number) => (now = t), advance: (ms: number) => (now += ms) };
}

export function modeFlag(key: string, fields: Record<string, unknown> = {}): FlagDocument["flags"] {
  return {
    [key]: {
      key,
      on: true,
      variations: ["available", "read-only", "maintenance"],
      offVariation: 0,
      fallthrough: { variation: 0 },
      salt: key,
      ...fields,
    } as never,
  };
}

export const MODE_INDEX: Record<Mode, number> = { available: 0, "read-only": 1, maintenance: 2 };

export async function detourWith(document: FlagDocument, options: DetourOptions<DetourRequest> = {}) {
  const detour = createDetour<DetourRequest>({ store: document, ...options });
  await detour.ready;
  return detour;
}

export function request(fields: Partial<DetourRequest> = {}): DetourRequest {
  return { method: "GET", path: "/", ip: "203.0.113.9", headers: {}, ...fields };
}
