/**
 * prometheusMetrics and serveMetrics: what a real engine, inputs and a data
 * source server count, as Prometheus reads it over HTTP.
 */
import { request } from "node:http";
import { connect } from "node:net";
import { DataSourceRegistry } from "tracee-ds";
import { defineDetector, detected, type Detector, Engine, type MetricsServer, prometheusMetrics, serveMetrics } from "tracee-ds/engine";
import { encodeEventJson, readEvents, type TraceeEvent } from "tracee-ds/events";
import { buildEvent } from "tracee-ds/testing";
import { Registry } from "prom-client";
import { afterEach, describe, expect, it, vi } from "vitest";
import { clientFor, RecordingDataSource, serve } from "../grpc/helpers.js";

/** One sample line of the text format. */
interface Sample {
  readonly name: string;
  readonly labels: Readonly<Record<string, string>>;
  readonly value: number;
}

/** Reads Prometheus' text format: the samples, and each metric's TYPE and HELP. */
function parse(text: string): { samples: Sample[]; types: Map<string, string>; help: Map<string, string> } {
  const samples: Sample[] = [];
  const types = new Map<string, string>();
  const help = new Map<string, string>();
  for (const line of text.split("\n")) {
    if (line === "") continue;
    const meta = /^# (HELP|TYPE) (\S+) (.*)$/.exec(line);
    if (meta !== null) {
      (meta[1] === "TYPE" ? types : help).set(meta[2] ?? "", meta[3] ?? "");
      continue;
    }
    const sample = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)$/.exec(line);
    if (sample === null) throw new Error(`not a sample line: ${line}`);
    const labels: Record<string, string> = {};
    for (const [, key, raw] of (sample[2] ?? "").matchAll(/([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g)) {
      labels[key ?? ""] = (raw ?? "").replace(/\\(.)/g, (_, c: string) => (c === "n" ? "\n" : c));
    }
    const raw = sample[3] ?? "";
    const value = raw === "+Inf" ? Infinity : raw === "-Inf" ? -Infinity : Number(raw);
    samples.push({ name: sample[1] ?? "", labels, value });
  }
  return { samples, types, help };
}

/** The value of the sample `name` with exactly `labels`, or undefined when there is none. */
function valueOf(text: string, name: string, labels: Record<string, string> = {}): number | undefined {
  const wanted = JSON.stringify(Object.entries(labels).sort());
  return parse(text).samples.find((s) => s.name === name && JSON.stringify(Object.entries(s.labels).sort()) === wanted)?.value;
}

/** Every sample of `name` as `{labelValue: value}`, keyed by the `key` label. */
function byLabel(text: string, name: string, key: string): Record<string, number> {
  const out: Record<string, number> = {};
  for (const s of parse(text).samples) if (s.name === name) out[s.labels[key] ?? ""] = s.value;
  return out;
}

async function* from(events: readonly TraceeEvent[]): AsyncGenerator<TraceeEvent> {
  yield* events;
}

const servers: MetricsServer[] = [];
afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => s.close()));
});

/** serveMetrics on 127.0.0.1:0, closed after the test. */
async function serveLocal(metrics: Parameters<typeof serveMetrics>[1], address = "127.0.0.1:0"): Promise<MetricsServer> {
  const server = await serveMetrics(address, metrics);
  servers.push(server);
  return server;
}

const portOf = (url: string) => Number(new URL(url).port);

