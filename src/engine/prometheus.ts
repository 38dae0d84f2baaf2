/**
 * The engine's counts as Prometheus metrics (prom-client), plus what event
 * inputs and a data source server count, read when Prometheus scrapes.
 *
 * @module
 */
import { createRequire } from "node:module";
import type * as PromClient from "prom-client";
import type { Registry, RegistryContentType } from "prom-client";
import type { InputStats } from "../events/queue.js";
import type { ServiceStats } from "../grpc/budget.js";
import type { EngineMetrics } from "./metrics.js";

/** Options of {@link prometheusMetrics}. */
export interface PrometheusMetricsOptions {
  /** Where the metrics are registered (default: a new registry of their own, not prom-client's global one). */
  readonly registry?: Registry<RegistryContentType>;
  /** Put before every metric name (default `"tracee_ds_"`). */
  readonly prefix?: string;
}

/** Anything with an input's counters: every `tracee-ds/events` input. */
export interface ObservedInput {
  stats(): InputStats;
}

/** Anything with a data source server's counters: what `serveDataSources` returns. */
export interface ObservedServer {
  stats(): ServiceStats;
}

/**
 * An {@link EngineMetrics} that keeps Prometheus metrics: pass it as the
 * engine's `metrics` option, and serve {@link metrics} (or the registry) to
 * Prometheus, e.g. with `serveMetrics`.
 */
export interface PrometheusMetrics extends EngineMetrics {
  /** The registry holding every metric below. */
  readonly registry: Registry<RegistryContentType>;
  /**
   * Reports `input`'s counters under the label `input="<name>"`, read from
   * `stats()` at every scrape. Observing another input under the same name
   * replaces the first.
   */
  observeInput(name: string, input: ObservedInput): void;
  /**
   * Reports a data source server's counters (its write streams by outcome,
   * streams open, bytes buffered, limit refusals), read from `stats()` at
   * every scrape; these metrics exist from the first call on. Observing
   * another server replaces the first.
   */
  observeServer(server: ObservedServer): void;
  /** Every metric of the registry, in Prometheus' text format. */
  metrics(): Promise<string>;
}

/**
 * prom-client, loaded on first use: it takes about 100 ms to load, which
 * only a program that asks for metrics should pay on `tracee-ds/engine`.
 */
let loaded: typeof PromClient | undefined;
function promClient(): typeof PromClient {
  loaded ??= createRequire(typeof __filename === "string" ? __filename : import.meta.url)("prom-client") as typeof PromClient;
  return loaded;
}

/**
 * Bucket bounds of the detector execution time histogram, in seconds: 1 µs
 * to 5 s (the engine's default timeout), in steps of 1 and 5 per decade.
 */
export const DURATION_BUCKETS: readonly number[] = [
  0.000001, 0.000005, 0.00001, 0.00005, 0.0001, 0.0005, 0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1, 5,
];

/**
 * One detector's counts, kept as plain numbers and handed to prom-client at
 * scrape time, and its histogram child (`labels()` looked up once, kept):
 * counting then costs a map lookup and an addition, not a label hash.
 */
interface DetectorCounts {
  processed: number;
  outputs: number;
  errors: number;
  timeouts: number;
  dropped: number;
  readonly duration: PromClient.Histogram.Internal<"detector">;
}

type CountName = Exclude<keyof DetectorCounts, "duration">;

/** How a data source server's write streams ended, for the `result` label. */
const STREAM_RESULTS = [
  ["committed", "committedStreams"],
  ["failed", "failedStreams"],
  ["dropped", "droppedStreams"],
] as const;

/**
 * Creates Prometheus metrics for an engine. Per detector (label `detector`):
 *
 * - `<prefix>detector_events_processed_total`: events the detector received
 * - `<prefix>detector_outputs_total`: events it produced
 * - `<prefix>detector_errors_total`, `<prefix>detector_timeouts_total`
 * - `<prefix>detector_events_dropped_total`: events dropped while it was busy
 * - `<prefix>detector_duration_seconds`: how long `onEvent` took (histogram)
 *
 * and `<prefix>chain_depth_exceeded_total`. A detector's series all appear,
 * at 0, with its first event. {@link PrometheusMetrics.observeInput} feeds the
 * `<prefix>input_*` metrics; {@link PrometheusMetrics.observeServer} adds the
 * `<prefix>grpc_*` ones.
 *
 * @throws Error when the registry already holds a metric of the same name
 * (two instances with one registry need different prefixes).
 *
 * @example
 * ```ts
 * const metrics = prometheusMetrics();
 * const engine = new Engine({ metrics });
 * const server = await serveMetrics("127.0.0.1:9464", metrics);
 * ```
 */
