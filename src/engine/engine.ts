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
import { DataStoreRegistry } from "../datastores/registry.js";
import type { DataStore } from "../datastores/store.js";
import type { Logger, Signature } from "../detect/signature.js";
import type { TraceeEvent } from "../events/model.js";
import { hold, whenIdle } from "../internal/exclusive.js";
import { isThenable } from "../internal/promise.js";
import { StopLatch, STOPPED } from "../internal/stop-latch.js";
import { builtinDataSources } from "./builtins/factory.js";
import { EngineRegistrationError } from "./errors.js";
import { compileFilters, type EventFilter, hasFilters } from "./filters.js";
import { type EngineMetrics, type EngineStats, StatsCollector } from "./metrics.js";
import type { Participant } from "./participant.js";
import { type BuildHost, buildAll, checkAgainst, type Plan, planDetector, planSignature } from "./registration.js";
import { checkStores, detectorDataStores, initOrder, StoreSession } from "./stores.js";
import type { AncestorInfo, Detector, EventRequirement, GetDataSourceFn } from "./types.js";

export { EngineRegistrationError, isEngineRegistrationError } from "./errors.js";

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
  /**
   * At the end of the input and on a reload, how long queued events may keep
   * detectors busy, in ms (default 10000); what is still queued then is
   * dropped, counted, and calls in flight get at most `timeoutMs` more.
   */
  readonly drainTimeoutMs?: number;
  /** Levels of detector outputs feeding other detectors (default 5, Tracee's). */
  readonly maxChainDepth?: number;
  /** Events that may wait for one busy async detector (default 1024); more are dropped for it, counted. */
  readonly maxPendingPerDetector?: number;
  /** The data source registry to use (default: a new one); `engine.dataSources` either way. */
  readonly dataSources?: DataSourceRegistry;
  /**
   * The datastore registry to use (default: a new one); `engine.dataStores`
   * either way, for a `DataStoreService` server to serve the stores
   * detectors read.
   */
  readonly dataStores?: DataStoreRegistry;
  /**
   * Data sources kept up to date from the stream, registered with the rest
   * (default: the built-in `process_tree`, `containers` and `dns`, as
   * `builtinDataSources()` makes them; `[]` for none).
   */
  readonly streamDataSources?: readonly StreamDataSource[];
  /** Compiles a requirement's data and scope filters (default: Tracee's filter syntax). */
  readonly compileFilters?: (requirement: EventRequirement) => EventFilter | undefined;
  /** Also report to this (e.g. `prometheusMetrics()`). */
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
  /**
   * Stops reading the input when aborted; what was read is still handled,
   * signatures get their end signal and every detector is closed.
   */
  readonly signal?: AbortSignal;
}

/** Detectors and signatures to replace the running ones with: see {@link Engine.reload}. */
export interface DetectionSet {
  readonly detectors?: readonly Detector[];
  readonly signatures?: readonly Signature[];
  /** Per detector id, its configuration (as `addDetector`'s `config`). */
  readonly config?: Readonly<Record<string, Readonly<Record<string, unknown>>>>;
}

/** What a reload did. */
export interface ReloadSummary {
  /** The detectors and signatures now registered. */
  readonly participants: readonly ParticipantInfo[];
  /** Ids whose state went from the old instance to the new (`snapshot` → `restore`). */
  readonly restored: readonly string[];
}

/** One registered participant, for `--list`. */
export interface ParticipantInfo {
  readonly id: string;
  readonly kind: "detector" | "signature";
  /** Event names received (`"*"`: all). */
  readonly events: readonly string[] | "*";
  readonly produces: readonly string[];
  /** Data sources it requires, as `namespace/id` (optional ones end in `?`). */
  readonly dataSources: readonly string[];
  /** Datastores it requires, by name (optional ones end in `?`); present when it declares any. */
  readonly dataStores?: readonly string[];
}

/** A participant's queue of events, while an async `onEvent` of its runs. */
interface Lane {
  busy: boolean;
  readonly waiting: { event: TraceeEvent; depth: number }[];
}

/** A participant and its lane, as dispatch walks them. */
interface Slot {
  readonly participant: Participant;
  readonly lane: Lane;
}

/** The participants running, indexed for dispatch. */
interface ActiveSet {
  readonly participants: readonly Participant[];
  readonly lanes: ReadonlyMap<Participant, Lane>;
  /** Per event name, who receives it, in registration order (those taking every event included). */
  readonly byName: ReadonlyMap<string, readonly Slot[]>;
  /** Who receives events of any other name: participants taking every event. */
  readonly wildcard: readonly Slot[];
}

