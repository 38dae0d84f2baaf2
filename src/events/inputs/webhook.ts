/**
 * Tracee events from its `webhook` output: an HTTP receiver on `node:http`
 * that takes one POST per event.
 *
 * @module
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import type { TraceeEvent } from "../model.js";
import { EventQueue } from "../queue.js";
import { createInput, type EventInput, type InputOptions } from "./input.js";
import { checkFormat, decodeLine, type EventFormat, type EventLineError, isBlank, LineSplitter } from "./lines.js";

/** Default {@link WebhookEventsOptions.maxBodyBytes}: 1 MiB. */
export const DEFAULT_WEBHOOK_MAX_BODY_BYTES = 1024 * 1024;

/** Options for {@link webhookEvents}. */
export interface WebhookEventsOptions extends InputOptions {
  /** The TCP port to listen on (default 0: any free port; read it from `port` or `url`). */
  readonly port?: number;
  /** The address to listen on (default `"127.0.0.1"`; `"0.0.0.0"` or `"::"` for every interface). */
  readonly host?: string;
  /** The URL path events are posted to (default `"/"`); other paths get 404. The query string is ignored. */
  readonly path?: string;
  /** The largest body accepted, in bytes (default 1 MiB); a larger one gets 413. */
  readonly maxBodyBytes?: number;
  /** Which JSON bodies are in (default `"auto"`: per line; Tracee's webhook sends `"v1beta1"`). */
  readonly format?: EventFormat;
}

/** A running webhook receiver: the events, and where it listens. */
export interface WebhookInput extends EventInput {
  /** The URL to give Tracee: `http://127.0.0.1:PORT/path` (IPv6 addresses in brackets). */
  readonly url: string;
  /** The address it listens on (`"127.0.0.1"`). */
  readonly address: string;
  /** The port it listens on (the one chosen when `port` was 0). */
  readonly port: number;
}

const TEXT = "text/plain; charset=utf-8";

