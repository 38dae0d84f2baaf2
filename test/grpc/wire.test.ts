/**
 * Wire compatibility: what our client sends is byte for byte what
 * google-protobuf encodes for the same request (so Tracee's Go server reads
 * it), and the server reads what other encoders send.
 */
import {
  type sendUnaryData,
  Server,
  ServerCredentials,
  type ServerReadableStream,
  type ServerUnaryCall,
} from "@grpc/grpc-js";
import * as structPb from "google-protobuf/google/protobuf/struct_pb.js";
import type { JsonValue } from "type-fest";
import { SERVICE_NAME, Status, WRITE_PATH, WRITE_STREAM_PATH, type WriteRequest } from "tracee-ds/grpc";
import { afterEach, describe, expect, it } from "vitest";
import {
  DataSourceServiceService,
  WriteDataSourceRequest,
} from "../../src/gen/tracee/v1beta1/datasource.js";
import { methodDefinition } from "../../src/grpc/definition.js";
import { clientFor, concat, fixture, ld, numberValue, RawClient, request, serve, stringValue, varint } from "./helpers.js";

/** google-protobuf's encoding of a WriteDataSourceRequest (fields in number order, proto3 defaults omitted). */
function googleProtobufBytes(r: WriteRequest): Uint8Array {
  const parts: Uint8Array[] = [];
  if (r.id !== "") parts.push(ld(1, r.id));
  if (r.namespace !== "") parts.push(ld(2, r.namespace));
  parts.push(ld(3, structPb.Value.fromJavaScript(r.key).serializeBinary()));
  parts.push(ld(4, structPb.Value.fromJavaScript(r.value as structPb.JavaScriptValue).serializeBinary()));
  return concat(...parts);
}

let capture: { server: Server; received: Buffer[] } | undefined;
afterEach(() => {
  capture?.server.forceShutdown();
  capture = undefined;
});

/** A bare grpc-js server that records the raw request bytes it receives. */
async function capturingServer(): Promise<{ address: string; received: Buffer[] }> {
  const received: Buffer[] = [];
  const server = new Server();
  server.addService(
    { Write: methodDefinition(WRITE_PATH, false), WriteStream: methodDefinition(WRITE_STREAM_PATH, true) },
    {
      Write: (call: ServerUnaryCall<Buffer, Buffer>, cb: sendUnaryData<Buffer>) => {
        received.push(call.request);
        cb(null, Buffer.alloc(0));
      },
      WriteStream: (call: ServerReadableStream<Buffer, Buffer>, cb: sendUnaryData<Buffer>) => {
        call.on("data", (b: Buffer) => received.push(b));
        call.on("end", () => cb(null, Buffer.alloc(0)));
      },
    },
  );
  const port = await new Promise<number>((resolve, reject) =>
    server.bindAsync("127.0.0.1:0", ServerCredentials.createInsecure(), (e, p) => (e ? reject(e) : resolve(p))),
  );
  capture = { server, received };
  return { address: `127.0.0.1:${port}`, received };
}

const requests: WriteRequest[] = [
  { namespace: "my_namespace", id: "threshold_datasource", key: "threshold", value: 10 },
  { namespace: "iocs", id: "sha256", key: "e3b0c442", value: { family: "xmrig", tags: ["miner", "linux"], score: 0.75 } },
  { namespace: "ns", id: "ds", key: 42.5, value: [null, true, false, "", -0, 1e300, { z: 1, a: { "": [] } }] },
  { namespace: "ns", id: "ds", key: true, value: "ünïcødé ✓ 𝄞" },
  { namespace: "ns", id: "ds", key: null, value: null },
  { namespace: "", id: "", key: "", value: {} },
  { namespace: "ns", id: "ds", key: "long", value: "x".repeat(70_000) },
];

describe("the client's request bytes", () => {
  it("equal google-protobuf's encoding of the same request (unary)", async () => {
    const server = await capturingServer();
    const client = clientFor(server);
    for (const r of requests) await client.write(r);
    expect(server.received.map((b) => [...b])).toEqual(requests.map((r) => [...googleProtobufBytes(r)]));
  });

  it("equal google-protobuf's encoding of the same requests (stream, and dataSource())", async () => {
    const server = await capturingServer();
    const client = clientFor(server);
    await client.writeStream(requests);
    const bound = requests.slice(0, 3).map((r) => ({ ...r, namespace: "bound", id: "writer" }));
    await client.dataSource("bound", "writer").writeStream(bound.map((r) => [r.key, r.value] as const));
    expect(server.received.map((b) => [...b])).toEqual([...requests, ...bound].map((r) => [...googleProtobufBytes(r)]));
  });

  it("decode with the generated ts-proto message to the same request", async () => {
    const server = await capturingServer();
    await clientFor(server).write(requests[1]!);
    const decoded = WriteDataSourceRequest.decode(server.received[0]!);
    expect(decoded).toEqual({ ...requests[1] });
  });
});

