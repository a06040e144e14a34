import type { StoreListener } from "@detour/core";
import { BASE_HEADERS, type AdminEventStream, type AdminResponse } from "./http.js";

/** What an event stream needs from the Detour instance. */
export interface EventSource {
  subscribe(listener: StoreListener): () => void;
  /**
   * The payload of an event (the status JSON), and a fingerprint of what it
   * says apart from what changes by itself (the store's age, the clock).
   */
  payload(): { readonly data: string; readonly fingerprint: string };
  revision(): number | null;
}

/**
 * A second kind of event on the same stream (the migrations panel's figures):
 * sent after the first `status`, then at most once per `intervalMs` while
 * `subscribe` reports activity.
 */
export interface SideChannel {
  readonly name: string;
  readonly intervalMs: number;
  payload(): string;
  subscribe(onActivity: () => void): () => void;
}

/** One `text/event-stream` event; `data` must be a single line (JSON.stringify output is). */
function event(name: string, data: string, id: number | null): string {
  return `${id === null ? "" : `id: ${id}\n`}event: ${name}\ndata: ${data}\n\n`;
}

/**
 * The open event streams of one admin: each is a store subscription and a
 * heartbeat timer, released when the client goes away or the admin closes.
 */
export class EventStreams {
  readonly #source: EventSource;
  readonly #heartbeatMs: number;
  readonly #open = new Set<() => void>();

  readonly #sides: readonly SideChannel[];

  constructor(source: EventSource, heartbeatMs: number, sides: readonly SideChannel[] = []) {
    this.#source = source;
    this.#heartbeatMs = heartbeatMs;
    this.#sides = sides;
  }

  /** How many streams are open. */
  get size(): number {
    return this.#open.size;
  }

  /**
   * `GET /api/events`: first a `status` event with the current status, then a
   * `change` event with the new status whenever the store's snapshot changes
   * what the status says (a write from any instance, the CLI, a file edited by
   * hand) or the store becomes unreachable or reachable again; a comment line
   * as heartbeat.
   */
  response(): AdminResponse {
    const stream: AdminEventStream = { open: (write, end) => this.#start(write, end) };
    return {
      status: 200,
      headers: {
        ...BASE_HEADERS,
        "cache-control": "no-store, no-transform",
        "content-type": "text/event-stream; charset=utf-8",
        // Tells nginx and similar proxies not to buffer the stream.
        "x-accel-buffering": "no",
      },
      body: null,
      events: stream,
    };
  }

  #start(write: (chunk: string) => void, end: () => void): () => void {
    const source = this.#source;
    const first = source.payload();
    // A store may announce the same state twice (a write, then the file watcher seeing it): send what is new only.
    let last = first.fingerprint;
    let stopped = false;
    const send = (chunk: string) => {
      if (!stopped) write(chunk);
    };
    const unsubscribe = source.subscribe(() => {
      const next = source.payload();
      if (next.fingerprint === last) return;
      last = next.fingerprint;
      send(event("change", next.data, source.revision()));
    });
    const heartbeat = setInterval(() => send(": heartbeat\n\n"), this.#heartbeatMs);
    heartbeat.unref?.();
    const sides = this.#sides.map((side) => this.#side(side, send));
    const stop = () => {
      if (stopped) return;
      stopped = true;
      for (const stopSide of sides) stopSide();
      unsubscribe();
      clearInterval(heartbeat);
      this.#open.delete(close);
    };
    const close = () => {
      stop();
      end();
    };
    this.#open.add(close);
    send(`retry: 2000\n\n${event("status", first.data, source.revision())}`);
    for (const side of this.#sides) send(event(side.name, side.payload(), null));
    return stop;
  }

  /** Sends a side channel's payload at most once per interval while it reports activity. */
  #side(side: SideChannel, send: (chunk: string) => void): () => void {
    let timer: ReturnType<typeof setTimeout> | undefined;
    const unsubscribe = side.subscribe(() => {
      if (timer) return;
      timer = setTimeout(() => {
        timer = undefined;
        send(event(side.name, side.payload(), null));
      }, side.intervalMs);
      timer.unref?.();
    });
    return () => {
      unsubscribe();
      clearTimeout(timer);
    };
  }

  /** Ends every open stream (for a graceful shutdown: open streams keep a server from closing). */
  closeAll(): void {
    for (const close of [...this.#open]) close();
  }
}
