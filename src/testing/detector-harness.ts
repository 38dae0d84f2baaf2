/**
 * DetectorHarness: unit-test detectors in the real {@link Engine}, one event
 * at a time, with state kept between feeds.
 *
 * @module
 */
import type { DataSource } from "../detect/data-source.js";
import { DataSourceRegistry } from "../detect/registry.js";
import { DataStoreRegistry } from "../datastores/registry.js";
import type { DataStore } from "../datastores/store.js";
import type { Logger } from "../detect/signature.js";
import { Engine, type EngineOptions } from "../engine/engine.js";
import type { EngineStats } from "../engine/metrics.js";
import type { Detector } from "../engine/types.js";
import { encodeEventJson } from "../events/json/encode.js";
import type { TraceeEvent } from "../events/model.js";
import type { LogLevel, LogLine } from "./context.js";

/** Options shared by both forms of {@link DetectorHarness.create}. */
export interface DetectorHarnessBaseOptions {
  /**
   * The data sources detectors can read: a list registered into a new
   * registry, or a registry used as it is. The engine's built-in data
   * sources (`tracee/process_tree`, …) are added unless given.
   */
  readonly dataSources?: Iterable<DataSource> | DataSourceRegistry;
  /**
   * The datastores detectors can read (`params.dataStores`): a list
   * registered into a new registry (e.g. a seeded `fakeDataStore`), or a
   * registry used as it is. `engine.dataStores` either way; stores the
   * detectors register land there too.
   */
  readonly dataStores?: Iterable<DataStore> | DataStoreRegistry;
  /** Also receives every log line (they are captured in `logs` either way), e.g. `console`. */
  readonly logger?: Logger;
  /**
   * Engine options (`timeoutMs`, `maxChainDepth`, `streamDataSources`, …).
   * `metrics` is forwarded to, besides the harness's own bookkeeping.
   */
  readonly engine?: Omit<EngineOptions, "logger" | "dataSources" | "dataStores">;
}

/** Options of {@link DetectorHarness.create} for one detector. */
export interface DetectorHarnessOptions extends DetectorHarnessBaseOptions {
  /** The detector's configuration (what `params.config` reads in `init`). */
  readonly config?: Readonly<Record<string, unknown>>;
}

/** Options of {@link DetectorHarness.create} for several detectors. */
export interface MultiDetectorHarnessOptions extends DetectorHarnessBaseOptions {
  /** Per detector id, its configuration. */
  readonly config?: Readonly<Record<string, Readonly<Record<string, unknown>>>>;
}

/**
 * Runs detectors in a real {@link Engine}, for unit tests: registration,
 * `init`, dispatch with filters, chaining, auto-population and `close` are
 * the engine's own, so a test sees the events Tracee would print.
 *
 * One `engine.run` lasts from `create` to `close`, over an input the harness
 * feeds: detector state carries over from one `feed` to the next, and
 * `close` ends the input, so the engine drains and closes every detector.
 * `feed` resolves once the engine has handled its events and everything
 * they caused (async `onEvent`s, outputs chained to other detectors) is
 * written, and returns just those outputs. Feeds run one after another, in
 * call order.
 *
 * A detector that throws, rejects or times out does not fail `feed`: the
 * engine logs and counts it, as it does in production. Look at
 * `stats().participants[id]` and `logs`.
 *
 * @example
 * ```ts
 * const h = await DetectorHarness.create(antiDebugging);
 * const [line] = await h.json(buildEvent("ptrace", { data: { request: 0n } }));
 * await h.close();
 * ```
 */
export class DetectorHarness {
  /** The engine the detectors run in (its `dataSources` and `dataStores` are the ones detectors read). */
  readonly engine: Engine;
  /** Every line the engine and the detectors logged, oldest first (a live array). */
  readonly logs: LogLine[];
  /** Every output event written so far, oldest first (a live array). */
  readonly outputs: TraceeEvent[] = [];

  readonly #input: FeedInput;
  readonly #idle: IdleTracker;
  #run: Promise<EngineStats> | undefined;
  #runError: { readonly error: unknown } | undefined;
  #closed = false;
  #tail: Promise<unknown> = Promise.resolve();

