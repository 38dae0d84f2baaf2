/**
 * The replay server of bench/engine.bench.ts, in a process of its own: a
 * fake Tracee that answers every `StreamEvents` call with N events (the
 * sample lines of test/fixtures/events/v1beta1.ndjson, repeated in order, as
 * bench/events-replay.ts sends them), then ends the stream with OK.
 *
 * Unlike events-replay.ts (which uses `fakeTracee` and encodes all N events
 * up front: about 20 s and 760 MB for a million), it encodes the samples
 * once and writes the same ~64 KiB blocks over and over, with the stream's
 * backpressure, so a million-event replay starts at once and costs no memory.
 *
 * `node --import tsx bench/engine-replay.ts N` reports `{ address }` over IPC.
 */
import { readFileSync } from "node:fs";
import { createServer, type ServerHttp2Stream } from "node:http2";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { decodeEventJson } from "../src/events/json/decode.js";
import { Event } from "../src/gen/tracee/v1beta1/event.js";

const here = dirname(fileURLToPath(import.meta.url));
const n = Number(process.argv[2] ?? 100_000);
const samples = readFileSync(join(here, "../test/fixtures/events/v1beta1.ndjson"), "utf8")
  .split("\n")
  .filter((l) => l !== "")
  .map(decodeEventJson);

/** `StreamEventsResponse { Event event = 1; }`, length-prefixed for gRPC. */
function frame(event: (typeof samples)[number]): Buffer {
  const body = Event.encode(event).finish();
  const varint: number[] = [];
  for (let v = body.length; ; v >>>= 7) {
    if (v < 0x80) {
      varint.push(v);
      break;
    }
    varint.push((v & 0x7f) | 0x80);
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

const frames = samples.map(frame);
const cycle = Buffer.concat(frames);
// A block: whole cycles of the samples, about 64 KiB, so every block starts at sample 0.
const cyclesPerBlock = Math.max(1, Math.round((64 * 1024) / cycle.length));
const block = Buffer.concat(Array.from({ length: cyclesPerBlock }, () => cycle));
const eventsPerBlock = cyclesPerBlock * frames.length;
const fullBlocks = Math.floor(n / eventsPerBlock);
const tail = Buffer.concat(Array.from({ length: n % eventsPerBlock }, (_, i) => frames[i % frames.length] as Buffer));

async function replay(stream: ServerHttp2Stream): Promise<void> {
  const closed = new Promise<void>((resolve) => stream.once("close", resolve));
  for (let i = 0; i <= fullBlocks; i++) {
    if (stream.destroyed || stream.closed) return;
    const chunk = i < fullBlocks ? block : tail;
    if (chunk.length === 0) continue;
    if (!stream.write(chunk)) await Promise.race([new Promise((resolve) => stream.once("drain", resolve)), closed]);
  }
  if (!stream.destroyed && !stream.closed) stream.end();
}

const server = createServer();
server.on("session", (session) => session.on("error", () => undefined));
server.on("stream", (stream, headers) => {
  stream.on("error", () => undefined);
  if (headers[":path"] !== "/tracee.v1beta1.TraceeService/StreamEvents") {
    stream.respond({ ":status": 200, "content-type": "application/grpc", "grpc-status": "12" }, { endStream: true });
    return;
  }
  stream.resume(); // the request (policies, mask) is not read
  stream.on("end", () => {
    stream.respond({ ":status": 200, "content-type": "application/grpc" }, { waitForTrailers: true });
    stream.on("wantTrailers", () => stream.sendTrailers({ "grpc-status": "0" }));
    void replay(stream);
  });
});
server.listen(0, "127.0.0.1", () => {
  const address = server.address();
  if (address === null || typeof address === "string") throw new Error("no port");
  process.send?.({ address: `127.0.0.1:${address.port}` });
});
process.on("disconnect", () => process.exit(0));
