import { createHash } from "node:crypto";
import { escapeHtml } from "@detour/core";
import { SCRIPT } from "./script.js";
import { STYLE } from "./style.js";

export interface ConsolePage {
  readonly html: string;
  readonly headers: Readonly<Record<string, string>>;
}

const ICON =
  '<svg viewBox="0 0 32 32" aria-hidden="true" focusable="false"><rect width="32" height="32" rx="8" fill="#2451c7"/>' +
  '<path d="M9 22V10h6.5a6 6 0 0 1 0 12H9z" fill="none" stroke="#fff" stroke-width="2.6" stroke-linejoin="round"/>' +
  '<path d="M19 16h5m-2.5-2.5L24 16l-2.5 2.5" fill="none" stroke="#ffd166" stroke-width="2.2" stroke-linecap="round" stroke-linejoin="round"/></svg>';
const FAVICON = `data:image/svg+xml,${encodeURIComponent(ICON.replace(' aria-hidden="true" focusable="false"', ' xmlns="http://www.w3.org/2000/svg"'))}`;

function hash(text: string): string {
  return `'sha256-${createHash("sha256").update(text, "utf8").digest("base64")}'`;
}

function flagField(id: string, label: string, value = ""): string {
  return (
    `<div><label for="${id}">${label}</label>` +
    `<input id="${id}" list="known-flags" required pattern="[A-Za-z0-9][A-Za-z0-9._:\\-]*" autocomplete="off" spellcheck="false"` +
    `${value ? ` value="${value}"` : ' placeholder="billing"'}></div>`
  );
}

function modeSelect(id: string, first: "maintenance" | "read-only" = "maintenance"): string {
  const options = [`<option value="maintenance">Maintenance</option>`, `<option value="read-only">Read-only</option>`];
  if (first === "read-only") options.reverse();
  return `<div class="field"><label for="${id}">Mode</label><select id="${id}">${options.join("")}</select></div>`;
}

function durationSelect(id: string): string {
  return `<div class="field"><label for="${id}">Ends</label><select id="${id}" data-durations></select></div>`;
}

/**
 * The console: one self-contained page (inline style and script, an inline
 * SVG icon, system fonts), served with a Content-Security-Policy that allows
 * exactly that inline style and script and connections to its own origin.
 */
