import type { DataSourceRegistry } from "../detect/registry.js";
import type {
  Event,
  Finding,
  Signal,
  Signature,
  SignatureContext,
  SignatureEventSelector,
  SignatureMetadata,
} from "../detect/signature.js";
import { createSignatureContext, type LogLine, type SignatureContextOptions, type TestSignatureContext } from "./context.js";
import { selectorsMatch } from "./events.js";

/** The signature method that failed. */
export type HarnessPhase = "init" | "onEvent" | "onSignal" | "close";

const HARNESS_BRAND: unique symbol = Symbol.for("tracee-ds.SignatureHarnessError");

/**
 * A signature method threw (or its Promise rejected) inside a
 * {@link SignatureHarness}; also thrown for misuse of the harness itself.
 *
 * The message names the signature, the method and the event; `cause` is what
 * the signature threw.
 */
export class SignatureHarnessError extends Error {
  /** Which signature method failed. */
  readonly phase: HarnessPhase;
  /** The event being delivered when `phase` is `"onEvent"`. */
  readonly event: Event | undefined;
  /** The signal being delivered when `phase` is `"onSignal"`. */
  readonly signal: Signal;
  /** @internal */
  readonly [HARNESS_BRAND] = true;

  constructor(
    phase: HarnessPhase,
    message: string,
    options: { cause?: unknown; event?: Event | undefined; signal?: Signal } = {},
  ) {
    super(message, "cause" in options ? { cause: options.cause } : undefined);
    this.name = "SignatureHarnessError";
    this.phase = phase;
    this.event = options.event;
    this.signal = options.signal;
  }
}

/** Whether `value` is a {@link SignatureHarnessError} from any copy of this package. */
export function isSignatureHarnessError(value: unknown): value is SignatureHarnessError {
  return typeof value === "object" && value !== null && (value as { [HARNESS_BRAND]?: unknown })[HARNESS_BRAND] === true;
}

/** Options for {@link SignatureHarness}. */
export interface SignatureHarnessOptions extends SignatureContextOptions {
  /**
   * What to do when `onEvent` or `onSignal` throws: `"throw"` (the default)
   * rejects the `deliver`/`signal` call; `"collect"` records the error in
   * `harness.errors` and goes on with the next event, as Tracee's engine does
   * (it logs the error). Failures of `init` and `close` always throw.
   */
  readonly onError?: "throw" | "collect";
}

/** Where a harness is in a signature's life. */
export type HarnessState = "new" | "ready" | "closed";

/**
 * Runs one signature the way Tracee's engine does, for unit tests: `init`
 * with a real context, then only the events the signature selected, then
 * `close`; collects the findings.
 *
 * `deliver` initialises the signature on first use (or call `init()` to test
 * init itself). Events are delivered one at a time, in order, awaiting an async
 * `onEvent` before the next; an event none of the selectors (read once, before
 * `init`, as Tracee does) matches is skipped (see {@link selectorsMatch}). An
 * event two selectors match is delivered once (Tracee's engine would dispatch
 * it once per matching selector). Errors from the signature reject with a
 * {@link SignatureHarnessError} naming the method and event, `cause` the
 * original; calls after `close()` reject too.
 *
 * @example
 * ```ts
 * const harness = new SignatureHarness(new ExcessiveFileOpens(), {
 *   dataSources: [fakeDataSource({ namespace: "my_namespace", id: "threshold_datasource", data: { threshold: { threshold: 2 } } })],
 * });
 * const found = await harness.deliver(open(7), open(7), open(7));
 * found.length; // 1: the third open went over the threshold
 * await harness.close();
 * ```
 */
export class SignatureHarness<Payload = unknown> {
  /** The signature under test. */
  readonly signature: Signature<Payload>;
  /** Events delivered to `onEvent`, oldest first. */
  readonly delivered: Event<Payload>[] = [];
  /** Events the signature did not select, oldest first. */
  readonly skipped: Event<Payload>[] = [];
  /** Errors from `onEvent`/`onSignal` when `onError` is `"collect"`. */
  readonly errors: SignatureHarnessError[] = [];

  readonly #test: TestSignatureContext;
  readonly #onError: "throw" | "collect";
  #state: HarnessState = "new";
  #selectors: readonly SignatureEventSelector[] = [];
  #initializing: Promise<void> | undefined;
  #tail: Promise<unknown> = Promise.resolve();

  constructor(signature: Signature<Payload>, options: SignatureHarnessOptions = {}) {
    this.signature = signature;
    this.#test = createSignatureContext(options);
    this.#onError = options.onError ?? "throw";
  }

  /** The context the signature receives in `init`. */
  get ctx(): SignatureContext {
    return this.#test.ctx;
  }

  /** The registry behind the context; register more data sources here. */
  get registry(): DataSourceRegistry {
    return this.#test.registry;
  }

  /** Every finding the signature reported, oldest first (a live array). */
  get findings(): Finding[] {
    return this.#test.findings;
  }

  /** Every line the signature logged, oldest first (a live array). */
  get logs(): LogLine[] {
    return this.#test.logs;
  }

  /** `"new"` before `init`, `"ready"` after, `"closed"` after `close`. */
  get state(): HarnessState {
    return this.#state;
  }

  /**
   * Reads the signature's selectors, then runs its `init` with the context.
   * Does nothing once done. Rejects with a {@link SignatureHarnessError}
   * (phase `"init"`) when `getSelectedEvents` or `init` throws, or a selector
   * has no source; the harness stays `"new"` and a later call retries.
   */
  init(): Promise<void> {
    if (this.#state === "closed") return Promise.reject(this.#closedError("init"));
    if (this.#state === "ready") return Promise.resolve();
    this.#initializing ??= this.#doInit().finally(() => {
      this.#initializing = undefined;
    });
    return this.#initializing;
  }

