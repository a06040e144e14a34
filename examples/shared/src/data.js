// @ts-check
/**
 * The examples' data: notes and invoices per user, in memory. A real app would
 * use a database; Detour does not care where the data lives.
 */

/**
 * @typedef {object} Note
 * @property {number} id
 * @property {string} text
 * @property {string} createdAt RFC 3339
 */

/**
 * @typedef {object} Invoice
 * @property {string} id
 * @property {string} month `YYYY-MM`
 * @property {number} amount in cents
 * @property {boolean} paid
 */

export const MAX_NOTE_LENGTH = 500;

/** Notes per user. */
export function createNotes() {
  /** @type {Map<string, Note[]>} */
  const byUser = new Map();
  let nextId = 1;
  return {
    /** @param {string} user @returns {readonly Note[]} newest first */
    list(user) {
      return byUser.get(user) ?? [];
    },
    /** @param {string} user @param {string} text @returns {Note} */
    add(user, text) {
      const note = { id: nextId++, text, createdAt: new Date().toISOString() };
      byUser.set(user, [note, ...(byUser.get(user) ?? [])]);
      return note;
    },
  };
}

/** @typedef {ReturnType<typeof createNotes>} Notes */

/**
 * Reads a note's text from a parsed body (JSON or a form): the text, or why it was refused.
 * @param {unknown} body
 * @returns {{ text: string } | { error: string }}
 */
export function readNote(body) {
  const text = typeof body === "object" && body !== null ? /** @type {Record<string, unknown>} */ (body).text : undefined;
  if (typeof text !== "string" || text.trim() === "") return { error: 'expected a non-empty "text"' };
  if (text.length > MAX_NOTE_LENGTH) return { error: `"text" is longer than ${MAX_NOTE_LENGTH} characters` };
  return { text: text.trim() };
}

/** Three monthly invoices per user; paying one marks it paid. */
export function createBilling() {
  /** @type {Set<string>} */
  const paid = new Set();
  const months = ["2026-09", "2026-10", "2026-11"];
  return {
    /** @param {string} user @returns {Invoice[]} */
    invoices(user) {
      return months.map((month, i) => {
        const id = `${user}-${month}`;
        return { id, month, amount: 1200 + 300 * i, paid: paid.has(id) };
      });
    },
    /** @param {string} user @param {unknown} id @returns {Invoice | undefined} the invoice, now paid; undefined when it is not this user's */
    pay(user, id) {
      const invoice = this.invoices(user).find((one) => one.id === id);
      if (invoice) paid.add(invoice.id);
      return invoice && { ...invoice, paid: true };
    },
  };
}

/** @typedef {ReturnType<typeof createBilling>} Billing */
