/**
 * Bulk writes through DataSourceClient: a stream of a million entries arrives
 * whole, in one write; a server that stops or dies in the middle of a stream
 * leaves the client with UNAVAILABLE and writes none of it; a peer that keeps
 * its HTTP/2 flow-control window tiny (even closed at first) still receives
 * every byte of a 10 MB stream and of a 1 MB unary write.
 */
import { type ChildProcess, fork } from "node:child_process";
import { createHash } from "node:crypto";
import { createServer as createHttp2Server, type IncomingHttpHeaders, type ServerHttp2Stream } from "node:http2";
import { fileURLToPath } from "node:url";
import { DataSourceRegistry, type WritableDataSource, type WriteData } from "tracee-ds";
import {
  DataSourceClientError,
  DEFAULT_MAX_STREAM_ENTRIES,
  type ServiceStats,
  Status,
  WRITE_PATH,
  WRITE_STREAM_PATH,
  type WriteRequest,
} from "tracee-ds/grpc";
import { describe, expect, it, vi } from "vitest";
import { WriteDataSourceRequest, WriteDataSourceResponse } from "../../src/gen/tracee/v1beta1/datasource.js";
import { addressFor, clientFor, deferred, rejection, serve, trackServer, type Transport, TRANSPORTS } from "./helpers.js";

const NAMESPACE = "test";
const ID = "bulk";
const MiB = 1024 * 1024;

/** Entries `k0` → 0, `k1` → 1, … `k${n - 1}` → n - 1: small (about 40 bytes each on the wire). */
function* counting(n: number, from = 0): Generator<WriteRequest> {
  for (let i = from; i < n; i++) yield { namespace: NAMESPACE, id: ID, key: `k${i}`, value: i };
}

/** Where a write's entries first differ from `k${i}` → i, in order; -1 when they never do. */
function firstMismatch(data: WriteData): number {
  let i = 0;
  for (const [key, value] of data) {
    if (key !== `k${i}` || value !== i) return i;
    i++;
  }
  return -1;
}

interface WriteSeen {
  readonly entries: number;
  readonly firstMismatch: number;
}

/** A writable data source (test/bulk) that checks each write against {@link counting}'s entries and keeps no data. */
class CountingDataSource implements WritableDataSource<string, Record<string, never>> {
  readonly writes: WriteSeen[] = [];
  get(): Record<string, never> {
    return {};
  }
  version(): number {
    return 1;
  }
  keys(): string[] {
    return ["string"];
  }
  schema(): string {
    return "{}";
  }
  namespace(): string {
    return NAMESPACE;
  }
  id(): string {
    return ID;
  }
  values(): string[] {
    return ["number"];
  }
  write(data: WriteData): void {
    this.writes.push({ entries: data.size, firstMismatch: firstMismatch(data) });
  }
}

async function countingServer(transport: Transport) {
  const ds = new CountingDataSource();
  const server = await serve(new DataSourceRegistry().register(ds), transport);
  return { ds, server };
}

describe.each(TRANSPORTS)("a stream of a million entries, %s", (transport) => {
  // About 39 MB on the wire. Measured on a loaded 2-CPU machine (Node 20):
  // 4.5 to 7 s per transport. This process runs client and server, and its
  // RSS peaks ~120 MiB above where it started, nearly all of it the server
  // holding the entries until the write. With the server in a process of its
  // own (fixtures/bulk-server.ts), the client's peak RSS delta was 38 MiB on
  // its first such stream (V8 growing its heap, kept after) and under 2 MiB
  // on later ones; its heap plus array buffers peaked 6 to 22 MiB above the
  // start: the source is read as the transport takes the bytes.
  const title = `${DEFAULT_MAX_STREAM_ENTRIES.toLocaleString("en")} entries (the default maxStreamEntries) arrive whole and in order, in one write`;
  it(title, { timeout: 60_000 }, async () => {
    const { ds, server } = await countingServer(transport);
    const client = clientFor(server);
    await client.writeStream(counting(DEFAULT_MAX_STREAM_ENTRIES));
    expect(ds.writes).toEqual([{ entries: DEFAULT_MAX_STREAM_ENTRIES, firstMismatch: -1 }]);
    expect(server.stats()).toMatchObject({ committedStreams: 1, failedStreams: 0, openStreams: 0, bufferedBytes: 0 });
  });
});

// ---- servers that go away in the middle of a stream

/** Expects `err` to be the client's error for a server that went away. */
function expectUnavailable(err: DataSourceClientError): void {
  expect(err).toBeInstanceOf(DataSourceClientError);
  expect(err.code).toBe(Status.UNAVAILABLE);
  expect(err.codeName).toBe("UNAVAILABLE");
}

