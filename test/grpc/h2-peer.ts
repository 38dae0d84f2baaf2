/**
 * A raw-frame HTTP/2 "server" on node:net for testing the client's own
 * HTTP/2 transport frame by frame. It reads the client's preface and frames,
 * greets with its own SETTINGS (or whatever bytes a test gives), ACKs the
 * client's SETTINGS, and otherwise sends only what a test scripts.
 *
 * Its frame and HPACK encoding is written here from RFC 9113 / RFC 7541, not
 * taken from src/, so the client is checked against an independent reading.
 * Peers and their connections are closed after each test.
 */
import { createServer, type Server, type Socket } from "node:net";
import { afterEach } from "vitest";

export const T = {
  DATA: 0x0,
  HEADERS: 0x1,
  RST_STREAM: 0x3,
  SETTINGS: 0x4,
  PUSH_PROMISE: 0x5,
  PING: 0x6,
  GOAWAY: 0x7,
  WINDOW_UPDATE: 0x8,
  CONTINUATION: 0x9,
} as const;

export const END_STREAM = 0x1;
export const ACK = 0x1;
export const END_HEADERS = 0x4;

export const PREFACE = Buffer.from("PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n", "latin1");

/** One frame the client sent. */
export interface Frame {
  readonly type: number;
  readonly flags: number;
  readonly streamId: number;
  readonly payload: Buffer;
}

/** A request the client completed (END_STREAM) on one stream. */
export interface Request {
  readonly streamId: number;
  /** The HPACK block of its HEADERS (and CONTINUATIONs). */
  readonly headerBlock: Buffer;
  /** Its DATA bytes, joined. */
  readonly body: Buffer;
}

// ---- encoding

/** A whole frame. */
export function frame(type: number, flags: number, streamId: number, payload: Uint8Array = Buffer.alloc(0)): Buffer {
  const header = Buffer.alloc(9);
  header.writeUIntBE(payload.length, 0, 3);
  header[3] = type;
  header[4] = flags;
  header.writeUInt32BE(streamId, 5);
  return Buffer.concat([header, payload]);
}

/** A frame whose payload is 32-bit words (RST_STREAM, WINDOW_UPDATE, GOAWAY). */
export function words(type: number, streamId: number, ...values: number[]): Buffer {
  const payload = Buffer.alloc(4 * values.length);
  values.forEach((v, i) => payload.writeUInt32BE(v >>> 0, 4 * i));
  return frame(type, 0, streamId, payload);
}

export function settings(...pairs: (readonly [number, number])[]): Buffer {
  const payload = Buffer.alloc(6 * pairs.length);
  pairs.forEach(([id, value], i) => {
    payload.writeUInt16BE(id, 6 * i);
    payload.writeUInt32BE(value, 6 * i + 2);
  });
  return frame(T.SETTINGS, 0, 0, payload);
}

/** An HPACK integer (RFC 7541 §5.1) with a `prefix`-bit prefix under `high` bits. */
function integer(value: number, prefix: number, high: number): Buffer {
  const max = (1 << prefix) - 1;
  if (value < max) return Buffer.from([high | value]);
  const out = [high | max];
  for (value -= max; value >= 0x80; value = Math.floor(value / 0x80)) out.push((value % 0x80) | 0x80);
  out.push(value);
  return Buffer.from(out);
}

/** An HPACK string literal, raw (not Huffman-coded). */
export function str(text: string): Buffer {
  const bytes = Buffer.from(text, "latin1");
  return Buffer.concat([integer(bytes.length, 7, 0), bytes]);
}

/** An HPACK string literal whose bytes are Huffman-coded (`hex` already is the code). */
export function huff(hex: string): Buffer {
  const bytes = Buffer.from(hex, "hex");
  return Buffer.concat([integer(bytes.length, 7, 0x80), bytes]);
}

const asString = (s: string | Buffer): Buffer => (typeof s === "string" ? str(s) : s);

/** HPACK representations: `string` arguments are sent raw, `Buffer`s are encoded strings (see {@link huff}). */
export const hpack = {
  /** Indexed field (§6.1): static 1–61, dynamic from 62. */
  indexed: (index: number): Buffer => integer(index, 7, 0x80),
  /** Literal without indexing, new name (§6.2.2). */
  literal: (name: string | Buffer, value: string | Buffer): Buffer =>
    Buffer.concat([Buffer.from([0x00]), asString(name), asString(value)]),
  /** Literal with incremental indexing, new name (§6.2.1): added to the dynamic table. */
  indexing: (name: string | Buffer, value: string | Buffer): Buffer =>
    Buffer.concat([Buffer.from([0x40]), asString(name), asString(value)]),
  /** Dynamic table size update (§6.3); only at the start of a block. */
  sizeUpdate: (size: number): Buffer => integer(size, 5, 0x20),
  /** Literal with incremental indexing, the name from the table at `index` (§6.2.1). */
  indexingNamed: (index: number, value: string | Buffer): Buffer => Buffer.concat([integer(index, 6, 0x40), asString(value)]),
};

