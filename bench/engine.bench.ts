/**
 * Engine bench: the detection engine (`tracee-ds/engine`), side by side in one run.
 *
 * 1. Ingestion vs engine: `streamEvents` read by a bare `for await` count
 *    (ingestion only) vs the same replay run through an Engine with ten
 *    filter-only detectors (each requires an event of the replay, with a data
 *    or scope filter no event passes, so `onEvent` never runs), with the
 *    built-in stream data sources (as `tracee-ds run` has them), and again
 *    with `streamDataSources: []` to show what the built-ins cost.
 *    Goal: engine (built-ins) at least 0.7x ingestion.
 * 2. Dispatch scaling: 2 detectors vs 128, each requiring a different Tracee
 *    event (the 2 are events of the samples; the 128 are those 2 and 126
 *    events the samples never have, so both sets make exactly the same
 *    `onEvent` calls and only the dispatch differs), each with a cheap sync
 *    `onEvent`. Over an in-memory input (decoded samples, by an async
 *    generator) and over the gRPC replay. `streamDataSources: []`, so the
 *    ratio is the dispatch alone. Goal: 128 at least 0.8x 2.
 * 3. Stalled detector memory: a 1,000,000-event gRPC replay with the queue
 *    `{ capacity: 4096, overflow: "drop-newest" }` into an Engine with one
 *    detector whose async `onEvent` never settles (timeoutMs 1 h) and one
 *    cheap sync detector, both on every Tracee event of the samples;
 *    `process.memoryUsage()` is sampled every 100k input events.
 *    Goal: RSS flat (growth from the 200k sample to the last one small,
 *    under 32 MiB). Once the input has ended, the bench settles the stalled
 *    call after drainTimeoutMs, so `run` can end (the engine would
 *    otherwise wait out the call's timeoutMs).
 *
 * Harness: alternating rounds (the variants' order rotates each round), the
 * figure is the median of the per-round ratios; absolute rates on a shared
 * machine are noise. The replays are fake Tracees in processes of their own
 * (bench/engine-replay.ts). Nothing here fails on a missed goal: it prints
 * "goal met" or "goal missed".
 *
 * Run: `npx tsx bench/engine.bench.ts` (or `npm run bench -- engine`).
 * Env: ENGINE_BENCH_SECTIONS (e.g. "1,3"), ENGINE_BENCH_ROUNDS (gRPC rounds,
 * 7), ENGINE_BENCH_EVENTS (events per gRPC stream, 100000),
 * ENGINE_BENCH_MEMORY_ROUNDS (in-memory rounds, 9), ENGINE_BENCH_MEMORY_EVENTS
 * (in-memory events, 200000), ENGINE_BENCH_STALL_EVENTS (1000000).
 * Writes bench/results/engine.json.
 */
import { type ChildProcess, fork } from "node:child_process";
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { defineDetector } from "../src/engine/define.js";
import { Engine, type EngineOptions } from "../src/engine/engine.js";
import type { EngineStats } from "../src/engine/metrics.js";
import type { Detector, EventRequirement } from "../src/engine/types.js";
import { streamEvents } from "../src/events/inputs/grpc.js";
import { decodeEventJson } from "../src/events/json/decode.js";
import type { TraceeEvent } from "../src/events/model.js";
import type { QueueOptions } from "../src/events/queue.js";
import { EventId } from "../src/gen/tracee/v1beta1/event.js";

const here = dirname(fileURLToPath(import.meta.url));
const env = (name: string, fallback: number) => Number(process.env[name] ?? fallback);
const SECTIONS = new Set((process.env["ENGINE_BENCH_SECTIONS"] ?? "1,2,3").split(",").map((s) => s.trim()));
const ROUNDS = env("ENGINE_BENCH_ROUNDS", 7);
const EVENTS = env("ENGINE_BENCH_EVENTS", 100_000);
const MEMORY_ROUNDS = env("ENGINE_BENCH_MEMORY_ROUNDS", 9);
const MEMORY_EVENTS = env("ENGINE_BENCH_MEMORY_EVENTS", 200_000);
const STALL_EVENTS = env("ENGINE_BENCH_STALL_EVENTS", 1_000_000);
const STALL_SAMPLE_EVERY = 100_000;
const STALL_DRAIN_MS = 200;
const STALL_GROWTH_GOAL_MIB = 32;

