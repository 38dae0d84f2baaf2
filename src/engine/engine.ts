/**
 * The detection engine: registers detectors, legacy signatures and data
 * sources, and runs an input of Tracee events through them with Tracee's
 * dispatch rules (see docs/detectors.md): by event name, filters before
 * `onEvent`, the input before its outputs, outputs breadth first to the
 * detectors that require them, at most `maxChainDepth` levels.
 *
 * Guarded where Tracee is not: a throw or rejection is logged and counted,
 * never fatal; an async `onEvent` gets `timeoutMs`; each detector works
 * through its own queue, so a slow or stalled async detector delays only its
 * own outputs (and drops, counted, what its queue cannot hold).
 *
 * @module
 */
import type { DataSource } from "../detect/data-source.js";
import { DataSourceRegistry, silentLogger } from "../detect/registry.js";
import type { Signature, Logger } from "../detect/signature.js";
import { EventId } from "../gen/tracee/v1beta1/event.js";
import type { TraceeEvent } from "../events/model.js";
import { hold, whenIdle } from "../internal/exclusive.js";
import { isThenable } from "../internal/promise.js";
import { createDetectorConfig } from "./config.js";
import { type AncestorInfo, DetectorParticipant, type EventFilter } from "./detector-participant.js";
import { type EngineMetrics, type EngineStats, StatsCollector } from "./metrics.js";
import type { Participant } from "./participant.js";
import type { Detector, DetectorLogger, EventRequirement, GetDataSourceFn } from "./types.js";

/** A data source kept up to date from the event stream (the built-in `process_tree`, `containers`, `dns`). */
export interface StreamDataSource extends DataSource {
  /** Called with every input event before it is dispatched. */
  observe(event: TraceeEvent): void;
  /** The event names it learns from, for `--list` and the docs. */
  readonly events: readonly string[];
  /** For the process tree: the process and its ancestors, up to `depth` levels. */
  ancestry?(entityId: number, depth: number): readonly AncestorInfo[] | undefined;
}

/** Where outputs go: `write` may return a promise to slow the engine down (backpressure). */
export interface EngineOutput {
  write(event: TraceeEvent): void | Promise<void>;
}

/** Options of {@link Engine}. */
export interface EngineOptions {
  /** Where the engine and detectors log (default: nowhere). `console` fits. */
  readonly logger?: Logger;
  /** Longest wait for an async `onEvent`, in ms (default 5000); then it counts as a timeout. */
  readonly timeoutMs?: number;
  /** Levels of detector outputs feeding other detectors (default 5, Tracee's). */
  readonly maxChainDepth?: number;
  /** Events that may wait for one busy async detector (default 1024); more are dropped for it, counted. */
  readonly maxPendingPerDetector?: number;
  /** The data source registry to use (default: a new one); `engine.dataSources` either way. */
  readonly dataSources?: DataSourceRegistry;
  /** Data sources kept up to date from the stream, registered with the rest. */
  readonly streamDataSources?: readonly StreamDataSource[];
  /** Compiles a requirement's data and scope filters; the engine's own by default. */
  readonly compileFilters?: (requirement: EventRequirement) => EventFilter | undefined;
  /** Also report to this (e.g. Prometheus metrics). */
  readonly metrics?: EngineMetrics;
}

/** Options of {@link Engine.addDetector}. */
export interface AddDetectorOptions {
  /** The detector's configuration, read through `params.config` in `init`. */
  readonly config?: Readonly<Record<string, unknown>>;
}

/** Options of {@link Engine.run}. */
export interface RunOptions {
  /** Where output events go (all of them get each event, in order). */
  readonly outputs: readonly EngineOutput[];
  /** Also write every input event, before its outputs (default: detections only). */
  readonly outputAll?: boolean;
}

/** One registered participant, for `--list`. */
export interface ParticipantInfo {
  readonly id: string;
  readonly kind: "detector" | "signature";
  /** Event names received (`"*"`: all). */
  readonly events: readonly string[] | "*";
  readonly produces: readonly string[];
}

const BRAND: unique symbol = Symbol.for("tracee-ds.EngineRegistrationError");