describe("the service contract", () => {
  it("uses Tracee's service name and method paths (as generated from the .proto)", () => {
    expect(SERVICE_NAME).toBe("tracee.v1beta1.DataSourceService");
    expect(WRITE_PATH).toBe(DataSourceServiceService.write.path);
    expect(WRITE_STREAM_PATH).toBe(DataSourceServiceService.writeStream.path);
  });
});

describe("the server reads", () => {
  it("requests encoded by google-protobuf and by ts-proto", async () => {
    const { ds, registry } = fixture();
    const raw = new RawClient((await serve(registry, "tcp")).address);
    const value: JsonValue = { family: "xmrig", tags: ["miner"], nested: { deep: [1, 2, { x: null }] } };
    const a = googleProtobufBytes({ namespace: "test", id: "recorder", key: "gp", value });
    const b = WriteDataSourceRequest.encode({ namespace: "test", id: "recorder", key: "tp", value }).finish();
    expect(await raw.unary(a)).toEqual({ code: 0, details: "" });
    expect(await raw.unary(b)).toEqual({ code: 0, details: "" });
    expect(ds.writes).toEqual([new Map([["gp", value]]), new Map([["tp", value]])]);
  });

  it("skips unknown fields of every wire type, and takes the last of a repeated field", async () => {
    const { ds, registry } = fixture();
    const raw = new RawClient((await serve(registry, "tcp")).address);
    const unknown = concat(
      Uint8Array.from([...varint((9 << 3) | 0), ...varint(300)]), // varint
      Uint8Array.from([(10 << 3) | 1, 1, 2, 3, 4, 5, 6, 7, 8]), // fixed64
      Uint8Array.from([(11 << 3) | 5, 1, 2, 3, 4]), // fixed32
      ld(12, "ignored"), // length-delimited
      Uint8Array.from([(13 << 3) | 3, (1 << 3) | 0, 1, (13 << 3) | 4]), // group
    );
    const bytes = concat(
      unknown,
      request({ id: "nope", namespace: "test", key: stringValue("first"), value: numberValue(1) }),
      request({ id: "recorder", key: stringValue("k"), value: numberValue(2) }),
      unknown,
    );
    expect(await raw.unary(bytes)).toEqual({ code: 0, details: "" });
    expect(ds.writes).toEqual([new Map([["k", 2]])]);
  });

  it("refuses an unterminated group, a bad wire type and a Value with no kind", async () => {
    const { ds, registry } = fixture();
    const raw = new RawClient((await serve(registry, "tcp")).address);
    const target = request({ namespace: "test", id: "recorder" });
    for (const tail of [Uint8Array.of((13 << 3) | 3, 8, 1), Uint8Array.of((14 << 3) | 7)]) {
      const out = await raw.unary(concat(target, tail));
      expect(out.code).toBe(Status.INVALID_ARGUMENT);
    }
    const noKind = await raw.unary(concat(target, ld(3, stringValue("k")), ld(4, new Uint8Array(0))));
    expect(noKind.code).toBe(Status.INVALID_ARGUMENT);
    expect(noKind.details).toMatch(/^value: .*no kind/);
    expect(ds.writes).toEqual([]);
  });

  it("refuses an oversize message with RESOURCE_EXHAUSTED (also in a stream, nothing written)", async () => {
    const { ds, registry } = fixture();
    const raw = new RawClient((await serve(registry, "unix", { maxMessageBytes: 100 })).address);
    const small = request({ namespace: "test", id: "recorder", key: stringValue("k"), value: numberValue(1) });
    const big = request({ namespace: "test", id: "recorder", key: stringValue("k"), value: stringValue("x".repeat(200)) });
    expect((await raw.unary(big)).code).toBe(Status.RESOURCE_EXHAUSTED);
    expect((await raw.stream([small, small, big])).code).toBe(Status.RESOURCE_EXHAUSTED);
    expect(await raw.unary(small)).toEqual({ code: 0, details: "" });
    expect(ds.writes).toEqual([new Map([["k", 1]])]);
  });
});