function checkOptions(options: WebhookEventsOptions): { port: number; host: string; path: string; maxBodyBytes: number; format: EventFormat } {
  const port = options.port ?? 0;
  if (!Number.isInteger(port) || port < 0 || port > 65535) {
    throw new RangeError(`webhookEvents: port must be a whole number from 0 to 65535, got ${port}`);
  }
  const host = options.host ?? "127.0.0.1";
  if (typeof host !== "string" || host === "") throw new TypeError("webhookEvents: host must be a non-empty string");
  const path = options.path ?? "/";
  if (typeof path !== "string" || !path.startsWith("/") || /[?#\s]/.test(path)) {
    throw new TypeError(`webhookEvents: path must start with "/" and have no query, fragment or spaces, got ${JSON.stringify(path)}`);
  }
  const maxBodyBytes = options.maxBodyBytes ?? DEFAULT_WEBHOOK_MAX_BODY_BYTES;
  if (!Number.isSafeInteger(maxBodyBytes) || maxBodyBytes < 1) {
    throw new RangeError(`webhookEvents: maxBodyBytes must be a whole number >= 1, got ${maxBodyBytes}`);
  }
  return { port, host, path, maxBodyBytes, format: checkFormat(options.format, "webhookEvents") };
}

/** Sends a short plain-text answer. */
function reply(res: ServerResponse, status: number, text: string, headers: Record<string, string> = {}): void {
  if (res.headersSent || res.destroyed) return;
  const body = text === "" ? "" : `${text}\n`;
  res.writeHead(status, {
    ...headers,
    ...(body === "" ? {} : { "content-type": TEXT }),
    "content-length": String(Buffer.byteLength(body)),
  });
  res.end(body);
}

/** The events in a body, or the errors of its lines that are not events. */
function decodeBody(body: Buffer, format: EventFormat): { events: TraceeEvent[]; errors: EventLineError[] } {
  const splitter = new LineSplitter();
  const lines = splitter.push(body);
  const last = splitter.end();
  if (last !== undefined) lines.push(last);
  const events: TraceeEvent[] = [];
  const errors: EventLineError[] = [];
  lines.forEach((line, i) => {
    if (isBlank(line)) return;
    try {
      events.push(decodeLine(line, format, i + 1));
    } catch (err) {
      errors.push(err as EventLineError);
    }
  });
  return { events, errors };
}

/**
 * Receives Tracee's `webhook` output: starts an HTTP server and resolves,
 * once it listens, to an {@link EventInput} of the events posted to it, with
 * its `url`.
 *
 * Point Tracee at it with `--output webhook:<url>`. Tracee posts each event
 * on its own, as one line of its JSON (`Content-Type: application/json`),
 * waits for the answer (10 s by default, `?timeout=` in Tracee's URL) and
 * does not retry. A body may also hold several NDJSON lines; each line is an
 * event (`format` as in {@link readEvents}; Tracee sends v1beta1).
 *
 * Answers:
 *
 * - `200` with an empty body once the body's events are queued. With the
 *   `"block"` overflow policy (the default) and a full queue, the answer
 *   waits until the consumer makes room, which holds the sender back (Tracee
 *   sends one event at a time). With the drop policies the answer is
 *   immediate, and events that do not fit are counted in `stats().dropped`.
 * - `400` with a short plain-text reason (`line 1: not JSON: Unexpected
 *   token…`, `line 1: id: expected a 32-bit integer, got the string "x"`) for a body that is not JSON or not an event, or
 *   has no event; each bad line counts in `stats().malformed`, and none of
 *   the body's events are queued. The receiver keeps serving.
 * - `404` for another path, `405` (with `Allow: POST`) for another method,
 *   `413` for a body over `maxBodyBytes`, `415` for a compressed body, `503`
 *   while closing.
 *
 * `close()`, the `signal` or breaking out of the loop stop listening: posts
 * still waiting for room are answered (`200` when their events were queued,
 * `503` otherwise), requests still uploading are cut off, idle connections
 * closed, and the iteration ends after the events already queued. `close()`
 * resolves once the server is closed.
 *
 * Rejects with the server's error (`EADDRINUSE`, `EACCES`) when it cannot
 * listen; throws (`TypeError`, `RangeError`) for options it cannot use.
 *
 * @example
 * ```ts
 * import { webhookEvents } from "tracee-ds/events";
 *
 * const input = await webhookEvents({ port: 8080, host: "0.0.0.0", path: "/tracee" });
 * console.log(`tracee --output webhook:${input.url}`);
 * for await (const event of input) console.log(event.name);
 * ```
 */
export async function webhookEvents(options: WebhookEventsOptions = {}): Promise<WebhookInput> {
  const { port, host, path, maxBodyBytes, format } = checkOptions(options);
  const queue = new EventQueue<TraceeEvent>(options.queue);

  let closing = false;
  /** While the queue is full (`"block"`): resolves when there is room again. */
  let room: Promise<void> | undefined;
  /** Requests waiting for room: closing lets them go. */
  const held = new Set<() => void>();
  /** Requests still sending their body: cut off when closing. */
  const uploading = new Set<IncomingMessage>();
  /** Requests not answered yet. */
  const pending = new Set<Promise<void>>();

  const waitForRoom = async (): Promise<void> => {
    while (room !== undefined && !closing) {
      const full = room;
      await new Promise<void>((resolve) => {
        held.add(resolve);
        void full.then(() => {
          held.delete(resolve);
          resolve();
        });
      });
    }
  };

  /** Queues `events` in order, each when there is room, then waits for room; how many were queued before closing stopped it. */
  const enqueue = async (events: readonly TraceeEvent[]): Promise<number> => {
    let queued = 0;
    for (const event of events) {
      await waitForRoom();
      if (closing || queue.ended) return queued;
      const wait = queue.push(event);
      queued++;
      if (wait !== undefined) {
        const next: Promise<void> = wait.then(() => {
          if (room === next) room = undefined;
        });
        room = next;
      }
    }
    await waitForRoom();
    return queued;
  };

  const accept = async (body: Buffer, res: ServerResponse): Promise<void> => {
    const { events, errors } = decodeBody(body, format);
    if (errors.length > 0) {
      for (let i = 0; i < errors.length; i++) queue.countMalformed();
      const more = errors.length > 1 ? ` (and ${errors.length - 1} more)` : "";
      reply(res, 400, `${(errors[0] as EventLineError).message}${more}`);
      return;
    }
    if (events.length === 0) {
      queue.countMalformed();
      reply(res, 400, "no event: the body is empty");
      return;
    }
    const queued = await enqueue(events);
    if (queued === events.length) reply(res, 200, "", closing ? { connection: "close" } : {});
    else reply(res, 503, `shutting down: ${queued} of ${events.length} events queued`, { connection: "close" });
  };

  const handle = (req: IncomingMessage, res: ServerResponse): void => {
    const target = req.url ?? "/";
    const q = target.indexOf("?");
    if ((q < 0 ? target : target.slice(0, q)) !== path) return reply(res, 404, "not found");
    if (req.method !== "POST") return reply(res, 405, "method not allowed: POST events here", { allow: "POST" });
    if (closing || queue.ended) return reply(res, 503, "shutting down", { connection: "close" });
    const encoding = req.headers["content-encoding"];
    if (encoding !== undefined && encoding.toLowerCase() !== "identity") {
      return reply(res, 415, `content-encoding ${encoding} is not supported`);
    }
    const tooLarge = () => reply(res, 413, `the body is larger than ${maxBodyBytes} bytes`, { connection: "close" });
    if (Number(req.headers["content-length"]) > maxBodyBytes) return tooLarge();

    const chunks: Buffer[] = [];
    let size = 0;
    uploading.add(req);
    const stop = () => {
      uploading.delete(req);
      req.removeListener("data", onData);
      req.removeListener("end", onEnd);
      req.removeListener("error", onAbort);
      req.removeListener("close", onAbort);
    };
    const onData = (chunk: Buffer) => {
      size += chunk.length;
      if (size > maxBodyBytes) {
        stop();
        chunks.length = 0;
        req.resume(); // discard the rest
        tooLarge();
        return;
      }
      chunks.push(chunk);
    };
    const onEnd = () => {
      stop();
      if (closing) return reply(res, 503, "shutting down", { connection: "close" });
      accept(Buffer.concat(chunks, size), res).catch((err: unknown) => {
        reply(res, 500, `internal error: ${err instanceof Error ? err.message : String(err)}`);
      });
    };
    // The sender went away before the body was complete: nothing to answer.
    const onAbort = () => {
      if (!req.complete) stop();
    };
    req.on("data", onData);
    req.on("end", onEnd);
    req.on("error", onAbort);
    req.on("close", onAbort);
  };

  const server: Server = createServer((req, res) => {
    // Each answer, until it is handed to the system (or the connection is gone).
    const answered = new Promise<void>((resolve) => res.once("close", () => resolve()));
    pending.add(answered);
    void answered.then(() => pending.delete(answered));
    handle(req, res);
  });

  await new Promise<void>((resolve, reject) => {
    const onError = (err: Error) => reject(err);
    server.once("error", onError);
    server.listen({ port, host }, () => {
      server.removeListener("error", onError);
      resolve();
    });
  });
  // After listening, a server error ends the iteration with it.
  server.on("error", (err) => queue.end(err));

  const bound = server.address() as AddressInfo;
  const hostPart = bound.family === "IPv6" || bound.address.includes(":") ? `[${bound.address}]` : bound.address;

  const stop = async (): Promise<void> => {
    closing = true;
    for (const release of held) release();
    held.clear();
    const closed = new Promise<void>((resolve) => server.close(() => resolve()));
    for (const req of uploading) req.socket.destroy();
    server.closeIdleConnections();
    // Let the answers already on their way go out, then close what is left
    // (connections in the middle of sending headers).
    await Promise.all(pending);
    server.closeAllConnections();
    await closed;
  };

  const input = createInput(queue, options.signal, stop);
  return Object.assign(input, {
    url: `http://${hostPart}:${bound.port}${path}`,
    address: bound.address,
    port: bound.port,
  });
}
