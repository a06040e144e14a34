// @ts-check
/**
 * One storage cluster: a PostgreSQL database holding the `notes` table. The
 * old and the new cluster are two databases with the same schema; nothing
 * can be done atomically across them (no shared transaction), exactly as
 * with two real clusters, so every write that must reach both is made
 * idempotent and ordered by a version instead.
 *
 * A note's `version` starts at 1 and grows by one on every update. `put()`
 * is the only way a copy (the second store of a dual write, the backfill)
 * writes: an upsert that only lands when it is newer than what is there, so
 * replaying it, or a stale copy arriving late, never overwrites a newer note.
 */
import pg from "pg";

/**
 * @typedef {object} Note
 * @property {string} id a UUID chosen by the app, the same in both clusters
 * @property {string} user
 * @property {string} text
 * @property {number} version 1 when created, +1 on each update
 * @property {string} createdAt ISO 8601, milliseconds
 * @property {string} updatedAt ISO 8601, milliseconds
 */

export const SCHEMA = `
CREATE TABLE IF NOT EXISTS notes (
  id         uuid        PRIMARY KEY,
  user_id    text        NOT NULL,
  text       text        NOT NULL,
  version    integer     NOT NULL CHECK (version > 0),
  created_at timestamptz NOT NULL,
  updated_at timestamptz NOT NULL
);
CREATE INDEX IF NOT EXISTS notes_by_user ON notes (user_id, created_at, id);
`;

const COLUMNS = "id, user_id, text, version, created_at, updated_at";

/** @param {any} row @returns {Note} */
function noteOf(row) {
  return {
    id: row.id,
    user: row.user_id,
    text: row.text,
    version: row.version,
    createdAt: new Date(row.created_at).toISOString(),
    updatedAt: new Date(row.updated_at).toISOString(),
  };
}

/**
 * @typedef {object} Cluster
 * @property {string} name "old" or "new"
 * @property {pg.Pool} pool
 * @property {(user: string) => Promise<Note[]>} list a user's notes, oldest first
 * @property {(note: Note) => Promise<boolean>} put upserts `note` unless the cluster has it at this version or newer; true when it landed
 * @property {(user: string, id: string, version: number, text: string, at: Date) => Promise<Note | "missing" | { conflict: number }>} update
 *   compare-and-set: the note at `version` becomes `version + 1` with `text`
 * @property {() => Promise<void>} migrate creates the table when missing
 * @property {() => Promise<void>} close ends the pool
 */

/**
 * A cluster on a PostgreSQL database.
 * @param {string} name
 * @param {string | pg.Pool} database a connection string, or a pool you own (then `close()` ends it too)
 * @returns {Cluster}
 */
export function pgCluster(name, database) {
  const pool = typeof database === "string" ? new pg.Pool({ connectionString: database, max: 8 }) : database;
  // An idle client that loses its server must not crash the process; the next query reports it.
  pool.on("error", (error) => console.error(`[${name}] idle connection: ${error.message}`));
  return {
    name,
    pool,
    async list(user) {
      const { rows } = await pool.query(`SELECT ${COLUMNS} FROM notes WHERE user_id = $1 ORDER BY created_at, id`, [user]);
      return rows.map(noteOf);
    },
    async put(note) {
      const { rowCount } = await pool.query(
        `INSERT INTO notes (${COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6)
         ON CONFLICT (id) DO UPDATE SET text = EXCLUDED.text, version = EXCLUDED.version, updated_at = EXCLUDED.updated_at
         WHERE notes.version < EXCLUDED.version AND notes.user_id = EXCLUDED.user_id`,
        [note.id, note.user, note.text, note.version, note.createdAt, note.updatedAt],
      );
      return rowCount === 1;
    },
    async update(user, id, version, text, at) {
      const { rows } = await pool.query(
        `UPDATE notes SET text = $4, version = version + 1, updated_at = $5
         WHERE user_id = $1 AND id = $2 AND version = $3 RETURNING ${COLUMNS}`,
        [user, id, version, text, at.toISOString()],
      );
      if (rows[0]) return noteOf(rows[0]);
      const current = await pool.query("SELECT version FROM notes WHERE user_id = $1 AND id = $2", [user, id]);
      return current.rows[0] ? { conflict: current.rows[0].version } : "missing";
    },
    async migrate() {
      await pool.query(SCHEMA);
    },
    close: () => pool.end(),
  };
}

/**
 * The two clusters from `OLD_DATABASE_URL` and `NEW_DATABASE_URL` (defaults:
 * databases `notes_old` and `notes_new` on the local PostgreSQL).
 * @param {NodeJS.ProcessEnv} [env]
 */
export function clustersFromEnv(env = process.env) {
  return {
    old: pgCluster("old", env.OLD_DATABASE_URL || "postgres://postgres@127.0.0.1:5432/notes_old"),
    new: pgCluster("new", env.NEW_DATABASE_URL || "postgres://postgres@127.0.0.1:5432/notes_new"),
  };
}

