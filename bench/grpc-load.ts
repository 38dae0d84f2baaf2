/**
 * gRPC bench, load client process: drives one server at a time, as told over
 * IPC by grpc.bench.ts, and reports rates.
 *
 * @internal
 */
import { performance } from "node:perf_hooks";
import { Client, credentials, Metadata } from "@grpc/grpc-js";
import type { JsonValue } from "type-fest";
import { DataSourceClient, WRITE_PATH, WRITE_STREAM_PATH } from "../src/grpc/index.js";
import { RequestEncoder } from "../src/grpc/request-codec.js";
import { Channel } from "../src/grpc/transport/channel.js";
import { dialTarget } from "../src/grpc/transport/dial.js";
import { FrameChunker, frameMessage } from "../src/grpc/transport/framing.js";
import { ioc, key, MEMORY_ID, NAMESPACE, SINK_ID } from "./grpc-payload.js";

const POOL = 1024;
const encoder = new RequestEncoder(64);
const keys: string[] = Array.from({ length: POOL }, (_, i) => key(i));
const values: JsonValue[] = Array.from({ length: POOL }, (_, i) => ioc(i));
const pool: Buffer[] = keys.map((k, i) => encoder.encode(NAMESPACE, SINK_ID, k, values[i] ?? null));
// A small payload too: a number, as the threshold data source takes.
const numbers: JsonValue[] = Array.from({ length: POOL }, (_, i) => i);
const numberPool: Buffer[] = keys.map((k, i) => encoder.encode(NAMESPACE, SINK_ID, k, numbers[i] ?? null));

const id = (b: Buffer) => b;
const clients = new Map<string, Client>();
const ours = new Map<string, DataSourceClient>();
function raw(address: string): Client {
  let c = clients.get(address);
  if (c === undefined) {
    c = new Client(address, credentials.createInsecure());
    clients.set(address, c);
  }
  return c;
}

// ---- the load on the servers: pre-encoded bytes over this package's own HTTP/2 transport, which
// costs less per call than any of the servers measured (a grpc-js client would be the bottleneck,
// and every server would measure the same).
const channels = new Map<string, Channel>();
function channel(address: string): Channel {
  let c = channels.get(address);
  if (c === undefined) {
    c = new Channel(dialTarget(address), credentials.createInsecure(), {}, { connectTimeoutMs: 10_000, maxConcurrentCalls: 1000 });
    channels.set(address, c);
  }
  return c;
}
const NO_METADATA = new Metadata();

async function settled(call: { status: Promise<{ code: number; details: string }> }): Promise<void> {
  const status = await call.status;
  if (status.code !== 0) throw new Error(`status ${status.code}: ${status.details}`);
}

async function loadUnary(c: Channel, bytes: Buffer): Promise<void> {
  const call = await c.start({ path: WRITE_PATH, metadata: NO_METADATA, deadline: undefined });
  call.end(frameMessage(bytes));
  await settled(call);
}

async function loadStream(c: Channel, messages: (i: number) => Buffer, n: number): Promise<void> {
  const call = await c.start({ path: WRITE_STREAM_PATH, metadata: NO_METADATA, deadline: undefined });
  const chunker = new FrameChunker();
  for (let i = 0; i < n; i++) {
    const full = chunker.add(messages(i));
    if (full !== undefined) {
      call.write(full);
      if (call.full) await call.drained();
    }
  }
  call.end(chunker.take());
  await settled(call);
}

async function rawStream(client: Client, messages: (i: number) => Buffer, n: number): Promise<void> {
  await new Promise<void>((resolve, reject) => {
    const call = client.makeClientStreamRequest(WRITE_STREAM_PATH, id, id, new Metadata(), {}, (err) =>
      err ? reject(err) : resolve(),
    );
    let i = 0;
    const pump = () => {
      while (i < n) {
        if (!call.write(messages(i++))) {
          call.once("drain", pump);
          return;
        }
      }
      call.end();
    };
    pump();
  });
}

/** Runs `worker` in `concurrency` loops for `ms`; returns units per second. */
async function timed(ms: number, concurrency: number, worker: () => Promise<number>): Promise<number> {
  let units = 0;
  const start = performance.now();
  const end = start + ms;
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (performance.now() < end) {
        const done = await worker(); // not `units += await …`: that reads units before the await
        units += done;
      }
    }),
  );
  return (units / (performance.now() - start)) * 1000;
}

const PER_STREAM = 5000;

async function run(task: {
  kind: string;
  address: string;
  ms: number;
  concurrency?: number;
  entries?: number;
  payload?: "ioc" | "number";
}): Promise<Record<string, number>> {
  const concurrency = task.concurrency ?? 1;
  const requests = task.payload === "number" ? numberPool : pool;
  switch (task.kind) {
    case "unary": {
      const c = channel(task.address);
      let n = 0;
      const rate = await timed(task.ms, concurrency, async () => {
        await loadUnary(c, requests[n++ % POOL] as Buffer);
        return 1;
      });
      return { rate };
    }
    case "stream": {
      const c = channel(task.address);
      const rate = await timed(task.ms, concurrency, async () => {
        await loadStream(c, (i) => requests[i % POOL] as Buffer, PER_STREAM);
        return PER_STREAM;
      });
      return { rate };
    }
    case "client-ours":
    case "client-ours-small": {
      // Reused across runs, like the raw client's channel.
      let client = ours.get(task.address);
      if (client === undefined) {
        client = new DataSourceClient(task.address);
        ours.set(task.address, client);
      }
      const target = client.dataSource(NAMESPACE, SINK_ID);
      const vals = task.kind === "client-ours" ? values : numbers;
      function* entries(): Generator<readonly [string, JsonValue]> {
        for (let i = 0; i < PER_STREAM; i++) yield [keys[i % POOL] as string, vals[i % POOL] ?? null];
      }
      const rate = await timed(task.ms, 1, async () => {
        await target.writeStream(entries());
        return PER_STREAM;
      });
      return { rate };
    }
    case "client-raw":
    case "client-raw-small": {
      // What a client must do at the least: the same stream, bytes encoded beforehand.
      const client = raw(task.address);
      const bytes = task.kind === "client-raw" ? pool : numberPool;
      const rate = await timed(task.ms, 1, async () => {
        await rawStream(client, (i) => bytes[i % POOL] as Buffer, PER_STREAM);
        return PER_STREAM;
      });
      return { rate };
    }
    case "memory": {
      const n = task.entries ?? 1_000_000;
      let payloadBytes = 0;
      const start = performance.now();
      await rawStream(
        raw(task.address),
        (i) => {
          const bytes = encoder.encode(NAMESPACE, MEMORY_ID, key(i), ioc(i));
          payloadBytes += bytes.length;
          return bytes;
        },
        n,
      );
      return { payloadBytes, entries: n, ms: performance.now() - start };
    }
    default:
      throw new Error(`unknown task ${task.kind}`);
  }
}

process.on("message", (message: { type: string; task: Parameters<typeof run>[0] }) => {
  if (message.type === "run") {
    run(message.task).then(
      (result) => process.send?.({ type: "result", result }),
      (err: unknown) => process.send?.({ type: "error", error: String(err) }),
    );
  } else if (message.type === "stop") {
    for (const c of clients.values()) c.close();
    for (const c of ours.values()) c.close();
    process.exit(0);
  }
});
process.send?.({ type: "ready" });
