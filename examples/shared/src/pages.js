// @ts-check
/**
 * The examples' HTML pages. Each takes the request's Detour decision
 * (`req.detour`, `ctx.state.detour`, `request.detour`): while it says
 * `read-only`, pages show a banner and leave out their forms, so a read-only
 * user can look around but is not offered writes that would be refused.
 */
import { escapeHtml } from "@detour/core";

/** @typedef {import("@detour/core").Decision} Decision */
/** @typedef {import("./data.js").Note} Note */
/** @typedef {import("./data.js").Invoice} Invoice */

/**
 * @typedef {object} PageContext
 * @property {string | undefined} user
 * @property {Pick<Decision, "mode" | "message"> | null | undefined} decision
 */

const STYLE = `body{font:16px/1.5 system-ui,sans-serif;margin:0;color:#1d2430;background:#f6f7f9}
header{display:flex;gap:1.25rem;padding:.75rem 1.5rem;background:#1d2430}header a{color:#fff;text-decoration:none}
header .me{margin-left:auto}main{max-width:42rem;margin:2rem auto;padding:0 1.5rem}
.banner{margin:0;padding:.75rem 1.5rem;background:#fff4d6;border-bottom:1px solid #e8c65a}
ul.notes{padding:0;list-style:none}ul.notes li{background:#fff;margin:.5rem 0;padding:.5rem .75rem;border-radius:6px}
table{border-collapse:collapse;width:100%}td,th{text-align:left;padding:.4rem;border-bottom:1px solid #dde}
form.inline{display:inline}input[type=text]{padding:.4rem;width:60%}button{padding:.4rem .8rem}
code{background:#e9ecf1;padding:.1rem .3rem;border-radius:4px}small{color:#5b6575}`;

/** @param {PageContext["decision"]} decision */
export function isReadOnly(decision) {
  return decision?.mode === "read-only";
}

/**
 * @param {PageContext & { title: string, body: string }} page
 * @returns {string}
 */
function layout({ title, user, decision, body }) {
  const banner = isReadOnly(decision)
    ? `<p class="banner" role="status"><strong>Read-only for now.</strong> ${escapeHtml(decision?.message ?? "We are moving your data.")} You can look around; changes are paused.</p>`
    : "";
  return `<!doctype html>
<html lang="en">
<head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>${escapeHtml(title)} · Detour example</title><link rel="icon" href="data:,"><style>${STYLE}</style></head>
<body>
<header><a href="/">Notes</a><a href="/billing/invoices">Billing</a><a class="me" href="/account">${user ? escapeHtml(user) : "Sign in"}</a></header>
${banner}<main>
<h1>${escapeHtml(title)}</h1>
${body}
</main>
</body>
</html>
`;
}

const SIGN_IN = `<form method="get" action="/login"><input type="text" name="user" placeholder="your name, e.g. alice" required pattern="[A-Za-z0-9._-]{1,64}"> <button>Sign in</button></form>`;

/**
 * `GET /`: the user's notes, and a form to add one.
 * @param {PageContext & { notes: readonly Note[] }} view
 */
export function homePage({ user, decision, notes }) {
  if (!user) return layout({ title: "Notes", user, decision, body: `<p>Sign in to keep notes.</p>${SIGN_IN}` });
  const list = notes.length === 0 ? "<p>No notes yet.</p>" : `<ul class="notes">${notes.map((note) => `<li>${escapeHtml(note.text)}</li>`).join("")}</ul>`;
  const form = isReadOnly(decision)
    ? ""
    : `<form method="post" action="/notes"><input type="text" name="text" placeholder="Write a note" required maxlength="500"> <button>Add note</button></form>`;
  return layout({ title: "Notes", user, decision, body: `${form}${list}` });
}

/**
 * `GET /account`: who you are, the mode Detour has you in, and how to switch user.
 * @param {PageContext} view
 */
export function accountPage({ user, decision }) {
  const who = user
    ? `<p>Signed in as <strong>${escapeHtml(user)}</strong> (<a href="/logout">sign out</a>). Mode: <code>${escapeHtml(decision?.mode ?? "available")}</code>.</p>
<p><small>API: <code>curl -H 'X-User: ${escapeHtml(user)}' /api/notes</code></small></p>`
    : "<p>Not signed in.</p>";
  return layout({ title: "Account", user, decision, body: `${who}<h2>Switch user</h2>${SIGN_IN}` });
}

/** @param {number} cents */
const money = (cents) => `€${(cents / 100).toFixed(2)}`;

/**
 * `GET /billing/invoices`: the user's invoices, with a pay button on unpaid ones.
 * @param {PageContext & { invoices: readonly Invoice[] }} view
 */
export function invoicesPage({ user, decision, invoices }) {
  if (!user) return layout({ title: "Billing", user, decision, body: `<p>Sign in to see your invoices.</p>${SIGN_IN}` });
  const pay = (/** @type {Invoice} */ invoice) =>
    invoice.paid || isReadOnly(decision)
      ? ""
      : `<form class="inline" method="post" action="/billing/pay"><input type="hidden" name="invoice" value="${escapeHtml(invoice.id)}"><button>Pay</button></form>`;
  const rows = invoices
    .map((invoice) => `<tr><td>${escapeHtml(invoice.month)}</td><td>${money(invoice.amount)}</td><td>${invoice.paid ? "paid" : "due"}</td><td>${pay(invoice)}</td></tr>`)
    .join("");
  return layout({ title: "Billing", user, decision, body: `<table><tr><th>Month</th><th>Amount</th><th>Status</th><th></th></tr>${rows}</table>` });
}