export function prometheusMetrics(options: PrometheusMetricsOptions = {}): PrometheusMetrics {
  const registry = options.registry ?? new (promClient().Registry)();
  const prefix = options.prefix ?? "tracee_ds_";
  const registers = [registry];

  const detectors = new Map<string, DetectorCounts>();
  const detectorCounter = (name: string, help: string, field: CountName) =>
    new (promClient().Counter)({
      name: prefix + name,
      help,
      labelNames: ["detector"],
      registers,
      collect() {
        this.reset();
        for (const [detector, counts] of detectors) this.inc({ detector }, counts[field]);
      },
    });
  detectorCounter("detector_events_processed_total", "Events a detector received (its filters passed).", "processed");
  detectorCounter("detector_outputs_total", "Events a detector produced.", "outputs");
  detectorCounter("detector_errors_total", "Calls of a detector that threw or rejected.", "errors");
  detectorCounter("detector_timeouts_total", "Async calls of a detector that did not settle in time.", "timeouts");
  detectorCounter("detector_events_dropped_total", "Events dropped for a detector because too many waited while it was busy.", "dropped");
  const duration = new (promClient().Histogram)({
    name: `${prefix}detector_duration_seconds`,
    help: "How long a detector took to handle one event, in seconds (calls that threw or timed out are not included).",
    labelNames: ["detector"],
    buckets: [...DURATION_BUCKETS],
    registers,
  });
  const depthExceeded = new (promClient().Counter)({
    name: `${prefix}chain_depth_exceeded_total`,
    help: "Detector outputs dropped because the chain of detectors was deeper than the limit.",
    registers,
  });

  const countsOf = (id: string): DetectorCounts => {
    let counts = detectors.get(id);
    if (counts === undefined) {
      counts = { processed: 0, outputs: 0, errors: 0, timeouts: 0, dropped: 0, duration: duration.labels(id) };
      // The histogram exists from the first event too, empty rather than absent.
      duration.zero({ detector: id });
      detectors.set(id, counts);
    }
    return counts;
  };

  const inputs = new Map<string, ObservedInput>();
  registerInputMetrics(registers, prefix, inputs);
  let server: ObservedServer | undefined;

  return {
    registry,
    eventProcessed(id) {
      countsOf(id).processed++;
    },
    outputsProduced(id, count) {
      countsOf(id).outputs += count;
    },
    error(id) {
      countsOf(id).errors++;
    },
    timeout(id) {
      countsOf(id).timeouts++;
    },
    dropped(id) {
      countsOf(id).dropped++;
    },
    duration(id, seconds) {
      countsOf(id).duration.observe(seconds);
    },
    chainDepthExceeded(count) {
      depthExceeded.inc(count);
    },
    observeInput(name, input) {
      if (typeof name !== "string" || name === "") throw new TypeError("observeInput needs a non-empty input name");
      inputs.set(name, input);
    },
    observeServer(s) {
      if (server === undefined) registerServerMetrics(registers, prefix, () => (server as ObservedServer).stats());
      server = s;
    },
    metrics: () => registry.metrics(),
  };
}

/** Registers the `input_*` metrics, read from each input's `stats()` at scrape time. */
function registerInputMetrics(registers: Registry<RegistryContentType>[], prefix: string, inputs: ReadonlyMap<string, ObservedInput>): void {
  const counter = (name: string, help: string, field: "received" | "dropped" | "malformed") =>
    new (promClient().Counter)({
      name: prefix + name,
      help,
      labelNames: ["input"],
      registers,
      collect() {
        this.reset();
        for (const [input, source] of inputs) this.inc({ input }, source.stats()[field]);
      },
    });
  counter("input_events_received_total", "Events an input read from its source (queued or dropped).", "received");
  counter("input_events_dropped_total", "Events an input dropped because its queue was full.", "dropped");
  counter("input_malformed_total", "Lines or bodies an input skipped because they were not events.", "malformed");
  new (promClient().Gauge)({
    name: `${prefix}input_queue_depth`,
    help: "Events waiting in an input's queue for the engine.",
    labelNames: ["input"],
    registers,
    collect() {
      this.reset();
      for (const [input, source] of inputs) this.set({ input }, source.stats().queued);
    },
  });
}

/** Registers the `grpc_*` metrics (once a server is observed), read from `stats()` at scrape time. */
function registerServerMetrics(registers: Registry<RegistryContentType>[], prefix: string, stats: () => ServiceStats): void {
  new (promClient().Counter)({
    name: `${prefix}grpc_write_streams_total`,
    help: "WriteStream calls to the data source server, by how they ended (committed: written; failed: error status; dropped: the client left before the write).",
    labelNames: ["result"],
    registers,
    collect() {
      this.reset();
      const s = stats();
      for (const [result, field] of STREAM_RESULTS) this.inc({ result }, s[field]);
    },
  });
  new (promClient().Counter)({
    name: `${prefix}grpc_limit_refusals_total`,
    help: "Calls the data source server refused because of a limit, by limit.",
    labelNames: ["limit"],
    registers,
    collect() {
      this.reset();
      for (const [limit, n] of Object.entries(stats().limitsExceeded)) this.inc({ limit }, n);
    },
  });
  new (promClient().Gauge)({
    name: `${prefix}grpc_open_write_streams`,
    help: "WriteStream calls open on the data source server now.",
    registers,
    collect() {
      this.set(stats().openStreams);
    },
  });
  new (promClient().Gauge)({
    name: `${prefix}grpc_buffered_bytes`,
    help: "Request bytes held by unfinished WriteStream calls now.",
    registers,
    collect() {
      this.set(stats().bufferedBytes);
    },
  });
}
