/**
 * Every row of the semantics table in docs/grpc.md, over TCP and over a unix socket, through the
 * public client (and a raw grpc-js client where our client would refuse to
 * send the request at all).
 */
import type { ClientWritableStream } from "@grpc/grpc-js";
import { ErrFailedToUnmarshal, ErrKeyNotSupported, wrapError } from "tracee-ds";
import { DEFAULT_MAX_DEPTH as CODEC_DEFAULT_MAX_DEPTH } from "tracee-ds/codec";
import { DEFAULT_MAX_DEPTH, Status, statusName, type WriteRequest } from "tracee-ds/grpc";
import { describe, expect, it } from "vitest";
import * as structPb from "google-protobuf/google/protobuf/struct_pb.js";
import {
  clientFor,
  concat,
  deferred,
  fixture,
  ld,
  numberValue,
  RawClient,
  request,
  sendFrame,
  serve,
  serveObserved,
  type StreamSettlement,
  stringValue,
  rejection,
  TRANSPORTS,
} from "./helpers.js";

const entry = (key: WriteRequest["key"], value: WriteRequest["value"], id = "recorder"): WriteRequest => ({
  namespace: "test",
  id,
  key,
  value,
});

/** Checks that the service dropped a stream, or replied with one of `codes`. */
function expectDroppedOr(settled: StreamSettlement, ...codes: number[]): void {
  const how = settled === "dropped" ? settled : statusName(settled.replied);
  expect(["dropped", ...codes.map(statusName)]).toContain(how);
}

/** Sends `n` valid entries on a raw stream, each handed to the transport before the next. */
async function sendEntries(call: ClientWritableStream<Buffer>, n: number): Promise<void> {
  for (let i = 0; i < n; i++) {
    await sendFrame(call, request({ namespace: "test", id: "recorder", key: stringValue(`k${i}`), value: numberValue(i) }));
  }
}

function failingFixture() {
  return fixture((data) => {
    if (data.has("unsupported")) throw wrapError(ErrKeyNotSupported, "key unsupported");
    if (data.has("unreadable")) throw wrapError(ErrFailedToUnmarshal, "value unreadable");
    if (data.has("boom")) {
      const err = new Error("database exploded\n    at secretFunction (/srv/app/secret.js:1:1)");
      throw err;
    }
  });
}

