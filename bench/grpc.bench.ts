/**
 * gRPC bench: our DataSourceService server and client against grpc-js
 * baselines, side by side in one run.
 *
 * Three processes: this one (the conductor), a server process hosting three
 * servers at once (ours = `serveDataSources`; naive = grpc-js +
 * @grpc/proto-loader with Values converted by hand; floor = grpc-js with
 * identity (de)serializers and handlers that do nothing), and one load client
 * process that drives one server at a time with the same pre-encoded requests
 * (an IOC-like record under distinct keys) over this package's own HTTP/2
 * client transport — cheaper per call than any of the servers, so the servers
 * are what is measured. GRPC_BENCH_OURS_ON_GRPC_JS=1 runs "ours" on grpc-js's
 * server (`serverOptions`), for a before/after. Each scenario runs ROUNDS rounds,
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

const began = Date.now();
const here = dirname(fileURLToPath(import.meta.url));
const ROUNDS = Number(process.env["GRPC_BENCH_ROUNDS"] ?? 4);
const MS = Number(process.env["GRPC_BENCH_MS"] ?? 450);
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

/**
 * Runs `tasks` (name → task with its address) ROUNDS times, in rotated order
 * each round, after a short warm-up; returns each name's rates, round by round.
 */
async function rounds(tasks: Record<string, object>): Promise<Record<string, number[]>> {
  const names = Object.keys(tasks);
  const rates: Record<string, number[]> = Object.fromEntries(names.map((n) => [n, []]));
  for (const n of names) await request(load.child, { type: "run", task: { ...tasks[n], ms: 300 } }, "result");
  for (let round = 0; round < ROUNDS; round++) {
    for (let k = 0; k < names.length; k++) {
      const n = names[(k + round) % names.length] as string;
      const reply = await request(load.child, { type: "run", task: { ...tasks[n], ms: MS } }, "result");
      rates[n]?.push((reply["result"] as { rate: number }).rate);
    }
  }
  return rates;
}

/** The median over rounds of a/b within each round: steadier than a ratio of medians on a busy machine. */
const pairedRatio = (a: number[], b: number[]) =>
  Math.round(median(a.map((x, i) => x / (b[i] ?? Number.NaN))) * 1000) / 1000;

const scenarios = [
  { name: "unary, concurrency 1", unit: "calls/s", task: { kind: "unary", concurrency: 1 } },
  { name: "unary, concurrency 16", unit: "calls/s", task: { kind: "unary", concurrency: 16 } },
  { name: "stream, 1 stream", unit: "entries/s", task: { kind: "stream", concurrency: 1 } },
  { name: "stream, 4 streams", unit: "entries/s", task: { kind: "stream", concurrency: 4 } },
  // The same with a number value (the threshold case): the server's own overhead, without a struct to decode.
  { name: "stream, 1, numbers", unit: "entries/s", task: { kind: "stream", concurrency: 1, payload: "number" } },
  { name: "stream, 4, numbers", unit: "entries/s", task: { kind: "stream", concurrency: 4, payload: "number" } },
];

const fmt = (n: number) => Math.round(n).toLocaleString("en-US");
const ratio = (a: number, b: number) => (b === 0 ? 0 : Math.round((a / b) * 1000) / 1000);


const serverResults: Array<Record<string, unknown>> = [];
console.log(
  `server: ours vs naive (grpc-js + proto-loader) vs floor (grpc-js, no work); ${ROUNDS} rounds x ${MS} ms; rates are medians, ratios medians of per-round ratios`,
);
console.log(
  `${"scenario".padEnd(24)}${"ours".padStart(10)}${"naive".padStart(10)}${"floor".padStart(10)}${"ours/floor".padStart(12)}${"naive/floor".padStart(13)}${"ours/naive".padStart(12)}`,
);
for (const s of scenarios.filter((x) => ONLY === undefined || x.name.includes(ONLY))) {
  const r = await rounds({
    ours: { ...s.task, address: addresses.ours },
    naive: { ...s.task, address: addresses.naive },
    floor: { ...s.task, address: addresses.floor },
  });
  const [ours, naive, floor] = [r["ours"] ?? [], r["naive"] ?? [], r["floor"] ?? []];
  const row = {
    scenario: s.name,
    unit: s.unit,
    ours: median(ours),
    naive: median(naive),
    floor: median(floor),
    oursToFloor: pairedRatio(ours, floor),
    naiveToFloor: pairedRatio(naive, floor),
    oursToNaive: pairedRatio(ours, naive),
    rounds: { ours, naive, floor },
  };
  serverResults.push(row);
  console.log(
    `${s.name.padEnd(24)}${fmt(row.ours).padStart(10)}${fmt(row.naive).padStart(10)}${fmt(row.floor).padStart(10)}${row.oursToFloor.toFixed(3).padStart(12)}${row.naiveToFloor.toFixed(3).padStart(13)}${row.oursToNaive.toFixed(3).padStart(12)}`,
  );
}

console.log(`\nclient: DataSourceClient.writeStream (JSON values in) vs raw grpc-js (pre-encoded bytes), against the floor server`);
const clientRows: Array<Record<string, unknown>> = [];
for (const [payload, suffix] of [
  ["IOC record", ""],
  ["number", "-small"],
] as const) {
  const r = await rounds({
    ours: { kind: `client-ours${suffix}`, address: addresses.floor },
    raw: { kind: `client-raw${suffix}`, address: addresses.floor },
  });
  const [ours, raw] = [r["ours"] ?? [], r["raw"] ?? []];
  const row = { payload, unit: "entries/s", ours: median(ours), raw: median(raw), oursToRaw: pairedRatio(ours, raw), rounds: { ours, raw } };
  clientRows.push(row);
  console.log(
    `  ${payload.padEnd(12)} ours ${fmt(row.ours).padStart(8)} entries/s, raw ${fmt(row.raw).padStart(8)} entries/s, ours/raw ${row.oursToRaw.toFixed(3)}`,
  );
}

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
const { payloadBytes, ms: streamMs } = sent["result"] as { payloadBytes: number; ms: number };
const heldBytes = heldMsg["heldBytes"] as number;
const after = await request(servers.child, { type: "memory-after" }, "memory-after");
const retainedBytes = after["retainedBytes"] as number;
const memoryRow = {
  entries: heldMsg["entries"] as number,
  payloadBytes,
  heldBytes,
  heldToPayload: ratio(heldBytes, payloadBytes),
  retainedBytes,
  retainedToPayload: ratio(retainedBytes, payloadBytes),
  streamSeconds: Math.round(streamMs / 100) / 10,
};
const mb = (n: number) => `${(n / 1024 / 1024).toFixed(1)} MiB`;
console.log(
  `  payload ${mb(payloadBytes)} (request bytes); held while buffered, at write time: ${mb(heldBytes)} = ${memoryRow.heldToPayload.toFixed(2)} bytes per buffered byte; after the stream ended: ${mb(retainedBytes)} = ${memoryRow.retainedToPayload.toFixed(3)}`,
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
      payload:
        "IOC-like record (235-byte Value; 'numbers' rows: a number) under 1,024 distinct keys, namespace/id in every message; memory: 1,000,000 distinct keys",
      servers: serverResults,
      client: clientRows,
      memory: memoryRow,
      targets: { oursToFloor: ">= 0.9", oursAheadOfNaive: true, clientToRaw: ">= 0.9", heldToPayload: "<= 2", retainedToPayload: "~0" },
    },
    null,
    2,
  )}\n`,
);
console.log(`\nwrote bench/results/grpc.json (${Math.round((Date.now() - began) / 1000)} s)`);
