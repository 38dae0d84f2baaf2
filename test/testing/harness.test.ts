import { describe, expect, it } from "vitest";
import {
  DataSourceRegistry,
  type Event,
  type Finding,
  type Signal,
  type Signature,
  type SignatureContext,
  type SignatureEventSelector,
  type SignatureMetadata,
} from "tracee-ds";
import {
  fakeDataSource,
  isSignatureHarnessError,
  selectorsMatch,
  SignatureHarness,
  SignatureHarnessError,
  traceeEvent,
} from "tracee-ds/testing";
import { ExcessiveFileOpens } from "../../examples/threshold/signature.js";
import { ThresholdDataSource } from "../../examples/threshold/threshold-datasource.js";
import { WORKLOAD, workloadEvents } from "../../examples/threshold/workload.js";

const meta: SignatureMetadata = { id: "T-1", version: "1", name: "Recorder", eventName: "recorded", description: "" };

/** A signature that reports every event and signal it gets; optionally async, optionally failing. */
class Recorder implements Signature {
  ctx: SignatureContext | undefined;
  readonly events: Event[] = [];
  readonly signals: Signal[] = [];
  inits = 0;
  closes = 0;

  constructor(
    private readonly selectors: SignatureEventSelector[] = [{ source: "tracee", name: "*" }],
    private readonly behaviour: { async?: boolean; failOn?: string; failInit?: unknown; failClose?: boolean } = {},
  ) {}

  getMetadata() {
    return meta;
  }
  getSelectedEvents() {
    return this.selectors;
  }
  async init(ctx: SignatureContext) {
    this.inits++;
    if (this.behaviour.async) await new Promise((r) => setImmediate(r));
    if (this.behaviour.failInit !== undefined) throw this.behaviour.failInit;
    this.ctx = ctx;
  }
  onEvent(event: Event): void | Promise<void> {
    const run = () => {
      if (this.behaviour.failOn === event.headers.selector.name) throw new Error(`cannot handle ${event.headers.selector.name}`);
      this.events.push(event);
      this.ctx?.callback({ data: { name: event.headers.selector.name }, event, sigMetadata: meta });
    };
    if (!this.behaviour.async) return run();
    return new Promise<void>((resolve, reject) =>
      setImmediate(() => {
        try {
          run();
          resolve();
        } catch (err) {
          reject(err as Error);
        }
      }),
    );
  }
  onSignal(signal: Signal) {
    this.signals.push(signal);
    this.ctx?.callback({ data: { signal }, event: traceeEvent("signal", null), sigMetadata: meta });
  }
  close() {
    this.closes++;
    if (this.behaviour.failClose) throw new Error("close broke");
  }
}

/**
 * How many times Tracee's engine dispatches `event` to a signature with
 * `selectors`: a port of pkg/signatures/engine (loadSignature builds an index
 * keyed by the selector, with an empty name or origin stored as "*" and an
 * empty source left out; processEvent looks up four keys).
 */
function engineDispatches(selectors: readonly SignatureEventSelector[], event: Event): number {
  const index = new Map<string, number>();
  const k = (source: string, name: string, origin: string) => JSON.stringify([source, name, origin]);
  for (const s of selectors) {
    if (s.source === "") continue;
    const key = k(s.source, s.name === "" ? "*" : s.name, s.origin === undefined || s.origin === "" ? "*" : s.origin);
    index.set(key, (index.get(key) ?? 0) + 1);
  }
  const { source, name, origin } = event.headers.selector;
  return [k(source, name, origin), k(source, name, "*"), k(source, "*", origin), k(source, "*", "*")].reduce(
    (n, key) => n + (index.get(key) ?? 0),
    0,
  );
}

