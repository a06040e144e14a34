// @ts-check
/**
 * The Express example app: a notes site (pages and a JSON API) with a billing
 * feature, behind Detour. `buildApp()` makes the app; `server.js` listens.
 *
 * - `app.use(maintenance)` puts every route under the site flag (`site`) and
 *   the per-user modes; `/health` is always allowed.
 * - `maintenance.feature("billing")` guards the billing routes: the `billing`
 *   flag takes billing down and leaves the rest of the site up.
 * - `req.detour.mode` is `read-only` for a read-only user's reads: pages then
 *   show a banner and leave out their forms; writes get a 503.
 * - `contexts` names the request's organization (the `X-Org` header): one
 *   tenant can be put read-only (`detour on site --context organization:acme`)
 *   while every other organization keeps writing.
 */
import { bearerToken, createAdmin } from "@detour/admin";
import { detour } from "@detour/express";
import { expressAdmin } from "@detour/express/admin";
import { accountPage, homePage, invoicesPage } from "@detour/example-shared";
import { NOT_SIGNED_IN, PROBLEM_JSON, createBilling, createNotes, problem, readNote } from "@detour/example-shared";
import { userCookie, userName, userOf } from "@detour/example-shared";
import express from "express";

/**
 * @typedef {object} AppOptions
 * @property {import("@detour/core").Store | import("@detour/core").FlagDocument} [store] where the flags live; default `./detour.json`
 * @property {import("@detour/example-shared").Notes} [notes]
 * @property {import("@detour/example-shared").Billing} [billing]
 * @property {string} [adminToken] bearer token of the admin console and API at /_detour; unset or empty: they refuse every request
 */

/**
 * Builds the app. Its Detour instance is `app.locals.detour` (to toggle flags from code, and to close it).
 * @param {AppOptions} [options]
 */
export function buildApp({ store, notes = createNotes(), billing = createBilling(), adminToken } = {}) {
  const maintenance = detour({
    store,
    user: (req) => userOf(req.headers),
    // The tenant: only read for requests that meet a flag targeting organizations.
    contexts: (req) => ({ organization: req.get("x-org") }),
    allow: { paths: ["/health"] },
    json: ["/api/**"], // the API's clients always get problem+json, whatever they accept
  });
  const app = express();
  app.locals.detour = maintenance.instance;
  app.use(maintenance); // first: a blocked request never reaches the body parsers or the routes

  // Admin console and JSON API at /_detour (always exempt from maintenance), for whoever sends
  // `Authorization: Bearer <adminToken>`. `app.locals.admin.close()` ends its live-update streams.
  const admin = createAdmin({ detour: maintenance.instance, auth: (req) => (bearerToken(req, adminToken) ? "admin" : null) });
  app.locals.admin = admin;
  app.use(expressAdmin(admin));
  app.use(express.json(), express.urlencoded({ extended: false }));

  /** @param {express.Request} req */
  const who = (req) => ({ user: userOf(req.headers), decision: req.detour });
  /** @param {express.Response} res @param {ReturnType<typeof problem>} body */
  const sendProblem = (res, body) => void res.status(body.status).type(PROBLEM_JSON).json(body);

  app.get("/health", (_req, res) => void res.json({ status: "ok" }));

  // Pages, for people
  app.get("/", (req, res) => {
    const view = who(req);
    res.type("html").send(homePage({ ...view, notes: view.user ? notes.list(view.user) : [] }));
  });
  app.get("/account", (req, res) => void res.type("html").send(accountPage(who(req))));
  app.get("/login", (req, res) => {
    const user = userName(req.query.user);
    if (user) res.append("Set-Cookie", userCookie(user));
    res.redirect(303, user ? "/" : "/account");
  });
  app.get("/logout", (_req, res) => void res.append("Set-Cookie", userCookie(undefined)).redirect(303, "/"));
  app.post("/notes", (req, res) => {
    const user = userOf(req.headers);
    const note = readNote(req.body);
    if (user && "text" in note) notes.add(user, note.text);
    res.redirect(303, user ? "/" : "/account");
  });

  // The API, for programs: JSON in and out, problem+json errors (Detour's 503s included)
  const api = express.Router();
  api.use((req, res, next) => (userOf(req.headers) ? next() : sendProblem(res, NOT_SIGNED_IN)));
  api.get("/notes", (req, res) => void res.json({ notes: notes.list(/** @type {string} */ (userOf(req.headers))) }));
  api.post("/notes", (req, res) => {
    const note = readNote(req.body);
    if ("error" in note) return sendProblem(res, problem(400, "Invalid note", note.error));
    res.status(201).json(notes.add(/** @type {string} */ (userOf(req.headers)), note.text));
  });
  app.use("/api", api);

  // Billing: one feature, behind a route guard on all its routes
  const billingRoutes = express.Router();
  billingRoutes.get("/invoices", (req, res) => {
    const view = who(req);
    res.type("html").send(invoicesPage({ ...view, invoices: view.user ? billing.invoices(view.user) : [] }));
  });
  billingRoutes.post("/pay", (req, res) => {
    const user = userOf(req.headers);
    const invoice = user ? billing.pay(user, req.body?.invoice) : undefined;
    if (!invoice) return sendProblem(res, problem(404, "No such invoice"));
    if (req.accepts(["html", "json"]) === "json") res.json(invoice);
    else res.redirect(303, "/billing/invoices");
  });
  app.use("/billing", maintenance.feature("billing"), billingRoutes);

  return app;
}
