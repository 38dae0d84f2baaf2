/**
 * Datastores bench: 1,000,000 IP reputations written with
 * `DataStoreClient.ipReputation().writeAll` into our `serveDataStores`
 * serving an `ipReputationStore()`, and what it costs in memory.
 *
 * Entries (datastores-entries.ts): distinct IPv4 addresses 10.0.0.0 + i,
 * status, severity and 0-3 tags from a hash of i, a `lastUpdated`, a `feed`
 * metadata value on one in four; made one at a time by a generator as
 * writeAll reads them.
 *
 * Variants, side by side, each run in a fresh server process
 * (datastores-server.ts) and a fresh client process (datastores-load.ts),
 * in an order rotated every round:
 * - writeAll:    `writeAll` with its defaults (1 MiB / 10,000 entries per
 *                batch, one batch in flight), all the entries;
 * - writeAll x2: the same with `concurrency: 2`;
 * - unary x16:   unary `write`, 16 concurrent callers, the first 100,000
 *                entries (a slice: unary is an order of magnitude slower).
 * Every run dials its own connection and warms up before the clock starts
 * (datastores-load.ts), and the store is left holding the run's entries only.
 *
 * Reported per run: entries/s; batches (writeAll) or calls (unary); the
 * client's and the server's peak RSS (`VmHWM` of /proc/<pid>/status at the
 * end, and the highest `VmRSS` sampled every 100 ms during the run); the
 * server's RSS and heapUsed after the run minus before it (each after two
 * full collections), per million entries held; the CPU seconds each
 * process used during the run (which side is the bottleneck). `VmHWM` is
 * kept lazily by the kernel and can trail the sampled peak by a little.
 * Figures are medians over rounds; ratios the median of per-round ratios.
 * Absolute rates are noisy on the 2 shared cores: read the ratios.
 *
 * Checked after every run, and the bench exits 1 (after writing its JSON)
 * when one fails: no failed call; the client's written and stored counts are
 * the entries sent; the server's store `size` is that count too (asked over
 * IPC), with `bench-feed` its only source; the service's `entriesWritten`
 * is the warm-up's plus the run's.
 *
 * Run: `npx tsx bench/datastores.bench.ts` (or `npm run bench -- datastores`).
 * Env: DATASTORES_BENCH_ENTRIES (1000000), DATASTORES_BENCH_UNARY_ENTRIES
 * (100000, at most the former), DATASTORES_BENCH_ROUNDS (1; about 1.5-2.5 minutes each; 3 for steadier ratios). A quick run:
 * DATASTORES_BENCH_ENTRIES=100000 DATASTORES_BENCH_UNARY_ENTRIES=10000
 * DATASTORES_BENCH_ROUNDS=1. Writes bench/results/datastores.json.
 */
import { type ChildProcess, fork } from "node:child_process";
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { cpus, loadavg, totalmem } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import type { DataStoreServerStats } from "../src/grpc/index.js";
import { MAX_ENTRIES } from "./datastores-entries.js";
import { type LoadResult, type LoadTask, SOURCE, WARM_UP_ENTRIES } from "./datastores-load.js";

const began = Date.now();
const here = dirname(fileURLToPath(import.meta.url));

function envCount(name: string, fallback: number, min: number): number {
  const text = process.env[name];
  const n = text === undefined || text === "" ? fallback : Number(text);
  if (!Number.isSafeInteger(n) || n < min) throw new RangeError(`${name} must be a whole number >= ${min}, got ${text}`);
  return n;
}
const ENTRIES = envCount("DATASTORES_BENCH_ENTRIES", 1_000_000, 16);
const UNARY_ENTRIES = Math.min(envCount("DATASTORES_BENCH_UNARY_ENTRIES", 100_000, 16), ENTRIES);
const ROUNDS = envCount("DATASTORES_BENCH_ROUNDS", 1, 1);
const SAMPLE_MS = 100;
const UNARY_CALLERS = 16;
if (ENTRIES > MAX_ENTRIES) throw new RangeError(`DATASTORES_BENCH_ENTRIES must be at most ${MAX_ENTRIES}`);

interface Variant {
  readonly name: string;
  readonly mode: LoadTask["mode"];
  readonly n: number;
  readonly concurrency: number;
  readonly describe: string;
}
const variants: Variant[] = [
  { name: "writeAll", mode: "writeAll", n: ENTRIES, concurrency: 1, describe: "writeAll defaults: 1 MiB / 10,000 entries per batch, 1 in flight" },
  { name: "writeAll x2", mode: "writeAll", n: ENTRIES, concurrency: 2, describe: "writeAll, concurrency 2" },
  {
    name: `unary x${UNARY_CALLERS}`,
    mode: "unary",
    n: UNARY_ENTRIES - (UNARY_ENTRIES % UNARY_CALLERS),
    concurrency: UNARY_CALLERS,
    describe: `unary write, ${UNARY_CALLERS} concurrent callers, the first ${UNARY_ENTRIES.toLocaleString("en-US")} entries`,
  },
];

