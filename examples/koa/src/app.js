// @ts-check
/**
 * The Koa example app: a notes site (pages and a JSON API) with a billing
 * feature, behind Detour. `buildApp()` makes the app; `server.js` listens.
 *
 * - `app.use(maintenance)` puts every route under the site flag (`site`) and
 *   the per-user modes; `/health` is always allowed.
 * - `maintenance.feature("billing")` guards the billing routes: the `billing`
 *   flag takes billing down and leaves the rest of the site up.
 * - `ctx.state.detour.mode` is `read-only` for a read-only user's reads: pages
 *   then show a banner and leave out their forms; writes get a 503.
 *
 * Routing is a plain table here, to keep the example to Koa itself; with
 * `@koa/router`, put `maintenance.feature("billing")` in front of the billing routes.
 */
import { detour } from "@detour/koa";
import { accountPage, homePage, invoicesPage } from "@detour/example-shared";
import { NOT_SIGNED_IN, PROBLEM_JSON, createBilling, createNotes, problem, readNote } from "@detour/example-shared";
import { userCookie, userName, userOf } from "@detour/example-shared";
import Koa from "koa";

/** @typedef {import("koa").Context} Context */
/** @typedef {(ctx: Context) => void | Promise<void>} Route */

const MAX_BODY = 64 * 1024;

/**
 * A JSON or form body (Koa has no body parser of its own).
 * @param {Context} ctx
 * @returns {Promise<unknown>}
 */
async function readBody(ctx) {
  const chunks = [];
  let size = 0;
  for await (const chunk of ctx.req) {
    size += chunk.length;
    if (size > MAX_BODY) ctx.throw(413, "Body too large");
    chunks.push(chunk);
  }
  const text = Buffer.concat(chunks).toString("utf8");
  if (ctx.is("application/x-www-form-urlencoded")) return Object.fromEntries(new URLSearchParams(text));
  if (!ctx.is("json")) return {};
  try {
    return JSON.parse(text);
  } catch {
    return ctx.throw(400, "Invalid JSON");
  }
}

/**
 * @typedef {object} AppOptions
 * @property {import("@detour/core").Store | import("@detour/core").FlagDocument} [store] where the flags live; default `./detour.json`
 * @property {import("@detour/example-shared").Notes} [notes]
 * @property {import("@detour/example-shared").Billing} [billing]
 */

/**
 * Builds the app. Its Detour instance is `app.detour` (to toggle flags from code, and to close it).
 * @param {AppOptions} [options]
 */
export function buildApp({ store, notes = createNotes(), billing = createBilling() } = {}) {
  const maintenance = detour({
    store,
    user: (ctx) => userOf(ctx.headers),
    allow: { paths: ["/health"] },
    json: ["/api/**"], // the API's clients always get problem+json, whatever they accept
  });
  const app = Object.assign(new Koa(), { detour: maintenance.instance });
  app.use(maintenance); // first: a blocked request never reaches the routes

  /** @param {Context} ctx */
  const who = (ctx) => ({ user: userOf(ctx.headers), decision: ctx.state.detour });
  /** @param {Context} ctx @param {string} body */
  const sendHtml = (ctx, body) => {
    ctx.type = "html";
    ctx.body = body;
  };
  /** @param {Context} ctx @param {ReturnType<typeof problem>} body */
  const sendProblem = (ctx, body) => {
    ctx.status = body.status;
    ctx.body = body;
    ctx.type = PROBLEM_JSON;
  };
  /** @param {Context} ctx @param {string} location */
  const seeOther = (ctx, location) => {
    ctx.status = 303;
    ctx.redirect(location);
  };
  /** The API answers only signed-in users. @param {(ctx: Context, user: string) => void | Promise<void>} route @returns {Route} */
  const signedIn = (route) => (ctx) => {
    const user = userOf(ctx.headers);
    return user ? route(ctx, user) : sendProblem(ctx, NOT_SIGNED_IN);
  };

  /** @type {Record<string, Route>} `METHOD /path` → route; HEAD is answered by GET routes */
  const routes = {
    "GET /health": (ctx) => void (ctx.body = { status: "ok" }),

    // Pages, for people
    "GET /": (ctx) => {
      const view = who(ctx);
      sendHtml(ctx, homePage({ ...view, notes: view.user ? notes.list(view.user) : [] }));
    },
    "GET /account": (ctx) => sendHtml(ctx, accountPage(who(ctx))),
    "GET /login": (ctx) => {
      const user = userName(ctx.query.user);
      if (user) ctx.append("Set-Cookie", userCookie(user));
      seeOther(ctx, user ? "/" : "/account");
    },
    "GET /logout": (ctx) => {
      ctx.append("Set-Cookie", userCookie(undefined));
      seeOther(ctx, "/");
    },
    "POST /notes": async (ctx) => {
      const user = userOf(ctx.headers);
      const note = readNote(await readBody(ctx));
      if (user && "text" in note) notes.add(user, note.text);
      seeOther(ctx, user ? "/" : "/account");
    },

    // The API, for programs: JSON in and out, problem+json errors (Detour's 503s included)
    "GET /api/notes": signedIn((ctx, user) => void (ctx.body = { notes: notes.list(user) })),
    "POST /api/notes": signedIn(async (ctx, user) => {
      const note = readNote(await readBody(ctx));
      if ("error" in note) return sendProblem(ctx, problem(400, "Invalid note", note.error));
      ctx.status = 201;
      ctx.body = notes.add(user, note.text);
    }),

    // Billing: one feature, behind the route guard below
    "GET /billing/invoices": (ctx) => {
      const view = who(ctx);
      sendHtml(ctx, invoicesPage({ ...view, invoices: view.user ? billing.invoices(view.user) : [] }));
    },
    "POST /billing/pay": async (ctx) => {
      const user = userOf(ctx.headers);
      const body = /** @type {{ invoice?: unknown }} */ (await readBody(ctx));
      const invoice = user ? billing.pay(user, body.invoice) : undefined;
      if (!invoice) return sendProblem(ctx, problem(404, "No such invoice"));
      if (ctx.accepts("html", "json") === "json") ctx.body = invoice;
      else seeOther(ctx, "/billing/invoices");
    },
  };

  const billingGuard = maintenance.feature("billing");
  app.use((ctx, next) => (ctx.path.startsWith("/billing/") ? billingGuard(ctx, next) : next()));
  app.use(async (ctx, next) => {
    const route = routes[`${ctx.method === "HEAD" ? "GET" : ctx.method} ${ctx.path}`];
    if (route) await route(ctx);
    else await next();
  });

  return app;
}
