// @ts-check
/**
 * Drives the notes API as many users at once, while the operator moves the
 * rollout: reads, new notes and updates, and a record of every write the API
 * acknowledged (the journal the consistency check replays).
 *
 * Each user is one session: its requests go one after another (a worker owns
 * a fixed share of the users), the way a person uses the API. Every read is
 * checked against the user's own acknowledged writes (read-your-writes): a
 * read that misses one, or shows an older version, is a `staleRead`. This is
 * what catches a user moved to a cluster that lacks their data.
 *
 * Writes refused by Detour (503 with `Detour-Mode`, e.g. the user is
 * read-only during the backfill) are counted as `refused`, not as errors: they
 * were never acknowledged, and the user tries again later.
 */
import { STAGES, stageOf } from "./storage.js";

/**
 * @typedef {object} AckedWrite
 * @property {string} at ISO time the request was sent
 * @property {string} user
 * @property {string} id
 * @property {number} version the version the API acknowledged
 * @property {string} text
 * @property {string} cluster the `Storage-Cluster` that served it
 */

/**
 * @typedef {object} Observation a request's routing, as the API reported it
 * @property {number} at epoch ms when the request was sent
 * @property {import("./storage.js").Stage} cluster
 */

/**
 * @typedef {object} LoadReport
 * @property {number} requests
 * @property {number} reads
 * @property {number} acked acknowledged writes (created + updated)
 * @property {number} created
 * @property {number} updated
 * @property {number} refused writes refused by Detour (503, read-only)
 * @property {number} conflicts 409s: an update on a version this session did not expect (should be 0)
 * @property {number} errors failed requests of unknown outcome: network errors, 5xx other than Detour's (should be 0)
 * @property {number} staleReads reads missing an acknowledged write of the user (should be 0)
 * @property {string[]} problems the first few conflicts, errors and stale reads, described
 * @property {Record<string, number>} ackedBy acknowledged writes per cluster
 * @property {number} ms
 */

/**
 * @typedef {object} LoadOptions
 * @property {string} url the API's base URL, e.g. http://localhost:3000
 * @property {readonly string[]} users
 * @property {number} [concurrency] users in flight at once (workers); default 8
 * @property {number} [rate] requests per second over all workers; default 50
 * @property {number} [writes] stop after this many acknowledged writes; default no limit
 * @property {number} [durationMs] stop after this long; default no limit
 * @property {(write: AckedWrite) => void} [onAck] called for every acknowledged write (e.g. to append it to a journal file)
 * @property {() => number} [random] default Math.random
 */

const MAX_PROBLEMS = 20;

/** @param {number} ms */
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * Starts the load. It runs until `stop()`, or until `writes` or `durationMs` is reached.
 * @param {LoadOptions} options
 */