const selectorSets: [string, SignatureEventSelector[]][] = [
  ["exact name and origin", [{ source: "tracee", name: "open", origin: "host" }]],
  ["exact name, any origin", [{ source: "tracee", name: "open", origin: "*" }]],
  ["exact name, no origin", [{ source: "tracee", name: "open" }]],
  ["exact name, empty origin", [{ source: "tracee", name: "open", origin: "" }]],
  ["any name, container", [{ source: "tracee", name: "*", origin: "container" }]],
  ["empty name, any origin", [{ source: "tracee", name: "", origin: "*" }]],
  ["another source", [{ source: "k8s", name: "*", origin: "*" }]],
  ["two names", [{ source: "tracee", name: "open", origin: "*" }, { source: "tracee", name: "exit", origin: "*" }]],
];
const events: Event[] = [
  traceeEvent("open", null),
  traceeEvent("open", null, { origin: "container" }),
  traceeEvent("exit", null, { origin: "container" }),
  traceeEvent("exec", null),
  traceeEvent("open", null, { source: "k8s" }),
];

describe("SignatureHarness selects events as Tracee's engine does", () => {
  it.each(selectorSets)("%s", async (_name, selectors) => {
    const sig = new Recorder(selectors);
    const harness = new SignatureHarness(sig);
    await harness.deliver(...events);
    const expected = events.filter((e) => engineDispatches(selectors, e) > 0);
    expect(sig.events).toEqual(expected);
    expect(harness.delivered).toEqual(expected);
    expect(harness.skipped).toEqual(events.filter((e) => !expected.includes(e)));
    for (const e of events) expect(selectorsMatch(selectors, e)).toBe(expected.includes(e));
  });

  it("delivers an event two selectors match once (Tracee's engine would dispatch it twice)", async () => {
    const selectors = [{ source: "tracee", name: "open", origin: "host" }, { source: "tracee", name: "*", origin: "*" }];
    const sig = new Recorder(selectors);
    const event = traceeEvent("open", null);
    expect(engineDispatches(selectors, event)).toBe(2);
    await new SignatureHarness(sig).deliver(event);
    expect(sig.events).toEqual([event]);
  });

  it("refuses a selector without a source at init", async () => {
    const harness = new SignatureHarness(new Recorder([{ source: "", name: "*" }]));
    await expect(harness.init()).rejects.toThrow(/selector #0 declares no source/);
  });
});

describe("SignatureHarness runs a signature as the engine would", () => {
  it("finds what a registry context and a plain event loop find, for the threshold workload", async () => {
    // The real pieces: a registry, its context, and every event handed to onEvent in order.
    const registry = new DataSourceRegistry().register(withThreshold(new ThresholdDataSource(), 5));
    const plainFindings: Finding[] = [];
    const plain = new ExcessiveFileOpens();
    plain.init(registry.context({ callback: (f) => plainFindings.push(f) }));
    for (const e of workloadEvents(WORKLOAD)) plain.onEvent(e);

    const harness = new SignatureHarness(new ExcessiveFileOpens(), {
      dataSources: [withThreshold(new ThresholdDataSource(), 5)],
    });
    const found = await harness.deliverAll(workloadEvents(WORKLOAD));
    expect(found.map((f) => f.data)).toEqual(plainFindings.map((f) => f.data));
    expect(found.map((f) => f.data["pid"])).toEqual([202, 303]);
    expect(harness.findings).toEqual(found);
  });

  it.each([["sync", false], ["async", true]])("delivers in order and resolves to the new findings (%s onEvent)", async (_n, async) => {
    const sig = new Recorder(undefined, { async });
    const harness = new SignatureHarness(sig);
    const first = await harness.deliver(traceeEvent("a", 1), traceeEvent("b", 2));
    const second = await harness.deliver(traceeEvent("c", 3));
    expect(first.map((f) => f.data["name"])).toEqual(["a", "b"]);
    expect(second.map((f) => f.data["name"])).toEqual(["c"]);
    expect(harness.findings.map((f) => f.data["name"])).toEqual(["a", "b", "c"]);
  });

  it("runs calls made without awaiting one at a time, in call order, with one init", async () => {
    const sig = new Recorder(undefined, { async: true });
    const harness = new SignatureHarness(sig);
    await Promise.all([
      harness.deliver(traceeEvent("a", 1)),
      harness.deliver(traceeEvent("b", 2)),
      harness.signal("done"),
      harness.deliver(traceeEvent("c", 3)),
    ]);
    expect(sig.inits).toBe(1);
    expect(sig.events.map((e) => e.headers.selector.name)).toEqual(["a", "b", "c"]);
    expect(harness.findings.map((f) => f.data["name"] ?? f.data["signal"])).toEqual(["a", "b", "done", "c"]);
  });

  it("takes an async iterable of events", async () => {
    async function* stream() {
      yield traceeEvent("a", 1);
      yield traceeEvent("b", 2);
    }
    const harness = new SignatureHarness(new Recorder());
    expect(await harness.deliverAll(stream())).toHaveLength(2);
  });

  it("gives the signature the data sources, and captures its logs", async () => {
    const ds = fakeDataSource({ namespace: "ns", id: "x", data: { k: { v: 1 } } });
    class Reader extends Recorder {
      override onEvent(event: Event) {
        const got = this.ctx?.getDataSource("ns", "x")?.get("k");
        this.ctx?.logger.info("read", "value", got?.["v"]);
        return super.onEvent(event);
      }
    }
    const harness = new SignatureHarness(new Reader(), { dataSources: [ds] });
    await harness.deliver(traceeEvent("a", null));
    expect(ds.gets.map((g) => g.key)).toEqual(["k"]);
    expect(harness.logs).toEqual([{ level: "info", msg: "read", keyvals: ["value", 1] }]);
    expect(harness.registry.get("ns", "x")).toBe(ds);
    expect(harness.ctx.getDataSource("ns", "x")).toBe(ds);
  });

  it("delivers signals to onSignal", async () => {
    const sig = new Recorder();
    const found = await new SignatureHarness(sig).signal({ source: "tracee", complete: true });
    expect(sig.signals).toEqual([{ source: "tracee", complete: true }]);
    expect(found).toHaveLength(1);
  });

  it("closes the signature once, and refuses deliveries afterwards", async () => {
    const sig = new Recorder();
    const harness = new SignatureHarness(sig);
    await harness.deliver(traceeEvent("a", 1));
    await harness.close();
    await harness.close();
    expect(sig.closes).toBe(1);
    expect(harness.state).toBe("closed");
    await expect(harness.deliver(traceeEvent("b", 2))).rejects.toThrow(/the harness is closed/);
    await expect(harness.signal(1)).rejects.toThrow(/the harness is closed/);
  });

  it("close() waits for an init() still pending, then closes the signature", async () => {
    let finishInit!: () => void;
    const sig = new Recorder();
    const init = sig.init.bind(sig);
    sig.init = async (ctx) => {
      await new Promise<void>((resolve) => (finishInit = resolve));
      await init(ctx);
    };
    const harness = new SignatureHarness(sig);
    const initializing = harness.init();
    await new Promise((r) => setImmediate(r));
    const closing = harness.close();
    await new Promise((r) => setImmediate(r));
    expect(sig.closes).toBe(0); // init has not finished: nothing to close yet
    finishInit();
    await Promise.all([initializing, closing]);
    expect(sig.inits).toBe(1);
    expect(sig.closes).toBe(1);
    expect(harness.state).toBe("closed");
    await expect(harness.deliver(traceeEvent("a", 1))).rejects.toThrow(/the harness is closed/);
    await expect(harness.init()).rejects.toThrow(/the harness is closed/);
  });

  it("close() racing an init() that fails leaves the harness closed, the signature not closed", async () => {
    let failInit!: () => void;
    const sig = new Recorder();
    sig.init = () => new Promise<void>((_resolve, reject) => (failInit = () => reject(new Error("no database"))));
    const harness = new SignatureHarness(sig);
    const initializing = harness.init();
    const closing = harness.close();
    failInit();
    await expect(initializing).rejects.toMatchObject({ phase: "init", message: /no database/ });
    await closing;
    expect(sig.closes).toBe(0);
    expect(harness.state).toBe("closed");
  });

  it("does not close a signature that was never initialised", async () => {
    const sig = new Recorder();
    await new SignatureHarness(sig).close();
    expect(sig.closes).toBe(0);
  });

  it("clear() forgets findings, logs and events, but not the signature's state", async () => {
    const harness = new SignatureHarness(new Recorder([{ source: "tracee", name: "a" }]));
    await harness.deliver(traceeEvent("a", 1), traceeEvent("b", 1));
    harness.clear();
    expect([harness.findings, harness.logs, harness.delivered, harness.skipped]).toEqual([[], [], [], []]);
    expect(harness.state).toBe("ready");
  });
});

describe("SignatureHarness surfaces the signature's errors", () => {
  it.each([["sync", false], ["async", true]])("rejects with the failing event and cause (%s onEvent)", async (_n, async) => {
    const sig = new Recorder(undefined, { async, failOn: "bad" });
    const harness = new SignatureHarness(sig);
    const bad = traceeEvent("bad", null, { origin: "container" });
    const err = await harness.deliver(traceeEvent("ok", null), bad, traceeEvent("never", null)).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(SignatureHarnessError);
    expect(isSignatureHarnessError(err)).toBe(true);
    const e = err as SignatureHarnessError;
    expect(e.phase).toBe("onEvent");
    expect(e.event).toBe(bad);
    expect(e.message).toBe(
      'signature "Recorder" (T-1): onEvent failed on event #1 (tracee/bad, origin container): cannot handle bad',
    );
    expect((e.cause as Error).message).toBe("cannot handle bad");
    expect(sig.events.map((x) => x.headers.selector.name)).toEqual(["ok"]);
  });

  it("with onError: collect, records the error and goes on, as Tracee's engine does", async () => {
    const sig = new Recorder(undefined, { failOn: "bad" });
    const harness = new SignatureHarness(sig, { onError: "collect" });
    const found = await harness.deliver(traceeEvent("ok", 1), traceeEvent("bad", 2), traceeEvent("ok2", 3));
    expect(found.map((f) => f.data["name"])).toEqual(["ok", "ok2"]);
    expect(harness.errors.map((e) => e.phase)).toEqual(["onEvent"]);
  });

  it("rejects with phase init when init fails, and retries on the next call", async () => {
    const boom = new Error("threshold data source not registered");
    const sig = new Recorder(undefined, { async: true, failInit: boom });
    const harness = new SignatureHarness(sig);
    const err = (await harness.deliver(traceeEvent("a", 1)).catch((e: unknown) => e)) as SignatureHarnessError;
    expect(err.phase).toBe("init");
    expect(err.cause).toBe(boom);
    expect(err.message).toBe('signature "Recorder" (T-1): init failed: threshold data source not registered');
    expect(harness.state).toBe("new");
    await expect(harness.init()).rejects.toThrow(/init failed/);
    expect(sig.inits).toBe(2);
  });

  it("rejects with phase close when close throws", async () => {
    const harness = new SignatureHarness(new Recorder(undefined, { failClose: true }));
    await harness.init();
    await expect(harness.close()).rejects.toMatchObject({ phase: "close", message: /close broke/ });
  });

  it("names a value that is not an event", async () => {
    const harness = new SignatureHarness(new Recorder());
    await expect(harness.deliver({ payload: 1 } as unknown as Event)).rejects.toThrow(/not an event/);
  });
});

function withThreshold(ds: ThresholdDataSource, threshold: number): ThresholdDataSource {
  ds.write(new Map([["threshold", threshold]]));
  return ds;
}
