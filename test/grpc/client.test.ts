/**
 * The client's own behaviour: one error type, local encoding failures that
 * never half-write a stream, AbortSignal, backpressure, addresses.
 */
import { createServer as createNetServer } from "node:net";
import { join } from "node:path";
import { type sendUnaryData, Server, ServerCredentials, type ServerReadableStream } from "@grpc/grpc-js";
import type { JsonValue } from "type-fest";
import {
  DataSourceClient,
  DataSourceClientError,
  isDataSourceClientError,
  Status,
  statusName,
  TRACEE_DEFAULT_ADDRESS,
  WRITE_STREAM_PATH,
  type WriteRequest,
} from "tracee-ds/grpc";
import { afterEach, describe, expect, it } from "vitest";
import { methodDefinition } from "../../src/grpc/definition.js";
import { clientFor, deferred, fixture, rejection, serve, tempDir, ticks, trackClient } from "./helpers.js";

const entry = (key: string, value: JsonValue): WriteRequest => ({ namespace: "test", id: "recorder", key, value });

describe("DataSourceClientError", () => {
  it("carries the numeric code, its name and the details", async () => {
    const { registry } = fixture();
    const client = clientFor(await serve(registry, "tcp"));
    const err = await rejection(client.write({ namespace: "x", id: "y", key: "k", value: 1 }));
    expect(err).toBeInstanceOf(DataSourceClientError);
    expect(err).toBeInstanceOf(Error);
    expect(err.code).toBe(Status.NOT_FOUND);
    expect(err.codeName).toBe("NOT_FOUND");
    expect(err.details).toBe("requested data source does not exist (namespace: x, id: y)");
    expect(err.message).toBe("NOT_FOUND: requested data source does not exist (namespace: x, id: y)");
    expect(statusName(Status.PERMISSION_DENIED)).toBe("PERMISSION_DENIED");
    expect(statusName(99)).toBe("UNKNOWN");
  });

  it("UNAVAILABLE when nobody listens", async () => {
    const client = trackClient(new DataSourceClient(`unix://${join(tempDir(), "nobody.sock")}`));
    expect((await rejection(client.write(entry("k", 1)))).codeName).toBe("UNAVAILABLE");
    expect((await rejection(client.writeStream([entry("k", 1)]))).codeName).toBe("UNAVAILABLE");
  });
});

describe("encoding failures", () => {
  it("refuse a unary write locally with INVALID_ARGUMENT", async () => {
    const { ds, registry } = fixture();
    const client = clientFor(await serve(registry, "tcp"));
    const nan = await rejection(client.write(entry("k", Number.NaN)));
    expect(nan.codeName).toBe("INVALID_ARGUMENT");
    expect(nan.details).toMatch(/^value: .*\(not sent\)$/);
    const badKey = await rejection(client.write({ ...entry("k", 1), key: { a: 1 } as unknown as string }));
    expect(badKey.details).toMatch(/^key must be a string, number, boolean or null, got an object/);
    const deep = await rejection(clientFor({ address: "127.0.0.1:1" }, { maxDepth: 2 }).write(entry("k", [[[1]]])));
    expect(deep.codeName).toBe("INVALID_ARGUMENT");
    expect(ds.writes).toEqual([]);
  });

  it("cancel a stream, naming the entry, and nothing of it is written", async () => {
    const { ds, registry } = fixture();
    const server = await serve(registry, "unix");
    const client = clientFor(server);
    const entries = [entry("a", 1), entry("b", 2), entry("c", undefined as unknown as JsonValue), entry("d", 4)];
    const err = await rejection(client.writeStream(entries));
    expect(err.codeName).toBe("INVALID_ARGUMENT");
    expect(err.details).toMatch(/^entry 2: value: /);
    await server.close({ graceMs: 5000 });
    expect(ds.writes).toEqual([]);
  });

  it("an entries iterable that throws: rethrown as is, nothing written", async () => {
    const { ds, registry } = fixture();
    const server = await serve(registry, "tcp");
    const client = clientFor(server);
    const boom = new Error("source failed");
    function* entries() {
      yield entry("a", 1);
      yield entry("b", 2);
      throw boom;
    }
    await expect(client.writeStream(entries())).rejects.toBe(boom);
    async function* asyncEntries() {
      yield entry("a", 1);
      await ticks(2);
      throw boom;
    }
    await expect(client.writeStream(asyncEntries())).rejects.toBe(boom);
    await server.close({ graceMs: 5000 });
    expect(ds.writes).toEqual([]);
  });
});

describe("AbortSignal", () => {
  it("an already aborted signal fails at once with CANCELLED", async () => {
    const client = trackClient(new DataSourceClient("127.0.0.1:1"));
    const signal = AbortSignal.abort(new Error("nope"));
    const a = await rejection(client.write(entry("k", 1), { signal }));
    const b = await rejection(client.writeStream([entry("k", 1)], { signal }));
    expect([a.codeName, b.codeName]).toEqual(["CANCELLED", "CANCELLED"]);
    expect((b.cause as Error).message).toBe("nope");
  });

  it("cancels a stream waiting on a slow async source; nothing written", async () => {
    const { ds, registry } = fixture();
    const server = await serve(registry, "unix");
    const client = clientFor(server);
    const controller = new AbortController();
    const never = deferred();
    async function* entries() {
      yield entry("a", 1);
      await never.promise; // stuck: only the signal can end this stream
    }
    const pending = rejection(client.writeStream(entries(), { signal: controller.signal }));
    await ticks(5);
    controller.abort();
    expect((await pending).codeName).toBe("CANCELLED");
    await server.close({ graceMs: 5000 });
    expect(ds.writes).toEqual([]);
  });
});

