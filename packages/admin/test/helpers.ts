import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createDetour, fileStore, type Detour, type DetourRequest, type Store } from "@detour/core";
import { afterEach } from "vitest";
import { bearerToken, createAdmin, type Admin, type AdminOptions, type AdminRequest, type AdminResponse } from "../src/index.js";

export const TOKEN = "test-admin-token-0123456789";
export const HOST = "admin.example.test";
export const ORIGIN = `https://${HOST}`;
export const BASE = "/_detour";

const cleanups: (() => Promise<void> | void)[] = [];

afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

export function onCleanup(cleanup: () => Promise<void> | void): void {
  cleanups.push(cleanup);
}

/** A store that counts its live subscriptions, to check that event streams release theirs. */
export function countingStore(inner: Store): Store & { readonly subscribers: number } {
  let subscribers = 0;
  return {
    kind: inner.kind,
    load: () => inner.load(),
    snapshot: () => inner.snapshot(),
    write: (mutator) => inner.write(mutator),
    health: () => inner.health(),
    close: () => inner.close(),
    subscribe(listener) {
      subscribers += 1;
      const stop = inner.subscribe(listener);
      let stopped = false;
      return () => {
        if (stopped) return;
        stopped = true;
        subscribers -= 1;
        stop();
      };
    },
    get subscribers() {
      return subscribers;
    },
  };
}

export interface Setup {
  readonly admin: Admin;
  readonly detour: Detour<DetourRequest>;
  readonly store: ReturnType<typeof countingStore>;
  /** The document's path: open another Detour instance on it to play another writer (the CLI, another server). */
  readonly file: string;
  /** Another Detour instance on the same file. */
  other(): Promise<Detour<DetourRequest>>;
}

/** A Detour instance on a fresh file store and an admin over it, authenticated by `Bearer ${TOKEN}`. */
export async function setup(options: Partial<AdminOptions> = {}): Promise<Setup> {
  const dir = await mkdtemp(join(tmpdir(), "detour-admin-"));
  onCleanup(() => rm(dir, { recursive: true, force: true }));
  const file = join(dir, "detour.json");
  const store = countingStore(fileStore(file, { create: true, debounceMs: 10, pollIntervalMs: 200 }));
  const detour = createDetour<DetourRequest>({ store });
  onCleanup(() => detour.close());
  await detour.ready;
  const admin = createAdmin({ detour, auth: (req) => (bearerToken(req, TOKEN) ? "admin:test" : null), heartbeatMs: 60_000, ...options });
  onCleanup(() => admin.close());
  const other = async () => {
    const instance = createDetour<DetourRequest>({ store: fileStore(file, { debounceMs: 10, pollIntervalMs: 200 }) });
    onCleanup(() => instance.close());
    await instance.ready;
    return instance;
  };
  return { admin, detour, store, file, other };
}

export interface Call {
  method?: string;
  path: string;
  headers?: Record<string, string>;
  body?: unknown;
  /** Send no Authorization header. */
  anonymous?: boolean;
  host?: string;
}

/** Calls the admin like a same-origin browser would (token, JSON, Origin), unless told otherwise. */
export function call(admin: Admin, { method = "GET", path, headers = {}, body, anonymous = false, host = HOST }: Call): Promise<AdminResponse> {
  const unsafe = !["GET", "HEAD"].includes(method);
  const request: AdminRequest = {
    method,
    path: path.startsWith("/") ? path : `${BASE}/${path}`,
    headers: {
      ...(anonymous ? {} : { authorization: `Bearer ${TOKEN}` }),
      ...(unsafe ? { "content-type": "application/json", origin: ORIGIN } : {}),
      ...headers,
    },
    body: body === undefined ? undefined : typeof body === "string" ? body : JSON.stringify(body),
    host,
  };
  return admin(request);
}

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- test assertions read arbitrary JSON
export function parse(response: AdminResponse): any {
  return JSON.parse(response.body ?? "null");
}

/** Opens an event stream response and collects what it writes. */
export function openStream(response: AdminResponse) {
  if (!response.events) throw new Error(`not an event stream: ${response.status} ${response.body}`);
  let text = "";
  let ended = false;
  const waiters = new Set<() => void>();
  const stop = response.events.open(
    (chunk) => {
      text += chunk;
      for (const wake of [...waiters]) wake();
    },
    () => {
      ended = true;
      for (const wake of [...waiters]) wake();
    },
  );
  onCleanup(stop);
  /** The parsed events so far: `{ event, data, id }`. */
  const events = () =>
    text
      .split("\n\n")
      .filter((block) => block.includes("event:"))
      .map((block) => {
        const field = (name: string) =>
          block
            .split("\n")
            .find((line) => line.startsWith(`${name}: `))
            ?.slice(name.length + 2);
        return { event: field("event"), data: JSON.parse(field("data") ?? "null") as ReturnType<typeof parse>, id: field("id") };
      });
  const until = (predicate: () => boolean, timeoutMs = 4000) =>
    new Promise<void>((resolve, reject) => {
      if (predicate()) return resolve();
      const timer = setTimeout(() => {
        waiters.delete(check);
        reject(new Error(`timed out; the stream said:\n${text}`));
      }, timeoutMs);
      const check = () => {
        if (!predicate()) return;
        clearTimeout(timer);
        waiters.delete(check);
        resolve();
      };
      waiters.add(check);
    });
  return { stop, events, until, text: () => text, ended: () => ended };
}
