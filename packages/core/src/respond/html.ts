/**
 * The built-in HTML page: one self-contained document (inline CSS, inline SVG,
 * a data: favicon, no script) so the browser makes no request but the page
 * itself — the rest of the site may be down.
 */
import type { Mode } from "../document/types.js";
import type { Decision, Scope } from "../decision/types.js";
import { type Content, formatIn, formatUtc, isoInstant } from "./content.js";

const ESCAPES: Readonly<Record<string, string>> = {
  "&": "&amp;",
  "<": "&lt;",
  ">": "&gt;",
  '"': "&quot;",
  "'": "&#39;",
};

/** Escapes `& < > " '`: the result is safe as HTML text and inside a quoted attribute value. */
export function escapeHtml(value: string): string {
  return value.replace(/[&<>"']/g, (c) => ESCAPES[c] ?? c);
}

/**
 * Everything a page template needs.
 *
 * The top-level fields are **raw values**: strings are exactly as configured
 * (a flag's `message` may contain `<script>`), so pass them through
 * {@link escapeHtml} before putting them in HTML.
 *
 * `view.html` holds **HTML-ready strings**: escaped text, or markup Detour
 * built from escaped text. Insert them as they are; never escape them again.
 */
export interface PageView {
  readonly decision: Decision;
  readonly mode: Mode;
  readonly scope: Scope | null;
  /** The response status, e.g. 503. */
  readonly status: number;
  /** "Service under maintenance" / "Read-only mode" (also the problem `title`). Raw. */
  readonly title: string;
  /** The heading, worded for mode and scope, e.g. "We’ll be back soon". Raw. */
  readonly heading: string;
  /** "Down for maintenance" / "Read-only: changes are paused". Raw. */
  readonly modeLabel: string;
  /** The flag's message or the default one. Raw: may contain anything. */
  readonly message: string;
  /** Whole seconds until the client should retry, or null. */
  readonly retryAfter: number | null;
  /** When maintenance is expected to end, or null. */
  readonly until: Date | null;
  /** Seconds between automatic reloads, or null when the page does not reload itself. */
  readonly refresh: number | null;
  /**
   * True when the blocked request was a write (POST, PUT...): reloading would
   * send it again, so the page offers "Go back" rather than "Reload".
   */
  readonly unsafe: boolean;
  /** HTML-ready strings: escaped text or markup built from it. */
  readonly html: {
    readonly title: string;
    readonly heading: string;
    readonly modeLabel: string;
    readonly message: string;
    /** `<time datetime="2026-12-01T03:00:00Z">03:00 UTC, 1 December 2026</time>`, or null. */
    readonly until: string | null;
    /** "in about 45 minutes", escaped, or null when no retry time is known. */
    readonly retryIn: string | null;
    /** `<meta http-equiv="refresh" content="N">`, or "" when the page does not reload itself. */
    readonly refreshMeta: string;
    /** `<link rel="icon" href="data:…">`: keeps the browser from requesting /favicon.ico. */
    readonly favicon: string;
    /**
     * For a blocked write: "Your changes were not saved." and a "Go back" link
     * to the page the form was sent from (the Referer's path), or the advice
     * to use the browser's Back button when that is unknown; "" otherwise.
     */
    readonly back: string;
  };
}

const ICONS = {
  // A wrench.
  maintenance:
    '<path d="M14.7 6.3a1 1 0 0 0 0 1.4l1.6 1.6a1 1 0 0 0 1.4 0l3.77-3.77a6 6 0 0 1-7.94 7.94l-6.91 6.91a2.12 2.12 0 0 1-3-3l6.91-6.91a6 6 0 0 1 7.94-7.94l-3.76 3.76z"/>',
  // A padlock.
  "read-only": '<rect x="4" y="11" width="16" height="10" rx="2"/><path d="M8 11V7a4 4 0 0 1 8 0v4"/>',
} as const;

const FAVICON_COLORS = { maintenance: "#d97706", "read-only": "#2563eb" } as const;

function faviconLink(kind: Content["kind"]): string {
  const svg =
    `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 24 24">` +
    `<rect width="24" height="24" rx="6" fill="${FAVICON_COLORS[kind]}"/>` +
    `<g transform="translate(3 3) scale(.75)" fill="none" stroke="#fff" stroke-width="2.4" stroke-linecap="round" stroke-linejoin="round">${ICONS[kind]}</g></svg>`;
  return `<link rel="icon" href="data:image/svg+xml,${encodeURIComponent(svg)}">`;
}

/** Builds the view the page (built-in or a template) renders. */
export function pageView(decision: Decision, content: Content, status: number, refresh: number | null, back?: { unsafe: boolean; referer?: string | undefined }): PageView {
  const unsafe = back?.unsafe === true;
  const until = content.until;
  const retryIn = content.retryAfter !== null && content.retryAfter > 0 ? formatIn(content.retryAfter) : null;
  return {
    decision,
    mode: decision.mode,
    scope: decision.scope,
    status,
    title: content.title,
    heading: content.heading,
    modeLabel: content.modeLabel,
    message: content.message,
    retryAfter: content.retryAfter,
    until,
    refresh,
    unsafe,
    html: {
      title: escapeHtml(content.title),
      heading: escapeHtml(content.heading),
      modeLabel: escapeHtml(content.modeLabel),
      message: escapeHtml(content.message),
      until: until ? `<time datetime="${isoInstant(until)}">${escapeHtml(formatUtc(until))}</time>` : null,
      retryIn: retryIn === null ? null : escapeHtml(retryIn),
      refreshMeta: refresh === null ? "" : `<meta http-equiv="refresh" content="${refresh}">`,
      favicon: faviconLink(content.kind),
      back: unsafe ? backText(back?.referer) : "",
    },
  };
}

/**
 * The local part (path and query) of a Referer, as a link target on this
 * site: a link to another origin is never made from it.
 */
export function localReferer(referer: string | undefined): string | null {
  if (typeof referer !== "string" || referer === "") return null;
  try {
    const url = new URL(referer, "http://x.invalid");
    return url.pathname.startsWith("/") && !url.pathname.startsWith("//") ? `${url.pathname}${url.search}` : null;
  } catch {
    return null;
  }
}

function backText(referer: string | undefined): string {
  const target = localReferer(referer);
  const back = target === null ? "Go back with your browser\u2019s Back button" : `<a href="${escapeHtml(target)}">Go back</a>`;
  return `Your changes were not saved. ${back} and try again later; reloading would send them again.`;
}

const STYLE = `
:root{color-scheme:light dark;--bg:#f3f4f6;--card:#fff;--text:#111827;--text-2:#374151;--muted:#5b6472;--border:#e5e7eb;--panel:#f9fafb;--accent-bg:#fef3c7;--accent-fg:#92400e;--shadow:0 1px 2px rgba(17,24,39,.05),0 20px 40px -24px rgba(17,24,39,.25)}
.read-only{--accent-bg:#dbeafe;--accent-fg:#1e40af}
@media (prefers-color-scheme:dark){
:root{--bg:#0b0f14;--card:#141a21;--text:#f3f4f6;--text-2:#d1d5db;--muted:#9ca3af;--border:#263040;--panel:#0f141a;--accent-bg:rgba(245,158,11,.14);--accent-fg:#fcd34d;--shadow:0 20px 40px -24px rgba(0,0,0,.8)}
.read-only{--accent-bg:rgba(96,165,250,.14);--accent-fg:#93c5fd}
}
*{box-sizing:border-box}
html{-webkit-text-size-adjust:100%;text-size-adjust:100%}
body{margin:0;min-height:100vh;min-height:100dvh;display:flex;align-items:center;justify-content:center;padding:clamp(16px,4vw,48px);background:var(--bg);color:var(--text);font:16px/1.6 system-ui,-apple-system,"Segoe UI",Roboto,"Helvetica Neue",Arial,"Noto Sans",sans-serif;-webkit-font-smoothing:antialiased}
main{width:100%;max-width:36rem;background:var(--card);border:1px solid var(--border);border-radius:16px;box-shadow:var(--shadow);padding:clamp(24px,6vw,44px)}
.top{display:flex;align-items:center;gap:14px;margin-bottom:22px}
.icon{flex:none;width:44px;height:44px;border-radius:12px;display:flex;align-items:center;justify-content:center;background:var(--accent-bg);color:var(--accent-fg)}
.icon svg{width:22px;height:22px}
.badge{margin:0;display:inline-flex;align-items:center;gap:8px;padding:3px 11px;border-radius:999px;background:var(--accent-bg);color:var(--accent-fg);font-size:.8125rem;font-weight:600;line-height:1.6}
.badge::before{content:"";width:7px;height:7px;border-radius:50%;background:currentColor}
h1{margin:0 0 10px;font-size:clamp(1.5rem,1.2rem + 1.5vw,2rem);line-height:1.2;letter-spacing:-.02em;font-weight:700}
.message{margin:0;color:var(--text-2);font-size:1.0625rem;white-space:pre-line;overflow-wrap:anywhere}
.when{margin:26px 0 0;padding:14px 16px;border:1px solid var(--border);border-radius:10px;background:var(--panel);display:flex;gap:12px;align-items:flex-start}
.when svg{flex:none;width:20px;height:20px;margin-top:2px;color:var(--muted)}
.when p{margin:0}
.label{display:block;font-size:.75rem;font-weight:600;letter-spacing:.06em;text-transform:uppercase;color:var(--muted)}
.when time{font-weight:600}
.soon{display:block;color:var(--muted)}
footer{margin-top:26px;padding-top:18px;border-top:1px solid var(--border);font-size:.8125rem;color:var(--muted);display:flex;flex-wrap:wrap;justify-content:space-between;gap:4px 16px}
footer a{color:var(--accent-fg);font-weight:600}
@media print{body{background:none}main{box-shadow:none}}
`
  .trim()
  .replace(/\n/g, "");

const CLOCK =
  '<svg viewBox="0 0 24 24" fill="none" stroke="currentColor" stroke-width="2" stroke-linecap="round" stroke-linejoin="round" aria-hidden="true" focusable="false"><circle cx="12" cy="12" r="9"/><path d="M12 7v5l3 2"/></svg>';

function whenBlock(view: PageView): string {
  const { html } = view;
  if (html.until) {
    const soon = html.retryIn ? ` <span class="soon">${html.retryIn}</span>` : "";
    return `<div class="when">${CLOCK}<p><span class="label">Expected back</span>${html.until}${soon}</p></div>`;
  }
  if (html.retryIn) {
    return `<div class="when">${CLOCK}<p><span class="label">Try again</span>${html.retryIn}</p></div>`;
  }
  return "";
}

function every(seconds: number): string {
  if (seconds === 1) return "second";
  if (seconds === 60) return "minute";
  return seconds % 60 === 0 ? `${seconds / 60} minutes` : `${seconds} seconds`;
}

function footerText(view: PageView): string {
  const reload = view.unsafe
    ? view.html.back
    : view.refresh === null
      ? "Reload the page to check again."
      : `This page checks again every ${every(view.refresh)}.`;
  return `<footer><span>${reload}</span><span>HTTP ${view.status}</span></footer>`;
}

/**
 * The built-in page. A template can reuse it with other words:
 * `template: (view) => renderPage({ ...view, html: { ...view.html, heading: "Back at 3am" } })`
 * (strings put in `view.html` must already be escaped).
 */
export function renderPage(view: PageView): string {
  const kind = view.mode === "read-only" ? "read-only" : "maintenance";
  const { html } = view;
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="color-scheme" content="light dark">
<meta name="robots" content="noindex">
${html.refreshMeta}
<title>${html.title}</title>
${html.favicon}
<style>${STYLE}</style>
</head>
<body class="${kind}">
<main aria-labelledby="heading">
<div class="top"><span class="icon"><svg viewBox="0 0 24 24" fill="none" stroke="currentColor" stroke-width="2" stroke-linecap="round" stroke-linejoin="round" aria-hidden="true" focusable="false">${ICONS[kind]}</svg></span><p class="badge">${html.modeLabel}</p></div>
<h1 id="heading">${html.heading}</h1>
<p class="message">${html.message}</p>
${whenBlock(view)}
${footerText(view)}
</main>
</body>
</html>
`;
}