// ---------------------------------------------------------------- helpers

const MiB = 1024 * 1024;
const mib = (bytes: number) => Math.round((bytes / MiB) * 10) / 10;
const round1 = (n: number) => Math.round(n * 10) / 10;
const round3 = (n: number) => Math.round(n * 1000) / 1000;
const median = (xs: number[]) => {
  const s = xs.filter((x) => Number.isFinite(x)).sort((a, b) => a - b);
  if (s.length === 0) return Number.NaN;
  const mid = Math.floor(s.length / 2);
  return s.length % 2 === 1 ? (s[mid] as number) : ((s[mid - 1] as number) + (s[mid] as number)) / 2;
};
const fmt = (n: number) => (Number.isFinite(n) ? Math.round(n).toLocaleString("en-US") : "-");
const fmtMiB = (n: number) => (Number.isFinite(n) ? n.toFixed(1) : "-");
const fmtRatio = (n: number) => (Number.isFinite(n) ? n.toFixed(3) : "-");

/** `VmRSS` and `VmHWM` of a live process, in bytes (NaN when it is gone). */
function procMemory(pid: number): { rss: number; hwm: number } {
  let text: string;
  try {
    text = readFileSync(`/proc/${pid}/status`, "utf8");
  } catch {
    return { rss: Number.NaN, hwm: Number.NaN };
  }
  const kib = (field: string) => {
    const m = new RegExp(`^${field}:\\s+(\\d+) kB`, "m").exec(text);
    return m === null ? Number.NaN : Number(m[1]) * 1024;
  };
  return { rss: kib("VmRSS"), hwm: kib("VmHWM") };
}

/** CPU seconds (user + system) a live process has used (NaN when it is gone); clock ticks are 1/100 s on Linux. */
function procCpuSeconds(pid: number): number {
  try {
    const text = readFileSync(`/proc/${pid}/stat`, "utf8");
    const fields = text.slice(text.lastIndexOf(")") + 2).split(" ");
    return (Number(fields[11]) + Number(fields[12])) / 100;
  } catch {
    return Number.NaN;
  }
}

type Message = { type: string; [k: string]: unknown };

function start(file: string, execArgv: string[]): Promise<{ child: ChildProcess; first: Message }> {
  const child = fork(join(here, file), [], { execArgv: ["--import", "tsx", ...execArgv], stdio: "inherit" });
  return new Promise((resolve, reject) => {
    child.once("message", (first: Message) => resolve({ child, first }));
    child.once("exit", (code, signal) => reject(new Error(`${file} exited with ${code ?? signal} before it was ready`)));
  });
}

/** Sends `message`, resolves with the reply of type `reply`; rejects on an `error` reply or the child's exit. */
function request(child: ChildProcess, message: object, reply: string): Promise<Message> {
  return new Promise((resolve, reject) => {
    const done = () => {
      child.off("message", onMessage);
      child.off("exit", onExit);
    };
    const onMessage = (m: Message) => {
      if (m.type !== reply && m.type !== "error") return;
      done();
      if (m.type === reply) resolve(m);
      else reject(new Error(String(m["error"])));
    };
    const onExit = (code: number | null, signal: string | null) => {
      done();
      reject(new Error(`the child process exited with ${code ?? signal} (asked for ${reply})`));
    };
    child.on("message", onMessage);
    child.once("exit", onExit);
    child.send(message);
  });
}

function stop(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    const timer = setTimeout(() => child.kill("SIGKILL"), 10_000);
    child.once("exit", () => {
      clearTimeout(timer);
      resolve();
    });
    if (child.connected) child.send({ type: "stop" });
    else child.kill();
  });
}

const live = new Set<ChildProcess>();
process.once("exit", () => {
  for (const c of live) if (c.exitCode === null && c.signalCode === null) c.kill("SIGKILL");
});

