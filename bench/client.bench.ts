/**
 * Client bench: our `DataSourceClient` writing into a DataSourceService, side
 * by side with the Go reference client and a raw grpc-js client.
 *
 * Server: the Go reference server `goref` (../shared/go-reference/server.go,
 * Tracee's semantics) when it is built in $GOREF_DIR (default
 * /tmp/tracee-ds-goref), on a free TCP port and on a unix socket; without it,
 * our own `serveDataSources` with the same `e2e_inst/demo` (string → string)
 * data source, in a process of its own (client-server.ts).
 *
 * Load, the same as goload's (../shared/go-reference/load.go): `writeStream`
 * with 4 concurrent streams, and unary `write` with 16 concurrent callers;
 * write i has the string key `key-(i % 4096)` and the string value `value-i`.
 * Every run dials its own connection and makes 200 unary warm-up writes
 * before the clock starts.
 *
 * Clients, each in a process of its own, against the same server, in an order
 * rotated every round:
 * - go:   goload, when built (GOREF_DIR);
 * - ours: `DataSourceClient` (client-load.ts);
 * - raw:  grpc-js with identity (de)serializers sending bytes encoded before
 *         the clock starts (client-load.ts): the anchor that always exists.
 * Figures are the median rate, and the median of per-round ratios. Goals:
 * ours/go >= 0.9 for streams, >= 0.6 for unary ("goal met/missed"; never an
 * exit code).
 *
 * Also, with Go: our server vs the Go server, goload as the load on both
 * (informational).
 *
 * Every run is checked: goload exits non-zero on failures; ours and raw
 * report failed calls; against our server, the data source's own count of
 * writes must match. A failed check makes the bench exit 1.
 *
 * Run: `npx tsx bench/client.bench.ts` (or `npm run bench -- client`).
 * Env: GOREF_DIR, CLIENT_BENCH_ROUNDS (5), CLIENT_BENCH_UNIX_ROUNDS (3; 0
 * skips the unix socket), CLIENT_BENCH_STREAM_N (200000),
 * CLIENT_BENCH_UNARY_N (20000). Writes bench/results/client.json.
 */
