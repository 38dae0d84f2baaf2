/**
 * Replacing the running detectors (hot reload), stopping a run, and the end
 * of a run with detectors still busy.
 */
import { defineDetector, detectedWithData, type Detector, Engine, isEngineRegistrationError } from "tracee-ds/engine";
import { getData, newInt32Value, type TraceeEvent } from "tracee-ds/events";
import { buildEvent } from "tracee-ds/testing";
import { describe, expect, it } from "vitest";

/** An input fed by the test: `push` events, `end` it. */
function feed() {
  const waiting: TraceeEvent[] = [];
  let wake: (() => void) | undefined;
  let ended = false;
  const input: AsyncIterable<TraceeEvent> = {
    async *[Symbol.asyncIterator]() {
      for (;;) {
        const event = waiting.shift();
        if (event !== undefined) {
          yield event;
          continue;
        }
        if (ended) return;
        await new Promise<void>((resolve) => (wake = resolve));
      }
    },
  };
  return {
    input,
    push(...events: TraceeEvent[]) {
      waiting.push(...events);
      wake?.();
    },
    end() {
      ended = true;
      wake?.();
    },
  };
}

/** Resolves once `predicate` holds for what was written. */
function collector() {
  const written: TraceeEvent[] = [];
  const waiters: { predicate: () => boolean; resolve: () => void }[] = [];
  return {
    written,
    output: {
      write(event: TraceeEvent) {
        written.push(event);
        for (const w of [...waiters]) {
          if (w.predicate()) {
            waiters.splice(waiters.indexOf(w), 1);
            w.resolve();
          }
        }
      },
    },
    until(predicate: () => boolean): Promise<void> {
      if (predicate()) return Promise.resolve();
      return new Promise((resolve) => waiters.push({ predicate, resolve }));
    },
  };
}

/** A counter detector: each `openat` gives an output with its version, the input's `n`, and its running count. */
function counter(version: number, log: string[] = [], extra: Partial<Detector> = {}): Detector {
  let count = 0;
  const detector = defineDetector({
    definition: {
      id: "counter",
      requirements: { events: [{ name: "openat", fields: { n: "int32" } }] },
      producedEvent: { name: "counted" },
    },
    init: () => void log.push(`init v${version}`),
    onEvent(_event, ctx) {
      count++;
      return detectedWithData([newInt32Value("version", version), newInt32Value("n", ctx.get("n") ?? -1), newInt32Value("count", count)]);
    },
    close: () => void log.push(`close v${version}`),
    snapshot: () => count,
    restore: (state) => {
      count = state as number;
      log.push(`restore v${version} at ${count}`);
    },
  });
  return { ...detector, ...extra } as Detector;
}

const openat = (n: number) => buildEvent("openat", { data: { n } });
const field = (e: TraceeEvent, name: string) => getData(e, name, "int32");