const samples = readFileSync(join(here, "../test/fixtures/events/v1beta1.ndjson"), "utf8")
  .split("\n")
  .filter((l) => l !== "")
  .map(decodeEventJson);

const median = (xs: readonly number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? 0;
const round3 = (n: number) => Math.round(n * 1000) / 1000;
const fmt = (n: number) => Math.round(n).toLocaleString("en-US");
const mib = (bytes: number) => Math.round((bytes / 1024 / 1024) * 10) / 10;
const verdict = (met: boolean) => (met ? "goal met" : "goal missed");
const discard = { write(): void {} };

/** Events of the samples that are Tracee's own (the two detector-produced samples are not), in sample order, no repeats. */
const traceeNames = (Object.keys(EventId) as string[]).filter((k) => Number.isNaN(Number(k)) && k !== "unspecified" && k !== "UNRECOGNIZED");
const known = new Set(traceeNames);
const sampleNames = [...new Set(samples.map((e) => e.name))].filter((n) => known.has(n));

// ---------------------------------------------------------------- harness

function startReplay(events: number): Promise<{ child: ChildProcess; address: string }> {
  const child = fork(join(here, "engine-replay.ts"), [String(events)], { execArgv: ["--import", "tsx"], stdio: "inherit" });
  return new Promise((resolve, reject) => {
    child.once("message", (m: { address: string }) => resolve({ child, address: m.address }));
    child.once("exit", (code) => reject(new Error(`engine-replay.ts exited with ${code}`)));
  });
}

function stopReplay(replay: { child: ChildProcess }): void {
  replay.child.removeAllListeners("exit");
  replay.child.kill();
}

/**
 * Runs each variant once to warm up, then `rounds` rounds of all of them
 * (the order rotates each round); returns each variant's rates, by round.
 */
async function alternate<K extends string>(variants: Record<K, () => Promise<number>>, rounds: number): Promise<Record<K, number[]>> {
  const names = Object.keys(variants) as K[];
  const rates = Object.fromEntries(names.map((n) => [n, [] as number[]])) as Record<K, number[]>;
  for (const name of names) await variants[name]();
  for (let r = 0; r < rounds; r++) {
    for (let i = 0; i < names.length; i++) {
      const name = names[(r + i) % names.length] as K;
      rates[name].push(await variants[name]());
    }
  }
  return rates;
}

/** Per-round ratios of `a` to `b`, and their median. */
const ratio = (a: readonly number[], b: readonly number[]) => round3(median(a.map((x, i) => x / (b[i] as number))));

function table(rows: readonly (readonly string[])[]): void {
  const widths = rows[0]?.map((_, c) => Math.max(...rows.map((r) => (r[c] ?? "").length))) ?? [];
  for (const row of rows) console.log(`  ${row.map((cell, c) => (c === 0 ? cell.padEnd(widths[c] ?? 0) : cell.padStart(widths[c] ?? 0))).join("  ")}`);
}

/** Runs `input` through `engine`, outputs discarded; events/s of the engine's input events. */
async function timeEngine(engine: Engine, input: AsyncIterable<TraceeEvent>, expected: number): Promise<{ rate: number; stats: EngineStats }> {
  await engine.start();
  const start = performance.now();
  const stats = await engine.run(input, { outputs: [discard] });
  const seconds = (performance.now() - start) / 1000;
  if (stats.events !== expected) throw new Error(`the engine read ${stats.events} events, expected ${expected}`);
  return { rate: stats.events / seconds, stats };
}

const results: Record<string, unknown> = {};

// ---------------------------------------------------------------- 1. ingestion vs engine

if (SECTIONS.has("1")) {
  // Ten events of the replay, each with a filter no sample passes: half data
  // filters (an argument value no event has, or an argument it lacks), half scope.
  const filterNames = sampleNames.slice(0, 10);
  if (filterNames.length < 10) throw new Error(`the samples have ${filterNames.length} Tracee events, need 10`);
  let onEventCalls = 0;
  const filterOnly = (): Detector[] =>
    filterNames.map((name, i) => {
      const requirement: EventRequirement =
        i % 2 === 0 ? { name, dataFilters: ["pathname=/bench/never/*"] } : { name, scopeFilters: ["comm=bench-never", "uid>=4000000000"] };
      return defineDetector({
        definition: { id: `BENCH-F${i}`, requirements: { events: [requirement] }, producedEvent: { name: `bench_filter_${i}` } },
        onEvent: () => {
          onEventCalls++;
          return undefined;
        },
      });
    });
  const engineWith = (options: EngineOptions) => {
    const engine = new Engine(options);
    for (const d of filterOnly()) engine.addDetector(d);
    return engine;
  };

  const replay = await startReplay(EVENTS);
  const address = replay.address;
  const variants = {
    ingestion: async () => {
      const start = performance.now();
      let n = 0;
      for await (const _ of streamEvents({ address })) n++;
      if (n !== EVENTS) throw new Error(`ingestion read ${n} events, expected ${EVENTS}`);
      return n / ((performance.now() - start) / 1000);
    },
    engineBuiltins: async () => (await timeEngine(engineWith({}), streamEvents({ address }), EVENTS)).rate,
    engineNoSources: async () => (await timeEngine(engineWith({ streamDataSources: [] }), streamEvents({ address }), EVENTS)).rate,
  };
  const rates = await alternate(variants, ROUNDS);
  stopReplay(replay);
  if (onEventCalls !== 0) throw new Error(`a filter-only detector's onEvent ran ${onEventCalls} times`);

  const section = {
    eventsPerStream: EVENTS,
    rounds: ROUNDS,
    detectors: filterNames.length,
    detectorEvents: filterNames,
    ingestionPerSecond: Math.round(median(rates.ingestion)),
    engineBuiltinsPerSecond: Math.round(median(rates.engineBuiltins)),
    engineNoSourcesPerSecond: Math.round(median(rates.engineNoSources)),
    engineBuiltinsToIngestion: ratio(rates.engineBuiltins, rates.ingestion),
    engineNoSourcesToIngestion: ratio(rates.engineNoSources, rates.ingestion),
    engineBuiltinsToNoSources: ratio(rates.engineBuiltins, rates.engineNoSources),
    goal: ">= 0.7 (engine with built-ins vs ingestion)",
  };
  results["ingestion"] = section;
  console.log(`1. Ingestion vs engine: gRPC replay of ${fmt(EVENTS)} events a stream, 10 filter-only detectors, ${ROUNDS} rounds`);
  table([
    ["variant", "events/s", "ratio to ingestion"],
    ["streamEvents, bare for-await count", fmt(section.ingestionPerSecond), "1.000"],
    ["Engine, built-in data sources", fmt(section.engineBuiltinsPerSecond), section.engineBuiltinsToIngestion.toFixed(3)],
    ["Engine, streamDataSources: []", fmt(section.engineNoSourcesPerSecond), section.engineNoSourcesToIngestion.toFixed(3)],
  ]);
  console.log(
    `  built-ins cost: engine with them runs at ${section.engineBuiltinsToNoSources.toFixed(3)}x the engine without; ` +
      `goal ${section.goal}: ${verdict(section.engineBuiltinsToIngestion >= 0.7)}`,
  );
}

// ---------------------------------------------------------------- 2. dispatch scaling

if (SECTIONS.has("2")) {
  // The two events of the small set; the large set is them and 126 events the samples never have.
  const pair = ["security_file_open", "openat"];
  const absent = traceeNames.filter((n) => !sampleNames.includes(n));
  const step = Math.floor(absent.length / 126);
  const others = Array.from({ length: 126 }, (_, i) => absent[i * step] as string);
  const names128 = [...pair, ...others];
  if (new Set(names128).size !== 128) throw new Error("the 128 event names are not distinct");

  let calls = 0;
  const engineOf = (names: readonly string[]) => {
    const engine = new Engine({ streamDataSources: [] });
    names.forEach((name, i) =>
      engine.addDetector(
        defineDetector({
          definition: { id: `BENCH-D${i}`, requirements: { events: [{ name }] }, producedEvent: { name: `bench_dispatch_${i}` } },
          onEvent: () => {
            calls++;
            return undefined;
          },
        }),
      ),
    );
    return engine;
  };
  const expectedCalls = (events: number) => {
    let n = 0;
    for (let i = 0; i < events; i++) if (pair.includes((samples[i % samples.length] as TraceeEvent).name)) n++;
    return n;
  };
  /** Runs one engine, checking that its detectors got exactly the calls the pair makes. */
  const measure = async (names: readonly string[], input: () => AsyncIterable<TraceeEvent>, events: number) => {
    calls = 0;
    const { rate } = await timeEngine(engineOf(names), input(), events);
    if (calls !== expectedCalls(events)) throw new Error(`${names.length} detectors made ${calls} onEvent calls, expected ${expectedCalls(events)}`);
    return rate;
  };

  const events = Array.from({ length: MEMORY_EVENTS }, (_, i) => samples[i % samples.length] as TraceeEvent);
  async function* inMemory(): AsyncGenerator<TraceeEvent> {
    for (const e of events) yield e;
  }
  const mem = await alternate(
    {
      d2: () => measure(pair, inMemory, MEMORY_EVENTS),
      d128: () => measure(names128, inMemory, MEMORY_EVENTS),
    },
    MEMORY_ROUNDS,
  );

  const replay = await startReplay(EVENTS);
  const address = replay.address;
  const grpc = await alternate(
    {
      d2: () => measure(pair, () => streamEvents({ address }), EVENTS),
      d128: () => measure(names128, () => streamEvents({ address }), EVENTS),
    },
    ROUNDS,
  );
  stopReplay(replay);

  const section = {
    pair,
    callsPerEvent: round3(expectedCalls(samples.length) / samples.length),
    streamDataSources: "[]",
    inMemory: {
      events: MEMORY_EVENTS,
      rounds: MEMORY_ROUNDS,
      detectors2PerSecond: Math.round(median(mem.d2)),
      detectors128PerSecond: Math.round(median(mem.d128)),
      ratio128To2: ratio(mem.d128, mem.d2),
    },
    grpc: {
      eventsPerStream: EVENTS,
      rounds: ROUNDS,
      detectors2PerSecond: Math.round(median(grpc.d2)),
      detectors128PerSecond: Math.round(median(grpc.d128)),
      ratio128To2: ratio(grpc.d128, grpc.d2),
    },
    goal: ">= 0.8 (128 detectors vs 2)",
  };
  results["dispatch"] = section;
  console.log(`\n2. Dispatch scaling: 2 vs 128 detectors, one event name each, sync onEvent (${pair.join(", ")} in both sets)`);
  table([
    ["input", "2 detectors ev/s", "128 detectors ev/s", "ratio 128/2", ""],
    [
      `in-memory, ${fmt(MEMORY_EVENTS)} events, ${MEMORY_ROUNDS} rounds`,
      fmt(section.inMemory.detectors2PerSecond),
      fmt(section.inMemory.detectors128PerSecond),
      section.inMemory.ratio128To2.toFixed(3),
      verdict(section.inMemory.ratio128To2 >= 0.8),
    ],
    [
      `gRPC replay, ${fmt(EVENTS)} events, ${ROUNDS} rounds`,
      fmt(section.grpc.detectors2PerSecond),
      fmt(section.grpc.detectors128PerSecond),
      section.grpc.ratio128To2.toFixed(3),
      verdict(section.grpc.ratio128To2 >= 0.8),
    ],
  ]);
  console.log(`  goal ${section.goal}`);
}

// ---------------------------------------------------------------- 3. stalled detector memory

if (SECTIONS.has("3")) {
  const queue: QueueOptions = { capacity: 4096, overflow: "drop-newest" };
  const memory = () => {
    const m = process.memoryUsage();
    return { rss: m.rss, heapUsed: m.heapUsed };
  };
  const memorySamples: { events: number; rssMiB: number; heapUsedMiB: number }[] = [];
  const sample = (events: number) => {
    const m = memory();
    memorySamples.push({ events, rssMiB: mib(m.rss), heapUsedMiB: mib(m.heapUsed) });
  };

  let release!: () => void;
  const stall = new Promise<undefined>((resolve) => {
    release = () => resolve(undefined);
  });
  let counted = 0;
  const engine = new Engine({ timeoutMs: 3_600_000, drainTimeoutMs: STALL_DRAIN_MS });
  engine.addDetector(
    defineDetector({
      definition: { id: "BENCH-STALLED", requirements: { events: sampleNames.map((name) => ({ name })) }, producedEvent: { name: "bench_stalled" } },
      onEvent: () => stall,
    }),
  );
  engine.addDetector(
    defineDetector({
      definition: { id: "BENCH-COUNTER", requirements: { events: sampleNames.map((name) => ({ name })) }, producedEvent: { name: "bench_counter" } },
      onEvent: () => {
        counted++;
        return undefined;
      },
    }),
  );
  await engine.start();

  const replay = await startReplay(STALL_EVENTS);
  const input = streamEvents({ address: replay.address, queue });
  let inputEndedAt = 0;
  let read = 0;
  /**
   * The input, sampling memory every 100k events read; once it has ended,
   * settles the stalled call after the drain gave up on its queue.
   */
  async function* sampled(): AsyncGenerator<TraceeEvent> {
    try {
      for await (const event of input) {
        if (++read % STALL_SAMPLE_EVERY === 0) sample(read);
        yield event;
      }
    } finally {
      inputEndedAt = performance.now();
      if (read % STALL_SAMPLE_EVERY !== 0) sample(read);
      setTimeout(release, STALL_DRAIN_MS + 300);
    }
  }
  const before = memory();
  memorySamples.push({ events: 0, rssMiB: mib(before.rss), heapUsedMiB: mib(before.heapUsed) });
  const start = performance.now();
  const stats = await engine.run(sampled(), { outputs: [discard] });
  const end = performance.now();
  stopReplay(replay);
  const inputStats = input.stats();

  const at = (events: number) => memorySamples.find((s) => s.events === events);
  const last = memorySamples[memorySamples.length - 1] as (typeof memorySamples)[number];
  const s200k = at(2 * STALL_SAMPLE_EVERY);
  const growth = s200k === undefined ? undefined : Math.round((last.rssMiB - s200k.rssMiB) * 10) / 10;
  const stalled = stats.participants["BENCH-STALLED"];
  const section = {
    replayEvents: STALL_EVENTS,
    queue,
    timeoutMs: 3_600_000,
    drainTimeoutMs: STALL_DRAIN_MS,
    inputReceived: inputStats.received,
    inputDropped: inputStats.dropped,
    engineEvents: stats.events,
    eventsPerSecond: Math.round(stats.events / ((inputEndedAt - start) / 1000)),
    runAfterInputEndMs: Math.round(end - inputEndedAt),
    stalled,
    counter: stats.participants["BENCH-COUNTER"],
    samples: memorySamples,
    peakRssMiB: Math.max(...memorySamples.map((s) => s.rssMiB)),
    rssAt100kMiB: at(STALL_SAMPLE_EVERY)?.rssMiB,
    rssAtEndMiB: last.rssMiB,
    rssGrowth200kToEndMiB: growth,
    goal: `flat: RSS growth from the 200k sample to the end < ${STALL_GROWTH_GOAL_MIB} MiB`,
  };
  results["stalled"] = section;
  console.log(
    `\n3. Stalled detector: ${fmt(STALL_EVENTS)}-event gRPC replay, queue ${queue.capacity} ${queue.overflow}, ` +
      `one never-settling async detector + one counter, maxPendingPerDetector 1024`,
  );
  table([
    ["events read", "RSS MiB", "heapUsed MiB"],
    ...memorySamples.map((s, i) => [i === 0 ? "0 (before run)" : fmt(s.events), s.rssMiB.toFixed(1), s.heapUsedMiB.toFixed(1)]),
  ]);
  console.log(
    `  input: received ${fmt(section.inputReceived)}, dropped at the queue ${fmt(section.inputDropped)}; engine: ${fmt(section.engineEvents)} events at ${fmt(section.eventsPerSecond)} events/s`,
  );
  console.log(
    `  stalled detector: processed ${stalled?.processed ?? 0}, dropped ${fmt(stalled?.dropped ?? 0)}, timeouts ${stalled?.timeouts ?? 0}; ` +
      `run ended ${fmt(section.runAfterInputEndMs)} ms after the input`,
  );
  console.log(
    `  peak RSS ${section.peakRssMiB.toFixed(1)} MiB; RSS at 100k ${section.rssAt100kMiB?.toFixed(1) ?? "-"} MiB, at the end ${last.rssMiB.toFixed(1)} MiB; ` +
      `growth 200k -> end ${growth?.toFixed(1) ?? "-"} MiB: ${verdict(growth !== undefined && growth < STALL_GROWTH_GOAL_MIB)}`,
  );
}

mkdirSync(join(here, "results"), { recursive: true });
writeFileSync(
  join(here, "results", "engine.json"),
  `${JSON.stringify({ bench: "engine", date: new Date().toISOString(), node: process.version, ...results }, null, 2)}\n`,
);
console.log("\nwrote bench/results/engine.json");