export function renderConsole(options: { basePath: string; title: string }): ConsolePage {
  const title = escapeHtml(options.title);
  const html = `<!doctype html>
<html lang="en" data-base="${escapeHtml(options.basePath)}">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="color-scheme" content="light dark">
<meta name="robots" content="noindex, nofollow">
<title>${title} · maintenance console</title>
<link rel="icon" href="${FAVICON}">
<style>${STYLE}</style>
</head>
<body>
<a class="skip" href="#main">Skip to content</a>
<header class="top"><div class="bar">
  <div class="brand">${ICON}<span>${title} <small>maintenance console</small></span></div>
  <div class="spacer"></div>
  <div class="health"><span id="live-dot" class="dot"></span><span id="live-text">Connecting…</span><span aria-hidden="true">·</span><span id="store-text"></span></div>
  <button id="signout" type="button" class="small" hidden>Sign out</button>
</div></header>

<section id="signin" class="card signin" hidden aria-labelledby="signin-title">
  <h1 id="signin-title">Sign in</h1>
  <p>Paste the admin token. It stays in this browser tab (session storage) and is sent only to this server, as a bearer token.</p>
  <form id="signin-form">
    <div><label for="token">Admin token</label><input id="token" type="password" autocomplete="off" required></div>
    <p id="signin-error" class="notice error" role="alert" hidden></p>
    <button class="primary" type="submit">Sign in</button>
  </form>
</section>

<main id="main" hidden>
  <div id="alert" class="notice error" role="alert"></div>

  <section class="card site" aria-labelledby="site-title">
    <div>
      <h2 id="site-title">Whole site · <code id="site-key">site</code></h2>
      <div class="state"><span id="site-pill" class="pill big available">Available</span><strong id="site-state">Serving everyone</strong></div>
      <div id="site-meta" class="meta"></div>
      <div id="site-message" class="message" hidden></div>
    </div>
    <form id="site-form" class="site-controls" aria-label="Site maintenance">
      <div class="row">
        <div class="field"><label for="site-message-input">Message for visitors</label><input id="site-message-input" maxlength="2000" placeholder="We are upgrading the database"></div>
        ${durationSelect("site-duration")}
      </div>
      <div class="row">
        <button type="button" id="site-maintenance" class="danger">Start maintenance</button>
        <button type="button" id="site-readonly" class="warn">Read-only</button>
        <button type="button" id="site-off" class="primary" hidden>End maintenance</button>
      </div>
    </form>
  </section>

  <section class="card" aria-labelledby="flags-title">
    <div class="card-head"><h2 id="flags-title">Flags in force</h2><span id="flags-count" class="tag">0</span></div>
    <div class="table-wrap"><table id="flags-table" hidden>
      <thead><tr><th scope="col">Flag</th><th scope="col">Mode</th><th scope="col">Scope</th><th scope="col">Read-only users and contexts</th><th scope="col">Rollout</th><th scope="col">Window · time left</th><th scope="col">Message</th><th scope="col"><span class="sr-only">Actions</span></th></tr></thead>
      <tbody id="flags-body"></tbody>
    </table></div>
    <p id="flags-empty" class="empty">Nothing in force: everyone is served normally.</p>
  </section>

  <section class="card" aria-labelledby="change-title">
    <h2 id="change-title">Change a flag</h2>
    <div class="forms">
    <form id="feature-form" class="stack" aria-labelledby="feature-title">
      <h3 id="feature-title">Feature maintenance</h3>
      ${flagField("feature-key", "Flag")}
      <div class="row">${modeSelect("feature-mode")}${durationSelect("feature-duration")}</div>
      <div><label for="feature-message">Message</label><input id="feature-message" maxlength="2000"></div>
      <div class="row"><button type="submit" class="danger">Turn on</button><button type="button" id="feature-off">Turn off</button></div>
    </form>
    <form id="users-form" class="stack" aria-labelledby="users-title">
      <h3 id="users-title">Read-only users or tenants</h3>
      <p>They can still browse; every change they try is refused.</p>
      ${flagField("users-key", "Flag", "site")}
      <div><label for="users-kind">Context kind</label><input id="users-kind" value="user" required autocomplete="off" spellcheck="false" pattern="[A-Za-z0-9._\\-]+" placeholder="user, organization…"></div>
      <div><label for="users-ids">Keys (user ids, organization keys…), comma-separated</label><input id="users-ids" required autocomplete="off" spellcheck="false" placeholder="user-17, user-42"></div>
      <div class="row"><button type="submit" class="warn">Make read-only</button><button type="button" id="users-remove">Remove</button></div>
    </form>
    <form id="percent-form" class="stack" aria-labelledby="percent-title">
      <h3 id="percent-title">Percentage of users</h3>
      ${flagField("percent-key", "Flag", "site")}
      <div class="row"><div class="field"><label for="percent-value">Percent</label><input id="percent-value" type="number" min="0" max="100" step="0.1" required inputmode="decimal"></div>${modeSelect("percent-mode", "read-only")}</div>
      <div class="row"><button type="submit">Apply percentage</button></div>
    </form>
    </div>
    <datalist id="known-flags"></datalist>
  </section>

  <section id="migrations" class="card" aria-labelledby="migrations-title" hidden>
    <div class="card-head"><h2 id="migrations-title">Migrations</h2><span id="migrations-window" class="tag">last 5 min</span></div>
    <div class="table-wrap"><table>
      <thead><tr><th scope="col">Flag</th><th scope="col">Stage</th><th scope="col">Origin</th><th scope="col">Calls</th><th scope="col">Error rate</th><th scope="col">p50</th><th scope="col">p99</th><th scope="col">Consistency</th></tr></thead>
      <tbody id="migrations-body"></tbody>
    </table></div>
    <p id="migrations-empty" class="empty">No migration operation in the last minutes.</p>
  </section>

  <section class="card audit" aria-labelledby="audit-title">
    <div class="card-head"><h2 id="audit-title">Audit log</h2><span class="spacer"></span><button id="audit-more" class="small" type="button">Show more</button></div>
    <div class="table-wrap"><table>
      <thead><tr><th scope="col">When</th><th scope="col">Who</th><th scope="col">Action</th><th scope="col">Flag</th><th scope="col">Details</th></tr></thead>
      <tbody id="audit-body"></tbody>
    </table></div>
    <p id="audit-empty" class="empty" hidden>No changes recorded yet.</p>
  </section>
</main>
<footer id="footer" hidden>Updates arrive live from every instance and the CLI. Every change is recorded in the audit log with who made it.</footer>
<div id="announce" class="sr-only" aria-live="polite"></div>
<noscript><p class="notice error">The Detour console needs JavaScript.</p></noscript>
<script>${SCRIPT}</script>
</body>
</html>
`;
  const csp = [
    "default-src 'none'",
    `script-src ${hash(SCRIPT)}`,
    `style-src ${hash(STYLE)}`,
    "img-src data:",
    "connect-src 'self'",
    "base-uri 'none'",
    "form-action 'none'",
    "frame-ancestors 'none'",
  ].join("; ");
  return {
    html,
    headers: {
      "content-type": "text/html; charset=utf-8",
      "content-security-policy": csp,
      "x-frame-options": "DENY",
      "cross-origin-opener-policy": "same-origin",
      "cross-origin-resource-policy": "same-origin",
    },
  };
}
