/**
 * Events bench: reading Tracee's events, side by side in one run.
 *
 * 1. JSON: `decodeEventJson` of the sample lines (test/fixtures) vs
 *    `JSON.parse` of the same lines (the practical limit: decoding is a parse
 *    plus building the event). Goal: at least 0.67x JSON.parse's speed.
 * 2. gRPC ingestion: `streamEvents` (our HTTP/2 transport, each event decoded
 *    into a TraceeEvent and passed through the input's queue) vs a grpc-js
 *    client with an identity deserializer that only counts messages, both
 *    reading the same StreamEvents replay from a fake Tracee in a process of
 *    its own. Goal: at least 0.8x.
 *
 * Harness: alternating rounds, the figure is the median of the per-round
 * ratios; absolute rates on a shared machine are noise.
 *
 * Run: `npx tsx bench/events.bench.ts` (or `npm run bench -- events`).
 * Writes bench/results/events.json.
 */
import { type ChildProcess, fork } from "node:child_process";
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { Client, credentials, Metadata } from "@grpc/grpc-js";
import { decodeEventJson } from "../src/events/json/decode.js";
import { streamEvents } from "../src/events/inputs/grpc.js";

const here = dirname(fileURLToPath(import.meta.url));
const ROUNDS = Number(process.env["EVENTS_BENCH_ROUNDS"] ?? 15);
const STREAM_ROUNDS = Number(process.env["EVENTS_BENCH_STREAM_ROUNDS"] ?? 7);
const EVENTS = Number(process.env["EVENTS_BENCH_EVENTS"] ?? 100_000);
const lines = readFileSync(join(here, "../test/fixtures/events/v1beta1.ndjson"), "utf8")
  .split("\n")
  .filter((l) => l !== "");

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? 0;
const round3 = (n: number) => Math.round(n * 1000) / 1000;
const fmt = (n: number) => Math.round(n).toLocaleString("en-US");

// ---------------------------------------------------------------- 1. JSON

function timeBatch(run: () => void, reps: number): number {
  const start = performance.now();
  for (let i = 0; i < reps; i++) run();
  return performance.now() - start;
}

const parseAll = () => {
  for (const l of lines) JSON.parse(l);
};
const decodeAll = () => {
  for (const l of lines) decodeEventJson(l);
};
// Warm up, then size a batch to about 20 ms of JSON.parse.
timeBatch(parseAll, 2000);
timeBatch(decodeAll, 2000);
const reps = Math.max(50, Math.round(2000 * (20 / timeBatch(parseAll, 2000))));
const jsonRatios: number[] = [];
const parseMs: number[] = [];
const decodeMs: number[] = [];
for (let r = 0; r < ROUNDS; r++) {
  const first = r % 2 === 0;
  const a = first ? timeBatch(parseAll, reps) : 0;
  const b = timeBatch(decodeAll, reps);
  const c = first ? a : timeBatch(parseAll, reps);
  parseMs.push(c);
  decodeMs.push(b);
  jsonRatios.push(c / b);
}
const linesPerRound = reps * lines.length;
const json = {
  lines: lines.length,
  linesPerRound,
  jsonParseLinesPerSecond: Math.round(linesPerRound / (median(parseMs) / 1000)),
  decodeLinesPerSecond: Math.round(linesPerRound / (median(decodeMs) / 1000)),
  decodeToJsonParse: round3(median(jsonRatios)),
  goal: ">= 0.67",
};
console.log(`JSON: decodeEventJson vs JSON.parse of the ${lines.length} sample lines, ${ROUNDS} rounds`);
console.log(
  `  JSON.parse ${fmt(json.jsonParseLinesPerSecond)} lines/s, decodeEventJson ${fmt(json.decodeLinesPerSecond)} lines/s, ratio ${json.decodeToJsonParse.toFixed(3)} (goal ${json.goal})`,
);

// ---------------------------------------------------------------- 2. gRPC

function startReplay(): Promise<{ child: ChildProcess; address: string }> {
  const child = fork(join(here, "events-replay.ts"), [String(EVENTS)], { execArgv: ["--import", "tsx"], stdio: "inherit" });
  return new Promise((resolve, reject) => {
    child.once("message", (m: { address: string }) => resolve({ child, address: m.address }));
    child.once("exit", (code) => reject(new Error(`events-replay.ts exited with ${code}`)));
  });
}

async function ours(address: string): Promise<number> {
  const start = performance.now();
  let n = 0;
  for await (const _ of streamEvents({ address })) n++;
  if (n !== EVENTS) throw new Error(`ours read ${n} events, expected ${EVENTS}`);
  return n / ((performance.now() - start) / 1000);
}

const identity = (b: Buffer) => b;
function countOnly(client: Client): Promise<number> {
  return new Promise((resolve, reject) => {
    const start = performance.now();
    let n = 0;
    const call = client.makeServerStreamRequest(
      "/tracee.v1beta1.TraceeService/StreamEvents",
      identity,
      identity,
      Buffer.alloc(0),
      new Metadata(),
      {},
    );
    call.on("data", () => n++);
    call.on("error", reject);
    call.on("end", () => {
      if (n !== EVENTS) reject(new Error(`grpc-js read ${n} events, expected ${EVENTS}`));
      else resolve(n / ((performance.now() - start) / 1000));
    });
  });
}

const replay = await startReplay();
const grpcJs = new Client(replay.address, credentials.createInsecure());
await ours(replay.address); // warm up both
await countOnly(grpcJs);
const oursRates: number[] = [];
const rawRates: number[] = [];
const streamRatios: number[] = [];
for (let r = 0; r < STREAM_ROUNDS; r++) {
  let a: number;
  let b: number;
  if (r % 2 === 0) {
    a = await ours(replay.address);
    b = await countOnly(grpcJs);
  } else {
    b = await countOnly(grpcJs);
    a = await ours(replay.address);
  }
  oursRates.push(a);
  rawRates.push(b);
  streamRatios.push(a / b);
}
grpcJs.close();
replay.child.kill();
const grpc = {
  eventsPerStream: EVENTS,
  streamEventsPerSecond: Math.round(median(oursRates)),
  grpcJsCountOnlyPerSecond: Math.round(median(rawRates)),
  streamEventsToGrpcJs: round3(median(streamRatios)),
  goal: ">= 0.8",
};
console.log(`gRPC: streamEvents (decoded events) vs a count-only grpc-js client, ${EVENTS.toLocaleString("en-US")} events a stream, ${STREAM_ROUNDS} rounds`);
console.log(
  `  streamEvents ${fmt(grpc.streamEventsPerSecond)} events/s, grpc-js count-only ${fmt(grpc.grpcJsCountOnlyPerSecond)} events/s, ratio ${grpc.streamEventsToGrpcJs.toFixed(3)} (goal ${grpc.goal})`,
);

mkdirSync(join(here, "results"), { recursive: true });
writeFileSync(
  join(here, "results", "events.json"),
  `${JSON.stringify({ bench: "events", date: new Date().toISOString(), node: process.version, json, grpc }, null, 2)}\n`,
);
console.log("\nwrote bench/results/events.json");