/** A detector or signature the engine cannot run, naming it and why. */
export class EngineRegistrationError extends Error {
  /** @internal */
  readonly [BRAND] = true;
  constructor(
    /** The detector's (or signature's) id. */
    readonly id: string,
    readonly reason: string,
    options?: ErrorOptions,
  ) {
    super(`${id}: ${reason}`, options);
    this.name = "EngineRegistrationError";
  }
}

/** Whether `value` is an {@link EngineRegistrationError} from any copy of this package. */
export function isEngineRegistrationError(value: unknown): value is EngineRegistrationError {
  return typeof value === "object" && value !== null && (value as { [BRAND]?: unknown })[BRAND] === true;
}

/** Tracee gives detector-produced events ids from 7500, in registration order. */
const FIRST_DETECTOR_EVENT_ID = 7500;
const KNOWN_EVENTS = new Set(Object.keys(EventId).filter((k) => Number.isNaN(Number(k))));

/** A participant waiting to be registered: how to build it once the whole set is known. */
interface Pending {
  readonly id: string;
  readonly build: (available: ReadonlySet<string>) => Participant;
  readonly requires: readonly { name: string; optional: boolean }[];
  readonly dataSources: readonly { namespace: string; id: string; optional: boolean }[];
  readonly produces: readonly string[];
  readonly kind: "detector" | "signature";
}

/** A participant's queue of events, while an async `onEvent` of its runs. */
interface Lane {
  busy: boolean;
  readonly waiting: { event: TraceeEvent; depth: number }[];
}

function detectorLogger(logger: Logger, id: string): DetectorLogger {
  const at = (level: keyof Logger) => (msg: string, ...keyvals: unknown[]) => logger[level](msg, "detector", id, ...keyvals);
  return {
    debugw: at("debug"),
    infow: at("info"),
    warnw: at("warn"),
    errorw: at("error"),
    debug: at("debug"),
    info: at("info"),
    warn: at("warn"),
    error: at("error"),
  };
}

/**
 * Runs TypeScript detectors and legacy signatures on Tracee's events.
 *
 * Register with `addDetector`, `addSignature` and `addDataSource` (also
 * `dataSources.register`), then `run(input, { outputs })`: the input (any
 * async iterable of events, such as `streamEvents()`) is read to its end;
 * `run` resolves once every output is written and every detector closed.
 * Requirements are checked when the run starts (the whole set is known
 * then): an unknown required event or a missing required data source is an
 * {@link EngineRegistrationError} naming the detector; optional ones are
 * skipped with a log line.
 *
 * @example
 * ```ts
 * const engine = new Engine({ logger: console });
 * engine.addDetector(antiDebugging);
 * await engine.run(streamEvents({ reconnect: true }), { outputs: [jsonOutput(process.stdout)] });
 * ```
 */
export class Engine {
  readonly dataSources: DataSourceRegistry;
  readonly #logger: Logger;
  readonly #timeoutMs: number;
  readonly #maxDepth: number;
  readonly #maxPending: number;
  readonly #compileFilters: (requirement: EventRequirement) => EventFilter | undefined;
  readonly #stats: StatsCollector;
  readonly #streamSources: readonly StreamDataSource[];
  readonly #pending: Pending[] = [];
  #participants: Participant[] = [];
  #byName = new Map<string, Participant[]>();
  #wildcard: Participant[] = [];
  readonly #lanes = new Map<Participant, Lane>();
  /** Data sources each participant reads: held while its async onEvent runs. */
  readonly #uses = new Map<Participant, DataSource[]>();
  #outputs: readonly EngineOutput[] = [];
  /** Writes and async work still in flight, awaited before the run ends. */
  readonly #inflight = new Set<Promise<unknown>>();
  #started = false;
  #running = false;

  constructor(options: EngineOptions = {}) {
    this.#logger = options.logger ?? silentLogger;
    this.#timeoutMs = options.timeoutMs ?? 5000;
    this.#maxDepth = options.maxChainDepth ?? 5;
    this.#maxPending = options.maxPendingPerDetector ?? 1024;
    this.#compileFilters = options.compileFilters ?? (() => undefined);
    this.#stats = new StatsCollector(options.metrics);
    this.dataSources = options.dataSources ?? new DataSourceRegistry();
    this.#streamSources = options.streamDataSources ?? [];
    for (const ds of this.#streamSources) {
      if (!this.dataSources.has(ds.namespace(), ds.id())) this.dataSources.register(ds);
    }
  }

