// @ts-check
/** Comparing one user's notes between two clusters. */

/** @typedef {import("./cluster.js").Note} Note */

/**
 * @typedef {object} NotesDiff
 * @property {string[]} onlyLeft ids only the left side has
 * @property {string[]} onlyRight ids only the right side has
 * @property {{ id: string, left: Note, right: Note }[]} changed same id, different content
 */

/**
 * @param {readonly Note[]} left
 * @param {readonly Note[]} right
 * @returns {NotesDiff}
 */
export function diffNotes(left, right) {
  const byId = new Map(right.map((note) => [note.id, note]));
  /** @type {NotesDiff} */
  const diff = { onlyLeft: [], onlyRight: [], changed: [] };
  for (const note of left) {
    const other = byId.get(note.id);
    byId.delete(note.id);
    if (!other) diff.onlyLeft.push(note.id);
    else if (!sameNote(note, other)) diff.changed.push({ id: note.id, left: note, right: other });
  }
  diff.onlyRight.push(...byId.keys());
  return diff;
}

/** @param {NotesDiff} diff */
export function isEmptyDiff(diff) {
  return diff.onlyLeft.length === 0 && diff.onlyRight.length === 0 && diff.changed.length === 0;
}

/**
 * "2 only in old, 1 changed (v3 vs v2)" for a log line.
 * @param {NotesDiff} diff @param {string} left @param {string} right
 */
export function describeDiff(diff, left, right) {
  const parts = [];
  if (diff.onlyLeft.length) parts.push(`${diff.onlyLeft.length} only in ${left}`);
  if (diff.onlyRight.length) parts.push(`${diff.onlyRight.length} only in ${right}`);
  for (const { id, left: a, right: b } of diff.changed.slice(0, 3)) parts.push(`${id} is v${a.version} in ${left}, v${b.version} in ${right}`);
  if (diff.changed.length > 3) parts.push(`${diff.changed.length - 3} more changed`);
  return parts.join("; ") || "identical";
}

/** @param {Note} a @param {Note} b */
function sameNote(a, b) {
  return a.user === b.user && a.text === b.text && a.version === b.version && a.createdAt === b.createdAt && a.updatedAt === b.updatedAt;
}