/** Samples both processes' RSS every SAMPLE_MS: the peaks, and one sample a second. */
function sampler(pids: { client: number; server: number }) {
  const t0 = Date.now();
  const peak = { client: 0, server: 0 };
  const series: Array<{ s: number; clientMiB: number; serverMiB: number }> = [];
  let count = 0;
  const take = () => {
    const c = procMemory(pids.client).rss;
    const s = procMemory(pids.server).rss;
    if (c > peak.client) peak.client = c;
    if (s > peak.server) peak.server = s;
    if (count++ % Math.round(1000 / SAMPLE_MS) === 0) {
      series.push({ s: Math.round((Date.now() - t0) / 100) / 10, clientMiB: mib(c), serverMiB: mib(s) });
    }
  };
  take();
  const timer = setInterval(take, SAMPLE_MS);
  return {
    stop() {
      clearInterval(timer);
      take();
      return { samples: count, peakClient: peak.client, peakServer: peak.server, series };
    },
  };
}

// ---------------------------------------------------------------- one run

interface RunRecord {
  variant: string;
  round: number;
  loadavgAtStart: number[];
  result?: LoadResult;
  entriesPerS: number;
  /** The server's store after the run. */
  storeSize?: number;
  client: { peakRssMiB: number; sampledPeakRssMiB: number };
  server: {
    peakRssMiB: number;
    sampledPeakRssMiB: number;
    rssBeforeMiB: number;
    rssAfterMiB: number;
    heapUsedBeforeMiB: number;
    heapUsedAfterMiB: number;
    /** (RSS after - RSS before) per 1,000,000 entries held. */
    rssPerMillionMiB: number;
    heapUsedPerMillionMiB: number;
  };
  /** CPU seconds each process used during the run (of `seconds` wall-clock): which side is busy. */
  cpuSeconds: { client: number; server: number };
  samples: number;
  rssSeries?: Array<{ s: number; clientMiB: number; serverMiB: number }>;
  problems: string[];
}

const failures: string[] = [];

async function run(variant: Variant, round: number): Promise<RunRecord> {
  const loadavgAtStart = loadavg().map(round3);
  const [server, load] = await Promise.all([
    start("datastores-server.ts", ["--expose-gc"]),
    start("datastores-load.ts", []),
  ]);
  live.add(server.child).add(load.child);
  const pids = { server: server.first["pid"] as number, client: load.first["pid"] as number };
  const problems: string[] = [];
  const record: RunRecord = {
    variant: variant.name,
    round,
    loadavgAtStart,
    entriesPerS: Number.NaN,
    client: { peakRssMiB: Number.NaN, sampledPeakRssMiB: Number.NaN },
    server: {
      peakRssMiB: Number.NaN,
      sampledPeakRssMiB: Number.NaN,
      rssBeforeMiB: Number.NaN,
      rssAfterMiB: Number.NaN,
      heapUsedBeforeMiB: Number.NaN,
      heapUsedAfterMiB: Number.NaN,
      rssPerMillionMiB: Number.NaN,
      heapUsedPerMillionMiB: Number.NaN,
    },
    cpuSeconds: { client: Number.NaN, server: Number.NaN },
    samples: 0,
    problems,
  };
  try {
    await request(load.child, { type: "warm-up", target: server.first["address"] }, "warm");
    const before = (await request(server.child, { type: "memory" }, "memory"))["memory"] as NodeJS.MemoryUsage;
    const cpuBefore = { client: procCpuSeconds(pids.client), server: procCpuSeconds(pids.server) };
    const sampling = sampler(pids);
    const task: LoadTask = {
      target: server.first["address"] as string,
      mode: variant.mode,
      first: 0,
      n: variant.n,
      concurrency: variant.concurrency,
    };
    let result: LoadResult | undefined;
    try {
      result = (await request(load.child, { type: "run", task }, "result"))["result"] as LoadResult;
    } finally {
      const sampled = sampling.stop();
      record.cpuSeconds = {
        client: round3(procCpuSeconds(pids.client) - cpuBefore.client),
        server: round3(procCpuSeconds(pids.server) - cpuBefore.server),
      };
      record.samples = sampled.samples;
      record.client.sampledPeakRssMiB = mib(sampled.peakClient);
      record.server.sampledPeakRssMiB = mib(sampled.peakServer);
      if (round === 0 && variant === variants[0]) record.rssSeries = sampled.series;
    }
    record.result = result;
    record.entriesPerS = result.entriesPerS;

    const sized = await request(server.child, { type: "size" }, "size");
    const size = sized["size"] as number;
    const sources = sized["sources"] as string[];
    const stats = sized["stats"] as DataStoreServerStats;
    record.storeSize = size;
    const after = (await request(server.child, { type: "memory" }, "memory"))["memory"] as NodeJS.MemoryUsage;
    const client = procMemory(pids.client);
    const served = procMemory(pids.server);
    record.client.peakRssMiB = mib(client.hwm);
    record.server.peakRssMiB = mib(served.hwm);
    record.server.rssBeforeMiB = mib(before.rss);
    record.server.rssAfterMiB = mib(after.rss);
    record.server.heapUsedBeforeMiB = mib(before.heapUsed);
    record.server.heapUsedAfterMiB = mib(after.heapUsed);
    if (size > 0) {
      record.server.rssPerMillionMiB = mib(((after.rss - before.rss) * 1e6) / size);
      record.server.heapUsedPerMillionMiB = mib(((after.heapUsed - before.heapUsed) * 1e6) / size);
    }

    if (result.failures > 0) problems.push(`${result.failures} failed call(s): ${result.errors.join("; ")}`);
    if (result.entries !== variant.n) problems.push(`the client wrote ${result.entries} entries, expected ${variant.n}`);
    if (result.stored !== variant.n) problems.push(`the server's written counts add up to ${result.stored}, expected ${variant.n}`);
    if (size !== variant.n) problems.push(`the server's store holds ${size} entries (size), expected ${variant.n}`);
    if (sources.length !== 1 || sources[0] !== SOURCE) problems.push(`the store's sources are ${JSON.stringify(sources)}, expected ["${SOURCE}"]`);
    if (stats.entriesWritten !== WARM_UP_ENTRIES + variant.n) {
      problems.push(`the service counted ${stats.entriesWritten} entries written, expected ${WARM_UP_ENTRIES} (warm-up) + ${variant.n}`);
    }
  } catch (err) {
    problems.push(err instanceof Error ? err.message : String(err));
  } finally {
    await Promise.all([stop(load.child), stop(server.child)]);
    live.delete(load.child);
    live.delete(server.child);
  }
  if (problems.length > 0) {
    failures.push(`${variant.name} (round ${round + 1}): ${problems.join("; ")}`);
    console.error(`  FAILED ${variant.name} (round ${round + 1}): ${problems.join("; ")}`);
  }
  return record;
}