describe("backpressure", () => {
  let stalled: Server | undefined;
  afterEach(() => stalled?.forceShutdown());

  it("reads entries only as fast as the transport takes them", async () => {
    // A server that reads the first few entries of a stream, then stops reading.
    const READ_BEFORE_PAUSE = 5;
    const paused = deferred();
    stalled = new Server();
    stalled.addService(
      { WriteStream: methodDefinition(WRITE_STREAM_PATH, true) },
      {
        WriteStream: (call: ServerReadableStream<Buffer, Buffer>, _cb: sendUnaryData<Buffer>) => {
          let read = 0;
          call.on("data", () => {
            if (++read === READ_BEFORE_PAUSE) {
              call.pause();
              paused.resolve();
            }
          });
        },
      },
    );
    const port = await new Promise<number>((resolve, reject) =>
      stalled?.bindAsync("127.0.0.1:0", ServerCredentials.createInsecure(), (e, p) => (e ? reject(e) : resolve(p))),
    );
    const client = clientFor({ address: `127.0.0.1:${port}` });
    // 1 KB entries; HTTP/2 windows and stream buffers hold a few MB at most.
    const LIMIT = 20_000;
    let produced = 0;
    function* entries() {
      for (let i = 0; i < 1_000_000; i++) {
        produced++;
        yield entry(`k${i}`, "x".repeat(1000));
      }
    }
    const controller = new AbortController();
    const pending = client.writeStream(entries(), { signal: controller.signal }).catch((e: unknown) => e);
    await paused.promise; // the server has read entries, and reads no more
    // The transport fills up, then the source is no longer read: wait until
    // production stops growing (or runs past the limit, which fails below).
    // Each round lets every pending I/O event through (setImmediate runs after
    // the poll phase) and gives the kernel time to hand over socket data.
    const settle = async () => {
      await ticks(10);
      await new Promise((r) => setTimeout(r, 20));
    };
    let stableRounds = 0;
    while (stableRounds < 5 && produced < LIMIT) {
      const before = produced;
      await settle();
      stableRounds = produced === before ? stableRounds + 1 : 0;
    }
    expect(produced).toBeGreaterThan(READ_BEFORE_PAUSE);
    expect(produced).toBeLessThan(LIMIT);
    // And it stays flat: nothing more is read while the server does not read.
    const flat = produced;
    for (let i = 0; i < 5; i++) await settle();
    expect(produced).toBe(flat);
    controller.abort();
    expect(isDataSourceClientError(await pending)).toBe(true);
  });
});

describe("addresses", () => {
  it("defaults to Tracee's socket and normalizes unix addresses", () => {
    expect(TRACEE_DEFAULT_ADDRESS).toBe("unix:///var/run/tracee.sock");
    expect(trackClient(new DataSourceClient()).address).toBe("unix:///var/run/tracee.sock");
    expect(trackClient(new DataSourceClient("unix:/tmp/a.sock")).address).toBe("unix:///tmp/a.sock");
    expect(trackClient(new DataSourceClient("unix:rel.sock")).address).toBe(`unix://${join(process.cwd(), "rel.sock")}`);
    expect(trackClient(new DataSourceClient("localhost:4466")).address).toBe("localhost:4466");
    expect(() => new DataSourceClient("")).toThrow(TypeError);
    expect(() => new DataSourceClient("127.0.0.1:1", { deadlineMs: 0 })).toThrow(RangeError);
  });

  it("reconnects after the server restarts, and reports UNAVAILABLE while it is down", async () => {
    const { ds, registry } = fixture();
    const address = `unix://${join(tempDir(), "restart.sock")}`;
    const first = await serve(registry, "unix", { address });
    const client = clientFor(first);
    await client.write(entry("before", 1));
    await first.close({ graceMs: 0 });
    expect((await rejection(client.write(entry("down", 2)))).codeName).toBe("UNAVAILABLE");
    await serve(registry, "unix", { address });
    await client.write(entry("after", 3));
    await client.writeStream([entry("stream", 4)]);
    expect([...ds.store.keys()]).toEqual(["before", "after", "stream"]);
  });

  it("a peer that accepts the connection and never speaks HTTP/2: UNAVAILABLE after connectTimeoutMs", async () => {
    const silent = createNetServer((socket) => void socket.on("error", () => undefined));
    await new Promise<void>((resolve) => silent.listen(0, "127.0.0.1", resolve));
    try {
      const address = `127.0.0.1:${(silent.address() as { port: number }).port}`;
      const client = trackClient(new DataSourceClient(address, { connectTimeoutMs: 200 }));
      const err = await rejection(client.write(entry("k", 1)));
      expect(err.codeName).toBe("UNAVAILABLE");
      expect(err.details).toBe(`HTTP/2 with ${address} failed: the server did not answer in time`);
      // A deadline shorter than the connect timeout wins.
      const quick = trackClient(new DataSourceClient(address, { deadlineMs: 100 }));
      expect((await rejection(quick.writeStream([entry("k", 1)]))).codeName).toBe("DEADLINE_EXCEEDED");
      expect(() => new DataSourceClient(address, { connectTimeoutMs: 0 })).toThrow(RangeError);
    } finally {
      silent.close();
    }
  });

  it("waitForReady resolves once connected and rejects with UNAVAILABLE otherwise", async () => {
    const { registry } = fixture();
    const client = clientFor(await serve(registry, "tcp"));
    await client.waitForReady(10_000);
    const nobody = trackClient(new DataSourceClient(`unix://${join(tempDir(), "nobody.sock")}`));
    expect((await rejection(nobody.waitForReady(200))).codeName).toBe("UNAVAILABLE");
  });
});