export function startLoad({ url, users, concurrency = 8, rate = 50, writes = Infinity, durationMs = Infinity, onAck, random = Math.random }) {
  if (users.length === 0) throw new Error("load: no users");
  if (!(rate > 0)) throw new Error("load: rate must be positive");
  const base = url.replace(/\/+$/, "");
  const started = Date.now();
  const deadline = started + durationMs;
  const workers = Math.max(1, Math.min(concurrency, users.length));
  const pauseMs = (workers / rate) * 1000;
  let stopped = false;

  /** @type {LoadReport} */
  const report = {
    requests: 0, reads: 0, acked: 0, created: 0, updated: 0, refused: 0, conflicts: 0, errors: 0, staleReads: 0,
    problems: [], ackedBy: Object.fromEntries(STAGES.map((stage) => [stage, 0])), ms: 0,
  };
  /** @type {AckedWrite[]} */
  const journal = [];
  /** Routing seen per user, in order. @type {Map<string, Observation[]>} */
  const observations = new Map(users.map((user) => [user, []]));
  /** The newest acknowledged state of each note, per user. @type {Map<string, Map<string, { version: number, text: string }>>} */
  const expected = new Map(users.map((user) => [user, new Map()]));
  /** What each session knows of its notes (acknowledged writes and reads), to update them. @type {Map<string, Map<string, number>>} */
  const known = new Map();

  /** @param {string} what */
  const problem = (what) => void (report.problems.length < MAX_PROBLEMS && report.problems.push(what));

  /**
   * @param {string} user @param {string} method @param {string} path @param {unknown} [body]
   */
  async function call(user, method, path, body) {
    const at = Date.now();
    report.requests += 1;
    try {
      const response = await fetch(`${base}${path}`, {
        method,
        headers: { "x-user": user, accept: "application/json", ...(body === undefined ? {} : { "content-type": "application/json" }) },
        body: body === undefined ? undefined : JSON.stringify(body),
      });
      /** @type {any} */
      const json = await response.json().catch(() => null);
      const header = response.headers.get("storage-cluster");
      if (header !== null) observations.get(user)?.push({ at, cluster: stageOf(header) });
      return { at, status: response.status, json, cluster: header, refused: response.status === 503 && response.headers.has("detour-mode") };
    } catch (error) {
      return { at, status: 0, json: null, cluster: null, refused: false, error: error instanceof Error ? error.message : String(error) };
    }
  }

  /** @param {string} user @param {{ at: number, status: number, json: any, cluster: string | null, refused: boolean, error?: string }} answer @param {string} what */
  function failed(user, answer, what) {
    if (answer.refused) {
      report.refused += 1;
    } else {
      report.errors += 1;
      problem(`${user}: ${what} failed: ${answer.error ?? `HTTP ${answer.status} ${JSON.stringify(answer.json)}`}`);
    }
  }

  /** @param {string} user @param {number} at @param {any} note @param {string | null} cluster */
  function acknowledge(user, at, note, cluster) {
    const write = { at: new Date(at).toISOString(), user, id: note.id, version: note.version, text: note.text, cluster: cluster ?? "?" };
    journal.push(write);
    report.acked += 1;
    report.ackedBy[write.cluster] = (report.ackedBy[write.cluster] ?? 0) + 1;
    const mine = /** @type {Map<string, { version: number, text: string }>} */ (expected.get(user));
    const before = mine.get(note.id);
    if (!before || before.version < note.version) mine.set(note.id, { version: note.version, text: note.text });
    known.get(user)?.set(note.id, note.version);
    onAck?.(write);
  }

  /** @param {string} user */
  async function read(user) {
    const sentWith = new Map(expected.get(user));
    const answer = await call(user, "GET", "/api/notes");
    if (answer.status !== 200) return failed(user, answer, "read");
    report.reads += 1;
    /** @type {Map<string, any>} */
    const got = new Map(answer.json.notes.map((/** @type {any} */ note) => [note.id, note]));
    for (const [id, want] of sentWith) {
      const note = got.get(id);
      if (!note || note.version < want.version || (note.version === want.version && note.text !== want.text)) {
        report.staleReads += 1;
        problem(`${user}: read from ${answer.cluster} ${note ? `has v${note.version}` : "lacks"} note ${id}, acknowledged at v${want.version}`);
      }
    }
    known.set(user, new Map([...got.values()].map((note) => [note.id, note.version])));
  }

  /** @param {string} user */
  async function create(user) {
    const text = `${user} note ${Math.floor(random() * 1e9).toString(36)}`;
    const answer = await call(user, "POST", "/api/notes", { text });
    if (answer.status === 201) acknowledge(user, answer.at, answer.json, answer.cluster);
    else failed(user, answer, "create");
  }

  /** @param {string} user @param {string} id @param {number} version */
  async function update(user, id, version) {
    const text = `${user} edit ${Math.floor(random() * 1e9).toString(36)}`;
    const answer = await call(user, "PUT", `/api/notes/${id}`, { text, version });
    if (answer.status === 200) return acknowledge(user, answer.at, answer.json, answer.cluster);
    if (answer.status === 409) {
      report.conflicts += 1;
      problem(`${user}: update of ${id} at v${version} conflicted: the API has v${answer.json?.version}`);
      known.delete(user); // read again before the next update
      return;
    }
    failed(user, answer, "update");
    if (!answer.refused) known.delete(user); // unknown outcome: read again before the next update
  }

  /** @param {readonly string[]} mine */
  async function worker(mine) {
    while (!stopped && report.acked < writes && Date.now() < deadline) {
      const began = Date.now();
      const user = /** @type {string} */ (mine[Math.floor(random() * mine.length)]);
      const notes = known.get(user);
      const dice = random();
      if (!notes || dice < 0.4) await read(user);
      else if (dice < 0.7 || notes.size === 0) await create(user);
      else {
        const ids = [...notes.keys()];
        const id = /** @type {string} */ (ids[Math.floor(random() * ids.length)]);
        await update(user, id, /** @type {number} */ (notes.get(id)));
      }
      const wait = pauseMs - (Date.now() - began);
      if (wait > 0) await sleep(wait);
    }
  }

  const shares = Array.from({ length: workers }, (_, i) => users.filter((_, j) => j % workers === i));
  const done = Promise.all(shares.map(worker)).then(() => {
    report.ms = Date.now() - started;
    return report;
  });

  return {
    /** Live counters (final once `done` resolves). */
    report,
    /** Every acknowledged write, in order. */
    journal,
    /** Every user's routing as the API reported it, in order. */
    observations,
    done,
    /** Stops after the requests in flight; resolves with the final report. */
    stop() {
      stopped = true;
      return done;
    },
  };
}

/** @typedef {ReturnType<typeof startLoad>} Load */