// ---------------------------------------------------------------- runs

const loadAtStart = loadavg().map(round3);
console.log(
  `datastores: ${fmt(ENTRIES)} IP reputations into serveDataStores + ipReputationStore(), ${ROUNDS} round(s), ` +
    `order rotated each round; every run in a fresh server and client process (load average ${loadAtStart.join(" ")})`,
);
const records: RunRecord[] = [];
for (let round = 0; round < ROUNDS; round++) {
  for (let k = 0; k < variants.length; k++) {
    const variant = variants[(k + round) % variants.length] as Variant;
    const r = await run(variant, round);
    records.push(r);
    console.log(
      `  round ${round + 1} ${variant.name.padEnd(12)} ${fmt(r.entriesPerS).padStart(9)} entries/s  ` +
        `${fmt(r.result?.calls ?? Number.NaN)} ${variant.mode === "unary" ? "calls" : "batches"}  ` +
        `RSS peak client ${fmtMiB(r.client.peakRssMiB)} MiB, server ${fmtMiB(r.server.peakRssMiB)} MiB  ` +
        `(load ${r.loadavgAtStart[0]})`,
    );
  }
}

// ---------------------------------------------------------------- summary

const byVariant = (name: string) => records.filter((r) => r.variant === name).sort((a, b) => a.round - b.round);
const rates = (name: string) => byVariant(name).map((r) => r.entriesPerS);
const pairedRatio = (a: string, b: string) => {
  const xs = rates(a);
  const ys = rates(b);
  return round3(median(xs.map((x, i) => x / (ys[i] ?? Number.NaN))));
};

const rows = variants.map((v) => {
  const rs = byVariant(v.name);
  const m = (pick: (r: RunRecord) => number) => median(rs.map(pick));
  return {
    variant: v.name,
    describe: v.describe,
    entries: v.n,
    entriesPerS: Math.round(m((r) => r.entriesPerS)),
    calls: m((r) => r.result?.calls ?? Number.NaN),
    seconds: round3(m((r) => r.result?.seconds ?? Number.NaN)),
    clientCpuSeconds: round3(m((r) => r.cpuSeconds.client)),
    serverCpuSeconds: round3(m((r) => r.cpuSeconds.server)),
    requestMiB: v.mode === "writeAll" ? mib(m((r) => r.result?.bytes ?? Number.NaN)) : undefined,
    clientPeakRssMiB: round1(m((r) => r.client.peakRssMiB)),
    clientSampledPeakRssMiB: round1(m((r) => r.client.sampledPeakRssMiB)),
    serverPeakRssMiB: round1(m((r) => r.server.peakRssMiB)),
    serverSampledPeakRssMiB: round1(m((r) => r.server.sampledPeakRssMiB)),
    serverRssPerMillionMiB: round1(m((r) => r.server.rssPerMillionMiB)),
    serverHeapUsedPerMillionMiB: round1(m((r) => r.server.heapUsedPerMillionMiB)),
  };
});
const [a, b, c] = variants.map((v) => v.name) as [string, string, string];
const ratios = {
  [`${b} / ${a}`]: pairedRatio(b, a),
  [`${a} / ${c}`]: pairedRatio(a, c),
  [`${b} / ${c}`]: pairedRatio(b, c),
};

