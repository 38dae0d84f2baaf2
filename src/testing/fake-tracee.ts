/**
 * A fake Tracee for tests: a real `TraceeService` gRPC server (over
 * `node:http2`, on `127.0.0.1:0` or a unix socket) that replays events to
 * every `StreamEvents` call and records what each call asked for.
 *
 * @module
 */
import { constants, createServer, type Http2Server, type Http2Session, type ServerHttp2Stream } from "node:http2";
import { BinaryReader } from "@bufbuild/protobuf/wire";
import { Event } from "../gen/tracee/v1beta1/event.js";
import { formatAddress, parseAddress } from "../grpc/address.js";
import { decodeEventJson } from "../events/json/decode.js";
import type { TraceeEvent } from "../events/model.js";

/** What a fake Tracee does once it has sent its events. */
export type FakeTraceeThen =
  /** End each stream with OK, as Tracee does when it stops (the default). */
  | "end"
  /** Keep streams open (send more with {@link FakeTracee.send}, end them with {@link FakeTracee.end}). */
  | "hold"
  /** Drop the connection, as when Tracee crashes. */
  | "abort";

/** Options of {@link fakeTracee}. */
export interface FakeTraceeOptions {
  /** The events each `StreamEvents` call gets: events, or NDJSON text in Tracee's JSON. */
  readonly events?: readonly TraceeEvent[] | string;
  /** What happens after the events (default `"end"`). */
  readonly then?: FakeTraceeThen;
  /** Where to listen: `host:port` (default `127.0.0.1:0`) or `unix:///path`. */
  readonly address?: string;
  /**
   * The policies this Tracee knows. A call naming another fails the way
   * Tracee's does: `UNKNOWN` "policy [name] not found". Default: any name.
   */
  readonly policies?: readonly string[];
}

/** What one `StreamEvents` call asked for. */
export interface StreamEventsCall {
  readonly policies: readonly string[];
  /** The field mask's paths, or `undefined` when the call sent no mask. */
  readonly mask: readonly string[] | undefined;
}

/** A running fake Tracee. */
export interface FakeTracee {
  /** The address to stream from (`127.0.0.1:PORT` or `unix:///path`). */
  readonly address: string;
  /** Every `StreamEvents` call so far, in order. */
  readonly calls: readonly StreamEventsCall[];
  /** Connections accepted so far. */
  readonly connections: number;
  /** Sends more events to every stream open now. */
  send(events: readonly TraceeEvent[] | string): void;
  /** Ends every stream open now with OK. */
  end(): void;
  /** Drops every connection open now, as a crash would. */
  abort(): void;
  /** Stops listening and drops every connection. */
  close(): Promise<void>;
}

const STREAM_EVENTS = "/tracee.v1beta1.TraceeService/StreamEvents";

/** Frames gathered into writes of about 64 KiB, as a server that batches would send them. */
function chunked(frames: readonly Buffer[]): Buffer[] {
  const out: Buffer[] = [];
  let batch: Buffer[] = [];
  let size = 0;
  for (const frame of frames) {
    batch.push(frame);
    size += frame.length;
    if (size >= 64 * 1024) {
      out.push(Buffer.concat(batch));
      batch = [];
      size = 0;
    }
  }
  if (batch.length > 0) out.push(Buffer.concat(batch));
  return out;
}

function toEvents(events: readonly TraceeEvent[] | string): readonly TraceeEvent[] {
  if (typeof events !== "string") return events;
  return events
    .split("\n")
    .filter((line) => line.trim() !== "")
    .map((line) => decodeEventJson(line));
}

/** `StreamEventsResponse { Event event = 1; }`, length-prefixed for gRPC. */
function frameResponse(event: TraceeEvent): Buffer {
  const body = Event.encode(event).finish();
  const varint: number[] = [];
  for (let n = body.length; ; n >>>= 7) {
    if (n < 0x80) {
      varint.push(n);
      break;
    }
    varint.push((n & 0x7f) | 0x80);
  }
  const size = 1 + varint.length + body.length;
  const out = Buffer.allocUnsafe(5 + size);
  out[0] = 0;
  out.writeUInt32BE(size, 1);
  out[5] = 0x0a;
  out.set(varint, 6);
  out.set(body, 6 + varint.length);
  return out;
}

/** Reads `StreamEventsRequest { repeated string policies = 1; FieldMask mask = 2; }`. */
function readRequest(bytes: Uint8Array): StreamEventsCall {
  const reader = new BinaryReader(bytes);
  const policies: string[] = [];
  let mask: string[] | undefined;
  while (reader.pos < reader.len) {
    const [field, wireType] = reader.tag();
    if (field === 1 && wireType === 2) policies.push(reader.string());
    else if (field === 2 && wireType === 2) {
      const inner = new BinaryReader(reader.bytes());
      mask ??= [];
      while (inner.pos < inner.len) {
        const [f, w] = inner.tag();
        if (f === 1 && w === 2) mask.push(inner.string());
        else inner.skip(w);
      }
    } else reader.skip(wireType);
  }
  return { policies, mask };
}

