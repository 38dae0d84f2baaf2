/**
 * gRPC bench: our DataSourceService server and client against grpc-js
 * baselines, side by side in one run.
 *
 * Three processes: this one (the conductor), a server process hosting three
 * servers at once (ours = `serveDataSources`; naive = grpc-js +
 * @grpc/proto-loader with Values converted by hand; floor = grpc-js with
 * identity (de)serializers and handlers that do nothing), and one load client
 * process that drives one server at a time with the same pre-encoded requests
 * (an IOC-like record under distinct keys). Each scenario runs ROUNDS rounds,
 * every server once per round in rotated order; the figure is the median
 * rate, reported as a ratio to the floor.
 *
 * Also: our client's streaming rate vs a raw grpc-js client sending
 * pre-encoded bytes (both against the floor server), and the memory a
 * 1,000,000-entry stream holds in our server at its atomic write (heap +
 * external, after GC, over the baseline) vs its payload bytes.
 *
 * Run: `npx tsx bench/grpc.bench.ts` (or `npm run bench -- grpc`).
 * Writes bench/results/grpc.json.
 */
import { type ChildProcess, fork } from "node:child_process";
import { mkdirSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const here = dirname(fileURLToPath(import.meta.url));
const ROUNDS = Number(process.env["GRPC_BENCH_ROUNDS"] ?? 3);
const MS = Number(process.env["GRPC_BENCH_MS"] ?? 1000);
const MEMORY_ENTRIES = Number(process.env["GRPC_BENCH_MEMORY_ENTRIES"] ?? 1_000_000);
/** Run only the server scenarios whose name contains this (for iterating). */
const ONLY = process.env["GRPC_BENCH_ONLY"];

type Message = { type: string; [k: string]: unknown };

function start(file: string, execArgv: string[]): Promise<{ child: ChildProcess; first: Message }> {
  const child = fork(join(here, file), [], { execArgv: ["--import", "tsx", ...execArgv], stdio: "inherit" });
  return new Promise((resolve, reject) => {
    child.once("message", (first: Message) => resolve({ child, first }));
    child.once("exit", (code) => reject(new Error(`${file} exited with ${code}`)));
  });
}

function request(child: ChildProcess, message: object, reply: string): Promise<Message> {
  return new Promise((resolve, reject) => {
    const onMessage = (m: Message) => {
      if (m.type === reply) {
        child.off("message", onMessage);
        resolve(m);
      } else if (m.type === "error") {
        child.off("message", onMessage);
        reject(new Error(String(m["error"])));
      }
    };
    child.on("message", onMessage);
    child.send(message);
  });
}

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)] ?? 0;
};

const servers = await start("grpc-servers.ts", ["--expose-gc"]);
const addresses = servers.first["addresses"] as Record<"ours" | "naive" | "floor", string>;
const load = await start("grpc-load.ts", []);

async function measure(task: object, targets: Record<string, string>, ms = MS): Promise<Record<string, number>> {
  const names = Object.keys(targets);
  const rates: Record<string, number[]> = Object.fromEntries(names.map((n) => [n, []]));
  // Warm-up: every target once, shortly.
  for (const n of names) await request(load.child, { type: "run", task: { ...task, address: targets[n], ms: 300 } }, "result");
  for (let round = 0; round < ROUNDS; round++) {
    for (let k = 0; k < names.length; k++) {
      const n = names[(k + round) % names.length] as string;
      const reply = await request(load.child, { type: "run", task: { ...task, address: targets[n], ms } }, "result");
      rates[n]?.push((reply["result"] as { rate: number }).rate);
    }
  }
  return Object.fromEntries(names.map((n) => [n, median(rates[n] ?? [])]));
}

const scenarios = [
  { name: "unary, concurrency 1", unit: "calls/s", task: { kind: "unary", concurrency: 1 } },
  { name: "unary, concurrency 16", unit: "calls/s", task: { kind: "unary", concurrency: 16 } },
  { name: "stream, 1 stream", unit: "entries/s", task: { kind: "stream", concurrency: 1 } },
  { name: "stream, 4 streams", unit: "entries/s", task: { kind: "stream", concurrency: 4 } },
];

const fmt = (n: number) => Math.round(n).toLocaleString("en-US");
const ratio = (a: number, b: number) => (b === 0 ? 0 : Math.round((a / b) * 1000) / 1000);