/** Entries for a stream the server stops in: many more than get through before it stops. */
const LONG_STREAM = DEFAULT_MAX_STREAM_ENTRIES;
/** How much of the stream the server holds before it is stopped: well under the whole. */
const HELD_BEFORE_STOP = MiB;

/**
 * `count` entries of {@link counting}, pausing after the first `pauseAt` until
 * `resume` settles: the stream is open, part sent, not half-closed.
 */
async function* pausing(count: number, pauseAt: number, resume: Promise<unknown>): AsyncGenerator<WriteRequest> {
  yield* counting(pauseAt);
  await resume;
  yield* counting(count, pauseAt);
}

describe.each(TRANSPORTS)("serveDataSources stops in the middle of a stream, %s", (transport) => {
  it("close({ graceMs: 0 }) while the client pushes entries: UNAVAILABLE, nothing written", async () => {
    const { ds, server } = await countingServer(transport);
    const client = clientFor(server);
    const outcome = rejection(client.writeStream(counting(LONG_STREAM)));
    await vi.waitFor(() => expect(server.stats().bufferedBytes).toBeGreaterThan(HELD_BEFORE_STOP), { timeout: 20_000, interval: 2 });
    await server.close({ graceMs: 0 });
    expectUnavailable(await outcome);
    expect(ds.writes).toEqual([]);
    expect(server.stats()).toMatchObject({ committedStreams: 0, openStreams: 0, bufferedBytes: 0 });
  });

  it("close({ graceMs: 0 }) while the stream waits on its source, then the source goes on: UNAVAILABLE, nothing written", async () => {
    const { ds, server } = await countingServer(transport);
    const client = clientFor(server);
    const closed = deferred();
    const outcome = rejection(client.writeStream(pausing(LONG_STREAM, 10_000, closed.promise)));
    await vi.waitFor(() => expect(server.stats().bufferedBytes).toBeGreaterThan(0), { timeout: 20_000, interval: 2 });
    await server.close({ graceMs: 0 });
    closed.resolve();
    expectUnavailable(await outcome);
    expect(ds.writes).toEqual([]);
    expect(server.stats()).toMatchObject({ committedStreams: 0, openStreams: 0, bufferedBytes: 0 });
  });
});

type ChildReply = { address: string } | { stats: ServiceStats } | { write: WriteSeen };

/** fixtures/bulk-server.ts in a process of its own, killed after the test. */
class ServerProcess {
  readonly #child: ChildProcess;
  readonly #stats: ((stats: ServiceStats) => void)[] = [];
  readonly address: Promise<string>;
  /** Every write its data source got, as it reported them. */
  readonly writes: WriteSeen[] = [];
  /** Resolves once the process has exited. */
  readonly exited: Promise<void>;

  constructor(transport: Transport) {
    this.#child = fork(fileURLToPath(new URL("./fixtures/bulk-server.ts", import.meta.url)), [addressFor(transport)], {
      execArgv: ["--import", "tsx"],
      stdio: ["ignore", "inherit", "inherit", "ipc"],
    });
    const listening = deferred<string>();
    let listened = false;
    this.#child.on("message", (reply: ChildReply) => {
      if ("address" in reply) {
        listened = true;
        listening.resolve(reply.address);
      } else if ("stats" in reply) {
        this.#stats.shift()?.(reply.stats);
      } else {
        this.writes.push(reply.write);
      }
    });
    this.exited = new Promise((resolve) => this.#child.once("exit", () => resolve()));
    // A process that could not start fails the test rather than leaving it waiting.
    this.address = Promise.race([
      listening.promise,
      this.exited.then(() => (listened ? listening.promise : Promise.reject(new Error("the server process exited before it listened")))),
    ]);
    trackServer({
      close: async () => {
        this.#child.kill("SIGKILL");
        await this.exited;
      },
    });
  }

  stats(): Promise<ServiceStats> {
    const reply = new Promise<ServiceStats>((resolve) => this.#stats.push(resolve));
    this.#child.send("stats");
    return reply;
  }

  /** Kills the process with SIGKILL: no GOAWAY, no reset, the sockets just close. */
  async kill(): Promise<void> {
    this.#child.kill("SIGKILL");
    await this.exited;
  }
}