  private constructor(engine: Engine, logs: LogLine[], input: FeedInput, idle: IdleTracker) {
    this.engine = engine;
    this.logs = logs;
    this.#input = input;
    this.#idle = idle;
  }

  /**
   * Registers `detectors` (one, or several: then `config` is per detector
   * id) in a new engine, initializes them and starts the run. Rejects with
   * the engine's `EngineRegistrationError` when registration or an `init`
   * fails.
   */
  static create(detector: Detector, options?: DetectorHarnessOptions): Promise<DetectorHarness>;
  static create(detectors: readonly Detector[], options?: MultiDetectorHarnessOptions): Promise<DetectorHarness>;
  static async create(
    detectors: Detector | readonly Detector[],
    options: DetectorHarnessOptions | MultiDetectorHarnessOptions = {},
  ): Promise<DetectorHarness> {
    const logs: LogLine[] = [];
    const input = new FeedInput();
    const registry = toRegistry(options.dataSources);
    const engine = new Engine({
      ...options.engine,
      logger: capturingLogger(logs, options.logger),
      dataSources: registry,
      dataStores: toStoreRegistry(options.dataStores),
    });
    const idle = new IdleTracker(input, () => engine);
    if (isDetectorList(detectors)) {
      const configs = (options as MultiDetectorHarnessOptions).config ?? {};
      for (const detector of detectors) {
        const config = Object.hasOwn(configs, detector.definition.id) ? configs[detector.definition.id] : undefined;
        engine.addDetector(detector, config === undefined ? {} : { config });
      }
    } else {
      const config = (options as DetectorHarnessOptions).config;
      engine.addDetector(detectors, config === undefined ? {} : { config });
    }
    await engine.start();
    const harness = new DetectorHarness(engine, logs, input, idle);
    harness.#start();
    return harness;
  }

  #start(): void {
    const collect = { write: (event: TraceeEvent) => void this.outputs.push(event) };
    this.#run = this.engine.run(this.#input, { outputs: [collect] });
    this.#run.catch((error: unknown) => {
      this.#runError = { error };
      this.#idle.fail(error);
    });
  }

  /**
   * Feeds `events` to the engine, in order, and resolves to the output
   * events they caused (all detectors, every chain level), in the order
   * the engine wrote them. Rejects after `close()`.
   */
  feed(...events: TraceeEvent[]): Promise<TraceeEvent[]> {
    return this.#serial(async () => {
      if (this.#closed) throw new Error("DetectorHarness: feed after close()");
      if (this.#runError !== undefined) throw this.#runError.error;
      const before = this.outputs.length;
      for (const event of events) this.#input.push(event);
      await this.#idle.settled();
      return this.outputs.slice(before);
    });
  }

  /** {@link DetectorHarness.feed}, with each output as the JSON line Tracee prints (`encodeEventJson`). */
  async json(...events: TraceeEvent[]): Promise<string[]> {
    return (await this.feed(...events)).map(encodeEventJson);
  }

  /** What the engine counted so far. */
  stats(): EngineStats {
    return this.engine.stats();
  }

  /**
   * Ends the input: the engine finishes what it has, gives signatures their
   * end signal and closes every detector. Resolves to the final stats.
   * Later calls resolve the same way.
   */
  close(): Promise<EngineStats> {
    return this.#serial(async () => {
      if (!this.#closed) {
        this.#closed = true;
        this.#input.end();
      }
      return (await this.#run) ?? this.engine.stats();
    });
  }

  #serial<T>(fn: () => Promise<T>): Promise<T> {
    const run = this.#tail.then(fn);
    this.#tail = run.catch(() => undefined);
    return run;
  }
}

/**
 * The engine's input: an async iterable the harness pushes into. It knows
 * whether the engine is parked on it, waiting for the next event, which
 * happens only once the engine handled every event pushed before.
 */
class FeedInput implements AsyncIterable<TraceeEvent>, AsyncIterator<TraceeEvent> {
  readonly #queue: TraceeEvent[] = [];
  #waiter: ((result: IteratorResult<TraceeEvent>) => void) | undefined;
  #ended = false;
  /** Called each time the engine parks on the empty input. */
  onPark: () => void = () => undefined;