  /** Registers a data source detectors can read (and `--serve` can write). */
  addDataSource(ds: DataSource): this {
    this.dataSources.register(ds);
    return this;
  }

  #checkNew(id: string, produces: readonly string[]): void {
    if (this.#started) throw new EngineRegistrationError(id, "the engine is already running; register before run()");
    if (typeof id !== "string" || id === "") throw new EngineRegistrationError(String(id), "needs a non-empty id");
    if (this.#pending.some((p) => p.id === id)) throw new EngineRegistrationError(id, "another detector or signature has this id");
    for (const name of produces) {
      const other = this.#pending.find((p) => p.produces.includes(name));
      if (other !== undefined) throw new EngineRegistrationError(id, `${other.id} already produces the event "${name}"`);
      if (KNOWN_EVENTS.has(name)) throw new EngineRegistrationError(id, `"${name}" is one of Tracee's own events; a detector must produce a new one`);
    }
  }

  /**
   * Registers a detector. Checks what can be checked alone (id, produced
   * event, filter syntax); the rest when the run starts.
   */
  addDetector(detector: Detector, options: AddDetectorOptions = {}): this {
    const definition = detector?.definition;
    const id = definition?.id ?? "(no id)";
    if (definition === undefined || typeof detector.onEvent !== "function") {
      throw new EngineRegistrationError(id, "a detector needs a definition and an onEvent function");
    }
    const produced = definition.producedEvent?.name;
    if (typeof produced !== "string" || produced === "") {
      throw new EngineRegistrationError(id, "definition.producedEvent.name is missing");
    }
    this.#checkNew(id, [produced]);
    for (const requirement of definition.requirements.events) {
      try {
        this.#compileFilters(requirement);
      } catch (err) {
        throw new EngineRegistrationError(id, `event "${requirement.name}": ${(err as Error).message}`, { cause: err });
      }
    }
    const index = this.#pending.filter((p) => p.kind === "detector").length;
    this.#pending.push({
      id,
      kind: "detector",
      produces: [produced],
      requires: definition.requirements.events.map((r) => ({ name: r.name, optional: r.dependency === "optional" })),
      dataSources: (definition.requirements.dataSources ?? []).map((d) => ({
        namespace: d.namespace,
        id: d.id,
        optional: d.dependency === "optional",
      })),
      build: (available) => {
        const eventNames = definition.requirements.events.map((r) => r.name).filter((name) => available.has(name));
        const participant: DetectorParticipant = new DetectorParticipant(
          detector,
          {
            eventId: FIRST_DETECTOR_EVENT_ID + index,
            compileFilters: this.#compileFilters,
            params: {
              logger: detectorLogger(this.#logger, id),
              getDataSource: this.#recordingLookup(() => participant),
              config: createDetectorConfig(options.config),
            },
            ancestry: (entityId, depth) => this.#ancestry(entityId, depth),
          },
          eventNames,
        );
        return participant;
      },
    });
    return this;
  }