describe("prometheusMetrics with an engine", () => {
  it("counts per detector what the engine reports, and serves it over HTTP", async () => {
    const metrics = prometheusMetrics();
    const engine = new Engine({ metrics, timeoutMs: 500, maxPendingPerDetector: 1, maxChainDepth: 1 });
    const on = (id: string, input: string, onEvent: Detector["onEvent"]) =>
      defineDetector({ definition: { id, requirements: { events: [{ name: input }] }, producedEvent: { name: `${id}_out` } }, onEvent });

    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    engine.addDetector(on("good", "openat", () => detected()));
    engine.addDetector(
      on("thrower", "openat", () => {
        throw new Error("boom");
      }),
    );
    // Busy until the third openat was dispatched: the second waits, the third is dropped.
    engine.addDetector(
      on("gated", "openat", async () => {
        await gate;
        return detected();
      }),
    );
    engine.addDetector(on("stalled", "close", () => new Promise<never>(() => undefined)));
    // Reads good's outputs at depth 1: its own outputs would be depth 2, past the limit.
    engine.addDetector(on("chained", "good_out", () => detected()));

    let goodOut = 0;
    await engine.run(from([buildEvent("openat"), buildEvent("openat"), buildEvent("openat"), buildEvent("close")]), {
      outputs: [{ write: (e) => void (e.name === "good_out" && ++goodOut === 3 && release()) }],
    });

    const server = await serveLocal(metrics);
    expect(server.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/metrics$/);
    expect(portOf(server.url)).toBeGreaterThan(0);
    const response = await fetch(server.url);
    expect(response.status).toBe(200);
    expect(response.headers.get("content-type")).toBe(metrics.registry.contentType);
    const text = await response.text();

    const count = (metric: string) => byLabel(text, `tracee_ds_detector_${metric}`, "detector");
    expect(count("events_processed_total")).toEqual({ good: 3, thrower: 3, gated: 2, stalled: 1, chained: 3 });
    expect(count("outputs_total")).toEqual({ good: 3, thrower: 0, gated: 2, stalled: 0, chained: 3 });
    expect(count("errors_total")).toEqual({ good: 0, thrower: 3, gated: 0, stalled: 0, chained: 0 });
    expect(count("timeouts_total")).toEqual({ good: 0, thrower: 0, gated: 0, stalled: 1, chained: 0 });
    expect(count("events_dropped_total")).toEqual({ good: 0, thrower: 0, gated: 1, stalled: 0, chained: 0 });
    // Only calls that finished are timed; every series is there, empty or not.
    expect(count("duration_seconds_count")).toEqual({ good: 3, thrower: 0, gated: 2, stalled: 0, chained: 3 });
    expect(valueOf(text, "tracee_ds_detector_duration_seconds_bucket", { detector: "good", le: "+Inf" })).toBe(3);
    expect(valueOf(text, "tracee_ds_chain_depth_exceeded_total")).toBe(3);

    // The same counts as the engine's own.
    const stats = engine.stats();
    expect(stats.chainDepthExceeded).toBe(3);
    for (const [id, s] of Object.entries(stats.participants)) {
      expect([count("events_processed_total")[id], count("outputs_total")[id], count("errors_total")[id]]).toEqual([s.processed, s.produced, s.errors]);
      expect([count("timeouts_total")[id], count("events_dropped_total")[id]]).toEqual([s.timeouts, s.dropped]);
    }
  });

  it("names and describes its metrics the Prometheus way, under the prefix asked for", async () => {
    const registry = new Registry();
    const metrics = prometheusMetrics({ registry, prefix: "x_" });
    expect(metrics.registry).toBe(registry);
    metrics.eventProcessed("D");
    const { types, help } = parse(await registry.metrics());
    expect(Object.fromEntries(types)).toEqual({
      x_detector_events_processed_total: "counter",
      x_detector_outputs_total: "counter",
      x_detector_errors_total: "counter",
      x_detector_timeouts_total: "counter",
      x_detector_events_dropped_total: "counter",
      x_detector_duration_seconds: "histogram",
      x_chain_depth_exceeded_total: "counter",
      x_input_events_received_total: "counter",
      x_input_events_dropped_total: "counter",
      x_input_malformed_total: "counter",
      x_input_queue_depth: "gauge",
    });
    for (const [name, text] of help) expect(text, name).toMatch(/^[A-Z].{15,}\.$/);
    // A second set in the same registry needs another prefix.
    expect(() => prometheusMetrics({ registry, prefix: "x_" })).toThrow(/already been registered/);
    expect(() => prometheusMetrics({ registry, prefix: "y_" })).not.toThrow();
  });

  it("sorts durations into buckets from 1 µs to 5 s", async () => {
    const metrics = prometheusMetrics();
    for (const seconds of [0.000001, 0.000002, 0.0003, 0.004, 0.004, 2, 7]) metrics.duration("D", seconds);
    metrics.outputsProduced("D", 4);
    metrics.chainDepthExceeded(2);
    metrics.chainDepthExceeded(1);
    const text = await metrics.metrics();
    const buckets = parse(text).samples.filter((s) => s.name === "tracee_ds_detector_duration_seconds_bucket");
    expect(buckets.map((s) => [s.labels["le"], s.value])).toEqual([
      ["0.000001", 1],
      ["0.000005", 2],
      ["0.00001", 2],
      ["0.00005", 2],
      ["0.0001", 2],
      ["0.0005", 3],
      ["0.001", 3],
      ["0.005", 5],
      ["0.01", 5],
      ["0.05", 5],
      ["0.1", 5],
      ["0.5", 5],
      ["1", 5],
      ["5", 6],
      ["+Inf", 7],
    ]);
    expect(valueOf(text, "tracee_ds_detector_duration_seconds_count", { detector: "D" })).toBe(7);
    expect(valueOf(text, "tracee_ds_detector_duration_seconds_sum", { detector: "D" })).toBeCloseTo(9.008303, 9);
    expect(valueOf(text, "tracee_ds_detector_outputs_total", { detector: "D" })).toBe(4);
    expect(valueOf(text, "tracee_ds_detector_events_processed_total", { detector: "D" })).toBe(0);
    expect(valueOf(text, "tracee_ds_chain_depth_exceeded_total")).toBe(3);
  });

  it("escapes detector ids in labels", async () => {
    const metrics = prometheusMetrics();
    const id = 'odd "id"\\with\nstuff';
    metrics.error(id);
    expect(byLabel(await metrics.metrics(), "tracee_ds_detector_errors_total", "detector")).toEqual({ [id]: 1 });
  });
});