describe.each(TRANSPORTS)("the semantics table over %s", (transport) => {
  it("ok: OK, written (unary)", async () => {
    const { ds, registry } = fixture();
    const client = clientFor(await serve(registry, transport));
    await client.write(entry("threshold", 10));
    expect(ds.writes).toEqual([new Map([["threshold", 10]])]);
  });

  it("ok: OK, written in one write call (stream), a repeated key keeps its last value", async () => {
    const { ds, registry } = fixture();
    const client = clientFor(await serve(registry, transport));
    await client.writeStream([entry("a", 1), entry("b", { nested: [true, null, "x"] }), entry("a", 3)]);
    expect(ds.writes).toEqual([
      new Map<string, unknown>([
        ["a", 3],
        ["b", { nested: [true, null, "x"] }],
      ]),
    ]);
  });

  it("scalar keys of every kind reach the data source", async () => {
    const { ds, registry } = fixture();
    const client = clientFor(await serve(registry, transport));
    await client.writeStream([entry("s", 1), entry(2.5, 2), entry(true, 3), entry(null, 4)]);
    expect([...(ds.writes[0]?.keys() ?? [])]).toEqual(["s", 2.5, true, null]);
  });

  it("unknown namespace/id: NOT_FOUND, nothing written", async () => {
    const { ds, registry } = fixture();
    const client = clientFor(await serve(registry, transport));
    const unary = await rejection(client.write(entry("k", 1, "nope")));
    expect(unary.codeName).toBe("NOT_FOUND");
    expect(unary.code).toBe(Status.NOT_FOUND);
    expect(unary.details).toBe("requested data source does not exist (namespace: test, id: nope)");
    const stream = await rejection(client.writeStream([entry("k", 1, "nope"), entry("j", 2, "nope")]));
    expect(stream.codeName).toBe("NOT_FOUND");
    expect(ds.writes).toEqual([]);
  });

  it("no id or namespace: INVALID_ARGUMENT naming what is empty, nothing written", async () => {
    const { ds, registry } = fixture();
    const server = await serve(registry, transport);
    const raw = new RawClient(server.address);
    const kv = { key: stringValue("k"), value: numberValue(1) };
    expect(await raw.unary(request({}))).toEqual({
      code: Status.INVALID_ARGUMENT,
      details: "request names no data source: id and namespace are empty",
    });
    expect((await raw.unary(request({ namespace: "test", ...kv }))).details).toMatch(/id is empty/);
    const stream = await raw.stream([request({ namespace: "test", id: "recorder", ...kv }), request({ id: "recorder", ...kv })]);
    expect(stream.code).toBe(Status.INVALID_ARGUMENT);
    expect(stream.details).toMatch(/^entry 1: .*namespace is empty/);
    expect(ds.writes).toEqual([]);
  });

  it("registered but not writable: UNIMPLEMENTED", async () => {
    const { registry } = fixture();
    const client = clientFor(await serve(registry, transport));
    const unary = await rejection(client.write(entry("k", 1, "readonly")));
    expect(unary.codeName).toBe("UNIMPLEMENTED");
    expect(unary.details).toBe("requested data source is not writable (namespace: test, id: readonly)");
    expect((await rejection(client.writeStream([entry("k", 1, "readonly")]))).codeName).toBe("UNIMPLEMENTED");
  });

  it("key missing, value missing, struct or list key: INVALID_ARGUMENT, nothing written", async () => {
    const { ds, registry } = fixture();
    const server = await serve(registry, transport);
    const raw = new RawClient(server.address);
    const target = { namespace: "test", id: "recorder" };
    const noKey = await raw.unary(request({ ...target, value: numberValue(1) }));
    expect(noKey).toEqual({ code: Status.INVALID_ARGUMENT, details: "key is missing" });
    const noValue = await raw.unary(request({ ...target, key: stringValue("k") }));
    expect(noValue).toEqual({ code: Status.INVALID_ARGUMENT, details: "value is missing" });
    const structKey = structPb.Value.fromJavaScript({ a: 1 }).serializeBinary();
    const listKey = structPb.Value.fromJavaScript([1]).serializeBinary();
    const s = await raw.unary(request({ ...target, key: structKey, value: numberValue(1) }));
    expect(s.code).toBe(Status.INVALID_ARGUMENT);
    expect(s.details).toMatch(/key must be .*got a struct/);
    const l = await raw.unary(request({ ...target, key: listKey, value: numberValue(1) }));
    expect(l.code).toBe(Status.INVALID_ARGUMENT);
    expect(l.details).toMatch(/got a list/);
    // And in a stream, at index 1, after a good entry.
    const good = request({ ...target, key: stringValue("k"), value: numberValue(1) });
    const st = await raw.stream([good, request({ ...target, key: structKey, value: numberValue(1) })]);
    expect(st.code).toBe(Status.INVALID_ARGUMENT);
    expect(st.details).toMatch(/^entry 1: key must be/);
    expect(ds.writes).toEqual([]);
  });

  it("data source throws ErrKeyNotSupported / ErrFailedToUnmarshal: INVALID_ARGUMENT", async () => {
    const { ds, registry } = failingFixture();
    const client = clientFor(await serve(registry, transport));
    const a = await rejection(client.write(entry("unsupported", 1)));
    expect(a.codeName).toBe("INVALID_ARGUMENT");
    expect(a.details).toBe(
      "failed to write to data source (namespace: test, id: recorder): key unsupported: queried key is not supported",
    );
    const b = await rejection(client.writeStream([entry("x", 1), entry("unreadable", 2)]));
    expect(b.codeName).toBe("INVALID_ARGUMENT");
    expect(b.details).toMatch(/given value could not be unmarshaled$/);
    expect(ds.writes).toEqual([]);
  });

  it("data source throws anything else: INTERNAL without the stack or message; logged", async () => {
    const logged: unknown[][] = [];
    const logger = { debug() {}, info() {}, warn() {}, error: (...args: unknown[]) => void logged.push(args) };
    const { ds, registry } = failingFixture();
    const client = clientFor(await serve(registry, transport, { logger }));
    const err = await rejection(client.write(entry("boom", 1)));
    expect(err.codeName).toBe("INTERNAL");
    expect(err.details).toBe("failed to write to data source (namespace: test, id: recorder): internal error");
    expect(err.details).not.toMatch(/secret|database/);
    expect(ds.writes).toEqual([]);
    expect(logged).toHaveLength(1);
    expect(String(logged[0]?.at(-1))).toMatch(/database exploded/);
  });

  it("exposeInternalErrors: INTERNAL carries the message's first line, never the stack", async () => {
    const { registry } = failingFixture();
    const client = clientFor(await serve(registry, transport, { exposeInternalErrors: true }));
    const err = await rejection(client.writeStream([entry("boom", 1)]));
    expect(err.codeName).toBe("INTERNAL");
    expect(err.details).toBe("failed to write to data source (namespace: test, id: recorder): database exploded");
  });

  it("stream names a second data source: INVALID_ARGUMENT, nothing at all", async () => {
    const { ds, registry } = fixture();
    const client = clientFor(await serve(registry, transport));
    const err = await rejection(client.writeStream([entry("a", 1), entry("b", 2), entry("c", 3, "readonly")]));
    expect(err.codeName).toBe("INVALID_ARGUMENT");
    expect(err.details).toMatch(/^entry 2: names data source \(namespace: test, id: readonly\)/);
    // A second namespace is a second data source too.
    const ns = await rejection(
      client.writeStream([entry("a", 1), { namespace: "other", id: "recorder", key: "b", value: 2 }]),
    );
    expect(ns.details).toMatch(/^entry 1: /);
    expect(ds.writes).toEqual([]);
  });

  it("any bad entry in a stream: INVALID_ARGUMENT naming the index, nothing at all", async () => {
    const { ds, registry } = fixture();
    const server = await serve(registry, transport);
    const raw = new RawClient(server.address);
    const target = { namespace: "test", id: "recorder" };
    const good = (k: string) => request({ ...target, key: stringValue(k), value: numberValue(1) });
    const noKind = request({ ...target, key: stringValue("k"), value: new Uint8Array(0) });
    const out = await raw.stream([good("a"), good("b"), good("c"), noKind, good("d")]);
    expect(out.code).toBe(Status.INVALID_ARGUMENT);
    expect(out.details).toMatch(/^entry 3: value: /);
    expect(ds.writes).toEqual([]);
  });

  it("empty stream: OK, write not called (and our client sends none)", async () => {
    const { ds, registry } = fixture();
    const server = await serve(registry, transport);
    expect(await new RawClient(server.address).stream([])).toEqual({ code: Status.OK, details: "" });
    const client = clientFor(server);
    await client.writeStream([]);
    await client.dataSource("test", "recorder").writeStream(new Map());
    expect(ds.writes).toEqual([]);
  });

  it("client cancels mid-stream: CANCELLED, nothing at all", async () => {
    const seen = deferred();
    const { ds, registry } = fixture();
    const server = await serve(registry, transport, {
      authorize: () => {
        seen.resolve(); // the server has the first entry
        return true;
      },
    });
    const client = clientFor(server);
    const controller = new AbortController();
    async function* entries() {
      for (let i = 0; i < 100; i++) yield entry(`k${i}`, i);
      await seen.promise;
      controller.abort(new Error("changed my mind"));
      yield entry("never", 0);
    }
    const err = await rejection(client.writeStream(entries(), { signal: controller.signal }));
    expect(err.codeName).toBe("CANCELLED");
    expect((err.cause as Error).message).toBe("changed my mind");
    await server.close({ graceMs: 5000 }); // waits for the server to settle the call
    expect(ds.writes).toEqual([]);
  });

  it("deadline passes mid-stream: DEADLINE_EXCEEDED, nothing at all", async () => {
    const seen = deferred();
    const { ds, registry } = fixture();
    const server = await serve(registry, transport, {
      authorize: () => {
        seen.resolve();
        return true;
      },
    });
    const client = clientFor(server);
    const stall = deferred();
    async function* entries() {
      for (let i = 0; i < 50; i++) yield entry(`k${i}`, i);
      await seen.promise;
      await stall.promise; // never resolves: the deadline passes here
    }
    const err = await rejection(client.writeStream(entries(), { deadlineMs: 300 }));
    expect(err.codeName).toBe("DEADLINE_EXCEEDED");
    await server.close({ graceMs: 5000 });
    expect(ds.writes).toEqual([]);
  });

  it("a plain grpc-js client cancels mid-stream (no marker, no half-close): nothing written, ever", async () => {
    const { ds, registry } = fixture();
    const { address, service, firstStream } = await serveObserved(registry, transport);
    const { call, outcome } = new RawClient(address).open();
    await sendEntries(call, 20);
    const stream = await firstStream;
    await stream.received(20); // the server holds every entry
    call.cancel(); // grpc-js half-closes the HTTP/2 stream, then resets it
    expect((await outcome).code).toBe(Status.CANCELLED);
    // The server settles the call without writing: it drops it, or its write is skipped.
    expectDroppedOr(await stream.settled, Status.CANCELLED);
    await service.idle();
    expect(ds.writes).toEqual([]);
  });

  it("a plain client's deadline passes server-side mid-stream (never half-closed): nothing written", async () => {
    const { ds, registry } = fixture();
    const { address, service, firstStream } = await serveObserved(registry, transport);
    // The deadline travels only as the grpc-timeout header: the server alone enforces it.
    const { call, outcome } = new RawClient(address).open({ serverTimeoutMs: 300 });
    await sendEntries(call, 20);
    const stream = await firstStream;
    await stream.received(20);
    expect(await outcome).toEqual({ code: Status.DEADLINE_EXCEEDED, details: "Deadline exceeded" });
    expectDroppedOr(await stream.settled, Status.DEADLINE_EXCEEDED);
    await service.idle();
    expect(ds.writes).toEqual([]);
  });

  it("a plain grpc-js client's own deadline passes mid-stream: nothing written, over repeated tries", async () => {
    // grpc-js ends the stream (as if finished) just before it resets it at its
    // deadline; the server must not take that end for a finished stream. The
    // race is narrow, so it is tried several times.
    const writes: unknown[] = [];
    for (let round = 0; round < 10; round++) {
      const { ds, registry } = fixture();
      const { address, service, firstStream } = await serveObserved(registry, transport);
      const { call, outcome } = new RawClient(address).open({ deadline: Date.now() + 150 });
      await sendEntries(call, 10);
      const stream = await firstStream;
      await stream.received(10);
      expect((await outcome).code).toBe(Status.DEADLINE_EXCEEDED);
      expectDroppedOr(await stream.settled, Status.DEADLINE_EXCEEDED, Status.CANCELLED);
      await service.idle();
      writes.push(...ds.writes);
    }
    expect(writes).toEqual([]);
  });

  it("message over the size limit: RESOURCE_EXHAUSTED, nothing (unary, stream, default 4 MiB)", async () => {
    const { ds, registry } = fixture();
    const small = await serve(registry, transport, { maxMessageBytes: 1024 });
    const client = clientFor(small);
    const big = "x".repeat(2000);
    expect((await rejection(client.write(entry("k", big)))).codeName).toBe("RESOURCE_EXHAUSTED");
    const st = await rejection(client.writeStream([entry("a", 1), entry("k", big)]));
    expect(st.codeName).toBe("RESOURCE_EXHAUSTED");
    const dflt = clientFor(await serve(registry, transport));
    const huge = await rejection(dflt.write(entry("k", "y".repeat(4 * 1024 * 1024 + 1))));
    expect(huge.codeName).toBe("RESOURCE_EXHAUSTED");
    expect(ds.writes).toEqual([]);
  });

  it("Value nested deeper than the limit: INVALID_ARGUMENT", async () => {
    const { ds, registry } = fixture();
    const server = await serve(registry, transport, { maxDepth: 3 });
    const client = clientFor(server);
    await client.write(entry("ok", [[["depth 3"]]]));
    const err = await rejection(client.write(entry("deep", [[[["depth 4"]]]])));
    expect(err.codeName).toBe("INVALID_ARGUMENT");
    expect(err.details).toMatch(/^value: .*(deep|depth|nest)/i);
    // Default limit 64 (one constant, the codec's), checked with a value our client would not encode.
    expect(DEFAULT_MAX_DEPTH).toBe(CODEC_DEFAULT_MAX_DEPTH);
    expect(DEFAULT_MAX_DEPTH).toBe(64);
    let deep: unknown = 1;
    for (let i = 0; i < 65; i++) deep = [deep];
    const bytes = structPb.Value.fromJavaScript(deep as structPb.JavaScriptValue).serializeBinary();
    const dflt = await serve(registry, transport);
    const raw = new RawClient(dflt.address);
    const out = await raw.unary(request({ namespace: "test", id: "recorder", key: stringValue("k"), value: bytes }));
    expect(out.code).toBe(Status.INVALID_ARGUMENT);
    expect(ds.writes).toEqual([new Map([["ok", [[["depth 3"]]]]])]);
  });

  it("stream longer than the entry limit: RESOURCE_EXHAUSTED, nothing at all", async () => {
    const { ds, registry } = fixture();
    const client = clientFor(await serve(registry, transport, { maxStreamEntries: 10 }));
    const entries = (n: number) => Array.from({ length: n }, (_, i) => entry(`k${i}`, i));
    await client.writeStream(entries(10));
    const err = await rejection(client.writeStream(entries(11)));
    expect(err.codeName).toBe("RESOURCE_EXHAUSTED");
    expect(err.details).toMatch(/more than 10 entries/);
    expect(ds.writes).toHaveLength(1);
    expect(ds.writes[0]?.size).toBe(10);
  });

  it("authorize hook says no: PERMISSION_DENIED, nothing (sync false, async false, throw)", async () => {
    const { ds, registry } = fixture();
    const verdicts = [false, Promise.resolve(false), "throw"] as const;
    for (const verdict of verdicts) {
      const server = await serve(registry, transport, {
        authorize: () => {
          if (verdict === "throw") throw new Error("auth backend down");
          return verdict;
        },
      });
      const client = clientFor(server);
      expect((await rejection(client.write(entry("k", 1)))).codeName).toBe("PERMISSION_DENIED");
      expect((await rejection(client.writeStream([entry("k", 1), entry("j", 2)]))).codeName).toBe(
        "PERMISSION_DENIED",
      );
    }
    // Authorization comes before lookup: a refused client cannot probe names.
    const server = await serve(registry, transport, { authorize: () => false });
    expect((await rejection(clientFor(server).write(entry("k", 1, "nope")))).codeName).toBe("PERMISSION_DENIED");
    expect(ds.writes).toEqual([]);
  });

  it("malformed request bytes: INVALID_ARGUMENT (truncated, wrong wire type, bad UTF-8)", async () => {
    const { ds, registry } = fixture();
    const raw = new RawClient((await serve(registry, transport)).address);
    const truncated = concat(request({ namespace: "test", id: "recorder" }), Uint8Array.of(0x1a, 0x10, 0x0a));
    const wrongWireType = concat(request({ namespace: "test", id: "recorder" }), Uint8Array.of(0x18, 0x01));
    const badUtf8 = concat(ld(1, Uint8Array.of(0xff, 0xfe)), ld(2, "test"));
    for (const bytes of [truncated, wrongWireType, badUtf8]) {
      const out = await raw.unary(bytes);
      expect(out.code).toBe(Status.INVALID_ARGUMENT);
      expect(out.details).toMatch(/^malformed request: /);
    }
    const st = await raw.stream([
      request({ namespace: "test", id: "recorder", key: stringValue("a"), value: numberValue(1) }),
      wrongWireType,
    ]);
    expect(st.code).toBe(Status.INVALID_ARGUMENT);
    expect(st.details).toMatch(/^entry 1: malformed request: field 3 has wire type varint/);
    expect(ds.writes).toEqual([]);
  });
});
