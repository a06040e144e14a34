/**
 * Orders what a store learns about its source. Every read (and every write)
 * takes a ticket when it starts; when it finishes, it may put its result in
 * force only if no newer ticket was applied meanwhile, so a slow read never
 * replaces what a newer read or write already put in force.
 */
export class ReadOrder {
  #issued = 0;
  #applied = 0;

  /** A ticket for a read or write starting now. */
  next(): number {
    return ++this.#issued;
  }

  /** The newest ticket applied so far (a result that must always win may use it). */
  get applied(): number {
    return this.#applied;
  }

  /** True when something newer than `ticket` was already applied. */
  isStale(ticket: number): boolean {
    return ticket < this.#applied;
  }

  /** Records `ticket` as applied unless it is stale; returns whether it was. */
  claim(ticket: number): boolean {
    if (ticket < this.#applied) return false;
    this.#applied = ticket;
    return true;
  }
}
