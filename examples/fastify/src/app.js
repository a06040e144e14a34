// @ts-check
/**
 * The Fastify example app: a notes site (pages and a JSON API) with a billing
 * feature, behind Detour. `buildApp()` makes the app; `server.js` listens.
 *
 * - `app.register(detour, options)` puts every route under the site flag (`site`)
 *   and the per-user modes; `/health` is always allowed.
 * - The billing routes say `config: { detour: { feature: "billing" } }`: the
 *   `billing` flag takes billing down and leaves the rest of the site up.
 * - `request.detour.mode` is `read-only` for a read-only user's reads: pages
 *   then show a banner and leave out their forms; writes get a 503.
 */
import { detour } from "@detour/fastify";
import { accountPage, homePage, invoicesPage } from "@detour/example-shared";
import { NOT_SIGNED_IN, PROBLEM_JSON, createBilling, createNotes, problem, readNote } from "@detour/example-shared";
import { userCookie, userName, userOf } from "@detour/example-shared";
import Fastify from "fastify";

/** @typedef {import("fastify").FastifyRequest} FastifyRequest */
/** @typedef {import("fastify").FastifyReply} FastifyReply */

/**
 * @typedef {object} AppOptions
 * @property {import("@detour/core").Store | import("@detour/core").FlagDocument} [store] where the flags live; default `./detour.json`
 * @property {import("@detour/example-shared").Notes} [notes]
 * @property {import("@detour/example-shared").Billing} [billing]
 */

/**
 * Builds the app (not listening yet). Its Detour instance is `app.detour`; `app.close()` closes it.
 * @param {AppOptions} [options]
 */
export async function buildApp({ store, notes = createNotes(), billing = createBilling() } = {}) {
  const app = Fastify();
  app.addContentTypeParser("application/x-www-form-urlencoded", { parseAs: "string" }, (_request, body, done) =>
    done(null, Object.fromEntries(new URLSearchParams(String(body)))),
  );
  // Fastify's convention: the plugin and its options. Before the routes, so that route config is seen.
  await app.register(detour, {
    store,
    user: (request) => userOf(request.headers),
    allow: { paths: ["/health"] },
    json: ["/api/**"], // the API's clients always get problem+json, whatever they accept
  });

  /** @param {FastifyRequest} request */
  const who = (request) => ({ user: userOf(request.headers), decision: request.detour });
  /** @param {FastifyReply} reply @param {string} body */
  const sendHtml = (reply, body) => reply.type("text/html; charset=utf-8").send(body);
  /** @param {FastifyReply} reply @param {ReturnType<typeof problem>} body */
  const sendProblem = (reply, body) => reply.code(body.status).type(PROBLEM_JSON).send(body);

  app.get("/health", async () => ({ status: "ok" }));

  // Pages, for people
  app.get("/", async (request, reply) => {
    const view = who(request);
    return sendHtml(reply, homePage({ ...view, notes: view.user ? notes.list(view.user) : [] }));
  });
  app.get("/account", async (request, reply) => sendHtml(reply, accountPage(who(request))));
  app.get("/login", async (request, reply) => {
    const user = userName(/** @type {{ user?: unknown }} */ (request.query).user);
    if (user) reply.header("set-cookie", userCookie(user));
    return reply.redirect(user ? "/" : "/account", 303);
  });
  app.get("/logout", async (_request, reply) => reply.header("set-cookie", userCookie(undefined)).redirect("/", 303));
  app.post("/notes", async (request, reply) => {
    const user = userOf(request.headers);
    const note = readNote(request.body);
    if (user && "text" in note) notes.add(user, note.text);
    return reply.redirect(user ? "/" : "/account", 303);
  });

  // The API, for programs: JSON in and out, problem+json errors (Detour's 503s included)
  await app.register(
    async (api) => {
      api.addHook("preHandler", async (request, reply) => {
        if (!userOf(request.headers)) return sendProblem(reply, NOT_SIGNED_IN);
      });
      api.get("/notes", async (request) => ({ notes: notes.list(/** @type {string} */ (userOf(request.headers))) }));
      api.post("/notes", async (request, reply) => {
        const note = readNote(request.body);
        if ("error" in note) return sendProblem(reply, problem(400, "Invalid note", note.error));
        return reply.code(201).send(notes.add(/** @type {string} */ (userOf(request.headers)), note.text));
      });
    },
    { prefix: "/api" },
  );

  // Billing: one feature, named in each billing route's config
  const billingRoute = { config: { detour: { feature: "billing" } } };
  app.get("/billing/invoices", billingRoute, async (request, reply) => {
    const view = who(request);
    return sendHtml(reply, invoicesPage({ ...view, invoices: view.user ? billing.invoices(view.user) : [] }));
  });
  app.post("/billing/pay", billingRoute, async (request, reply) => {
    const user = userOf(request.headers);
    const invoice = user ? billing.pay(user, /** @type {{ invoice?: unknown } | undefined} */ (request.body)?.invoice) : undefined;
    if (!invoice) return sendProblem(reply, problem(404, "No such invoice"));
    if (request.headers.accept?.includes("json")) return invoice;
    return reply.redirect("/billing/invoices", 303);
  });

  return app;
}
