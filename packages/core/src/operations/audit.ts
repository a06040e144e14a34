import type { AuditEntry, FlagDocument, JsonValue } from "../document/types.js";
import type { OperationContext } from "./edits.js";
import { prependAudit } from "../stores/spi/lazy-draft.js";

/* The audit log: one entry per operation, written in the same atomic write as the change. */

export const AUDIT_LIMIT = 1000;

/** Prepends an audit entry, keeping the newest `AUDIT_LIMIT`. */
export function appendAudit(
  doc: FlagDocument,
  context: OperationContext,
  action: string,
  flag: string | null,
  details: Record<string, JsonValue | undefined> = {},
): void {
  const clean: Record<string, JsonValue> = {};
  for (const [name, value] of Object.entries(details)) if (value !== undefined) clean[name] = value;
  const entry: AuditEntry = { at: new Date(context.now).toISOString(), actor: context.actor, action, flag, details: clean };
  if (!prependAudit(doc, entry, AUDIT_LIMIT)) doc.audit = [entry, ...(doc.audit ?? [])].slice(0, AUDIT_LIMIT);
}
