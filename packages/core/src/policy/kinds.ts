import type { Snapshot } from "../snapshot.js";

/*
 * Whether a flag reads contexts of another kind than `user`, so that a request
 * meeting it needs its `contexts(req)`: a flag in force that targets users
 * only never calls it. Conservative: any non-user kind named anywhere in the
 * flag, its prerequisites or the segments it matches counts, and so does a
 * clause on the `kind` attribute.
 */

const KIND_FIELDS = ["contextKind", "rolloutContextKind", "unboundedContextKind"];

type Node = Readonly<Record<string, unknown>>;

function namesOtherKind(node: unknown, segments: string[], prerequisites: string[]): boolean {
  const stack: unknown[] = [node];
  while (stack.length > 0) {
    const value = stack.pop();
    if (value === null || typeof value !== "object") continue;
    if (Array.isArray(value)) {
      for (const item of value) if (item !== null && typeof item === "object") stack.push(item);
      continue;
    }
    const object = value as Node;
    for (const field of KIND_FIELDS) {
      const kind = object[field];
      if (typeof kind === "string" && kind !== "" && kind !== "user") return true;
    }
    if (object.attribute === "kind" && typeof object.op === "string" && object.op !== "segmentMatch") return true;
    if (object.op === "segmentMatch" && Array.isArray(object.values)) {
      for (const key of object.values) if (typeof key === "string") segments.push(key);
    }
    for (const [name, child] of Object.entries(object)) {
      // Target and segment key lists can be long: only objects matter.
      if (name === "values" || name === "variations" || name === "detour") continue;
      if (name === "prerequisites" && Array.isArray(child)) {
        for (const p of child) if (p && typeof (p as Node).key === "string") prerequisites.push((p as Node).key as string);
      }
      if (child !== null && typeof child === "object") stack.push(child);
    }
  }
  return false;
}

/** Whether evaluating flag `key` of `snapshot` can read a context kind other than `user`. */
export function readsOtherKinds(snapshot: Snapshot, key: string): boolean {
  const seenFlags = new Set<string>();
  const seenSegments = new Set<string>();
  const flags = [key];
  const segments: string[] = [];
  while (flags.length > 0 || segments.length > 0) {
    const flagKey = flags.pop();
    if (flagKey !== undefined) {
      if (seenFlags.has(flagKey)) continue;
      seenFlags.add(flagKey);
      const definition = snapshot.definition(flagKey);
      if (definition && namesOtherKind(definition, segments, flags)) return true;
      continue;
    }
    const segmentKey = segments.pop()!;
    if (seenSegments.has(segmentKey)) continue;
    seenSegments.add(segmentKey);
    const segment = snapshot.document.segments?.[segmentKey];
    if (segment && namesOtherKind(segment, segments, flags)) return true;
  }
  return false;
}