describe.each(TRANSPORTS)("the server's process dies in the middle of a stream, %s", (transport) => {
  it("SIGKILL while the client pushes entries: UNAVAILABLE, nothing written", async () => {
    const server = new ServerProcess(transport);
    const client = clientFor({ address: await server.address });
    const outcome = rejection(client.writeStream(counting(LONG_STREAM)));
    await vi.waitFor(async () => expect((await server.stats()).bufferedBytes).toBeGreaterThan(HELD_BEFORE_STOP), {
      timeout: 20_000,
      interval: 2,
    });
    await server.kill();
    expectUnavailable(await outcome);
    expect(server.writes).toEqual([]);
  });

  it("SIGKILL while the stream waits on its source, then the source goes on: UNAVAILABLE, nothing written", async () => {
    const server = new ServerProcess(transport);
    const client = clientFor({ address: await server.address });
    const killed = deferred();
    const outcome = rejection(client.writeStream(pausing(LONG_STREAM, 10_000, killed.promise)));
    const held = await vi.waitFor(
      async () => {
        const stats = await server.stats();
        expect(stats.bufferedBytes).toBeGreaterThan(0);
        return stats;
      },
      { timeout: 20_000, interval: 2 },
    );
    expect(held).toMatchObject({ openStreams: 1, committedStreams: 0 });
    await server.kill();
    killed.resolve();
    expectUnavailable(await outcome);
    expect(server.writes).toEqual([]);
  });
});

// ---- a peer with a tiny flow-control window

/** One call as the raw server received it. */
interface Received {
  readonly headers: IncomingHttpHeaders;
  /** Request body bytes received before the window was raised (with `raiseTo`). */
  readonly beforeRaise: number;
  readonly bytes: number;
  /** The largest piece of the body that came at once (a DATA frame): at most the window. */
  readonly largestChunk: number;
  /** sha256 of the whole request body. */
  readonly sha256: string;
  readonly messages: WriteDataSourceRequest[];
}

/** Splits a request body into gRPC messages as it arrives, in linear time. */
class Deframer {
  #chunks: Buffer[] = [];
  #length = 0;
  /** Length of the message whose prefix was read, while its bytes arrive. */
  #need: number | undefined;

