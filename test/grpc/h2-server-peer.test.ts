/**
 * serveDataSources on its own HTTP/2 against clients that break HTTP/2: each
 * hostile connection ends (GOAWAY with the right code) or its stream is
 * reset, nothing is written, and the server keeps serving everyone else.
 * The raw client here writes frames by hand (test/grpc/h2-peer.ts encodes
 * them, independently of src/).
 */
import { connect, type Socket } from "node:net";
import { describe, expect, it } from "vitest";
import { ACK, END_HEADERS, END_STREAM, type Frame, frame, hpack, PREFACE, settings, T, words } from "./h2-peer.js";
import { clientFor, fixture, serve } from "./helpers.js";

/** A client connection that records every frame the server sends. */
class RawH2 {
  readonly frames: Frame[] = [];
  readonly closed: Promise<void>;
  readonly #socket: Socket;
  #input = Buffer.alloc(0);
  #waiters: { match: (f: Frame) => boolean; resolve: (f: Frame | undefined) => void }[] = [];

  constructor(address: string, greet = true) {
    const [host, port] = address.split(":") as [string, string];
    this.#socket = connect(Number(port), host);
    this.#socket.on("error", () => undefined);
    this.#socket.on("data", (chunk: Buffer) => this.#onBytes(chunk));
    this.closed = new Promise((resolve) =>
      this.#socket.on("close", () => {
        for (const w of this.#waiters.splice(0)) w.resolve(undefined);
        resolve();
      }),
    );
    if (greet) this.send(PREFACE, settings());
  }

  send(...bytes: Buffer[]): void {
    this.#socket.write(Buffer.concat(bytes));
  }

  pause(): void {
    this.#socket.pause();
  }

  destroy(): void {
    this.#socket.destroy();
  }

  /** The first frame that matches, or `undefined` once the connection closed without one. */
  frame(match: (f: Frame) => boolean): Promise<Frame | undefined> {
    const seen = this.frames.find(match);
    if (seen !== undefined) return Promise.resolve(seen);
    return new Promise((resolve) => this.#waiters.push({ match, resolve }));
  }

  async goaway(): Promise<number | undefined> {
    const f = await this.frame((f) => f.type === T.GOAWAY);
    return f?.payload.readUInt32BE(4);
  }

  #onBytes(chunk: Buffer): void {
    let buf = Buffer.concat([this.#input, chunk]);
    while (buf.length >= 9) {
      const length = buf.readUIntBE(0, 3);
      if (buf.length < 9 + length) break;
      const f = { type: buf[3]!, flags: buf[4]!, streamId: buf.readUInt32BE(5) & 0x7fffffff, payload: Buffer.from(buf.subarray(9, 9 + length)) };
      buf = buf.subarray(9 + length);
      this.frames.push(f);
      for (const w of [...this.#waiters]) {
        if (w.match(f)) {
          this.#waiters.splice(this.#waiters.indexOf(w), 1);
          w.resolve(f);
        }
      }
    }
    this.#input = buf;
  }
}

/** Request headers for `path` (literals; the static `:method POST` and `:scheme http`). */
function requestHeaders(path: string, extra: Buffer[] = [], type = "application/grpc"): Buffer {
  return Buffer.concat([
    hpack.indexed(3),
    hpack.indexed(6),
    hpack.literal(":path", path),
    hpack.literal(":authority", "localhost"),
    hpack.literal("content-type", type),
    hpack.literal("te", "trailers"),
    ...extra,
  ]);
}
const WRITE = "/tracee.v1beta1.DataSourceService/Write";

async function servedFixture() {
  const { ds, registry } = fixture();
  const server = await serve(registry, "tcp");
  return { ds, server };
}

/** The server still answers a well-behaved client, and wrote nothing else. */
async function stillServes(server: { address: string }, ds: { writes: unknown[] }): Promise<void> {
  expect(ds.writes).toEqual([]);
  await clientFor(server).write({ namespace: "test", id: "recorder", key: "after", value: 1 });
  expect(ds.writes).toHaveLength(1);
}

describe("our server against clients that break HTTP/2", () => {
  it("HTTP/1.1 instead of the preface: the connection ends with GOAWAY PROTOCOL_ERROR", async () => {
    const { ds, server } = await servedFixture();
    const raw = new RawH2(server.address, false);
    raw.send(Buffer.from("GET / HTTP/1.1\r\nHost: x\r\n\r\n"));
    expect(await raw.goaway()).toBe(0x1);
    await raw.closed;
    await stillServes(server, ds);
  });

  it("a frame over 16 KiB: GOAWAY FRAME_SIZE_ERROR", async () => {
    const { ds, server } = await servedFixture();
    const raw = new RawH2(server.address);
    raw.send(frame(T.HEADERS, 0, 1, Buffer.alloc(20_000)));
    expect(await raw.goaway()).toBe(0x6);
    await stillServes(server, ds);
  });

  it("a flood of empty CONTINUATION frames: GOAWAY ENHANCE_YOUR_CALM", async () => {
    const { ds, server } = await servedFixture();
    const raw = new RawH2(server.address);
    const empty = frame(T.CONTINUATION, 0, 1);
    raw.send(frame(T.HEADERS, 0, 1, requestHeaders(WRITE)), Buffer.concat(Array.from({ length: 20_000 }, () => empty)));
    expect(await raw.goaway()).toBe(0xb);
    await stillServes(server, ds);
  });

  it("an HPACK block that does not decode: GOAWAY COMPRESSION_ERROR", async () => {
    const { ds, server } = await servedFixture();
    const raw = new RawH2(server.address);
    raw.send(frame(T.HEADERS, END_HEADERS, 1, Buffer.from([0xff, 0xff, 0xff])));
    expect(await raw.goaway()).toBe(0x9);
    await stillServes(server, ds);
  });

  it("a unary Write carrying message after message: refused at the second, nothing buffered or written", async () => {
    const { ds, server } = await servedFixture();
    const raw = new RawH2(server.address);
    // 2 MiB of empty messages (5 bytes each), and the request never ends.
    const chunk = frame(T.DATA, 0, 1, Buffer.alloc(16_380));
    raw.send(frame(T.HEADERS, END_HEADERS, 1, requestHeaders(WRITE)), Buffer.concat(Array.from({ length: 128 }, () => chunk)));
    const answer = await raw.frame((f) => f.type === T.HEADERS && f.streamId === 1);
    expect(answer?.payload.toString("latin1")).toMatch(/grpc-status.*12.*second request message/s);
    raw.destroy();
    await stillServes(server, ds);
  });

  it("request headers over 64 KiB: the stream is refused (ENHANCE_YOUR_CALM)", async () => {
    const { ds, server } = await servedFixture();
    const raw = new RawH2(server.address);
    const big = hpack.literal("x-big", "v".repeat(16_000));
    const block = requestHeaders(WRITE, [big, big, big, big, big]);
    const parts = [frame(T.HEADERS, 0, 1, block.subarray(0, 16_000))];
    for (let at = 16_000; at < block.length; at += 16_000) {
      parts.push(frame(T.CONTINUATION, at + 16_000 >= block.length ? END_HEADERS : 0, 1, block.subarray(at, at + 16_000)));
    }
    raw.send(...parts);
    const reset = await raw.frame((f) => f.type === T.RST_STREAM && f.streamId === 1);
    expect(reset?.payload.readUInt32BE(0)).toBe(0xb);
    raw.destroy();
    await stillServes(server, ds);
  });

  it("PINGs whose answers are never read: the connection ends instead of queueing answers", async () => {
    const { ds, server } = await servedFixture();
    const raw = new RawH2(server.address);
    raw.pause();
    const ping = frame(T.PING, 0, 0, Buffer.alloc(8, 1));
    const burst = Buffer.concat(Array.from({ length: 16_384 }, () => ping));
    for (let i = 0; i < 96; i++) {
      raw.send(burst);
      await new Promise((resolve) => setImmediate(resolve));
    }
    await raw.closed;
    await stillServes(server, ds);
  });

  it("an unknown method: UNIMPLEMENTED, trailers only; a wrong content-type: HTTP 415", async () => {
    const { ds, server } = await servedFixture();
    const raw = new RawH2(server.address);
    raw.send(frame(T.HEADERS, END_HEADERS | END_STREAM, 1, requestHeaders("/nope.Service/Nothing")));
    const unknown = await raw.frame((f) => f.type === T.HEADERS && f.streamId === 1);
    expect((unknown?.flags ?? 0) & END_STREAM).toBe(END_STREAM);
    expect(unknown?.payload.toString("latin1")).toMatch(/grpc-status.*12/s);
    raw.send(frame(T.HEADERS, END_HEADERS | END_STREAM, 3, requestHeaders(WRITE, [], "text/plain")));
    const wrongType = await raw.frame((f) => f.type === T.HEADERS && f.streamId === 3);
    expect(wrongType?.payload.toString("latin1")).toMatch(/:status.*415/s);
    // PING still answered on the same connection: it is alive.
    raw.send(frame(T.PING, 0, 0, Buffer.alloc(8, 9)));
    expect(await raw.frame((f) => f.type === T.PING && (f.flags & ACK) !== 0)).toBeDefined();
    raw.send(words(T.GOAWAY, 0, 0, 0));
    raw.destroy();
    await stillServes(server, ds);
  });
});

describe("our server and grpc-timeout", () => {
  it("a deadline further off than a timer can hold (99999999H) does not end the call at once, as an overflowing timer would", async () => {
    const { ds, server } = await servedFixture();
    const raw = new RawH2(server.address);
    const message = Buffer.alloc(5); // an empty request: refused as naming no data source, not as out of time
    raw.send(frame(T.HEADERS, END_HEADERS, 1, requestHeaders(WRITE, [hpack.literal("grpc-timeout", "99999999H")])), frame(T.DATA, END_STREAM, 1, message));
    const answer = await raw.frame((f) => f.type === T.HEADERS && f.streamId === 1);
    const text = answer?.payload.toString("latin1") ?? "";
    expect(text).toMatch(/grpc-status/);
    expect(text).not.toMatch(/Deadline exceeded/);
    raw.destroy();
    await stillServes(server, ds);
  });
});
