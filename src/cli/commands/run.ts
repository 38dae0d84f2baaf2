import { resolve } from "node:path";
import { parseArgs } from "node:util";
import { isWritable } from "../../detect/data-source.js";
import type { Logger } from "../../detect/signature.js";
import {
  Engine,
  type EventOutput,
  isEngineRegistrationError,
  isOutputSpecError,
  openOutput,
  type OutputSpec,
  type ParticipantInfo,
  parseOutputSpec,
} from "../../engine/index.js";
import { serveMetrics } from "../../engine/metrics-server.js";
import { prometheusMetrics } from "../../engine/prometheus.js";
import { builtinDataSources } from "../../engine/builtins/index.js";
import { type EventInput, type EventLineError, isEventLineError, isStreamEventsError, type OverflowPolicy, TRACEE_EVENTS_ADDRESS } from "../../events/index.js";
import { serveDataSources } from "../../grpc/index.js";
import { type DetectorConfigs, loadDetectorConfigs } from "../detector-config.js";
import { type DetectionModules, loadDetectionModules } from "../detectors-module.js";
import { parseDuration } from "../duration.js";
import { EXIT_OK, EXIT_REFUSED, UsageError } from "../errors.js";
import { GRPC_HINT, openInput, parseInput } from "../inputs.js";
import { type CliIo, println } from "../io.js";
import { lineLogger, parseLogLevel } from "../logger.js";
import { type FileWatch, watchFiles } from "../watch.js";
import { checkAddress, oneOf, positiveInteger } from "./shared.js";

/** Events waiting between the input and the engine, by default. */
export const RUN_QUEUE_CAPACITY = 4096;

export const RUN_HELP = `Usage: tracee-ds run --detectors PATH [options]

Runs TypeScript detectors and Tracee signatures on Tracee's events, beside a
running Tracee: reads its events (gRPC, NDJSON or webhook), dispatches them
by Tracee's rules, and writes the detections as Tracee would. Stops at the end
of the input or on SIGINT/SIGTERM: queued work finishes, signatures get their
end signal, detectors are closed, outputs flushed, and the exit status is 0.

Options:
  --detectors PATH   a module (.ts .mts .cts .js .mjs .cjs), or a directory (its index
                     module, else every module in it), exporting detectors, signatures,
                     data sources and writable datastores (repeatable)
  --input SOURCE     where events come from (default grpc:${TRACEE_EVENTS_ADDRESS}):
                       grpc:ADDR | json:PATH | json:- | webhook:[HOST:]PORT[/PATH]
  --policy NAME      grpc: only events of this Tracee policy (repeatable)
  --reconnect        grpc: when Tracee stops or cannot be reached, retry with backoff
  --output SPEC      where detections go (repeatable; default json):
                       json | json:PATH    Tracee's JSON lines, to standard output or a file
                       table | table:PATH  one readable line per event
                       webhook:URL         one POST per event, like Tracee's webhook
  --output-all       also write every input event, before its detections
  --config FILE      each detector's settings, YAML or JSON: detectors: { ID: { ... } }
  --serve ADDR       serve the data sources (DataSourceService) and the datastores
                     (DataStoreService) on ADDR while running
                     (unix:///path or host:port), so tracee-ds write can change them
  --metrics ADDR     serve Prometheus metrics at http://ADDR/metrics (HOST:PORT)
  --watch            reload the detectors and the config when their files change;
                     a reload that fails keeps the running set
  --list             print the detectors, signatures, data sources and datastores,
                     what they need from Tracee, and exit
  --timeout D        longest wait for one async onEvent (default 5s)
  --detector-queue N events one busy async detector may have waiting (default 1024);
                     more are dropped for it, counted
  --queue N          events waiting between the input and the engine (default ${RUN_QUEUE_CAPACITY})
  --overflow P       when that queue is full: block (default; holds the input back),
                     drop-newest or drop-oldest (counted)
  --malformed M      json/webhook: skip (default; counted) or fail at the first bad line
  --log-level L      debug, info (default), warn or error; logs go to standard error
  -h, --help         show this help

Exit status: 0 the input ended or a signal stopped the run; 1 a detector
cannot run, or the input failed; 2 usage error.

Examples:
  tracee-ds run --detectors ./detectors.ts --policy default
  tracee-ds run --detectors ./detectors --input json:events.ndjson --output table
  tracee-ds run --detectors ./detectors.mjs --serve unix:///tmp/ds.sock --watch`;