describe("observeInput", () => {
  it("reports what each input's stats() says at scrape time, by input name", async () => {
    const metrics = prometheusMetrics();
    let webhook = { received: 10, dropped: 2, malformed: 1, queued: 5 };
    metrics.observeInput("webhook", { stats: () => webhook });
    metrics.observeInput("stdin", { stats: () => ({ received: 7, dropped: 0, malformed: 3, queued: 0 }) });

    let text = await metrics.metrics();
    expect(byLabel(text, "tracee_ds_input_events_received_total", "input")).toEqual({ webhook: 10, stdin: 7 });
    expect(byLabel(text, "tracee_ds_input_events_dropped_total", "input")).toEqual({ webhook: 2, stdin: 0 });
    expect(byLabel(text, "tracee_ds_input_malformed_total", "input")).toEqual({ webhook: 1, stdin: 3 });
    expect(byLabel(text, "tracee_ds_input_queue_depth", "input")).toEqual({ webhook: 5, stdin: 0 });

    webhook = { received: 25, dropped: 4, malformed: 1, queued: 0 };
    metrics.observeInput("stdin", { stats: () => ({ received: 1, dropped: 0, malformed: 0, queued: 1 }) });
    text = await metrics.metrics();
    expect(byLabel(text, "tracee_ds_input_events_received_total", "input")).toEqual({ webhook: 25, stdin: 1 });
    expect(byLabel(text, "tracee_ds_input_queue_depth", "input")).toEqual({ webhook: 0, stdin: 1 });
    expect(() => metrics.observeInput("", { stats: () => webhook })).toThrow(TypeError);
  });

  it("reads a real input's counters", async () => {
    const metrics = prometheusMetrics();
    const lines = [encodeEventJson(buildEvent("openat")), "{not json", encodeEventJson(buildEvent("close")), ""].join("\n");
    const input = readEvents((async function* () {
      yield lines;
    })());
    metrics.observeInput("file", input);
    let events = 0;
    for await (const _ of input) events++;
    expect(events).toBe(2);
    const text = await metrics.metrics();
    expect(valueOf(text, "tracee_ds_input_events_received_total", { input: "file" })).toBe(2);
    expect(valueOf(text, "tracee_ds_input_malformed_total", { input: "file" })).toBe(1);
    expect(valueOf(text, "tracee_ds_input_queue_depth", { input: "file" })).toBe(0);
  });
});

