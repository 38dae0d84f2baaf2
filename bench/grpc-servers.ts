/**
 * gRPC bench, server process: hosts the three servers side by side and
 * reports memory held by a large stream. Driven over IPC by grpc.bench.ts.
 *
 * - ours:  serveDataSources with a trivial writable data source;
 * - naive: grpc-js + @grpc/proto-loader, Value messages converted by hand,
 *          the way one would write it from the docs;
 * - floor: grpc-js with identity (de)serializers and handlers that do nothing.
 *
 * @internal
 */
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import * as grpc from "@grpc/grpc-js";
import * as protoLoader from "@grpc/proto-loader";
import type { JsonValue } from "type-fest";
import { DataSourceRegistry, isWritable, type WritableDataSource, type WriteData, type WriteKey } from "../src/index.js";
import { methodDefinition } from "../src/grpc/definition.js";
import { serveDataSources, WRITE_PATH, WRITE_STREAM_PATH } from "../src/grpc/index.js";
import { MEMORY_ID, NAMESPACE, SINK_ID } from "./grpc-payload.js";

const here = dirname(fileURLToPath(import.meta.url));
const send = (message: unknown) => process.send?.(message);
const gc = (globalThis as { gc?: () => void }).gc ?? (() => {});

function writable(id: string, write: (data: WriteData) => void): WritableDataSource {
  return {
    get: () => ({}),
    version: () => 1,
    keys: () => ["string"],
    schema: () => "{}",
    namespace: () => NAMESPACE,
    id: () => id,
    values: () => ["any"],
    write,
  };
}

let written = 0; // what the sink data source received (keeps its write from being optimized away)
let baseline = 0;
const memoryUsed = () => {
  const m = process.memoryUsage();
  return m.heapUsed + m.external;
};

const registry = new DataSourceRegistry()
  .register(writable(SINK_ID, (data) => void (written += data.size)))
  .register(
    writable(MEMORY_ID, (data) => {
      gc();
      gc();
      send({ type: "memory", entries: data.size, heldBytes: memoryUsed() - baseline });
    }),
  );

// ---- ours
// The memory stream (1,000,000 IOC records, ~250 MB) is over the default byte limits.
const ours = await serveDataSources(registry, {
  address: "127.0.0.1:0",
  maxStreamEntries: 2_000_000,
  maxStreamBytes: Number.POSITIVE_INFINITY,
  maxServerBufferedBytes: Number.POSITIVE_INFINITY,
  ...(process.env["GRPC_BENCH_OURS_ON_GRPC_JS"] === "1" ? { serverOptions: {} } : {}),
});

// ---- naive: proto-loader objects, Value → JSON by hand, same semantics in spirit.
interface PlValue {
  kind?: string;
  nullValue?: unknown;
  numberValue?: number;
  stringValue?: string;
  boolValue?: boolean;
  structValue?: { fields?: Record<string, PlValue> };
  listValue?: { values?: PlValue[] };
}
interface PlRequest {
  id: string;
  namespace: string;
  key?: PlValue;
  value?: PlValue;
}
function unwrap(v: PlValue | undefined): JsonValue {
  if (v === undefined) throw new Error("missing");
  switch (v.kind) {
    case "nullValue":
      return null;
    case "numberValue":
      return v.numberValue ?? 0;
    case "stringValue":
      return v.stringValue ?? "";
    case "boolValue":
      return v.boolValue ?? false;
    case "structValue": {
      const out: Record<string, JsonValue> = {};
      for (const [k, f] of Object.entries(v.structValue?.fields ?? {})) out[k] = unwrap(f);
      return out;
    }
    case "listValue":
      return (v.listValue?.values ?? []).map(unwrap);
    default:
      throw new Error("no kind");
  }
}
const definition = protoLoader.loadSync("tracee/v1beta1/datasource.proto", {
  includeDirs: [join(here, "../proto")],
  oneofs: true,
  defaults: false,
});
const pkg = grpc.loadPackageDefinition(definition) as unknown as {
  tracee: { v1beta1: { DataSourceService: { service: grpc.ServiceDefinition } } };
};
const naive = new grpc.Server();
const lookup = (req: PlRequest) => {
  const ds = registry.get(req.namespace, req.id);
  return ds !== undefined && isWritable(ds) ? ds : undefined;
};
naive.addService(pkg.tracee.v1beta1.DataSourceService.service, {
  Write: (call: grpc.ServerUnaryCall<PlRequest, object>, cb: grpc.sendUnaryData<object>) => {
    const ds = lookup(call.request);
    if (ds === undefined) return cb({ code: grpc.status.NOT_FOUND, details: "not found" });
    void ds.write(new Map([[unwrap(call.request.key) as WriteKey, unwrap(call.request.value)]]));
    cb(null, {});
  },
  WriteStream: (call: grpc.ServerReadableStream<PlRequest, object>, cb: grpc.sendUnaryData<object>) => {
    const data = new Map<WriteKey, JsonValue>();
    let ds: WritableDataSource | undefined;
    call.on("data", (req: PlRequest) => {
      ds ??= lookup(req);
      data.set(unwrap(req.key) as WriteKey, unwrap(req.value));
    });
    call.on("end", () => {
      if (ds !== undefined) void ds.write(data);
      cb(null, {});
    });
  },
});

// ---- floor
const EMPTY = Buffer.alloc(0);
const floor = new grpc.Server();
floor.addService(
  { Write: methodDefinition(WRITE_PATH, false), WriteStream: methodDefinition(WRITE_STREAM_PATH, true) },
  {
    Write: (_call: grpc.ServerUnaryCall<Buffer, Buffer>, cb: grpc.sendUnaryData<Buffer>) => cb(null, EMPTY),
    WriteStream: (call: grpc.ServerReadableStream<Buffer, Buffer>, cb: grpc.sendUnaryData<Buffer>) => {
      call.on("data", () => {});
      call.on("end", () => cb(null, EMPTY));
    },
  },
);

const bind = (server: grpc.Server) =>
  new Promise<string>((resolve, reject) =>
    server.bindAsync("127.0.0.1:0", grpc.ServerCredentials.createInsecure(), (e, port) =>
      e ? reject(e) : resolve(`127.0.0.1:${port}`),
    ),
  );

const addresses = { ours: ours.address, naive: await bind(naive), floor: await bind(floor) };

process.on("message", (message: { type: string }) => {
  if (message.type === "memory-baseline") {
    gc();
    gc();
    baseline = memoryUsed();
    send({ type: "memory-baseline", bytes: baseline });
  } else if (message.type === "memory-after") {
    // Once the stream has ended: what the server still holds of it.
    gc();
    gc();
    send({ type: "memory-after", retainedBytes: memoryUsed() - baseline, stats: ours.stats() });
  } else if (message.type === "stop") {
    naive.forceShutdown();
    floor.forceShutdown();
    void ours.close({ graceMs: 0 }).then(() => process.exit(0));
  }
});
send({ type: "ready", addresses });