const OVERFLOW = ["block", "drop-newest", "drop-oldest"] as const;

/** `--metrics HOST:PORT`. */
function checkMetricsAddress(text: string): string {
  if (!/^(\[[0-9A-Fa-f:.]+\]|[^:[\]/\s]+):\d{1,5}$/.test(text)) throw new UsageError(`--metrics: expected HOST:PORT, got ${JSON.stringify(text)}`);
  return text;
}

/** The output specs, paths resolved against the working directory. */
function outputSpecs(specs: readonly string[], cwd: string): OutputSpec[] {
  return (specs.length === 0 ? ["json"] : specs).map((text) => {
    try {
      const spec = parseOutputSpec(text);
      return spec.kind !== "webhook" && spec.path !== undefined ? { ...spec, path: resolve(cwd, spec.path) } : spec;
    } catch (err) {
      throw new UsageError(`--output: ${(err as Error).message}`);
    }
  });
}

/** `--list`: what runs, and what to select in Tracee's policy for it. */
function printList(io: CliIo, participants: readonly ParticipantInfo[], modules: DetectionModules, builtins: ReturnType<typeof builtinDataSources>): void {
  const events = new Set<string>();
  const produced = new Set(participants.flatMap((p) => p.produces));
  for (const p of participants) {
    println(io.stdout, `${p.kind} ${p.id} -> ${p.produces.join(", ")}`);
    println(io.stdout, `  events: ${p.events === "*" ? "* (every event)" : p.events.join(", ")}`);
    if (p.dataSources.length > 0) println(io.stdout, `  data sources: ${p.dataSources.join(", ")}`);
    if (p.dataStores !== undefined) println(io.stdout, `  datastores: ${p.dataStores.join(", ")}`);
    if (p.events !== "*") for (const name of p.events) if (!produced.has(name)) events.add(name);
  }
  for (const ds of modules.dataSources) {
    println(io.stdout, `data source ${ds.namespace()}/${ds.id()} v${ds.version()}${isWritable(ds) ? " (writable)" : ""}`);
  }
  for (const store of modules.dataStores) {
    println(io.stdout, `datastore ${store.name} (key ${store.keyType.typeName}, data ${store.dataType.typeName})`);
  }
  for (const ds of builtins.all) println(io.stdout, `built-in data source ${ds.namespace()}/${ds.id()} (learns from: ${ds.events.join(", ")})`);
  println(io.stdout, `select in Tracee's policy: ${[...events].sort().join(", ") || "(every event)"}`);
}

const plural = (n: number, one: string, many = `${one}s`) => `${n} ${n === 1 ? one : many}`;