const serverResults: Array<Record<string, unknown>> = [];
console.log(`server: ours vs naive (grpc-js + proto-loader) vs floor (grpc-js, no work); ${ROUNDS} rounds x ${MS} ms, median`);
console.log(`${"scenario".padEnd(24)}${"ours".padStart(12)}${"naive".padStart(12)}${"floor".padStart(12)}${"ours/floor".padStart(12)}${"naive/floor".padStart(13)}`);
for (const s of scenarios.filter((x) => ONLY === undefined || x.name.includes(ONLY))) {
  const r = await measure(s.task, addresses);
  const row = {
    scenario: s.name,
    unit: s.unit,
    ours: r["ours"] ?? 0,
    naive: r["naive"] ?? 0,
    floor: r["floor"] ?? 0,
    oursToFloor: ratio(r["ours"] ?? 0, r["floor"] ?? 0),
    naiveToFloor: ratio(r["naive"] ?? 0, r["floor"] ?? 0),
  };
  serverResults.push(row);
  console.log(
    `${s.name.padEnd(24)}${fmt(row.ours).padStart(12)}${fmt(row.naive).padStart(12)}${fmt(row.floor).padStart(12)}${row.oursToFloor.toFixed(3).padStart(12)}${row.naiveToFloor.toFixed(3).padStart(13)}`,
  );
}

console.log(`\nclient: DataSourceClient.writeStream (JSON values in) vs raw grpc-js (pre-encoded bytes), against the floor server`);
const clientRates = await measure(
  { kind: "client-ours" },
  { ours: addresses.floor, raw: addresses.floor },
  MS,
).then(async (r) => {
  // The task kind differs per target here, so run the two kinds explicitly.
  const ours: number[] = [];
  const rawRates: number[] = [];
  for (let round = 0; round < ROUNDS; round++) {
    for (const kind of round % 2 === 0 ? ["client-ours", "client-raw"] : ["client-raw", "client-ours"]) {
      const reply = await request(load.child, { type: "run", task: { kind, address: addresses.floor, ms: MS } }, "result");
      (kind === "client-ours" ? ours : rawRates).push((reply["result"] as { rate: number }).rate);
    }
  }
  void r;
  return { ours: median(ours), raw: median(rawRates) };
});
const clientRow = { unit: "entries/s", ...clientRates, oursToRaw: ratio(clientRates.ours, clientRates.raw) };
console.log(`  ours ${fmt(clientRow.ours)} entries/s, raw ${fmt(clientRow.raw)} entries/s, ours/raw ${clientRow.oursToRaw.toFixed(3)}`);

console.log(`\nmemory: one ${MEMORY_ENTRIES.toLocaleString("en-US")}-entry stream held by our server for its atomic write`);
await request(servers.child, { type: "memory-baseline" }, "memory-baseline");
const held = new Promise<Message>((resolve) => {
  const on = (m: Message) => {
    if (m.type === "memory") {
      servers.child.off("message", on);
      resolve(m);
    }
  };
  servers.child.on("message", on);
});
const sent = await request(
  load.child,
  { type: "run", task: { kind: "memory", address: addresses.ours, ms: 0, entries: MEMORY_ENTRIES } },
  "result",
);
const heldMsg = await held;
const payloadBytes = (sent["result"] as { payloadBytes: number }).payloadBytes;
const heldBytes = heldMsg["heldBytes"] as number;
const memoryRow = {
  entries: heldMsg["entries"] as number,
  payloadBytes,
  heldBytes,
  heldToPayload: ratio(heldBytes, payloadBytes),
};
const mb = (n: number) => `${(n / 1024 / 1024).toFixed(1)} MiB`;
console.log(
  `  payload ${mb(payloadBytes)} (request bytes), held ${mb(heldBytes)} at write time: ${memoryRow.heldToPayload.toFixed(2)}x`,
);

servers.child.send({ type: "stop" });
load.child.send({ type: "stop" });

mkdirSync(join(here, "results"), { recursive: true });
writeFileSync(
  join(here, "results", "grpc.json"),
  `${JSON.stringify(
    {
      bench: "grpc",
      date: new Date().toISOString(),
      node: process.version,
      rounds: ROUNDS,
      msPerRun: MS,
      payload: "IOC-like record (~200 B Value) under distinct keys, namespace/id in every message",
      servers: serverResults,
      client: clientRow,
      memory: memoryRow,
      targets: { oursToFloor: ">= 0.9", oursAheadOfNaive: true, clientToRaw: ">= 0.9", heldToPayload: "<= 2" },
    },
    null,
    2,
  )}\n`,
);
console.log(`\nwrote bench/results/grpc.json`);