  push(chunk: Buffer, onMessage: (message: Buffer) => void): void {
    this.#chunks.push(chunk);
    this.#length += chunk.length;
    for (;;) {
      if (this.#need === undefined) {
        if (this.#length < 5) return;
        const prefix = this.#take(5);
        if (prefix[0] !== 0) throw new Error(`compressed flag ${prefix[0]} on an uncompressed call`);
        this.#need = prefix.readUInt32BE(1);
      }
      if (this.#length < this.#need) return;
      const message = this.#take(this.#need);
      this.#need = undefined;
      onMessage(message);
    }
  }

  /** Bytes of an unfinished message left over at the end of the body. */
  get leftover(): number {
    return this.#length + (this.#need === undefined ? 0 : 5);
  }

  #take(n: number): Buffer {
    const all = this.#chunks.length === 1 ? (this.#chunks[0] as Buffer) : Buffer.concat(this.#chunks, this.#length);
    const rest = all.subarray(n);
    this.#chunks = rest.length === 0 ? [] : [rest];
    this.#length = rest.length;
    return all.subarray(0, n);
  }
}

function framed(message: Uint8Array): Buffer {
  const out = Buffer.alloc(5 + message.length);
  out.writeUInt32BE(message.length, 1);
  out.set(message, 5);
  return out;
}

/**
 * A raw node:http2 server that speaks just enough of the DataSourceService:
 * it advertises a stream window of `initialWindowSize` bytes (so the client
 * may have that much in flight per stream), reads each request body one chunk
 * per turn of the event loop, decodes every message with the generated
 * ts-proto code, and answers with a WriteDataSourceResponse and `grpc-status:
 * 0` (or `13` naming what it could not read). With `raiseTo`, the window is
 * raised to that size a moment after each call starts.
 */
async function tinyWindowServer(
  transport: Transport,
  initialWindowSize: number,
  raiseTo?: number,
): Promise<{ address: string; received: Received[] }> {
  const received: Received[] = [];
  const server = createHttp2Server({ settings: { initialWindowSize } });
  server.on("stream", (stream: ServerHttp2Stream, headers: IncomingHttpHeaders) => {
    stream.on("error", () => undefined);
    const hash = createHash("sha256");
    const deframer = new Deframer();
    const messages: WriteDataSourceRequest[] = [];
    let bytes = 0;
    let largestChunk = 0;
    let beforeRaise = 0;
    let failure: string | undefined;
    if (raiseTo !== undefined) {
      const raise = setTimeout(() => {
        beforeRaise = bytes;
        stream.session?.settings({ initialWindowSize: raiseTo });
      }, 20);
      stream.on("close", () => clearTimeout(raise));
    }
    stream.on("data", (chunk: Buffer) => {
      bytes += chunk.length;
      largestChunk = Math.max(largestChunk, chunk.length);
      hash.update(chunk);
      try {
        deframer.push(chunk, (message) => messages.push(WriteDataSourceRequest.decode(message)));
      } catch (err) {
        failure ??= (err as Error).message;
      }
      // Slowly: one chunk per turn, so the window stays shut while we do not read.
      stream.pause();
      setImmediate(() => stream.resume());
    });
    stream.on("end", () => {
      received.push({ headers, beforeRaise, bytes, largestChunk, sha256: hash.digest("hex"), messages });
      if (failure === undefined && deframer.leftover > 0) failure = `${deframer.leftover} bytes of an unfinished message`;
      stream.respond({ ":status": 200, "content-type": "application/grpc" }, { waitForTrailers: true });
      const status = failure === undefined ? { "grpc-status": "0" } : { "grpc-status": "13", "grpc-message": encodeURIComponent(failure) };
      stream.on("wantTrailers", () => stream.sendTrailers(status));
      stream.end(framed(WriteDataSourceResponse.encode({}).finish()));
    });
  });
  const requested = addressFor(transport);
  await new Promise<void>((resolve) => {
    if (transport === "unix") server.listen(requested.slice("unix://".length), resolve);
    else server.listen(0, "127.0.0.1", resolve);
  });
  const address = transport === "unix" ? requested : `127.0.0.1:${(server.address() as { port: number }).port}`;
  trackServer({ close: () => new Promise<void>((resolve) => server.close(() => resolve())) });
  return { address, received };
}

/** sha256 of `requests` as a request body: each encoded by ts-proto, length-prefixed. */
function bodyHash(requests: Iterable<WriteRequest>): { sha256: string; bytes: number } {
  const hash = createHash("sha256");
  let bytes = 0;
  for (const r of requests) {
    const frame = framed(WriteDataSourceRequest.encode({ id: r.id, namespace: r.namespace, key: r.key, value: r.value }).finish());
    hash.update(frame);
    bytes += frame.length;
  }
  return { sha256: hash.digest("hex"), bytes };
}

const STREAM_ENTRIES = 10_000;
/** About 1 KB, different for each entry. */
const kilobyte = (i: number) => `${i}:`.padEnd(1000, String.fromCharCode(97 + (i % 26)));
function* kilobyteEntries(n: number): Generator<WriteRequest> {
  for (let i = 0; i < n; i++) yield { namespace: NAMESPACE, id: ID, key: `k${i}`, value: kilobyte(i) };
}

/** [what the test calls it, the window the server advertises, what it raises it to a moment after each call starts] */
const windows: [string, number, number | undefined][] = [
  ["a 1 KiB window", 1024, undefined],
  ["a window shut at first, then 1 KiB", 0, 1024],
];

describe.each(TRANSPORTS)("a peer with a tiny HTTP/2 flow-control window, %s", (transport) => {
  const title = `${STREAM_ENTRIES.toLocaleString("en")} entries of 1 KB through %s: all arrive, byte for byte`;
  it.each(windows)(title, async (_, initialWindowSize, raiseTo) => {
    const { address, received } = await tinyWindowServer(transport, initialWindowSize, raiseTo);
    const client = clientFor({ address });
    await client.writeStream(kilobyteEntries(STREAM_ENTRIES));
    expect(received).toHaveLength(1);
    const [call] = received as [Received];
    expect(call.headers[":path"]).toBe(WRITE_STREAM_PATH);
    expect(call.headers["content-type"]).toBe("application/grpc");
    // The window did hold the client back: nothing while it was shut, never more than it at once.
    expect(call.beforeRaise).toBe(0);
    expect(call.largestChunk).toBeLessThanOrEqual(1024);
    expect(call.messages).toHaveLength(STREAM_ENTRIES);
    const wrong = call.messages.findIndex(
      (m, i) => m.namespace !== NAMESPACE || m.id !== ID || m.key !== `k${i}` || m.value !== kilobyte(i),
    );
    expect(wrong).toBe(-1);
    expect({ sha256: call.sha256, bytes: call.bytes }).toEqual(bodyHash(kilobyteEntries(STREAM_ENTRIES)));
  });

  it.each(windows)("a unary write of a 1 MB value through %s arrives whole", async (_, initialWindowSize, raiseTo) => {
    const { address, received } = await tinyWindowServer(transport, initialWindowSize, raiseTo);
    const client = clientFor({ address });
    const request: WriteRequest = { namespace: NAMESPACE, id: ID, key: "big", value: "x".repeat(1_000_000) + "end" };
    await client.write(request);
    expect(received).toHaveLength(1);
    const [call] = received as [Received];
    expect(call.headers[":path"]).toBe(WRITE_PATH);
    expect(call.beforeRaise).toBe(0);
    expect(call.largestChunk).toBeLessThanOrEqual(1024);
    expect(call.messages).toHaveLength(1);
    expect(call.messages[0]).toEqual({ namespace: NAMESPACE, id: ID, key: "big", value: request.value });
    expect({ sha256: call.sha256, bytes: call.bytes }).toEqual(bodyHash([request]));
  });
});