function trailersOnly(stream: ServerHttp2Stream, code: number, message: string): void {
  stream.respond(
    { ":status": 200, "content-type": "application/grpc", "grpc-status": String(code), "grpc-message": encodeURIComponent(message) },
    { endStream: true },
  );
}

/**
 * Starts a fake Tracee that replays `events` to every `StreamEvents` call,
 * then ends, holds or aborts the stream as `then` says. Other methods answer
 * `UNIMPLEMENTED`. Close it with `close()`.
 *
 * @example
 * ```ts
 * const tracee = await fakeTracee({ events: readFileSync("events.ndjson", "utf8") });
 * for await (const event of streamEvents({ address: tracee.address, policies: ["default"] })) seen.push(event.name);
 * tracee.calls; // [{ policies: ["default"], mask: undefined }]
 * await tracee.close();
 * ```
 */
export async function fakeTracee(options: FakeTraceeOptions = {}): Promise<FakeTracee> {
  const frames = chunked(toEvents(options.events ?? []).map(frameResponse));
  const then = options.then ?? "end";
  const known = options.policies === undefined ? undefined : new Set(options.policies);
  const calls: StreamEventsCall[] = [];
  const open = new Set<ServerHttp2Stream>();
  const sessions = new Set<Http2Session>();
  let connections = 0;

  const server: Http2Server = createServer();
  server.on("session", (session) => {
    connections++;
    sessions.add(session);
    session.on("close", () => sessions.delete(session));
    session.on("error", () => undefined);
  });

  /** Each open stream's writes so far: later ones wait for earlier ones, so events keep their order. */
  const writing = new WeakMap<ServerHttp2Stream, Promise<void>>();

  /** Writes `chunks` after what is already being written, waiting for the stream to drain as the client reads. */
  const write = (stream: ServerHttp2Stream, chunks: readonly Buffer[]): Promise<void> => {
    const next = (writing.get(stream) ?? Promise.resolve()).then(async () => {
      for (const chunk of chunks) {
        if (stream.destroyed || stream.closed) return;
        // Resolves once the chunk went out (or the stream closed): what was
        // sent before an abort reaches the client, as it does when a process dies.
        await new Promise<void>((resolve) => {
          const done = () => {
            stream.off("close", done);
            resolve();
          };
          stream.once("close", done);
          stream.write(chunk, done);
        });
      }
    });
    writing.set(stream, next);
    return next;
  };

  const finish = (stream: ServerHttp2Stream) => {
    if (stream.destroyed || stream.closed) return;
    open.delete(stream);
    stream.end();
  };

  server.on("stream", (stream, headers) => {
    stream.on("error", () => undefined);
    if (headers[":path"] !== STREAM_EVENTS) {
      trailersOnly(stream, 12, `method ${String(headers[":path"])} not implemented by the fake Tracee`);
      return;
    }
    const parts: Buffer[] = [];
    stream.on("data", (chunk: Buffer) => parts.push(chunk));
    stream.on("end", () => {
      const body = Buffer.concat(parts);
      const call = readRequest(body.subarray(5, 5 + (body.length >= 5 ? body.readUInt32BE(1) : 0)));
      calls.push(call);
      const unknown = known === undefined ? undefined : call.policies.find((p) => !known.has(p));
      if (unknown !== undefined) {
        trailersOnly(stream, 2, `policy [${unknown}] not found`);
        return;
      }
      stream.respond({ ":status": 200, "content-type": "application/grpc" }, { waitForTrailers: true });
      stream.on("wantTrailers", () => stream.sendTrailers({ "grpc-status": "0" }));
      open.add(stream);
      stream.on("close", () => open.delete(stream));
      void write(stream, frames).then(() => {
        if (then === "end") finish(stream);
        else if (then === "abort") stream.session?.destroy();
      });
    });
  });

  const parsed = parseAddress(options.address ?? "127.0.0.1:0");
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    if (parsed.kind === "unix") server.listen(parsed.path, resolve);
    else server.listen(parsed.port, parsed.host.replace(/^\[(.*)\]$/, "$1"), resolve);
  });
  const bound = server.address();
  const address =
    parsed.kind === "unix" || bound === null || typeof bound === "string"
      ? formatAddress(parsed)
      : formatAddress({ kind: "tcp", host: parsed.host, port: bound.port });

  return {
    address,
    calls,
    get connections() {
      return connections;
    },
    send(events) {
      const more = chunked(toEvents(events).map(frameResponse));
      for (const stream of open) void write(stream, more);
    },
    end() {
      for (const stream of [...open]) void write(stream, []).then(() => finish(stream));
    },
    abort() {
      for (const session of [...sessions]) session.destroy();
    },
    close: () =>
      new Promise<void>((resolve) => {
        for (const session of [...sessions]) session.destroy(undefined, constants.NGHTTP2_NO_ERROR);
        server.close(() => resolve());
      }),
  };
}