/** `:status 200` from the static table. */
export const STATUS_200 = hpack.indexed(8);

/** Response headers of a gRPC answer. */
export const RESPONSE_HEADERS = Buffer.concat([STATUS_200, hpack.literal("content-type", "application/grpc")]);

/** A trailers block with `grpc-status` (and `grpc-message`, sent as given: percent-encode it yourself). */
export function trailerBlock(status: number, message?: string): Buffer {
  const parts = [hpack.literal("grpc-status", String(status))];
  if (message !== undefined) parts.push(hpack.literal("grpc-message", message));
  return Buffer.concat(parts);
}

export const EMPTY_MESSAGE = Buffer.from([0, 0, 0, 0, 0]);

/** HEADERS (END_HEADERS), DATA with the empty message, trailers with `grpc-status: 0` (END_STREAM). */
export function okResponse(streamId: number): Buffer {
  return Buffer.concat([
    frame(T.HEADERS, END_HEADERS, streamId, RESPONSE_HEADERS),
    frame(T.DATA, 0, streamId, EMPTY_MESSAGE),
    frame(T.HEADERS, END_HEADERS | END_STREAM, streamId, trailerBlock(0)),
  ]);
}

// ---- the peer

export interface PeerOptions {
  /** The server's SETTINGS (default: none, an empty SETTINGS frame). */
  readonly settings?: readonly (readonly [number, number])[];
  /** Bytes sent on connecting instead of the SETTINGS frame. */
  readonly greeting?: Buffer;
}

/** One client connection, as the raw server sees it. */
export class PeerConnection {
  /** Every frame the client sent, in order. */
  readonly frames: Frame[] = [];
  /** The first 24 bytes the client sent. */
  preface: Buffer | undefined;
  /** Resolves when the socket closes. */
  readonly closed: Promise<void>;
  readonly #socket: Socket;
  #input = Buffer.alloc(0);
  #waiters: { match: (f: Frame) => boolean; resolve: (f: Frame) => void; reject: (e: Error) => void }[] = [];
  #observers: ((f: Frame) => void)[] = [];
  readonly #open = new Map<number, { block: Buffer[]; body: Buffer[] }>();
  readonly #requests: Request[] = [];
  #requestWaiters: { resolve: (r: Request) => void; reject: (e: Error) => void }[] = [];
  #isClosed = false;