describe("observeServer", () => {
  const limits = {
    maxStreamEntries: 1,
    maxStreamBytes: 2,
    maxServerBufferedBytes: 0,
    streamIdleTimeoutMs: 3,
    maxConcurrentStreams: 0,
    maxStreamsPerConnection: 4,
  };

  it("adds the grpc metrics from what the server's stats() says at scrape time", async () => {
    const metrics = prometheusMetrics();
    expect(await metrics.metrics()).not.toMatch(/grpc/);
    let stats = { openStreams: 2, bufferedBytes: 512, committedStreams: 9, failedStreams: 3, droppedStreams: 1, limitsExceeded: limits };
    metrics.observeServer({ stats: () => stats });
    let text = await metrics.metrics();
    expect(byLabel(text, "tracee_ds_grpc_write_streams_total", "result")).toEqual({ committed: 9, failed: 3, dropped: 1 });
    expect(byLabel(text, "tracee_ds_grpc_limit_refusals_total", "limit")).toEqual(limits);
    expect(valueOf(text, "tracee_ds_grpc_open_write_streams")).toBe(2);
    expect(valueOf(text, "tracee_ds_grpc_buffered_bytes")).toBe(512);

    stats = { ...stats, openStreams: 0, bufferedBytes: 0, committedStreams: 11 };
    text = await metrics.metrics();
    expect(valueOf(text, "tracee_ds_grpc_write_streams_total", { result: "committed" })).toBe(11);
    expect(valueOf(text, "tracee_ds_grpc_open_write_streams")).toBe(0);

    // Another server replaces the first.
    metrics.observeServer({ stats: () => ({ ...stats, committedStreams: 1 }) });
    text = await metrics.metrics();
    expect(valueOf(text, "tracee_ds_grpc_write_streams_total", { result: "committed" })).toBe(1);
  });

  it("counts a real data source server's write streams by outcome", async () => {
    const registry = new DataSourceRegistry().register(new RecordingDataSource());
    const server = await serve(registry, "tcp");
    const metrics = prometheusMetrics();
    metrics.observeServer(server);
    const client = clientFor(server);
    await client.writeStream([{ namespace: "test", id: "recorder", key: "a", value: 1 }]);
    await expect(client.writeStream([{ namespace: "test", id: "nope", key: "b", value: 2 }])).rejects.toThrow();
    await vi.waitFor(() => expect(server.stats().openStreams).toBe(0));
    const text = await metrics.metrics();
    expect(byLabel(text, "tracee_ds_grpc_write_streams_total", "result")).toEqual({ committed: 1, failed: 1, dropped: 0 });
    expect(valueOf(text, "tracee_ds_grpc_open_write_streams")).toBe(0);
  });
});

