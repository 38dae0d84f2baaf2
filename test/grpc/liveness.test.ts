/**
 * The liveness check reaches into grpc-js for the HTTP/2 stream of a call.
 * These tests pin that it finds it on this grpc-js (an upgrade that moves
 * the internals fails here, not silently in production), that a dead stream
 * is never taken for alive, and that the fallback says so in the log.
 */
import { EventEmitter } from "node:events";
import type { ServerHttp2Stream } from "node:http2";
import {
  Metadata,
  type sendUnaryData,
  Server,
  ServerCredentials,
  type ServerReadableStream,
  type ServiceError,
} from "@grpc/grpc-js";
import { dataSourceService, Status, WRITE_STREAM_PATH } from "tracee-ds/grpc";
import { describe, expect, it } from "vitest";
import { http2StreamOf, settleInFlightFrames } from "../../src/grpc/liveness.js";
import {
  addressFor,
  deferred,
  fixture,
  RawClient,
  request,
  sendFrame,
  stringValue,
  trackServer,
  TRANSPORTS,
} from "./helpers.js";
import { recordingLogger } from "./logging.js";

const identity = (b: Buffer): Buffer => b;
const entry = (key: string) => request({ namespace: "test", id: "recorder", key: stringValue(key), value: stringValue("x") });

/** A grpc-js server whose WriteStream handler hands each call to `onCall`. */
async function rawServer(
  transport: (typeof TRANSPORTS)[number],
  onCall: (call: ServerReadableStream<Buffer, Buffer>, callback: sendUnaryData<Buffer>) => void,
): Promise<string> {
  const server = new Server();
  server.register(WRITE_STREAM_PATH, onCall, identity, identity, "clientStream");
  const requested = addressFor(transport);
  const port = await new Promise<number>((resolve, reject) =>
    server.bindAsync(requested, ServerCredentials.createInsecure(), (e, p) => (e ? reject(e) : resolve(p))),
  );
  trackServer({ close: async () => void server.forceShutdown() });
  return transport === "tcp" ? `127.0.0.1:${port}` : requested;
}

describe.each(TRANSPORTS)("liveness over %s", (transport) => {
  it("finds the HTTP/2 stream, and its session, under a grpc-js server call", async () => {
    const found = deferred<ServerHttp2Stream | undefined>();
    const address = await rawServer(transport, (call, callback) => {
      found.resolve(http2StreamOf(call));
      call.on("data", () => undefined);
      call.on("end", () => callback(null, Buffer.alloc(0)));
    });
    const { call, outcome } = new RawClient(address).open();
    await sendFrame(call, entry("a"));
    const stream = await found.promise;
    // If this fails after a grpc-js upgrade, liveness.ts no longer knows its
    // internals: streams would commit after one event-loop turn instead of a
    // PING round trip, and be counted per peer address instead of per connection.
    expect(stream).toBeDefined();
    expect(typeof stream?.session?.ping).toBe("function");
    expect(stream?.destroyed).toBe(false);
    expect(await settleInFlightFrames(stream)).toBe(true);
    call.end();
    expect(await outcome).toEqual({ code: 0, details: "" });
  });

  it("a stream destroyed by the client's reset is not alive, although it has no session left to ping", async () => {
    const found = deferred<{ stream: ServerHttp2Stream | undefined; gone: Promise<void> }>();
    const address = await rawServer(transport, (call) => {
      const gone = new Promise<void>((resolve) => call.on("cancelled", () => resolve()));
      call.on("data", () => undefined);
      found.resolve({ stream: http2StreamOf(call), gone });
    });
    const { call, outcome } = new RawClient(address).open();
    await sendFrame(call, entry("a"));
    const { stream, gone } = await found.promise;
    call.cancel();
    expect((await outcome).code).toBe(Status.CANCELLED);
    await gone;
    expect(stream?.destroyed).toBe(true);
    expect(await settleInFlightFrames(stream)).toBe(false);
  });
});

describe("liveness without grpc-js's internals", () => {
  it("a destroyed stream with no session is not alive", async () => {
    const stream = { destroyed: true, aborted: false, session: undefined } as unknown as ServerHttp2Stream;
    expect(await settleInFlightFrames(stream)).toBe(false);
    const open = { destroyed: false, aborted: false, session: undefined } as unknown as ServerHttp2Stream;
    expect(await settleInFlightFrames(open)).toBe(true);
    expect(await settleInFlightFrames(undefined)).toBe(true);
  });

  it("a call whose HTTP/2 stream cannot be found falls back, and warns once per service", async () => {
    const { logger, warnings } = recordingLogger();
    const { ds, registry } = fixture();
    const service = dataSourceService(registry, { logger });
    const writeStream = service.implementation["WriteStream"] as (
      call: ServerReadableStream<unknown, Buffer>,
      callback: sendUnaryData<Buffer>,
    ) => void;
    const deserialize = service.definition["WriteStream"]!.requestDeserialize;
    /** A call with grpc-js's public surface and none of its internals. */
    const fakeCall = (peer: string) =>
      Object.assign(new EventEmitter(), {
        metadata: new Metadata(),
        cancelled: false,
        getPeer: () => peer,
        getDeadline: () => Number.POSITIVE_INFINITY,
      }) as unknown as ServerReadableStream<unknown, Buffer>;
    for (const key of ["a", "b"]) {
      const call = fakeCall("10.0.0.1:1234");
      const done = deferred<ServiceError | null>();
      writeStream(call, (err) => done.resolve(err as ServiceError | null));
      call.emit("data", deserialize(Buffer.from(entry(key))));
      call.emit("end");
      expect(await done.promise).toBeNull();
    }
    expect(ds.writes.map((w) => [...w.keys()])).toEqual([["a"], ["b"]]);
    const fallback = warnings.filter((w) => /HTTP\/2 stream/.test(w.msg));
    expect(fallback).toHaveLength(1);
    expect(service.stats()).toMatchObject({ openStreams: 0, committedStreams: 2 });
  });
});
