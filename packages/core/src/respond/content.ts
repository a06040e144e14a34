/**
 * The words and times every representation shares, so the HTML page, the
 * problem document and the plain text never disagree.
 */
import type { Decision } from "../decision/types.js";

/** What a blocked response says, before any escaping. */
export interface Content {
  /** `read-only` when the decision says so; any other blocked mode reads as maintenance. */
  readonly kind: "maintenance" | "read-only";
  /** Stable per kind (the problem `title`): "Service under maintenance" / "Read-only mode". */
  readonly title: string;
  /** The page heading, worded for the scope ("We'll be back soon", "Changes are paused"...). */
  readonly heading: string;
  /** "Down for maintenance" / "Read-only: changes are paused". */
  readonly modeLabel: string;
  /** The flag's message, or a default worded for the mode and scope. */
  readonly message: string;
  /** Whole seconds until the client should retry (from `until` when known), or null. */
  readonly retryAfter: number | null;
  /** When maintenance is expected to end, or null. */
  readonly until: Date | null;
}

const TITLES = { maintenance: "Service under maintenance", "read-only": "Read-only mode" } as const;
const MODE_LABELS = { maintenance: "Down for maintenance", "read-only": "Read-only: changes are paused" } as const;

const HEADINGS = {
  maintenance: {
    site: "We\u2019ll be back soon",
    feature: "This feature is temporarily unavailable",
    user: "Your account is temporarily unavailable",
    context: "Your organization is temporarily unavailable",
  },
  "read-only": {
    site: "Changes are paused for now",
    feature: "Changes to this feature are paused",
    user: "Changes to your account are paused",
    context: "Changes to your organization are paused",
  },
} as const;

const DEFAULT_MESSAGES = {
  maintenance: {
    site: "We\u2019re carrying out scheduled maintenance. Please check back shortly.",
    feature: "This part of the service is down for maintenance. Please try again later.",
    user: "Your account is temporarily unavailable while we carry out maintenance. Please try again later.",
    context: "Your organization is temporarily unavailable while we carry out maintenance. Please try again later.",
  },
  "read-only": {
    site: "The service is in read-only mode: you can still browse, but changes can\u2019t be saved right now. Please try again later.",
    feature: "This part of the service is in read-only mode: changes can\u2019t be saved right now. Please try again later.",
    user: "Your account is in read-only mode: changes can\u2019t be saved right now. Please try again later.",
    context: "Your organization is in read-only mode: changes can\u2019t be saved right now. Please try again later.",
  },
} as const;

/** The decision's end time when it is a valid date. */
export function validUntil(decision: Decision): Date | null {
  const until = decision.until;
  return until instanceof Date && Number.isFinite(until.getTime()) ? until : null;
}

/**
 * Whole seconds until the client should retry: counted down to `until` when it
 * is known (never below 0), else `decision.retryAfter` rounded up, else null.
 */
export function retrySeconds(decision: Decision, now: number): number | null {
  const until = validUntil(decision);
  if (until) return Math.max(0, Math.ceil((until.getTime() - now) / 1000));
  const seconds = decision.retryAfter;
  if (typeof seconds !== "number" || !Number.isFinite(seconds)) return null;
  return Math.max(0, Math.ceil(seconds));
}

export function contentFor(decision: Decision, now: number): Content {
  const kind = decision.mode === "read-only" ? "read-only" : "maintenance";
  const scope = decision.scope ?? "site";
  const message = typeof decision.message === "string" && decision.message.trim() !== "" ? decision.message : DEFAULT_MESSAGES[kind][scope];
  return {
    kind,
    title: TITLES[kind],
    heading: HEADINGS[kind][scope],
    modeLabel: MODE_LABELS[kind],
    message,
    retryAfter: retrySeconds(decision, now),
    until: validUntil(decision),
  };
}

const MONTHS = [
  "January", "February", "March", "April", "May", "June",
  "July", "August", "September", "October", "November", "December",
];

const pad = (n: number): string => String(n).padStart(2, "0");

/** "03:00 UTC, 1 December 2026": the server cannot know the reader's time zone, so UTC, said plainly. */
export function formatUtc(instant: Date): string {
  // "Back by" a minute: round up, so 03:00:20 reads 03:01 rather than a time already past.
  const date = new Date(Math.ceil(instant.getTime() / 60_000) * 60_000);
  return `${pad(date.getUTCHours())}:${pad(date.getUTCMinutes())} UTC, ${date.getUTCDate()} ${MONTHS[date.getUTCMonth()]} ${date.getUTCFullYear()}`;
}

/** A machine-readable instant for `<time datetime>`: `2026-12-01T03:00:00Z`. */
export function isoInstant(date: Date): string {
  return date.toISOString().replace(/\.000Z$/, "Z");
}

/** "in about 45 minutes", "in about 2 hours", "in less than a minute". */
export function formatIn(seconds: number): string {
  if (seconds < 60) return "in less than a minute";
  const minutes = Math.ceil(seconds / 60);
  if (minutes < 60) return `in about ${minutes} minute${minutes === 1 ? "" : "s"}`;
  const hours = Math.round(seconds / 3600);
  if (hours < 48) return `in about ${hours} hour${hours === 1 ? "" : "s"}`;
  const days = Math.round(seconds / 86400);
  return `in about ${days} days`;
}

/** One sentence on when to come back, or null when nothing is known. */
export function whenSentence(content: Content): string | null {
  if (content.until) {
    const relative = content.retryAfter !== null && content.retryAfter > 0 ? ` (${formatIn(content.retryAfter)})` : "";
    return `Expected back by ${formatUtc(content.until)}${relative}.`;
  }
  if (content.retryAfter !== null) return `Please try again ${formatIn(content.retryAfter)}.`;
  return null;
}