describe("serveMetrics", () => {
  /** Sends `method path` to `url`'s server; the status, headers and body. */
  function send(url: string, method: string, path: string): Promise<{ status: number; headers: Record<string, unknown>; body: string }> {
    return new Promise((resolve, reject) => {
      const req = request(new URL(path, url), { method, agent: false }, (res) => {
        let body = "";
        res.setEncoding("utf8");
        res.on("data", (chunk: string) => (body += chunk));
        res.on("end", () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }));
      });
      req.on("error", reject);
      req.end();
    });
  }

  it("answers GET and HEAD /metrics, 404 elsewhere, 405 for other methods", async () => {
    const metrics = prometheusMetrics();
    metrics.eventProcessed("D");
    const { url } = await serveLocal(metrics);

    const got = await send(url, "GET", "/metrics?name[]=x");
    expect(got.status).toBe(200);
    expect(got.body).toBe(await metrics.metrics());
    expect(valueOf(got.body, "tracee_ds_detector_events_processed_total", { detector: "D" })).toBe(1);
    expect(await send(url, "HEAD", "/metrics")).toMatchObject({ status: 200, body: "" });

    for (const path of ["/", "/metric", "/metrics/", "/other"]) {
      expect(await send(url, "GET", path), path).toMatchObject({ status: 404 });
    }
    for (const method of ["POST", "PUT", "DELETE"]) {
      const res = await send(url, method, "/metrics");
      expect(res, method).toMatchObject({ status: 405, headers: { allow: "GET, HEAD" } });
    }
  });

  it("answers 500 with the reason when collecting fails", async () => {
    const metrics = prometheusMetrics();
    metrics.observeInput("broken", {
      stats: () => {
        throw new Error("stats unavailable");
      },
    });
    const { url } = await serveLocal(metrics);
    expect(await send(url, "GET", "/metrics")).toMatchObject({ status: 500, body: "collecting the metrics failed: stats unavailable\n" });
  });

  it("refuses an address that is not HOST:PORT", async () => {
    const metrics = prometheusMetrics();
    for (const address of ["", "localhost", "9464", ":9464", "127.0.0.1:", "127.0.0.1:70000", "unix:///tmp/m.sock", "http://127.0.0.1:80"]) {
      await expect(serveMetrics(address, metrics), address).rejects.toThrow(/^metrics (address must be "HOST:PORT"|port out of range)/);
    }
  });

  it("names a port in use and a host that is not local", async () => {
    const metrics = prometheusMetrics();
    const first = await serveLocal(metrics);
    const taken = `127.0.0.1:${portOf(first.url)}`;
    const err = await serveMetrics(taken, metrics).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(Error);
    expect((err as Error).message).toBe(`cannot serve metrics on ${taken}: the port is in use`);
    expect(((err as Error).cause as NodeJS.ErrnoException).code).toBe("EADDRINUSE");
    // 192.0.2.0/24 is reserved for documentation: never an address of this machine.
    await expect(serveMetrics("192.0.2.1:0", metrics)).rejects.toThrow("cannot serve metrics on 192.0.2.1:0: 192.0.2.1 is not an address of this machine");
  });

  it("close() frees the port and ends open connections, idle or mid-request", async () => {
    const metrics = prometheusMetrics();
    const server = await serveMetrics("127.0.0.1:0", metrics);
    const port = portOf(server.url);

    // One connection kept alive after a request, one with a request half sent:
    // close() must not wait for either to time out.
    const idle = connect(port, "127.0.0.1");
    const busy = connect(port, "127.0.0.1");
    const closed = (socket: typeof idle) => new Promise<void>((resolve) => socket.on("close", () => resolve()));
    const idleClosed = closed(idle);
    const busyClosed = closed(busy);
    let answered = "";
    await new Promise<void>((resolve) => {
      idle.on("data", (chunk: Buffer) => {
        answered += chunk.toString();
        if (answered.includes("tracee_ds_chain_depth_exceeded_total 0")) resolve();
      });
      idle.write("GET /metrics HTTP/1.1\r\nHost: x\r\nConnection: keep-alive\r\n\r\n");
    });
    busy.on("error", () => undefined);
    await new Promise<void>((resolve) => busy.write("GET /metrics HTTP/1.1\r\nHost: x\r\n", () => resolve()));
    expect(answered).toMatch(/^HTTP\/1\.1 200 OK\r\n/);

    const closing = server.close();
    expect(server.close()).toBe(closing);
    await closing;
    await Promise.all([idleClosed, busyClosed]);
    await expect(fetch(server.url)).rejects.toThrow();

    // The same port can be bound again.
    const again = await serveLocal(metrics, `127.0.0.1:${port}`);
    expect(portOf(again.url)).toBe(port);
  });
});