  constructor(socket: Socket, options: PeerOptions) {
    this.#socket = socket;
    socket.setNoDelay(true);
    socket.on("error", () => undefined); // a client that hung up on a hostile peer
    socket.on("data", (chunk: Buffer) => this.#onBytes(chunk));
    this.closed = new Promise((resolve) =>
      socket.on("close", () => {
        this.#isClosed = true;
        const gone = new Error("the client closed the connection");
        for (const w of this.#waiters.splice(0)) w.reject(gone);
        for (const w of this.#requestWaiters.splice(0)) w.reject(gone);
        resolve();
      }),
    );
    socket.write(options.greeting ?? settings(...(options.settings ?? [])));
  }

  get isClosed(): boolean {
    return this.#isClosed;
  }

  /** Sends bytes (frames) to the client. */
  send(...bytes: Buffer[]): void {
    if (!this.#socket.destroyed) this.#socket.write(Buffer.concat(bytes));
  }

  /** Sends `bytes` one byte per socket write, a turn of the event loop apart. */
  async drip(bytes: Buffer): Promise<void> {
    for (const byte of bytes) {
      await new Promise<void>((resolve) => this.#socket.write(Buffer.from([byte]), () => resolve()));
      await new Promise((resolve) => setImmediate(resolve));
    }
  }

  /** Calls `observer` with each frame the client sends from now on, as it arrives. */
  onFrame(observer: (f: Frame) => void): void {
    this.#observers.push(observer);
  }

  /** The first frame, received or to come, that matches; rejects if the connection closes first. */
  frame(match: (f: Frame) => boolean): Promise<Frame> {
    const seen = this.frames.find(match);
    if (seen !== undefined) return Promise.resolve(seen);
    if (this.#isClosed) return Promise.reject(new Error("the client closed the connection"));
    return new Promise((resolve, reject) => this.#waiters.push({ match, resolve, reject }));
  }

  /** The client's GOAWAY: its error code and last stream id. */
  async goaway(): Promise<{ code: number; lastStreamId: number }> {
    const f = await this.frame((f) => f.type === T.GOAWAY);
    return { lastStreamId: f.payload.readUInt32BE(0) & 0x7fffffff, code: f.payload.readUInt32BE(4) };
  }

  /** The next request the client completed, in order of completion. */
  request(): Promise<Request> {
    const next = this.#requests.shift();
    if (next !== undefined) return Promise.resolve(next);
    if (this.#isClosed) return Promise.reject(new Error("the client closed the connection"));
    return new Promise((resolve, reject) => this.#requestWaiters.push({ resolve, reject }));
  }

  destroy(): void {
    this.#socket.destroy();
  }

  /** Stops reading what the client sends (its writes then back up), until {@link resumeReading}. */
  pauseReading(): void {
    this.#socket.pause();
  }

  resumeReading(): void {
    this.#socket.resume();
  }

  #onBytes(chunk: Buffer): void {
    let buf = Buffer.concat([this.#input, chunk]);
    if (this.preface === undefined) {
      if (buf.length < PREFACE.length) {
        this.#input = buf;
        return;
      }
      this.preface = buf.subarray(0, PREFACE.length);
      buf = buf.subarray(PREFACE.length);
    }
    let pos = 0;
    while (buf.length - pos >= 9) {
      const length = buf.readUIntBE(pos, 3);
      if (buf.length - pos - 9 < length) break;
      const f: Frame = {
        type: buf[pos + 3]!,
        flags: buf[pos + 4]!,
        streamId: buf.readUInt32BE(pos + 5) & 0x7fffffff,
        payload: Buffer.from(buf.subarray(pos + 9, pos + 9 + length)),
      };
      pos += 9 + length;
      this.#onFrame(f);
    }
    this.#input = Buffer.from(buf.subarray(pos));
  }

  #onFrame(f: Frame): void {
    this.frames.push(f);
    if (f.type === T.SETTINGS && (f.flags & ACK) === 0) this.send(frame(T.SETTINGS, ACK, 0));
    if (f.type === T.HEADERS) this.#open.set(f.streamId, { block: [f.payload], body: [] });
    if (f.type === T.CONTINUATION) this.#open.get(f.streamId)?.block.push(f.payload);
    if (f.type === T.DATA) this.#open.get(f.streamId)?.body.push(f.payload);
    if (f.type === T.RST_STREAM) this.#open.delete(f.streamId);
    const stream = this.#open.get(f.streamId);
    if ((f.type === T.HEADERS || f.type === T.DATA) && (f.flags & END_STREAM) !== 0 && stream !== undefined) {
      this.#open.delete(f.streamId);
      const request = { streamId: f.streamId, headerBlock: Buffer.concat(stream.block), body: Buffer.concat(stream.body) };
      const waiter = this.#requestWaiters.shift();
      if (waiter !== undefined) waiter.resolve(request);
      else this.#requests.push(request);
    }
    for (const observe of this.#observers) observe(f);
    this.#waiters = this.#waiters.filter((w) => {
      if (!w.match(f)) return true;
      w.resolve(f);
      return false;
    });
  }
}

/** A listening raw peer. */
export interface H2Peer {
  /** `127.0.0.1:port`. */
  readonly address: string;
  /** Every connection accepted so far, in order. */
  readonly connections: PeerConnection[];
}

const peers: { server: Server; connections: PeerConnection[] }[] = [];

afterEach(async () => {
  for (const { server, connections } of peers.splice(0)) {
    for (const c of connections) c.destroy();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }
});

/**
 * Listens on 127.0.0.1:0; `handle` runs for each connection (with its index)
 * once it greeted the client. An error thrown by `handle` is the test's to
 * notice (through what the client then sees), so it is swallowed here.
 */
export async function h2Peer(
  handle: (connection: PeerConnection, index: number) => void | Promise<void>,
  options: PeerOptions = {},
): Promise<H2Peer> {
  const connections: PeerConnection[] = [];
  const server = createServer((socket) => {
    const connection = new PeerConnection(socket, options);
    const index = connections.push(connection) - 1;
    void (async () => handle(connection, index))().catch(() => undefined);
  });
  peers.push({ server, connections });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return { address: `127.0.0.1:${(server.address() as { port: number }).port}`, connections };
}

/** A handler that answers every request on the connection with {@link okResponse}. */
export async function answerAllOk(connection: PeerConnection): Promise<void> {
  for (;;) {
    const request = await connection.request();
    connection.send(okResponse(request.streamId));
  }
}