import { type ChildProcess, execFile, fork, spawn } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { createServer } from "node:net";
import { cpus, loadavg, tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import type { LoadResult, LoadTask } from "./client-load.js";

const began = Date.now();
const here = dirname(fileURLToPath(import.meta.url));
const GOREF_DIR = process.env["GOREF_DIR"] ?? "/tmp/tracee-ds-goref";
const ROUNDS = Number(process.env["CLIENT_BENCH_ROUNDS"] ?? 5);
const UNIX_ROUNDS = Number(process.env["CLIENT_BENCH_UNIX_ROUNDS"] ?? 3);
const STREAM_N = Number(process.env["CLIENT_BENCH_STREAM_N"] ?? 200_000);
const UNARY_N = Number(process.env["CLIENT_BENCH_UNARY_N"] ?? 20_000);
const WARM_UP = 200; // unary writes every client makes before its clock starts (goload's)

const gorefBin = join(GOREF_DIR, "goref");
const goloadBin = join(GOREF_DIR, "goload");
const haveGoServer = existsSync(gorefBin);
const haveGoClient = existsSync(goloadBin);

interface Load {
  readonly name: string;
  readonly mode: "stream" | "unary";
  readonly concurrency: number;
  readonly n: number;
  /** Goal for ours/go. */
  readonly goal: number;
}
const loads: Load[] = [
  { name: "stream x4", mode: "stream", concurrency: 4, n: STREAM_N, goal: 0.9 },
  { name: "unary x16", mode: "unary", concurrency: 16, n: UNARY_N, goal: 0.6 },
];

const median = (xs: number[]) => {
  const s = xs.filter((x) => Number.isFinite(x)).sort((a, b) => a - b);
  return s.length === 0 ? Number.NaN : (s[Math.floor(s.length / 2)] as number);
};
const round3 = (n: number) => Math.round(n * 1000) / 1000;
/** The median over rounds of a/b within each round: steadier than a ratio of medians on a busy machine. */
const pairedRatio = (a: number[], b: number[]) => round3(median(a.map((x, i) => x / (b[i] ?? Number.NaN))));
const fmt = (n: number) => (Number.isFinite(n) ? Math.round(n).toLocaleString("en-US") : "-");
const fmtRatio = (n: number) => (Number.isFinite(n) ? n.toFixed(3) : "-");

// ---------------------------------------------------------------- processes

type Message = { type: string; [k: string]: unknown };

function start(file: string, args: string[]): Promise<{ child: ChildProcess; first: Message }> {
  const child = fork(join(here, file), args, { execArgv: ["--import", "tsx"], stdio: "inherit" });
  return new Promise((resolve, reject) => {
    child.once("message", (first: Message) => resolve({ child, first }));
    child.once("exit", (code) => reject(new Error(`${file} exited with ${code}`)));
  });
}

function request(child: ChildProcess, message: object, reply: string): Promise<Message> {
  return new Promise((resolve, reject) => {
    const onMessage = (m: Message) => {
      if (m.type === reply || m.type === "error") {
        child.off("message", onMessage);
        if (m.type === reply) resolve(m);
        else reject(new Error(String(m["error"])));
      }
    };
    child.on("message", onMessage);
    child.send(message);
  });
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

/** Starts goref on `listen` (tcp:HOST:PORT or unix:PATH); resolves once it listens. */
function startGoref(listen: string): Promise<ChildProcess> {
  const child = spawn(gorefBin, ["-listen", listen], { stdio: ["ignore", "pipe", "inherit"] });
  return new Promise((resolve, reject) => {
    let out = "";
    const timer = setTimeout(() => reject(new Error(`goref -listen ${listen} did not start`)), 10_000);
    child.stdout?.on("data", (chunk: Buffer) => {
      out += chunk.toString();
      if (out.includes("listening")) {
        clearTimeout(timer);
        resolve(child);
      }
    });
    child.once("exit", (code) => {
      clearTimeout(timer);
      reject(new Error(`goref -listen ${listen} exited with ${code}`));
    });
  });
}

const tmp = mkdtempSync(join(tmpdir(), "tracee-ds-client-bench-"));
const children: ChildProcess[] = [];
const stopAll = () => {
  for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill();
  rmSync(tmp, { recursive: true, force: true });
};
process.once("exit", stopAll);

const oursServer = await start("client-server.ts", [join(tmp, "ours.sock")]);
children.push(oursServer.child);
const oursAddresses = oursServer.first["addresses"] as { tcp: string; unix: string };

let gorefTcp: string | undefined;
let gorefUnix: string | undefined;
if (haveGoServer) {
  const port = await freePort();
  children.push(await startGoref(`tcp:127.0.0.1:${port}`));
  gorefTcp = `127.0.0.1:${port}`;
  if (UNIX_ROUNDS > 0) {
    const path = join(tmp, "goref.sock");
    children.push(await startGoref(`unix:${path}`));
    gorefUnix = `unix://${path}`;
  }
}

const oursLoad = await start("client-load.ts", []);
const rawLoad = await start("client-load.ts", []);
children.push(oursLoad.child, rawLoad.child);

// ---------------------------------------------------------------- runs

type ClientName = "go" | "ours" | "raw";
interface Target {
  readonly label: string;
  readonly address: string;
  /** Our server: its data source counts what it was asked to write. */
  readonly ours: boolean;
}

const failures: string[] = [];

interface ServerCounts {
  writes: number;
  refused: number;
  failedStreams: number;
  droppedStreams: number;
}
async function serverCounts(): Promise<ServerCounts> {
  const m = await request(oursServer.child, { type: "stats" }, "stats");
  const s = m["stats"] as {
    writes: number;
    refused: number;
    tcp: { failedStreams: number; droppedStreams: number };
    unix?: { failedStreams: number; droppedStreams: number };
  };
  return {
    writes: s.writes,
    refused: s.refused,
    failedStreams: s.tcp.failedStreams + (s.unix?.failedStreams ?? 0),
    droppedStreams: s.tcp.droppedStreams + (s.unix?.droppedStreams ?? 0),
  };
}

function goload(address: string, load: Load): Promise<LoadResult> {
  const args = ["-target", address, "-mode", load.mode, "-n", String(load.n), "-c", String(load.concurrency)];
  return new Promise((resolve) => {
    execFile(goloadBin, args, { timeout: 300_000 }, (err, stdout, stderr) => {
      const line = stdout.trim().split("\n").pop() ?? "";
      let out: Partial<LoadResult> = {};
      try {
        out = JSON.parse(line) as Partial<LoadResult>;
      } catch {
        // reported below
      }
      const failed = err !== null || typeof out.writes_per_s !== "number";
      resolve({
        client: "go",
        mode: load.mode,
        writes: out.writes ?? 0,
        concurrency: load.concurrency,
        seconds: out.seconds ?? Number.NaN,
        writes_per_s: out.writes_per_s ?? Number.NaN,
        failures: failed ? Math.max(1, out.failures ?? 0) : (out.failures ?? 0),
        errors: failed ? [`goload ${args.join(" ")}: ${err?.message ?? "no JSON"} ${stderr.trim()}`.trim()] : [],
      });
    });
  });
}

async function runClient(client: ClientName, target: Target, load: Load): Promise<LoadResult> {
  if (client === "go") return goload(target.address, load);
  const task: LoadTask = { client, target: target.address, mode: load.mode, n: load.n, concurrency: load.concurrency };
  try {
    const reply = await request(client === "ours" ? oursLoad.child : rawLoad.child, { type: "run", task }, "result");
    return reply["result"] as LoadResult;
  } catch (err) {
    return {
      client,
      mode: load.mode,
      writes: 0,
      concurrency: load.concurrency,
      seconds: Number.NaN,
      writes_per_s: Number.NaN,
      failures: 1,
      errors: [err instanceof Error ? err.message : String(err)],
    };
  }
}

/** One run, checked: no failed call, every write made, and (on our server) every write received. */
async function checkedRun(client: ClientName, target: Target, load: Load): Promise<number> {
  const before = target.ours ? await serverCounts() : undefined;
  const r = await runClient(client, target, load);
  const what = `${client} ${load.name} -> ${target.label}`;
  const per = Math.floor(load.n / load.concurrency);
  const problems: string[] = [];
  if (r.failures > 0) problems.push(`${r.failures} failed: ${r.errors.join("; ")}`);
  if (r.writes !== per * load.concurrency) problems.push(`made ${r.writes} writes, expected ${per * load.concurrency}`);
  if (before !== undefined) {
    const after = await serverCounts();
    // Every unary write is one data source write; a stream is one.
    const expected = WARM_UP + (load.mode === "unary" ? per * load.concurrency : load.concurrency);
    const got = after.writes - before.writes;
    if (got !== expected) problems.push(`the server's data source got ${got} writes, expected ${expected}`);
    const bad =
      after.refused - before.refused + (after.failedStreams - before.failedStreams) + (after.droppedStreams - before.droppedStreams);
    if (bad !== 0) problems.push(`the server refused, failed or dropped ${bad} writes or streams`);
  }
  if (problems.length > 0) {
    failures.push(`${what}: ${problems.join("; ")}`);
    console.error(`  FAILED ${what}: ${problems.join("; ")}`);
    return Number.NaN;
  }
  return r.writes_per_s;
}

/**
 * Runs every (client, target) pair `rounds` times for `load`, in rotated
 * order each round, after one warm-up run each; returns each pair's rates.
 */
async function rounds(
  pairs: Record<string, { client: ClientName; target: Target }>,
  load: Load,
  count: number,
): Promise<Record<string, number[]>> {
  const names = Object.keys(pairs);
  const rates: Record<string, number[]> = Object.fromEntries(names.map((n) => [n, []]));
  for (const n of names) {
    const p = pairs[n] as { client: ClientName; target: Target };
    await checkedRun(p.client, p.target, load); // warm-up: JIT, connections, the server's map
  }
  for (let round = 0; round < count; round++) {
    for (let k = 0; k < names.length; k++) {
      const n = names[(k + round) % names.length] as string;
      const p = pairs[n] as { client: ClientName; target: Target };
      rates[n]?.push(await checkedRun(p.client, p.target, load));
    }
  }
  return rates;
}

// ---------------------------------------------------------------- clients side by side

const loadAtStart = loadavg();
const targets: Array<{ target: Target; rounds: number }> = [];
if (gorefTcp !== undefined) {
  targets.push({ target: { label: `goref tcp ${gorefTcp}`, address: gorefTcp, ours: false }, rounds: ROUNDS });
  if (gorefUnix !== undefined) targets.push({ target: { label: "goref unix socket", address: gorefUnix, ours: false }, rounds: UNIX_ROUNDS });
} else {
  targets.push({ target: { label: `ours (serveDataSources) tcp ${oursAddresses.tcp}`, address: oursAddresses.tcp, ours: true }, rounds: ROUNDS });
  if (UNIX_ROUNDS > 0) {
    targets.push({ target: { label: "ours (serveDataSources) unix socket", address: oursAddresses.unix, ours: true }, rounds: UNIX_ROUNDS });
  }
}
const clientNames: ClientName[] = haveGoClient ? ["go", "ours", "raw"] : ["ours", "raw"];
if (!haveGoServer) console.log(`no Go server at ${gorefBin} (build: bash ../shared/go-reference/build.sh); serving with our serveDataSources`);
if (!haveGoClient) console.log(`no Go client at ${goloadBin}: ours vs raw grpc-js only`);

const clientResults: Array<Record<string, unknown>> = [];
for (const { target, rounds: count } of targets) {
  console.log(
    `\nclients -> ${target.label}: ${count} rounds, order rotated each round; writes/s medians, ratios medians of per-round ratios`,
  );
  console.log(
    `${"load".padEnd(12)}${"go".padStart(10)}${"ours".padStart(10)}${"raw grpc-js".padStart(13)}${"ours/go".padStart(9)}${"ours/raw".padStart(10)}  goal (ours/go)`,
  );
  const rows: Array<Record<string, unknown>> = [];
  for (const load of loads) {
    const pairs = Object.fromEntries(clientNames.map((c) => [c, { client: c, target }]));
    const r = await rounds(pairs, load, count);
    const [go, ours, raw] = [r["go"] ?? [], r["ours"] ?? [], r["raw"] ?? []];
    const oursToGo = haveGoClient ? pairedRatio(ours, go) : Number.NaN;
    const oursToRaw = pairedRatio(ours, raw);
    const goalMet = Number.isFinite(oursToGo) ? oursToGo >= load.goal : undefined;
    const verdict = goalMet === undefined ? "n/a (no Go client)" : goalMet ? "goal met" : "goal missed";
    const row = {
      load: load.name,
      mode: load.mode,
      concurrency: load.concurrency,
      writes: Math.floor(load.n / load.concurrency) * load.concurrency,
      unit: "writes/s",
      go: haveGoClient ? Math.round(median(go)) : null,
      ours: Math.round(median(ours)),
      raw: Math.round(median(raw)),
      oursToGo: Number.isFinite(oursToGo) ? oursToGo : null,
      oursToRaw: Number.isFinite(oursToRaw) ? oursToRaw : null,
      goal: `ours/go >= ${load.goal}`,
      goalMet: goalMet ?? null,
      rounds: { go, ours, raw },
    };
    rows.push(row);
    console.log(
      `${load.name.padEnd(12)}${fmt(median(go)).padStart(10)}${fmt(median(ours)).padStart(10)}${fmt(median(raw)).padStart(13)}${fmtRatio(oursToGo).padStart(9)}${fmtRatio(oursToRaw).padStart(10)}  >= ${load.goal}: ${verdict}`,
    );
  }
  clientResults.push({ server: target.label, rounds: count, rows });
}

// ---------------------------------------------------------------- servers, goload as the load

const serverResults: Array<Record<string, unknown>> = [];
if (gorefTcp !== undefined && haveGoClient) {
  const goServer: Target = { label: "goref", address: gorefTcp, ours: false };
  const ourServer: Target = { label: "ours", address: oursAddresses.tcp, ours: true };
  console.log(`\nservers (informational): goload -> our serveDataSources vs goload -> goref, TCP, ${ROUNDS} rounds`);
  console.log(`${"load".padEnd(12)}${"goref".padStart(10)}${"ours".padStart(10)}${"ours/goref".padStart(12)}`);
  for (const load of loads) {
    const r = await rounds({ goref: { client: "go", target: goServer }, ours: { client: "go", target: ourServer } }, load, ROUNDS);
    const [go, ours] = [r["goref"] ?? [], r["ours"] ?? []];
    const row = {
      load: load.name,
      unit: "writes/s",
      goref: Math.round(median(go)),
      ours: Math.round(median(ours)),
      oursToGoref: pairedRatio(ours, go),
      rounds: { goref: go, ours },
    };
    serverResults.push(row);
    console.log(`${load.name.padEnd(12)}${fmt(row.goref).padStart(10)}${fmt(row.ours).padStart(10)}${fmtRatio(row.oursToGoref).padStart(12)}`);
  }
}

// ---------------------------------------------------------------- done

for (const c of [oursLoad.child, rawLoad.child, oursServer.child]) c.send({ type: "stop" });
mkdirSync(join(here, "results"), { recursive: true });
writeFileSync(
  join(here, "results", "client.json"),
  `${JSON.stringify(
    {
      bench: "client",
      date: new Date().toISOString(),
      node: process.version,
      machine: { cpus: cpus().length, loadavgAtStart: loadAtStart.map(round3), loadavgAtEnd: loadavg().map(round3) },
      go: { dir: GOREF_DIR, server: haveGoServer, client: haveGoClient },
      load: "goload's: key-(i % 4096) → value-i as google.protobuf.Value strings into e2e_inst/demo; 200 unary warm-up writes per run before the clock",
      rounds: ROUNDS,
      unixRounds: UNIX_ROUNDS,
      clients: clientResults,
      servers: serverResults,
      failures,
    },
    null,
    2,
  )}\n`,
);
console.log(`\nwrote bench/results/client.json (${Math.round((Date.now() - began) / 1000)} s)`);
if (failures.length > 0) {
  console.error(`\n${failures.length} run(s) did not write what they should:\n  ${failures.join("\n  ")}`);
  process.exitCode = 1;
}
stopAll();