const EMPTY_SET: ActiveSet = { participants: [], lanes: new Map(), byName: new Map(), wildcard: [] };

/** What an async `onEvent` came to within its time. */
type Settled = { readonly ok: true; readonly value: readonly TraceeEvent[] | undefined } | { readonly ok: false; readonly error: unknown } | "timeout";


/**
 * Runs TypeScript detectors and legacy signatures on Tracee's events.
 *
 * Register with `addDetector`, `addSignature` and `addDataSource` (also
 * `dataSources.register`), then `run(input, { outputs })`: the input (any
 * async iterable of events, such as `streamEvents()`) is read to its end;
 * `run` resolves once every output is written and every detector closed.
 *
 * Registration checks what it can at once (ids, produced events, filter
 * syntax) and the rest when the run starts (or at `start()`, to fail
 * early): an unknown required event, a missing required data source or a
 * required datastore that is still missing once every `init` ran is an
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
  /**
   * The datastores detectors read (`params.dataStores`): those registered
   * with `addDataStore` or the `dataStores` option, and those detectors
   * registered. Kept across reloads. Serve it to take writes from outside.
   */
  readonly dataStores: DataStoreRegistry;
  readonly #logger: Logger;
  readonly #timeoutMs: number;
  readonly #drainTimeoutMs: number;
  readonly #maxDepth: number;
  readonly #maxPending: number;
  readonly #compileFilters: (requirement: EventRequirement) => EventFilter | undefined;
  readonly #stats: StatsCollector;
  readonly #streamSources: readonly StreamDataSource[];
  /** What building needs; `dataStores` is bound per set, in #assemble. */
  readonly #host: Omit<BuildHost, "dataStores">;
  #plans: Plan[] = [];
  #set: ActiveSet = EMPTY_SET;
  /** Data sources each participant reads: a write waits for its reads, a read for a write in progress. */
  readonly #uses = new WeakMap<Participant, DataSource[]>();
  #outputs: readonly EngineOutput[] = [];
  /** Writes and async work still in flight, awaited before the run ends. */
  readonly #inflight = new Set<Promise<unknown>>();
  /** Lanes and work the end of a run gave up waiting for. */
  readonly #abandoned = new WeakSet<object>();
  /** Set by the first `start()`: the set being (or done being) initialized. */
  #starting: Promise<void> | undefined;
  #running = false;
  /** The input event being handled, while its handling awaits. */
  #current: Promise<void> | undefined;
  /** Set while a reload swaps the set: the next input event waits for it. */
  #gate: Promise<void> | undefined;
  #reloads: Promise<unknown> = Promise.resolve();

  constructor(options: EngineOptions = {}) {
    this.#logger = options.logger ?? silentLogger;
    this.#timeoutMs = options.timeoutMs ?? 5000;
    this.#drainTimeoutMs = options.drainTimeoutMs ?? 10_000;
    this.#maxDepth = options.maxChainDepth ?? 5;
    this.#maxPending = options.maxPendingPerDetector ?? 1024;
    this.#compileFilters = options.compileFilters ?? ((r) => (hasFilters(r) ? compileFilters(r) : undefined));
    this.#stats = new StatsCollector(options.metrics);
    this.dataSources = options.dataSources ?? new DataSourceRegistry();
    this.dataStores = options.dataStores ?? new DataStoreRegistry();
    this.#streamSources = options.streamDataSources ?? builtinDataSources().all;
    for (const ds of this.#streamSources) {
      if (!this.dataSources.has(ds.namespace(), ds.id())) this.dataSources.register(ds);
    }
    const registry = this.dataSources;
    this.#host = {
      logger: this.#logger,
      compileFilters: this.#compileFilters,
      lookup: (participant) => this.#recordingLookup(participant),
      ancestry: (entityId, depth) => this.#ancestry(entityId, depth),
      hasDataSource: (namespace, id) => registry.has(namespace, id),
      getDataSource: (namespace, id) => registry.get(namespace, id),
    };
  }

  /**
   * Registers a datastore detectors can read (`params.dataStores.get`), and
   * a server of `engine.dataStores` serves. Throws when the name is taken.
   */
  addDataStore(store: DataStore): this {
    this.dataStores.register(store);
    return this;
  }

  /** Registers a data source detectors can read (and `--serve` can write). */
  addDataSource(ds: DataSource): this {
    this.dataSources.register(ds);
    return this;
  }

  #register(plan: Plan): this {
    if (this.#starting !== undefined) throw new EngineRegistrationError(plan.id, "the engine has started; register before run(), or use reload()");
    checkAgainst(this.#plans, plan);
    this.#plans.push(plan);
    return this;
  }

  /**
   * Registers a detector. Checks what can be checked alone (id, produced
   * event, filter syntax); the rest when the run starts.
   */
  addDetector(detector: Detector, options: AddDetectorOptions = {}): this {
    return this.#register(planDetector(detector, options.config, this.#compileFilters));
  }

  /**
   * Registers a legacy `Signature` (Tracee's older API), run through an
   * adapter with Tracee's selector rules and finding conversion.
   */
  addSignature(signature: Signature): this {
    return this.#register(planSignature(signature));
  }

  #ancestry(entityId: number, depth: number): readonly AncestorInfo[] | undefined {
    for (const source of this.#streamSources) {
      if (source.ancestry !== undefined) return source.ancestry(entityId, depth);
    }
    return undefined;
  }

  /** A getDataSource that also remembers what it handed out, so reads and writes of it never interleave. */
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
    return this.#plans.map((p) => ({
      id: p.id,
      kind: p.kind,
      events: p.events,
      produces: p.produces,
      dataSources: p.dataSources.map((d) => `${d.namespace}/${d.id}${d.optional ? "?" : ""}`),
      ...(p.dataStores.length === 0 ? {} : { dataStores: p.dataStores.map((d) => `${d.name}${d.optional ? "?" : ""}`) }),
    }));
  }

  /** What the engine counted so far. */
  stats(): EngineStats {
    return this.#stats.snapshot();
  }

  /**
   * Checks every requirement against the whole set and initializes the
   * participants, in registration order — except that a detector waits
   * while a datastore it declares is not registered yet and another
   * detector's `init` may register it — then checks the required datastores.
   * Called by `run`; call it yourself to fail early. Rejects with an
   * {@link EngineRegistrationError}; the stores the failed set's `init`s
   * registered are unregistered again.
   */
  start(): Promise<void> {
    this.#starting ??= this.#assemble(this.#plans).then(
      (set) => {
        this.#set = set;
      },
      (err: unknown) => {
        this.#starting = undefined;
        throw err;
      },
    );
    return this.#starting;
  }

  /** Builds and initializes `plans`; on a failure, closes what it initialized and throws. */
  async #assemble(plans: readonly Plan[]): Promise<ActiveSet> {
    const stores = this.dataStores;
    const session = new StoreSession();
    const built = buildAll(plans, { ...this.#host, dataStores: (id) => detectorDataStores(stores, id, session, this.#logger) });
    const initialized: Participant[] = [];
    const has = (name: string) => stores.has(name);
    try {
      for (const { participant, declared } of initOrder(built, has)) {
        if (declared.length > 0) this.#uses.set(participant, [...(this.#uses.get(participant) ?? []), ...declared]);
        try {
          await participant.init((events) => this.#late(participant, events));
          initialized.push(participant);
        } catch (err) {
          throw new EngineRegistrationError(participant.id, `init failed: ${(err as Error).message}`, { cause: err });
        }
      }
      checkStores(plans, has, this.#logger);
    } catch (err) {
      await this.#close(initialized);
      session.rollback(stores);
      throw err;
    }
    session.commit();
    const lanes = new Map<Participant, Lane>();
    const slots: Slot[] = [];
    for (const { participant } of built) {
      const lane: Lane = { busy: false, waiting: [] };
      lanes.set(participant, lane);
      slots.push({ participant, lane });
    }
    const wildcard = slots.filter((slot) => slot.participant.eventNames === "*");
    const byName = new Map<string, Slot[]>();
    for (const slot of slots) {
      if (slot.participant.eventNames === "*") continue;
      for (const name of slot.participant.eventNames) byName.set(name, []);
    }
    for (const [name, list] of byName) {
      for (const slot of slots) {
        const names = slot.participant.eventNames;
        if (names === "*" || names.includes(name)) list.push(slot);
      }
    }
    return { participants: built.map((b) => b.participant), lanes, byName, wildcard };
  }

  /**
   * Replaces every detector and signature with `set`, without losing or
   * reordering events: the new set is checked and initialized first (a
   * problem rejects with an {@link EngineRegistrationError} and leaves the
   * running set as it was); then, between two input events, the old set
   * finishes what it has, each old detector's `snapshot` goes to the new one
   * of the same id's `restore`, the new set takes the next event, and the old
   * one is closed. Data sources and datastores stay registered, contents
   * and all (also those a detector of the old set registered).
   * Reloads run one at a time, in call order.
   */
  reload(set: DetectionSet): Promise<ReloadSummary> {
    let plans: Plan[];
    try {
      plans = this.#plan(set);
    } catch (err) {
      return Promise.reject(err);
    }
    const next = this.#reloads.then(() => this.#swap(plans));
    this.#reloads = next.catch(() => undefined);
    return next;
  }

  #plan(set: DetectionSet): Plan[] {
    const plans: Plan[] = [];
    for (const detector of set.detectors ?? []) {
      const id = (detector as Partial<Detector> | undefined)?.definition?.id;
      const plan = planDetector(detector, typeof id === "string" ? set.config?.[id] : undefined, this.#compileFilters);
      checkAgainst(plans, plan);
      plans.push(plan);
    }
    for (const signature of set.signatures ?? []) {
      const plan = planSignature(signature);
      checkAgainst(plans, plan);
      plans.push(plan);
    }
    return plans;
  }

  async #swap(plans: Plan[]): Promise<ReloadSummary> {
    if (this.#starting === undefined) {
      this.#plans = plans;
      return { participants: this.list(), restored: [] };
    }
    await this.#starting;
    const next = await this.#assemble(plans);
    let open!: () => void;
    this.#gate = new Promise((resolve) => {
      open = resolve;
    });
    const old = this.#set;
    const restored: string[] = [];
    try {
      if (this.#current !== undefined) await this.#current.catch(() => undefined);
      await this.#drain();
      for (const participant of next.participants) {
        const before = old.participants.find((p) => p.id === participant.id);
        if (before?.snapshot === undefined || participant.restore === undefined) continue;
        try {
          participant.restore(before.snapshot());
          restored.push(participant.id);
        } catch (err) {
          this.#logger.warn("handing state across the reload failed; the detector starts afresh", "detector", participant.id, "error", err);
        }
      }
      this.#set = next;
      this.#plans = plans;
    } finally {
      this.#gate = undefined;
      open();
    }
    await this.#close(old.participants);
    return { participants: this.list(), restored };
  }

  /**
   * Runs `input` to its end: each event goes to the stream data sources, then
   * (with `outputAll`) to the outputs, then to the detectors that require it,
   * and their outputs to the outputs and on down the chain. Resolves when the
   * input ended (or `signal` aborted), every detector's work settled,
   * signatures got their end signal, and everything was written; detectors
   * are closed then. Rejects with what the input threw, after closing them.
   */
  async run(input: AsyncIterable<TraceeEvent>, options: RunOptions): Promise<EngineStats> {
    if (this.#running) throw new Error("this engine is already running");
    this.#running = true;
    try {
      await this.start();
      this.#outputs = options.outputs;
      const outputAll = options.outputAll === true;
      const iterator = input[Symbol.asyncIterator]();
      // Not a Promise.race against one abort promise: that keeps every event read until the run ends (see stop-latch.ts).
      const aborted = abortLatch(options.signal);
      try {
        for (;;) {
          const next = aborted === undefined ? await iterator.next() : await aborted.latch.until(iterator.next());
          if (next === STOPPED) {
            void Promise.resolve(iterator.return?.()).catch(() => undefined);
            break;
          }
          if (next.done === true) break;
          if (this.#gate !== undefined) await this.#gate;
          const handling = this.#input(next.value, outputAll);
          if (handling !== undefined) {
            this.#current = handling;
            await handling;
            this.#current = undefined;
          }
        }
      } finally {
        aborted?.dispose();
      }
      await this.#drain();
      for (const participant of this.#set.participants) {
        try {
          await participant.end?.();
        } catch (err) {
          this.#failed(participant, err);
        }
      }
      await this.#drain();
    } finally {
      await this.#reloads;
      await this.#close(this.#set.participants);
      this.#running = false;
    }
    return this.stats();
  }

  /** One input event: data sources, the input itself with outputAll, then its detectors. */
  #input(event: TraceeEvent, outputAll: boolean): Promise<void> | undefined {
    this.#stats.events++;
    for (const source of this.#streamSources) {
      try {
        source.observe(event);
      } catch (err) {
        this.#logger.error("a built-in data source failed on an event", "data_source", source.id(), "event", event.name, "error", err);
      }
    }
    if (outputAll) {
      const written = this.#write([event]);
      if (written !== undefined) return written.then(() => this.#chain([event], 0));
    }
    const outputs = this.#dispatch(event, 0);
    return outputs === undefined ? undefined : this.#produced(outputs, 0);
  }

  /**
   * Resolves once every event the run has taken from its input so far is
   * handled: none in hand, no detector busy or with events queued, nothing
   * being written. For tests and tools that feed an input themselves (the
   * testing kit's `DetectorHarness` does); it does not wait for the input.
   */
  async idle(): Promise<void> {
    for (;;) {
      if (this.#current !== undefined) {
        await this.#current.catch(() => undefined);
        continue;
      }
      const wait = [...this.#inflight];
      if (wait.length > 0) {
        await Promise.allSettled(wait);
        continue;
      }
      if (![...this.#set.lanes.values()].some((l) => l.busy)) return;
      await new Promise((resolve) => setImmediate(resolve));
    }
  }

  /**
   * Waits until no detector works and nothing is being written. Past
   * `drainTimeoutMs`, events still queued for busy detectors are dropped
   * (counted); after as long again, calls still running are abandoned
   * (logged and counted as timeouts; whatever they return later is not
   * written).
   */
  async #drain(): Promise<void> {
    const started = performance.now();
    let dropped = false;
    for (;;) {
      const lanes = [...this.#set.lanes].filter(([, l]) => !this.#abandoned.has(l));
      const busy = lanes.filter(([, l]) => l.busy);
      const inflight = [...this.#inflight].filter((p) => !this.#abandoned.has(p));
      if (inflight.length === 0 && busy.length === 0) return;
      const waited = performance.now() - started;
      if (!dropped && waited >= this.#drainTimeoutMs) {
        dropped = true;
        for (const [participant, lane] of lanes) {
          if (lane.waiting.length === 0) continue;
          for (let n = lane.waiting.length; n > 0; n--) this.#stats.dropped(participant.id);
          this.#logger.warn("detector still busy at the end; its queued events are dropped", "detector", participant.id, "dropped", lane.waiting.length);
          lane.waiting.length = 0;
        }
      }
      if (dropped && waited >= 2 * this.#drainTimeoutMs) {
        this.#logger.warn("calls still running at the end are abandoned", "detectors", busy.map(([p]) => p.id), "in_flight", inflight.length);
        // Counted as the timeouts they are; whatever they do later is not counted again.
        for (const [participant, lane] of busy) {
          this.#abandoned.add(lane);
          this.#stats.timeout(participant.id);
        }
        for (const p of inflight) this.#abandoned.add(p);
        return;
      }
      const wait = inflight;
      const limit = Math.max(1, (dropped ? 2 : 1) * this.#drainTimeoutMs - waited);
      if (wait.length === 0) await new Promise((resolve) => setImmediate(resolve));
      else await Promise.race([Promise.allSettled(wait), delay(limit)]);
    }
  }

  async #close(participants: readonly Participant[]): Promise<void> {
    for (const participant of participants) {
      try {
        await participant.close();
      } catch (err) {
        this.#logger.warn("close failed", "detector", participant.id, "error", err);
      }
    }
  }

  /** Writes `events` to every output, in order; a promise when an output asks to wait. */
  #write(events: readonly TraceeEvent[]): Promise<void> | undefined {
    if (!this.#running) return undefined; // an abandoned call that returned after the run
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
   * detectors, then their outputs, written and dispatched at the next depth.
   * Async detectors carry on from their own completion.
   */
  #chain(level: readonly TraceeEvent[], depth: number): Promise<void> | undefined {
    let next: TraceeEvent[] | undefined;
    for (let i = 0; i < level.length; i++) {
      const outputs = this.#dispatch(level[i] as TraceeEvent, depth);
      if (outputs === undefined) continue;
      if (next === undefined) next = outputs;
      else for (let j = 0; j < outputs.length; j++) next.push(outputs[j] as TraceeEvent);
    }
    return next === undefined ? undefined : this.#produced(next, depth);
  }

  /** Outputs produced at `depth` (by events at that depth): written, then dispatched one level down. */
  #produced(outputs: readonly TraceeEvent[], depth: number): Promise<void> | undefined {
    if (depth + 1 > this.#maxDepth) {
      this.#depthExceeded(outputs.length);
      return undefined;
    }
    const written = this.#write(outputs);
    if (written !== undefined) return written.then(() => this.#chain(outputs, depth + 1));
    return this.#chain(outputs, depth + 1);
  }

  #depthExceeded(count: number): void {
    this.#stats.chainDepthExceeded(count);
    this.#logger.error("detector chain deeper than the limit; outputs dropped", "max_depth", this.#maxDepth, "dropped", count);
  }

  /** The synchronous outputs for `event` at `depth`; async ones arrive through #settle. */
  #dispatch(event: TraceeEvent, depth: number): TraceeEvent[] | undefined {
    const set = this.#set;
    const slots = set.byName.get(event.name) ?? set.wildcard;
    let out: TraceeEvent[] | undefined;
    for (let i = 0; i < slots.length; i++) {
      const { participant, lane } = slots[i] as Slot;
      if (lane.busy) {
        if (lane.waiting.length >= this.#maxPending) {
          this.#stats.dropped(participant.id);
          continue;
        }
        lane.waiting.push({ event, depth });
        continue;
      }
      const outputs = this.#invoke(participant, lane, event, depth);
      if (outputs !== undefined && outputs.length > 0) {
        if (out === undefined) out = outputs.slice();
        else for (let j = 0; j < outputs.length; j++) out.push(outputs[j] as TraceeEvent);
      }
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
    const settled = this.#within(Promise.resolve(result));
    if (release !== undefined) void settled.then(release);
    else for (const ds of uses ?? []) hold(ds, settled);
    this.#track(this.#settle(participant, lane, settled, event, depth, started));
    return undefined;
  }

  /** What `promise` came to, or `"timeout"` after `timeoutMs`. Never rejects. */
  #within(promise: Promise<readonly TraceeEvent[] | undefined>): Promise<Settled> {
    return new Promise<Settled>((resolve) => {
      const timer = setTimeout(() => resolve("timeout"), this.#timeoutMs);
      promise.then(
        (value) => {
          clearTimeout(timer);
          resolve({ ok: true, value });
        },
        (error: unknown) => {
          clearTimeout(timer);
          resolve({ ok: false, error });
        },
      );
    });
  }

  /** Handles `event` for a lane that waited for its data sources, then carries on with the lane. */
  async #runLane(participant: Participant, lane: Lane, event: TraceeEvent, depth: number, release: () => void): Promise<void> {
    lane.busy = false;
    const outputs = this.#invoke(participant, lane, event, depth, release);
    if (outputs !== undefined && outputs.length > 0) await this.#emit(outputs, depth);
    if (!lane.busy) await this.#next(participant, lane);
  }

  /** Waits for an async onEvent (at most timeoutMs), emits its outputs, then takes the lane's next event. */
  async #settle(participant: Participant, lane: Lane, settled: Promise<Settled>, event: TraceeEvent, depth: number, started: number): Promise<void> {
    const result = await settled;
    if (this.#abandoned.has(lane)) return;
    if (result === "timeout") {
      this.#stats.timeout(participant.id);
      this.#logger.warn("onEvent did not settle in time; moving on", "detector", participant.id, "event", event.name, "timeout_ms", this.#timeoutMs);
    } else if (!result.ok) {
      this.#failed(participant, result.error, event);
    } else {
      this.#stats.duration(participant.id, (performance.now() - started) / 1000);
      const outputs = result.value;
      if (outputs !== undefined && outputs.length > 0) {
        this.#stats.outputsProduced(participant.id, outputs.length);
        await this.#emit(outputs, depth);
      }
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

  /** {@link #produced}, always as a promise. */
  async #emit(outputs: readonly TraceeEvent[], depth: number): Promise<void> {
    await this.#produced(outputs, depth);
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

const delay = (ms: number) =>
  new Promise<void>((resolve) => {
    setTimeout(resolve, ms).unref();
  });

/** A latch that stops when `signal` aborts, and how to stop listening. */
function abortLatch(signal: AbortSignal | undefined): { latch: StopLatch; dispose: () => void } | undefined {
  if (signal === undefined) return undefined;
  const latch = new StopLatch();
  if (signal.aborted) latch.stop();
  const onAbort = () => latch.stop();
  signal.addEventListener("abort", onAbort, { once: true });
  return { latch, dispose: () => signal.removeEventListener("abort", onAbort) };
}