console.log(
  `\nmedians over ${ROUNDS} round(s); CPU seconds the client/server used during the run; ` +
    `RSS peaks from VmHWM (sampled every ${SAMPLE_MS} ms in brackets); server RSS and heapUsed growth per 1M entries held`,
);
console.log(
  `${"variant".padEnd(13)}${"entries".padStart(10)}${"entries/s".padStart(11)}${"batches".padStart(9)}${"CPU s cl/srv".padStart(15)}` +
    `${"client peak MiB".padStart(22)}${"server peak MiB".padStart(22)}${"server RSS/1M MiB".padStart(19)}${"heapUsed/1M".padStart(13)}`,
);
for (const r of rows) {
  console.log(
    `${r.variant.padEnd(13)}${fmt(r.entries).padStart(10)}${fmt(r.entriesPerS).padStart(11)}${fmt(r.calls).padStart(9)}` +
      `${`${r.clientCpuSeconds.toFixed(1)}/${r.serverCpuSeconds.toFixed(1)}`.padStart(15)}` +
      `${`${fmtMiB(r.clientPeakRssMiB)} [${fmtMiB(r.clientSampledPeakRssMiB)}]`.padStart(22)}` +
      `${`${fmtMiB(r.serverPeakRssMiB)} [${fmtMiB(r.serverSampledPeakRssMiB)}]`.padStart(22)}` +
      `${fmtMiB(r.serverRssPerMillionMiB).padStart(19)}${fmtMiB(r.serverHeapUsedPerMillionMiB).padStart(13)}`,
  );
}
console.log(`(unary: "batches" are calls)\n\nratios of entries/s (median of per-round ratios):`);
for (const [name, value] of Object.entries(ratios)) console.log(`  ${name.padEnd(26)}${fmtRatio(value).padStart(8)}`);

const loadAtEnd = loadavg().map(round3);
const peakLoad = Math.max(loadAtStart[0] as number, loadAtEnd[0] as number, ...records.map((r) => r.loadavgAtStart[0] as number));
const busy = peakLoad > cpus().length;
const machineNote = busy
  ? `busy: 1-minute load average up to ${peakLoad} on ${cpus().length} cores (other work ran alongside): absolute rates are low, ratios rough`
  : `quiet: 1-minute load average at most ${peakLoad} on ${cpus().length} cores`;
console.log(`\nmachine: ${machineNote}`);
const build = records.find((r) => r.variant === a && r.round === 0);
mkdirSync(join(here, "results"), { recursive: true });
writeFileSync(
  join(here, "results", "datastores.json"),
  `${JSON.stringify(
    {
      bench: "datastores",
      date: new Date().toISOString(),
      node: process.version,
      machine: {
        cpus: cpus().length,
        memoryMiB: mib(totalmem()),
        loadavgAtStart: loadAtStart,
        loadavgAtEnd: loadAtEnd,
        busy,
        note: `${machineNote}; each run's loadavgAtStart is in runs[]`,
      },
      entries: ENTRIES,
      unaryEntries: variants[2]?.n,
      rounds: ROUNDS,
      sampleMs: SAMPLE_MS,
      store: "ipReputationStore() (last-write-wins), served by serveDataStores on 127.0.0.1, one source (bench-feed)",
      summary: rows,
      ratios,
      build:
        build === undefined
          ? undefined
          : {
              variant: build.variant,
              entriesPerS: Math.round(build.entriesPerS),
              batches: build.result?.calls,
              storeSize: build.storeSize,
              client: build.client,
              server: build.server,
              rssSeries: build.rssSeries,
            },
      runs: records.map(({ rssSeries: _series, ...r }) => r),
      failures,
    },
    null,
    2,
  )}\n`,
);
console.log(`\nwrote bench/results/datastores.json (${Math.round((Date.now() - began) / 1000)} s)`);
if (failures.length > 0) {
  console.error(`\nDATASTORES BENCH FAILED: ${failures.length} run(s) did not leave what they wrote in the store:\n  ${failures.join("\n  ")}`);
  process.exitCode = 1;
}
