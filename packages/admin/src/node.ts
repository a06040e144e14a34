import type { IncomingMessage, ServerResponse } from "node:http";
import type { AdminResponse } from "./http.js";

/**
 * Writes an admin response to Node's raw response: headers and body, or
 * headers and then the event stream, stopped when the client goes away.
 * The mounts hand their framework's raw response here for event streams
 * (Express: always; Koa and Fastify: after taking the response over).
 */
export function sendNodeResponse(response: AdminResponse, req: IncomingMessage, res: ServerResponse): void {
  const events = response.events;
  res.writeHead(response.status, response.headers);
  if (events === undefined || req.method === "HEAD") {
    res.end(response.body ?? undefined);
    return;
  }
  res.flushHeaders();
  const stop = events.open(
    (chunk) => {
      if (!res.destroyed && !res.writableEnded) res.write(chunk);
    },
    () => res.end(),
  );
  // "close" fires when the client disconnects and after the response ends;
  // a client that left while the admin was answering is already gone.
  if (res.destroyed) stop();
  else res.once("close", stop);
}
