/** A JSON value as it appears in a flag document. */
export type JsonValue = null | boolean | number | string | JsonValue[] | { [key: string]: JsonValue };

export type ClauseOp =
  | "in"
  | "startsWith"
  | "endsWith"
  | "contains"
  | "matches"
  | "lessThan"
  | "lessThanOrEqual"
  | "greaterThan"
  | "greaterThanOrEqual"
  | "before"
  | "after"
  | "semVerEqual"
  | "semVerLessThan"
  | "semVerGreaterThan"
  | "segmentMatch"
  | "inCidr";

export interface Clause {
  attribute: string;
  op: ClauseOp;
  values: JsonValue[];
  negate?: boolean;
  contextKind?: string;
}

export interface WeightedVariation {
  variation: number;
  /** Out of 100000. */
  weight: number;
  untracked?: boolean;
}

export interface Rollout {
  variations: WeightedVariation[];
  bucketBy?: string;
  seed?: number;
  kind?: "rollout" | "experiment";
  contextKind?: string;
}

/** Either a fixed variation or a percentage rollout. */
export interface VariationOrRollout {
  variation?: number;
  rollout?: Rollout;
}

export interface Rule extends VariationOrRollout {
  id?: string;
  clauses: Clause[];
  trackEvents?: boolean;
}

export interface Target {
  variation: number;
  values: string[];
  contextKind?: string;
}

export interface Prerequisite {
  key: string;
  variation: number;
}

export type Mode = "available" | "read-only" | "maintenance";

export interface MaintenanceWindow {
  /** RFC 3339 date-time; the flag is in force from then on. */
  start?: string;
  /** RFC 3339 date-time; the flag stops being in force then. */
  end?: string;
}

/** Detour's own per-flag settings; LaunchDarkly ignores them. */
export interface DetourFlagSettings {
  message?: string;
  /** Seconds, sent as Retry-After when no window end is known. */
  retryAfter?: number;
  window?: MaintenanceWindow;
  /** What happens when the store cannot be read and no snapshot exists. Default `open`. */
  failMode?: "open" | "closed";
  /** Seconds after `since` when the flag stops being in force by itself. */
  ttl?: number;
  /** HTTP status for blocked requests; default 503. */
  status?: number;
  /** When the flag was last turned on (RFC 3339): binds bypass cookies to the period. */
  since?: string;
  /** Who turned it on last. */
  by?: string;
  /**
   * Blocked GET and HEAD requests that would get the HTML page are redirected
   * here (a local path such as `/status`, or an http(s) URL); the target path
   * itself gets the usual answer. Laravel's `down --redirect`.
   */
  redirect?: string;
  /** A pre-rendered HTML page served as the maintenance page, at most `MAX_PAGE_BYTES` (UTF-8). Laravel's `down --render`. */
  page?: string;
  /** Seconds: the `Refresh` header (and the page's reload) on blocked GET and HEAD requests. Laravel's `down --refresh`. */
  refresh?: number;
  /** RFC 3339: when clients should retry (Retry-After counts down to it) when no window end is known. */
  retryAt?: string;
  /**
   * A bypass secret for this maintenance period, stored hashed: visiting
   * `/<secret>` sets the bypass cookie, signed with the app's `allow.secret`.
   * Laravel's `down --secret`.
   */
  secret?: FlagSecret;
}

/** A flag's bypass secret as stored: `sha256` is base64url(SHA-256(salt + "/" + secret)); the secret itself is never stored. */
export interface FlagSecret {
  /** Random, base64url. */
  salt: string;
  /** base64url, 43 characters. */
  sha256: string;
}

/** The largest pre-rendered page (`detour.page`) a flag may hold: 256 KiB of UTF-8. */
export const MAX_PAGE_BYTES = 256 * 1024;

export interface Flag {
  key: string;
  on: boolean;
  version?: number;
  variations: JsonValue[];
  offVariation?: number;
  fallthrough: VariationOrRollout;
  targets?: Target[];
  contextTargets?: Target[];
  rules?: Rule[];
  prerequisites?: Prerequisite[];
  salt?: string;
  clientSide?: boolean;
  trackEvents?: boolean;
  trackEventsFallthrough?: boolean;
  debugEventsUntilDate?: number;
  deleted?: boolean;
  detour?: DetourFlagSettings;
  /** Other LaunchDarkly fields are kept as they are. */
  [extra: string]: unknown;
}

export interface SegmentRule {
  id?: string;
  clauses: Clause[];
  weight?: number;
  bucketBy?: string;
  rolloutContextKind?: string;
}

export interface SegmentTarget {
  contextKind: string;
  values: string[];
}

export interface Segment {
  key: string;
  version?: number;
  included?: string[];
  excluded?: string[];
  includedContexts?: SegmentTarget[];
  excludedContexts?: SegmentTarget[];
  rules?: SegmentRule[];
  salt?: string;
  unbounded?: boolean;
  deleted?: boolean;
  [extra: string]: unknown;
}

export interface AuditEntry {
  /** RFC 3339 date-time. */
  at: string;
  /** Who: `cli:alice@host`, the admin's actor, `api`... */
  actor: string;
  action: string;
  flag: string | null;
  details?: { [key: string]: JsonValue };
}

/** The whole document a store holds: a superset of LaunchDarkly's flag-data file. */
export interface FlagDocument {
  flags?: Record<string, Flag>;
  /** Shorthand flags: a fixed value each. */
  flagValues?: Record<string, JsonValue>;
  segments?: Record<string, Segment>;
  /** Newest first, bounded. Evaluation ignores it. */
  audit?: AuditEntry[];
  /** Incremented by every write through Detour. Evaluation ignores it. */
  revision?: number;
}