  [Symbol.asyncIterator](): AsyncIterator<TraceeEvent> {
    return this;
  }

  /** Whether the engine is waiting on this input with nothing left to take. */
  get parked(): boolean {
    return this.#waiter !== undefined;
  }

  push(event: TraceeEvent): void {
    const waiter = this.#waiter;
    if (waiter === undefined) {
      this.#queue.push(event);
      return;
    }
    this.#waiter = undefined;
    waiter({ done: false, value: event });
  }

  end(): void {
    this.#ended = true;
    const waiter = this.#waiter;
    this.#waiter = undefined;
    waiter?.({ done: true, value: undefined });
  }

  next(): Promise<IteratorResult<TraceeEvent>> {
    const event = this.#queue.shift();
    if (event !== undefined) return Promise.resolve({ done: false, value: event });
    if (this.#ended) return Promise.resolve({ done: true, value: undefined });
    const result = new Promise<IteratorResult<TraceeEvent>>((resolve) => {
      this.#waiter = resolve;
    });
    this.onPark();
    return result;
  }

  return(): Promise<IteratorResult<TraceeEvent>> {
    this.end();
    return Promise.resolve({ done: true, value: undefined });
  }
}

/**
 * Tells when a feed is done: the engine parked on the empty input (so it
 * took every event pushed, and handled each one's synchronous part), then
 * `engine.idle()` (async calls, queued events, chained outputs, writes).
 */
class IdleTracker {
  #parked: (() => void) | undefined;
  #failure: { readonly error: unknown } | undefined;
  #onFail: ((error: unknown) => void) | undefined;

  constructor(
    readonly input: FeedInput,
    readonly engine: () => Engine,
  ) {
    input.onPark = () => {
      const parked = this.#parked;
      this.#parked = undefined;
      parked?.();
    };
  }

  /** Resolves once the engine is idle; rejects if the run failed. */
  async settled(): Promise<void> {
    if (this.#failure !== undefined) throw this.#failure.error;
    const failed = new Promise<never>((_, reject) => {
      this.#onFail = reject;
    });
    failed.catch(() => undefined);
    if (!this.input.parked) await Promise.race([new Promise<void>((resolve) => (this.#parked = resolve)), failed]);
    await Promise.race([this.engine().idle(), failed]);
  }

  /** The run failed: a waiting feed rejects with `error`, as later ones will. */
  fail(error: unknown): void {
    this.#failure = { error };
    this.#onFail?.(error);
  }
}

function capturingLogger(logs: LogLine[], forward: Logger | undefined): Logger {
  const line =
    (level: LogLevel) =>
    (msg: string, ...keyvals: unknown[]): void => {
      logs.push({ level, msg, keyvals });
      forward?.[level](msg, ...keyvals);
    };
  return { debug: line("debug"), info: line("info"), warn: line("warn"), error: line("error") };
}

function isDetectorList(value: Detector | readonly Detector[]): value is readonly Detector[] {
  return Array.isArray(value);
}

function toRegistry(dataSources: DetectorHarnessBaseOptions["dataSources"]): DataSourceRegistry {
  // Duck-typed, so a registry from the other (ESM/CJS) copy of the package works too.
  const candidate = dataSources as Partial<DataSourceRegistry> | undefined;
  if (typeof candidate?.register === "function" && typeof candidate.get === "function" && typeof candidate.has === "function") {
    return dataSources as DataSourceRegistry;
  }
  const registry = new DataSourceRegistry();
  for (const ds of (dataSources as Iterable<DataSource> | undefined) ?? []) registry.register(ds);
  return registry;
}

function toStoreRegistry(dataStores: DetectorHarnessBaseOptions["dataStores"]): DataStoreRegistry {
  // Duck-typed, as for data sources: a registry from the other copy of the package works too.
  const candidate = dataStores as Partial<DataStoreRegistry> | undefined;
  if (typeof candidate?.register === "function" && typeof candidate.get === "function" && typeof candidate.names === "function") {
    return dataStores as DataStoreRegistry;
  }
  return new DataStoreRegistry((dataStores as Iterable<DataStore> | undefined) ?? []);
}
