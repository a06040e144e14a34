// @ts-check
/**
 * The notes API whose storage moves from the old cluster to the new one.
 * `buildApp()` makes the app; `server.js` listens.
 *
 * - Every request's reads and writes go through `@detour/migrate` with the
 *   request's decision (`req.detour`): its stage of the `storage-cluster`
 *   migration flag (LaunchDarkly's six stages, a percentage rollout bucketed
 *   by user id) routes them (`storage.js`).
 * - `maintenance.feature("notes-backfill")` guards the notes routes: while
 *   the backfill copies a user, `detour guard` puts that user read-only in
 *   the `notes-backfill` flag, so their reads go on and their writes get a 503
 *   (problem+json, `Detour-Mode: read-only`) instead of racing the copy.
 * - Every API answer says which stage served it: `Storage-Cluster: dualwrite`.
 */
import { detour } from "@detour/express";
import { NOT_SIGNED_IN, PROBLEM_JSON, problem, readNote, userOf } from "@detour/example-shared";
import express from "express";
import { CLUSTER_FLAG, createStorage, stageOf } from "./storage.js";

/** The flag `detour guard` turns on, per user, while the backfill copies that user. */
export const BACKFILL_FLAG = "notes-backfill";

/**
 * @typedef {object} AppOptions
 * @property {import("@detour/core").Store | import("@detour/core").FlagDocument} [store] where the flags live; default `./detour.json`
 * @property {{ old: import("./cluster.js").Cluster, new: import("./cluster.js").Cluster }} clusters
 * @property {(message: string) => void} [log] the data layer's warnings (copy failures, verification mismatches) and unexpected errors; default console.warn / console.error
 */

/**
 * Builds the app. `app.locals.detour` is its Detour instance (close it when done),
 * `app.locals.storage.stats` what the data layer has done.
 * @param {AppOptions} options
 */
export function buildApp({ store, clusters, log }) {
  const maintenance = detour({
    store,
    user: (req) => userOf(req.headers),
    allow: { paths: ["/health", "/migration/stats"] },
  });
  const storage = createStorage(maintenance.instance, clusters, { log });
  const app = express();
  app.locals.detour = maintenance.instance;
  app.locals.storage = storage;
  app.use(maintenance);
  app.use(express.json());

  /** @param {express.Response} res @param {ReturnType<typeof problem>} body */
  const sendProblem = (res, body) => void res.status(body.status).type(PROBLEM_JSON).json(body);

  /**
   * This request's stage, straight from the decision Detour made for it (same snapshot, no I/O).
   * @param {express.Request} req
   */
  const stageFor = (req) => stageOf(req.detour?.variation(CLUSTER_FLAG, "off"));

  /** @param {express.Request} req */
  const userFor = (req) => /** @type {string} */ (userOf(req.headers));

  /**
   * The data layer on this request's route, which the answer names in `Storage-Cluster`.
   * @param {express.Request} req @param {express.Response} res
   */
  const notesFor = (req, res) => {
    const notes = storage.route(/** @type {import("@detour/core").Decision} */ (req.detour));
    res.set("Storage-Cluster", notes.stage);
    return notes;
  };

  app.get("/health", (_req, res) => void res.json({ status: "ok" }));
  app.get("/migration/stats", (_req, res) => void res.json(storage.stats));

  const api = express.Router();
  api.use((req, res, next) => {
    if (!userOf(req.headers)) return sendProblem(res, NOT_SIGNED_IN);
    next();
  });

  // Which cluster serves me, and why (the rollout bucket, a target...): for operators and the tests.
  api.get("/storage", (req, res) => {
    const result = req.detour?.explain(CLUSTER_FLAG);
    const cluster = stageFor(req);
    res.set("Storage-Cluster", cluster).json({ user: userFor(req), cluster, reason: result?.reason ?? null });
  });

  const notes = express.Router();
  notes.get("/", async (req, res) => {
    res.json({ notes: await notesFor(req, res).list(userFor(req)) });
  });
  notes.post("/", async (req, res) => {
    const note = readNote(req.body);
    if ("error" in note) return sendProblem(res, problem(400, "Invalid note", note.error));
    res.status(201).json(await notesFor(req, res).create(userFor(req), note.text));
  });
  notes.put("/:id", async (req, res) => {
    const note = readNote(req.body);
    if ("error" in note) return sendProblem(res, problem(400, "Invalid note", note.error));
    const version = req.body?.version;
    if (!Number.isInteger(version) || version < 1) {
      return sendProblem(res, problem(400, "Invalid note", 'expected the "version" being updated (a positive integer)'));
    }
    const id = String(req.params.id);
    if (!/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/.test(id)) return sendProblem(res, problem(404, "No such note"));
    const result = await notesFor(req, res).update(userFor(req), id, version, note.text);
    if (result === "missing") return sendProblem(res, problem(404, "No such note"));
    if ("conflict" in result) {
      const body = problem(409, "Version conflict", `the note is at version ${result.conflict}, not ${version}`);
      return void res.status(409).type(PROBLEM_JSON).json({ ...body, version: result.conflict });
    }
    res.json(result);
  });
  api.use("/notes", maintenance.feature(BACKFILL_FLAG), notes);
  app.use("/api", api);

  /** @type {express.ErrorRequestHandler} */
  const onError = (error, _req, res, _next) => {
    const status = Number(error?.status ?? error?.statusCode);
    if (status >= 400 && status < 500) return sendProblem(res, problem(status, "Bad request", error.message)); // e.g. a body that is not JSON
    (log ?? console.error)(`[app] ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`);
    if (!res.headersSent) sendProblem(res, problem(500, "Storage error", error instanceof Error ? error.message : String(error)));
  };
  app.use(onError);
  return app;
}
