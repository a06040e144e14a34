import { badRequest, problem, type AdminResponse } from "./http.js";

/** The JSON body of a request, or the answer refusing it. */
export type BodyResult = { readonly ok: true; readonly value: unknown } | { readonly ok: false; readonly response: AdminResponse };

function isAsyncIterable(value: unknown): value is AsyncIterable<unknown> {
  return typeof value === "object" && value !== null && typeof (value as AsyncIterable<unknown>)[Symbol.asyncIterator] === "function";
}

function tooLarge(limit: number): BodyResult {
  const message = `at most ${limit} bytes`;
  return { ok: false, response: problem(413, "Content Too Large", `body: ${message}`, { field: "body", errors: [{ field: "body", message }] }) };
}

async function readStream(stream: AsyncIterable<unknown>, limit: number): Promise<Uint8Array | null> {
  const chunks: Uint8Array[] = [];
  let size = 0;
  for await (const chunk of stream) {
    const bytes = typeof chunk === "string" ? Buffer.from(chunk) : (chunk as Uint8Array);
    size += bytes.byteLength;
    // Stop reading at the limit; the mount's framework discards the rest.
    if (size > limit) return null;
    chunks.push(bytes);
  }
  return Buffer.concat(chunks);
}

/**
 * Reads a JSON body however the mount handed it over: already parsed, raw
 * text or bytes, or the unread body stream (read here, up to `limit` bytes).
 * An empty body is `undefined`.
 */
export async function readJsonBody(body: unknown, limit: number): Promise<BodyResult> {
  let text: string;
  if (body === undefined || body === null) return { ok: true, value: undefined };
  if (typeof body === "string") {
    if (Buffer.byteLength(body) > limit) return tooLarge(limit);
    text = body;
  } else if (body instanceof Uint8Array) {
    if (body.byteLength > limit) return tooLarge(limit);
    text = Buffer.from(body.buffer, body.byteOffset, body.byteLength).toString("utf8");
  } else if (isAsyncIterable(body)) {
    let bytes: Uint8Array | null;
    try {
      bytes = await readStream(body, limit);
    } catch {
      return { ok: false, response: badRequest([{ field: "body", message: "could not be read" }]) };
    }
    if (bytes === null) return tooLarge(limit);
    text = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString("utf8");
  } else {
    // Parsed by the framework's body parser.
    return { ok: true, value: body };
  }
  if (text.trim() === "") return { ok: true, value: undefined };
  try {
    return { ok: true, value: JSON.parse(text) as unknown };
  } catch (error) {
    return { ok: false, response: badRequest([{ field: "body", message: `not valid JSON (${(error as Error).message})` }]) };
  }
}