  /**
   * Registers a legacy `Signature` (Tracee's older API), run through an
   * adapter with Tracee's selector rules and finding conversion.
   */
  addSignature(signature: Signature): this {
    const metadata = signature.getMetadata();
    this.#checkNew(metadata.id, [metadata.eventName]);
    const index = this.#pending.filter((p) => p.kind === "signature").length;
    this.#pending.push({
      id: metadata.id,
      kind: "signature",
      produces: [metadata.eventName],
      requires: [],
      dataSources: [],
      build: () => this.#adaptSignature(signature, 6000 + index),
    });
    return this;
  }

  /** Adapts a signature; replaced by the signature adapter module. @internal */
  #adaptSignature(signature: Signature, _eventId: number): Participant {
    throw new EngineRegistrationError(signature.getMetadata().id, "legacy signatures are not supported by this build");
  }

  #ancestry(entityId: number, depth: number): readonly AncestorInfo[] | undefined {
    for (const source of this.#streamSources) {
      if (source.ancestry !== undefined) return source.ancestry(entityId, depth);
    }
    return undefined;
  }

  /** A getDataSource that also remembers what it handed out, so the engine can hold those during async work. */
  #recordingLookup(participant: () => Participant): GetDataSourceFn {
    const registry = this.dataSources;
    const lookup = (namespaceOrRef: string | { namespace: string; id: string }, id?: string) => {
      const ds =
        typeof namespaceOrRef === "string" ? registry.get(namespaceOrRef, id ?? "") : registry.get(namespaceOrRef.namespace, namespaceOrRef.id);
      if (ds !== undefined) {
        const p = participant();
        const uses = this.#uses.get(p) ?? [];
        if (!uses.includes(ds)) uses.push(ds);
        this.#uses.set(p, uses);
      }
      return ds;
    };
    return lookup as GetDataSourceFn;
  }

  /** Every registered detector and signature, with what it receives and produces. */
  list(): ParticipantInfo[] {
    return this.#pending.map((p) => ({
      id: p.id,
      kind: p.kind,
      events: p.requires.map((r) => r.name),
      produces: p.produces,
    }));
  }

  /** What the engine counted so far. */
  stats(): EngineStats {
    return this.#stats.snapshot();
  }

  /**
   * Checks every requirement against the whole set and initializes the
   * participants, in registration order. Called by `run`; call it yourself
   * to fail early. Rejects with an {@link EngineRegistrationError}.
   */
  async start(): Promise<void> {
    if (this.#started) return;
    this.#started = true;
    const produced = new Set(this.#pending.flatMap((p) => p.produces));
    const available = new Set<string>([...KNOWN_EVENTS, ...produced]);
    const participants: Participant[] = [];
    for (const pending of this.#pending) {
      for (const requirement of pending.requires) {
        if (available.has(requirement.name)) continue;
        if (!requirement.optional) {
          throw new EngineRegistrationError(
            pending.id,
            `requires the event "${requirement.name}", which is neither one of Tracee's events nor produced by a registered detector`,
          );
        }
        this.#logger.info("optional event not available; the detector runs without it", "detector", pending.id, "event", requirement.name);
      }
      for (const ds of pending.dataSources) {
        if (this.dataSources.has(ds.namespace, ds.id)) continue;
        if (!ds.optional) {
          throw new EngineRegistrationError(pending.id, `requires the data source ${ds.namespace}/${ds.id}, which is not registered`);
        }
        this.#logger.info("optional data source not registered", "detector", pending.id, "namespace", ds.namespace, "id", ds.id);
      }
      const participant = pending.build(available);
      for (const ds of pending.dataSources) {
        const found = this.dataSources.get(ds.namespace, ds.id);
        if (found !== undefined) this.#uses.set(participant, [...(this.#uses.get(participant) ?? []), found]);
      }
      participants.push(participant);
    }
    for (const participant of participants) {
      try {
        await participant.init((events) => this.#late(participant, events));
      } catch (err) {
        throw new EngineRegistrationError(participant.id, `init failed: ${(err as Error).message}`, { cause: err });
      }
    }
    this.#participants = participants;
    for (const participant of participants) {
      this.#lanes.set(participant, { busy: false, waiting: [] });
      if (participant.eventNames === "*") this.#wildcard.push(participant);
      else {
        for (const name of participant.eventNames) {
          const list = this.#byName.get(name) ?? [];
          list.push(participant);
          this.#byName.set(name, list);
        }
      }
    }
  }

  /**
   * Runs `input` to its end: each event goes to the stream data sources, then
   * (with `outputAll`) to the outputs, then to the detectors that require it,
   * and their outputs to the outputs and on down the chain. Resolves when the
   * input ended, every detector's work settled, signatures got their end
   * signal, and everything was written; detectors are closed then.
   */
  async run(input: AsyncIterable<TraceeEvent>, options: RunOptions): Promise<EngineStats> {
    if (this.#running) throw new Error("this engine is already running");
    this.#running = true;
    await this.start();
    this.#outputs = options.outputs;
    const outputAll = options.outputAll === true;
    try {
      for await (const event of input) {
        this.#stats.events++;
        for (const source of this.#streamSources) source.observe(event);
        const written = outputAll ? this.#write([event]) : undefined;
        if (written !== undefined) await written;
        const chained = this.#chain([event], 0);
        if (chained !== undefined) await chained;
      }
      await this.#drain();
      for (const participant of this.#participants) {
        try {
          await participant.end?.();
        } catch (err) {
          this.#failed(participant, err);
        }
      }
      await this.#drain();
    } finally {
      await this.#closeParticipants();
    }
    return this.stats();
  }

  /** Waits until no detector works and nothing is being written. */
  async #drain(): Promise<void> {
    while (this.#inflight.size > 0 || [...this.#lanes.values()].some((l) => l.busy)) {
      await Promise.allSettled([...this.#inflight]);
      if (this.#inflight.size === 0) await new Promise((resolve) => setImmediate(resolve));
    }
  }

  async #closeParticipants(): Promise<void> {
    for (const participant of this.#participants) {
      try {
        await participant.close();
      } catch (err) {
        this.#logger.warn("close failed", "detector", participant.id, "error", err);
      }
    }
  }

  /** Writes `events` to every output, in order; a promise when an output asks to wait. */
  #write(events: readonly TraceeEvent[]): Promise<void> | undefined {
    let waits: Promise<void>[] | undefined;
    for (const event of events) {
      this.#stats.written++;
      for (const output of this.#outputs) {
        const w = output.write(event);
        if (w !== undefined) (waits ??= []).push(w);
      }
    }
    if (waits === undefined) return undefined;
    const all = Promise.all(waits).then(() => undefined);
    this.#track(all);
    return all;
  }

  #track(work: Promise<unknown>): void {
    const settled = work.then(
      () => undefined,
      (err: unknown) => this.#logger.error("writing an output failed", "error", err),
    );
    this.#inflight.add(settled);
    void settled.then(() => this.#inflight.delete(settled));
  }

  /**
   * Dispatches `level` (events at chain `depth`) breadth first: each to its
   * detectors, their outputs written and dispatched at the next depth.
   * Async detectors carry on from their own completion.
   */
  #chain(level: readonly TraceeEvent[], depth: number): Promise<void> | undefined {
    let current = level;
    let d = depth;
    while (current.length > 0) {
      const next: TraceeEvent[] = [];
      for (const event of current) {
        const outputs = this.#dispatch(event, d);
        if (outputs !== undefined) next.push(...outputs);
      }
      if (next.length === 0) return undefined;
      if (d + 1 > this.#maxDepth) {
        this.#depthExceeded(next.length);
        return undefined;
      }
      const written = this.#write(next);
      if (written !== undefined) {
        const level2 = next;
        const at = d + 1;
        return written.then(() => this.#chain(level2, at));
      }
      current = next;
      d++;
    }
    return undefined;
  }

  #depthExceeded(count: number): void {
    this.#stats.chainDepthExceeded(count);
    this.#logger.error("detector chain deeper than the limit; outputs dropped", "max_depth", this.#maxDepth, "dropped", count);
  }

  /** The synchronous outputs for `event` at `depth`; async ones arrive through #settle. */
  #dispatch(event: TraceeEvent, depth: number): TraceeEvent[] | undefined {
    const named = this.#byName.get(event.name);
    const all = this.#wildcard.length === 0 ? named : named === undefined ? this.#wildcard : [...named, ...this.#wildcard];
    if (all === undefined) return undefined;
    let out: TraceeEvent[] | undefined;
    for (const participant of all) {
      const lane = this.#lanes.get(participant) as Lane;
      if (lane.busy) {
        if (lane.waiting.length >= this.#maxPending) {
          this.#stats.dropped(participant.id);
          continue;
        }
        lane.waiting.push({ event, depth });
        continue;
      }
      const outputs = this.#invoke(participant, lane, event, depth);
      if (outputs !== undefined) (out ??= []).push(...outputs);
    }
    return out;
  }

  /**
   * Calls one participant; returns its synchronous outputs, or starts its
   * lane on an async result. `release`, when given, is called once the call
   * settled (the lane's place in its data sources' queues).
   */
  #invoke(participant: Participant, lane: Lane, event: TraceeEvent, depth: number, release?: () => void): readonly TraceeEvent[] | undefined {
    const uses = this.#uses.get(participant);
    if (uses !== undefined && release === undefined) {
      // A data source being written: the read takes its place in the queue
      // behind that write, so later writes wait for the read in turn.
      const busy = uses.map((ds) => whenIdle(ds)).filter((p): p is Promise<void> => p !== undefined);
      if (busy.length > 0) {
        lane.busy = true;
        let done!: () => void;
        const reading = new Promise<void>((resolve) => {
          done = resolve;
        });
        for (const ds of uses) hold(ds, reading);
        this.#track(Promise.all(busy).then(() => this.#runLane(participant, lane, event, depth, done)));
        return undefined;
      }
    }
    const started = performance.now();
    let result;
    try {
      result = participant.handle(event);
    } catch (err) {
      release?.();
      this.#stats.eventProcessed(participant.id);
      this.#failed(participant, err, event);
      return undefined;
    }
    if (result === undefined || !isThenable(result)) release?.();
    if (result === undefined) return undefined;
    this.#stats.eventProcessed(participant.id);
    if (!isThenable(result)) {
      this.#stats.duration(participant.id, (performance.now() - started) / 1000);
      if (result.length > 0) this.#stats.outputsProduced(participant.id, result.length);
      return result;
    }
    lane.busy = true;
    const promise = Promise.resolve(result);
    if (release !== undefined) void promise.then(release, release);
    else for (const ds of uses ?? []) hold(ds, promise);
    this.#track(this.#settle(participant, lane, promise, event, depth, started));
    return undefined;
  }

  /** Handles `event` for a lane that waited for its data sources, then carries on with the lane. */
  async #runLane(participant: Participant, lane: Lane, event: TraceeEvent, depth: number, release: () => void): Promise<void> {
    lane.busy = false;
    const outputs = this.#invoke(participant, lane, event, depth, release);
    if (outputs !== undefined && outputs.length > 0) await this.#emit(outputs, depth);
    if (!lane.busy) await this.#next(participant, lane);
  }

  /** Waits for an async onEvent (at most timeoutMs), emits its outputs, then takes the lane's next event. */
  async #settle(
    participant: Participant,
    lane: Lane,
    promise: Promise<readonly TraceeEvent[] | undefined>,
    event: TraceeEvent,
    depth: number,
    started: number,
  ): Promise<void> {
    let timer: NodeJS.Timeout | undefined;
    const timedOut = new Promise<"timeout">((resolve) => {
      timer = setTimeout(() => resolve("timeout"), this.#timeoutMs);
    });
    try {
      const result = await Promise.race([promise, timedOut]);
      if (result === "timeout") {
        this.#stats.timeout(participant.id);
        this.#logger.warn("onEvent did not settle in time; moving on", "detector", participant.id, "event", event.name, "timeout_ms", this.#timeoutMs);
      } else {
        this.#stats.duration(participant.id, (performance.now() - started) / 1000);
        if (result !== undefined && result.length > 0) {
          this.#stats.outputsProduced(participant.id, result.length);
          await this.#emit(result, depth);
        }
      }
    } catch (err) {
      this.#failed(participant, err, event);
    } finally {
      clearTimeout(timer);
    }
    lane.busy = false;
    await this.#next(participant, lane);
  }

  /** Takes the lane's next waiting event, if any. */
  async #next(participant: Participant, lane: Lane): Promise<void> {
    while (!lane.busy) {
      const item = lane.waiting.shift();
      if (item === undefined) return;
      const outputs = this.#invoke(participant, lane, item.event, item.depth);
      if (outputs !== undefined && outputs.length > 0) await this.#emit(outputs, item.depth);
    }
  }

  /** Outputs produced at `depth` (by dispatching an event at that depth): written and chained. */
  async #emit(outputs: readonly TraceeEvent[], depth: number): Promise<void> {
    if (depth + 1 > this.#maxDepth) {
      this.#depthExceeded(outputs.length);
      return;
    }
    const written = this.#write(outputs);
    if (written !== undefined) await written;
    const chained = this.#chain(outputs, depth + 1);
    if (chained !== undefined) await chained;
  }

  /** Outputs a participant reported outside `handle` (a signature's late finding). */
  #late(participant: Participant, events: readonly TraceeEvent[]): void {
    if (events.length === 0) return;
    this.#stats.outputsProduced(participant.id, events.length);
    this.#track(this.#emit(events, 0));
  }

  #failed(participant: Participant, err: unknown, event?: TraceeEvent): void {
    this.#stats.error(participant.id);
    this.#logger.error("detector failed; the others go on", "detector", participant.id, "event", event?.name, "error", err);
  }
}