describe("reload", () => {
  it("swaps the set between two events: none lost, none reordered, state handed over", async () => {
    const log: string[] = [];
    const engine = new Engine();
    engine.addDetector(counter(1, log));
    const { input, push, end } = feed();
    const out = collector();
    const running = engine.run(input, { outputs: [out.output] });
    for (let n = 0; n < 100; n++) push(openat(n));
    const reloaded = engine.reload({ detectors: [counter(2, log)] });
    for (let n = 100; n < 200; n++) push(openat(n));
    const summary = await reloaded;
    for (let n = 200; n < 300; n++) push(openat(n));
    end();
    await running;

    expect(summary.restored).toEqual(["counter"]);
    expect(summary.participants.map((p) => p.id)).toEqual(["counter"]);
    expect(out.written.map((e) => field(e, "n"))).toEqual(Array.from({ length: 300 }, (_, n) => n));
    expect(out.written.map((e) => field(e, "count"))).toEqual(Array.from({ length: 300 }, (_, n) => n + 1));
    const versions = out.written.map((e) => field(e, "version"));
    const switchAt = versions.indexOf(2);
    expect(switchAt).toBeGreaterThan(0);
    expect(versions.slice(0, switchAt).every((v) => v === 1)).toBe(true);
    expect(versions.slice(switchAt).every((v) => v === 2)).toBe(true);
    expect(log).toEqual(["init v1", "init v2", `restore v2 at ${switchAt}`, "close v1", "close v2"]);
    expect(engine.stats().participants["counter"]?.processed).toBe(300);
  });

  it("a set that fails its checks or its init is refused, and the running set goes on", async () => {
    const log: string[] = [];
    const engine = new Engine();
    engine.addDetector(counter(1, log));
    const { input, push, end } = feed();
    const out = collector();
    const running = engine.run(input, { outputs: [out.output] });
    push(openat(0));
    await out.until(() => out.written.length === 1);

    const unknownEvent = defineDetector({
      definition: { id: "bad", requirements: { events: [{ name: "no_such_event" }] }, producedEvent: { name: "bad_out" } },
      onEvent: () => undefined,
    });
    const refused = await engine.reload({ detectors: [counter(2, log), unknownEvent] }).catch((e: unknown) => e);
    expect(isEngineRegistrationError(refused) && refused.message).toMatch(/^bad: requires the event "no_such_event"/);

    const failing = counter(3, log, {
      init: () => {
        throw new Error("config missing");
      },
    });
    await expect(engine.reload({ detectors: [counter(4, log), failing] })).rejects.toThrow(
      /^counter: another detector or signature has this id$/,
    );
    const badInit = defineDetector({
      definition: { id: "bad-init", requirements: { events: [{ name: "openat" }] }, producedEvent: { name: "x_out" } },
      init: () => {
        throw new Error("config missing");
      },
      onEvent: () => undefined,
    });
    await expect(engine.reload({ detectors: [counter(5, log), badInit] })).rejects.toThrow(/^bad-init: init failed: config missing$/);

    push(openat(1));
    end();
    await running;
    expect(out.written.map((e) => [field(e, "version"), field(e, "n")])).toEqual([
      [1, 0],
      [1, 1],
    ]);
    // v2 never started (refused before init); v5 was initialized, then closed when its set was refused.
    expect(log).toEqual(["init v1", "init v5", "close v5", "close v1"]);
  });

  it("an async detector's outputs for events before the swap come before the new set's", async () => {
    const engine = new Engine();
    const slow = defineDetector({
      definition: { id: "slow", requirements: { events: [{ name: "openat", fields: { n: "int32" } }] }, producedEvent: { name: "slow_out" } },
      async onEvent(_e, ctx) {
        await new Promise((r) => setTimeout(r, 2));
        return detectedWithData([newInt32Value("n", ctx.get("n") ?? -1), newInt32Value("version", 1)]);
      },
    });
    const quick = defineDetector({
      definition: { id: "slow", requirements: { events: [{ name: "openat", fields: { n: "int32" } }] }, producedEvent: { name: "slow_out" } },
      onEvent: (_e, ctx) => detectedWithData([newInt32Value("n", ctx.get("n") ?? -1), newInt32Value("version", 2)]),
    });
    engine.addDetector(slow);
    const { input, push, end } = feed();
    const out = collector();
    const running = engine.run(input, { outputs: [out.output] });
    for (let n = 0; n < 10; n++) push(openat(n));
    const reloaded = engine.reload({ detectors: [quick] });
    for (let n = 10; n < 20; n++) push(openat(n));
    await reloaded;
    end();
    await running;
    expect(out.written.map((e) => field(e, "n"))).toEqual(Array.from({ length: 20 }, (_, n) => n));
    const versions = out.written.map((e) => field(e, "version"));
    expect(versions).toEqual([...versions].sort());
  });

  it("before a run, a reload just replaces what is registered", async () => {
    const engine = new Engine();
    engine.addDetector(counter(1));
    const summary = await engine.reload({ detectors: [counter(2)], config: { counter: { k: 1 } } });
    expect(summary).toEqual({
      participants: [{ id: "counter", kind: "detector", events: ["openat"], produces: ["counted"], dataSources: [] }],
      restored: [],
    });
    const out = collector();
    await engine.run(
      (async function* () {
        yield openat(7);
      })(),
      { outputs: [out.output] },
    );
    expect(out.written.map((e) => field(e, "version"))).toEqual([2]);
  });
});

describe("stopping", () => {
  it("an abort stops reading the input; what was read is handled, and detectors are closed", async () => {
    const log: string[] = [];
    const engine = new Engine();
    engine.addDetector(counter(1, log));
    const { input, push } = feed();
    const out = collector();
    const controller = new AbortController();
    const running = engine.run(input, { outputs: [out.output], signal: controller.signal });
    push(openat(0), openat(1));
    await out.until(() => out.written.length === 2);
    controller.abort();
    const stats = await running;
    expect(stats.events).toBe(2);
    expect(log).toEqual(["init v1", "close v1"]);
  });

  it("at the end of the input, a stalled detector's queued events are dropped after drainTimeoutMs, counted", async () => {
    const engine = new Engine({ timeoutMs: 25, drainTimeoutMs: 20 });
    let calls = 0;
    engine.addDetector(
      defineDetector({
        definition: { id: "stalled", requirements: { events: [{ name: "openat" }] }, producedEvent: { name: "s_out" } },
        onEvent: () => {
          calls++;
          return new Promise<never>(() => undefined);
        },
      }),
    );
    engine.addDetector(counter(1));
    const out = collector();
    const stats = await engine.run(
      (async function* () {
        for (let n = 0; n < 50; n++) yield openat(n);
      })(),
      { outputs: [out.output] },
    );
    expect(out.written).toHaveLength(50); // the counter's, all of them
    const stalled = stats.participants["stalled"];
    // Every event was either called (and timed out, or was abandoned still running: also a timeout) or dropped; none vanished.
    expect((stalled?.timeouts ?? 0) + (stalled?.dropped ?? 0)).toBe(50);
    expect(stalled?.timeouts).toBe(calls);
    expect(stalled?.dropped).toBeGreaterThan(0);
  });

  it("a call that never settles, with a timeout longer than the drain, is abandoned after twice drainTimeoutMs", async () => {
    const warnings: string[] = [];
    const logger = { debug() {}, info() {}, warn: (msg: string) => void warnings.push(msg), error() {} };
    const engine = new Engine({ timeoutMs: 3_600_000, drainTimeoutMs: 20, logger });
    engine.addDetector(
      defineDetector({
        definition: { id: "stuck", requirements: { events: [{ name: "openat" }] }, producedEvent: { name: "stuck_out" } },
        onEvent: () => new Promise<never>(() => undefined),
      }),
    );
    const stats = await engine.run(
      (async function* () {
        for (let n = 0; n < 3; n++) yield openat(n);
      })(),
      { outputs: [] },
    );
    expect(stats.participants["stuck"]).toMatchObject({ processed: 1, dropped: 2, timeouts: 1 });
    expect(warnings).toEqual(["detector still busy at the end; its queued events are dropped", "calls still running at the end are abandoned"]);
  });
});
