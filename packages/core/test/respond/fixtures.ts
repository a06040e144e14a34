import type { Decision } from "../../src/decision/types.js";

/** A fixed clock: 2026-12-01T02:15:00Z. */
export const NOW = Date.UTC(2026, 11, 1, 2, 15, 0);
export const now = (): number => NOW;

export const XSS = `<script>alert(1)</script><img src=x onerror=alert(1)>"'&`;

/** A blocked site-wide maintenance decision, overridable field by field. */
export function blocked(overrides: Partial<Decision> = {}): Decision {
  return {
    action: "block",
    mode: "maintenance",
    scope: "site",
    picked: null,
    flag: "site",
    reason: "FLAG",
    evaluation: { kind: "FALLTHROUGH" },
    message: null,
    retryAfter: null,
    until: null,
    status: 503,
    // What a decision offers besides its fields (the responder reads none of it).
    context: { key: "anonymous" },
    variation: (_flagKey, defaultValue) => defaultValue,
    explain: () => ({ value: null, variationIndex: null, reason: { kind: "ERROR", errorKind: "FLAG_NOT_FOUND" } }),
    toJSON: () => ({}),
    ...overrides,
  };
}