  async #doInit(): Promise<void> {
    let selectors: readonly SignatureEventSelector[];
    try {
      selectors = [...this.signature.getSelectedEvents()];
    } catch (cause) {
      throw new SignatureHarnessError("init", `${this.#describe()}: getSelectedEvents failed: ${messageOf(cause)}`, { cause });
    }
    const sourceless = selectors.findIndex((s) => typeof s.source !== "string" || s.source === "");
    if (sourceless !== -1) {
      throw new SignatureHarnessError(
        "init",
        `${this.#describe()}: selector #${sourceless} declares no source (Tracee ignores such a selector)`,
      );
    }
    try {
      await this.signature.init(this.#test.ctx);
    } catch (cause) {
      throw new SignatureHarnessError("init", `${this.#describe()}: init failed: ${messageOf(cause)}`, { cause });
    }
    this.#selectors = selectors;
    this.#state = "ready";
  }

  /** Whether the signature selected `event` (its selectors are read by `init`). */
  selects(event: Event): boolean {
    return selectorsMatch(this.#state === "new" ? this.signature.getSelectedEvents() : this.#selectors, event);
  }

  /**
   * Delivers `events` in order, each only if the signature selected it, and
   * resolves to the findings they caused.
   *
   * Initialises the signature first if needed. Rejects with a
   * {@link SignatureHarnessError} when `onEvent` fails (unless `onError` is
   * `"collect"`), or after `close()`.
   */
  deliver(...events: Event<Payload>[]): Promise<Finding[]> {
    return this.deliverAll(events);
  }

  /** Like {@link SignatureHarness.deliver}, for any iterable or async iterable of events (a generator, say). */
  deliverAll(events: Iterable<Event<Payload>> | AsyncIterable<Event<Payload>>): Promise<Finding[]> {
    return this.#serial(async () => {
      await this.#ready("onEvent");
      const before = this.findings.length;
      for await (const event of events) {
        if (typeof event !== "object" || event === null || typeof event.headers?.selector !== "object") {
          throw new SignatureHarnessError("onEvent", "not an event: it has no headers.selector (build one with traceeEvent)");
        }
        if (!selectorsMatch(this.#selectors, event)) {
          this.skipped.push(event);
          continue;
        }
        this.delivered.push(event);
        try {
          await this.signature.onEvent(event);
        } catch (cause) {
          const { source, name, origin } = event.headers.selector;
          this.#fail(
            new SignatureHarnessError(
              "onEvent",
              `${this.#describe()}: onEvent failed on event #${this.delivered.length - 1} (${source}/${name}, origin ${origin}): ${messageOf(cause)}`,
              { cause, event },
            ),
          );
        }
      }
      return this.findings.slice(before);
    });
  }

  /**
   * Delivers `signal` to `onSignal` and resolves to the findings it caused.
   * Initialises the signature first if needed; rejects as `deliver` does.
   */
  signal(signal: Signal): Promise<Finding[]> {
    return this.#serial(async () => {
      await this.#ready("onSignal");
      const before = this.findings.length;
      try {
        await this.signature.onSignal(signal);
      } catch (cause) {
        this.#fail(
          new SignatureHarnessError("onSignal", `${this.#describe()}: onSignal failed: ${messageOf(cause)}`, { cause, signal }),
        );
      }
      return this.findings.slice(before);
    });
  }

  /**
   * Waits for pending deliveries and for an `init()` still running, then calls
   * the signature's `close` (only if `init` succeeded, as Tracee unloads only
   * loaded signatures). Later calls do nothing. Rejects with a
   * {@link SignatureHarnessError} when `close` throws.
   */
  close(): Promise<void> {
    return this.#serial(async () => {
      // An init() called directly runs outside the queue: let it settle first,
      // so it cannot mark the harness ready after close, and a signature it
      // initialised gets closed. (Its failure is reported to its own caller.)
      while (this.#initializing !== undefined) await this.#initializing.catch(() => undefined);
      if (this.#state === "closed") return;
      const wasReady = this.#state === "ready";
      this.#state = "closed";
      if (!wasReady) return;
      try {
        this.signature.close();
      } catch (cause) {
        throw new SignatureHarnessError("close", `${this.#describe()}: close failed: ${messageOf(cause)}`, { cause });
      }
    });
  }

  /** Empties `findings`, `logs`, `delivered`, `skipped` and `errors`; the signature keeps its state. */
  clear(): void {
    this.#test.clear();
    this.delivered.length = 0;
    this.skipped.length = 0;
    this.errors.length = 0;
  }

  #serial<T>(fn: () => Promise<T>): Promise<T> {
    const run = this.#tail.then(fn);
    this.#tail = run.catch(() => undefined);
    return run;
  }

  #ready(phase: HarnessPhase): Promise<void> {
    if (this.#state === "closed") throw this.#closedError(phase);
    return this.init();
  }

  #fail(error: SignatureHarnessError): void {
    if (this.#onError === "throw") throw error;
    this.errors.push(error);
  }

  #closedError(phase: HarnessPhase): SignatureHarnessError {
    return new SignatureHarnessError(phase, `${this.#describe()}: the harness is closed`);
  }

  #describe(): string {
    let meta: SignatureMetadata | undefined;
    try {
      meta = this.signature.getMetadata();
    } catch {
      // fall through: name it generically
    }
    return meta === undefined ? "signature" : `signature "${meta.name}" (${meta.id})`;
  }
}

function messageOf(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