/** `tracee-ds run`. @internal */
export async function runCommand(args: string[], io: CliIo): Promise<number> {
  const { values } = parseArgs({
    args,
    options: {
      detectors: { type: "string", multiple: true },
      input: { type: "string" },
      policy: { type: "string", multiple: true },
      reconnect: { type: "boolean" },
      output: { type: "string", multiple: true },
      "output-all": { type: "boolean" },
      config: { type: "string" },
      serve: { type: "string" },
      metrics: { type: "string" },
      watch: { type: "boolean" },
      list: { type: "boolean" },
      timeout: { type: "string" },
      "detector-queue": { type: "string" },
      queue: { type: "string" },
      overflow: { type: "string" },
      malformed: { type: "string" },
      "log-level": { type: "string" },
      help: { type: "boolean", short: "h" },
    },
    strict: true,
    allowPositionals: false,
  });
  if (values.help === true) {
    io.stdout.write(`${RUN_HELP}\n`);
    return EXIT_OK;
  }
  const paths = values.detectors ?? [];
  if (paths.length === 0) throw new UsageError("--detectors is required: a module or directory exporting detectors or signatures");
  const spec = parseInput(values.input ?? `grpc:${TRACEE_EVENTS_ADDRESS}`);
  if (spec.kind !== "grpc" && (values.policy !== undefined || values.reconnect === true)) {
    throw new UsageError(`--policy and --reconnect are for the grpc input, not a ${spec.kind} input`);
  }
  const outputs = outputSpecs(values.output ?? [], io.cwd);
  const serveAddress = values.serve === undefined ? undefined : checkAddress(values.serve);
  const metricsAddress = values.metrics === undefined ? undefined : checkMetricsAddress(values.metrics);
  const timeoutMs = values.timeout === undefined ? 5000 : parseDuration("timeout", values.timeout);
  const maxPendingPerDetector = positiveInteger("detector-queue", values["detector-queue"], 1024);
  const queue = {
    capacity: positiveInteger("queue", values.queue, RUN_QUEUE_CAPACITY),
    overflow: oneOf("overflow", values.overflow, OVERFLOW, "block") as OverflowPolicy,
  };
  const malformed = oneOf("malformed", values.malformed, ["skip", "fail"] as const, "skip");
  const logger: Logger = lineLogger(io.stderr, parseLogLevel(values["log-level"]));
  const configPath = values.config === undefined ? undefined : resolve(io.cwd, values.config);

  let modules = await loadDetectionModules(paths, io.cwd);
  if (modules.detectors.length === 0 && modules.signatures.length === 0) {
    throw new UsageError(`--detectors: ${paths.join(", ")} export no detector or signature`);
  }
  let configs: DetectorConfigs = configPath === undefined ? {} : loadDetectorConfigs(configPath);

  const metrics = metricsAddress === undefined ? undefined : prometheusMetrics();
  const builtins = builtinDataSources();
  const engine = new Engine({
    logger,
    timeoutMs,
    maxPendingPerDetector,
    streamDataSources: builtins.all,
    ...(metrics === undefined ? {} : { metrics }),
  });
  for (const ds of modules.dataSources) {
    try {
      engine.addDataSource(ds);
    } catch (err) {
      throw new UsageError(`--detectors: ${(err as Error).message}`);
    }
  }
  for (const store of modules.dataStores) {
    try {
      engine.addDataStore(store);
    } catch (err) {
      throw new UsageError(`--detectors: ${(err as Error).message}`);
    }
  }
  const warnUnconfigured = (set: DetectionModules, given: DetectorConfigs) => {
    const ids = new Set(set.detectors.map((d) => d.definition.id));
    for (const id of Object.keys(given)) if (!ids.has(id)) logger.warn("--config has settings for a detector that is not loaded", "detector", id);
  };
  try {
    for (const detector of modules.detectors) engine.addDetector(detector, { config: configs[detector.definition.id] ?? {} });
    for (const signature of modules.signatures) engine.addSignature(signature);
  } catch (err) {
    if (!isEngineRegistrationError(err)) throw err;
    println(io.stderr, `tracee-ds run: ${err.message}`);
    return EXIT_REFUSED;
  }
  warnUnconfigured(modules, configs);
  if (values.list === true) {
    printList(io, engine.list(), modules, builtins);
    return EXIT_OK;
  }

  try {
    await engine.start();
  } catch (err) {
    if (!isEngineRegistrationError(err)) throw err;
    println(io.stderr, `tracee-ds run: ${err.message}`);
    return EXIT_REFUSED;
  }

  // From here on, everything opened is closed on the way out.
  const stop = new AbortController();
  let stopReason: string | undefined;
  void io.waitForStop().then((signal) => {
    stopReason ??= signal;
    logger.info("stopping: finishing queued work", "signal", signal);
    stop.abort();
  });

  const closers: (() => Promise<unknown>)[] = [];
  let opened: EventOutput[] = [];
  let input: EventInput | undefined;
  let watcher: FileWatch | undefined;
  let firstMalformed: EventLineError | undefined;
  try {
    try {
      opened = outputs.map((o) =>
        openOutput(o, { stdout: io.stdout, onError: (error) => logger.error("an output failed to deliver", "output", o.kind, "error", error) }),
      );
    } catch (err) {
      if (isOutputSpecError(err)) throw new UsageError(`--output: ${err.message}`);
      throw err;
    }
    for (const output of opened) closers.push(() => output.close());

    if (serveAddress !== undefined) {
      // The engine's store registry, looked up per call: stores a detector registers later are served too.
      const server = await serveDataSources(engine.dataSources, { address: serveAddress, logger, dataStores: engine.dataStores });
      closers.push(() => server.close({ graceMs: 2000 }));
      metrics?.observeServer(server);
      logger.info(
        "serving data sources and datastores",
        "address",
        server.address,
        "data_sources",
        engine.dataSources.list().map((ds) => `${ds.namespace()}/${ds.id()}`),
        "datastores",
        engine.dataStores.names(),
      );
    }
    if (metrics !== undefined && metricsAddress !== undefined) {
      const server = await serveMetrics(metricsAddress, metrics);
      closers.push(() => server.close());
      logger.info("serving metrics", "url", server.url);
    }

    if (values.watch === true) {
      const reload = async () => {
        let next: DetectionModules;
        let nextConfigs: DetectorConfigs;
        try {
          next = await loadDetectionModules(paths, io.cwd, modules);
          nextConfigs = configPath === undefined ? {} : loadDetectorConfigs(configPath);
        } catch (err) {
          logger.error("reload failed; the running detectors stay", "error", (err as Error).message);
          return;
        }
        for (const ds of next.dataSources) {
          // A data source already registered keeps its object, and with it its contents.
          if (!engine.dataSources.has(ds.namespace(), ds.id())) engine.addDataSource(ds);
        }
        for (const store of next.dataStores) {
          // Likewise a datastore: the one registered keeps serving, with its entries.
          if (engine.dataStores.has(store.name)) continue;
          try {
            engine.addDataStore(store);
          } catch (err) {
            logger.error("reload failed; the running detectors stay", "error", (err as Error).message);
            return;
          }
        }
        try {
          const summary = await engine.reload({ detectors: next.detectors, signatures: next.signatures, config: nextConfigs });
          modules = next;
          configs = nextConfigs;
          warnUnconfigured(modules, configs);
          watcher?.update([...modules.files, ...(configPath === undefined ? [] : [configPath])]);
          logger.info("reloaded", "detectors", summary.participants.map((p) => p.id), "restored", summary.restored);
        } catch (err) {
          logger.error("reload refused; the running detectors stay", "error", (err as Error).message);
        }
      };
      watcher = watchFiles([...modules.files, ...(configPath === undefined ? [] : [configPath])], reload, (err) =>
        logger.warn("watching files failed", "error", err.message),
      );
      logger.info("watching for changes", "files", modules.files.length + (configPath === undefined ? 0 : 1));
    }

    input = await openInput(spec, {
      io,
      policies: values.policy ?? [],
      reconnect: values.reconnect === true,
      queue,
      onMalformed:
        malformed === "fail"
          ? "throw"
          : (err) => {
              firstMalformed ??= err;
            },
    });
    metrics?.observeInput(spec.kind, input);
    logger.info("running", "detectors", engine.list().length, "input", values.input ?? `grpc:${TRACEE_EVENTS_ADDRESS}`);

    const stats = await engine.run(input, { outputs: opened, outputAll: values["output-all"] === true, signal: stop.signal });
    const received = input.stats();
    if (received.malformed > 0) {
      const where = firstMalformed === undefined ? "" : ` (the first at line ${firstMalformed.line}: ${firstMalformed.reason})`;
      logger.warn("skipped input that was not an event", "count", received.malformed, "first", where.trim() || undefined);
    }
    const totals = Object.values(stats.participants).reduce(
      (t, p) => ({ errors: t.errors + p.errors, timeouts: t.timeouts + p.timeouts, dropped: t.dropped + p.dropped }),
      { errors: 0, timeouts: 0, dropped: 0 },
    );
    for (const [id, p] of Object.entries(stats.participants)) {
      if (p.errors + p.timeouts + p.dropped > 0) logger.warn("detector trouble", "detector", id, "errors", p.errors, "timeouts", p.timeouts, "dropped", p.dropped);
    }
    const reason = stopReason ?? (spec.kind === "grpc" ? "Tracee ended the stream" : "end of input");
    println(
      io.stderr,
      `${reason}: ${plural(stats.events, "event")} (input dropped ${received.dropped}), ${plural(stats.written, "event")} written; ` +
        `detector errors ${totals.errors}, timeouts ${totals.timeouts}, dropped ${totals.dropped}, chain depth exceeded ${stats.chainDepthExceeded}`,
    );
    return EXIT_OK;
  } catch (err) {
    if (isEventLineError(err)) {
      println(io.stderr, `tracee-ds run: ${spec.kind === "json" ? spec.path : "webhook"}:${err.line}: not an event: ${err.reason} (--malformed fail)`);
      return EXIT_REFUSED;
    }
    if (isStreamEventsError(err)) {
      println(io.stderr, `tracee-ds run: ${err.message}`);
      if (err.errno === "ENOENT" || err.errno === "ECONNREFUSED") println(io.stderr, GRPC_HINT);
      return EXIT_REFUSED;
    }
    throw err;
  } finally {
    watcher?.close();
    await input?.close();
    for (const close of closers.reverse()) await close().catch((err: unknown) => logger.warn("closing failed", "error", err));
  }
}
