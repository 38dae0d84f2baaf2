/**
 * DetectorHarness: one engine run across feeds, each feed resolving once its
 * events and everything they caused (async, chained) is written.
 */
import { setImmediate as nextMacrotask } from "node:timers/promises";
import { type DataSource, DataSourceRegistry, type Logger } from "tracee-ds";
import { defineDetector, detected, detectedWithData, type Detector, type EngineMetrics, isEngineRegistrationError } from "tracee-ds/engine";
import { encodeEventJson, getData, newInt32Value, newStringValue, type TraceeEvent } from "tracee-ds/events";
import { buildEvent, DetectorHarness, fakeDataSource, fakeWritableDataSource } from "tracee-ds/testing";
import { describe, expect, it } from "vitest";
import { runExclusive } from "../../src/internal/exclusive.js";

/** A detector producing `produced` for every `input` event, after `delay` (a promise to await) when given. */
function relay(id: string, input: string, produced: string, wait?: () => Promise<unknown>): Detector {
  return defineDetector({
    definition: { id, requirements: { events: [{ name: input }] }, producedEvent: { name: produced }, autoPopulate: { detectedFrom: true } },
    onEvent: wait === undefined ? () => detected() : async () => (await wait(), detected()),
  });
}

/** A promise that resolves after `ms` on a timer: work the engine cannot see through. */
const later = (ms: number) => () => new Promise((resolve) => setTimeout(resolve, ms));

const open = (pid = 1) => buildEvent("openat", { process: { pid }, data: { pathname: "/etc/passwd" } });

describe("DetectorHarness.feed", () => {
  it("returns the outputs of each feed only, with detector state kept between feeds", async () => {
    const counter = defineDetector({
      definition: { id: "C", requirements: { events: [{ name: "openat" }] }, producedEvent: { name: "second_open" } },
      init() {
        this.seen = 0;
      },
      onEvent() {
        this.seen = (this.seen ?? 0) + 1;
        return this.seen % 2 === 0 ? detectedWithData([newInt32Value("count", this.seen)]) : undefined;
      },
    } as Detector & { seen?: number });
    const h = await DetectorHarness.create(counter);
    expect(await h.feed(open())).toEqual([]);
    const [out, ...rest] = await h.feed(open());
    expect(rest).toEqual([]);
    expect(out).toMatchObject({ name: "second_open", id: 7500, data: [{ name: "count", int32: 2 }] });
    expect((await h.feed(open(), open(), open())).map((e) => getData(e, "count", "int32"))).toEqual([4]);
    expect(h.outputs).toHaveLength(2);
    await h.close();
  });

  it("waits for async onEvent calls, also those that wait on timers", async () => {
    const h = await DetectorHarness.create(relay("A", "openat", "slow_out", later(5)));
    const outputs = await h.feed(open(1), open(2), open(3));
    expect(outputs.map((e) => e.name)).toEqual(["slow_out", "slow_out", "slow_out"]);
    expect(outputs.map((e) => e.workload?.process?.pid)).toEqual([1, 2, 3]);
    await h.close();
  });

  it("includes outputs chained through sync and async detectors, level after level", async () => {
    const h = await DetectorHarness.create([
      relay("L1", "openat", "level1", later(2)),
      relay("L2", "level1", "level2"),
      relay("L3", "level2", "level3", later(2)),
      relay("L4", "level3", "level4"),
    ]);
    const outputs = await h.feed(open());
    expect(outputs.map((e) => e.name)).toEqual(["level1", "level2", "level3", "level4"]);
    expect(outputs.map((e) => e.id)).toEqual([7500, 7501, 7502, 7503]);
    expect(outputs[3]?.detectedFrom?.parent?.parent?.name).toBe("level1");
    await h.close();
  });

  it("does not resolve while an onEvent is still pending", async () => {
    let release!: () => void;
    const gate = new Promise<void>((resolve) => (release = resolve));
    let entered!: () => void;
    const started = new Promise<void>((resolve) => (entered = resolve));
    const h = await DetectorHarness.create(
      relay("G", "openat", "gated", async () => {
        entered();
        await gate;
      }),
      { engine: { timeoutMs: 60_000 } },
    );
    let resolved = false;
    const feeding = h.feed(open()).then((outputs) => {
      resolved = true;
      return outputs;
    });
    await started;
    // Give the harness every chance to resolve too early.
    for (let i = 0; i < 20; i++) await nextMacrotask();
    expect(resolved).toBe(false);
    release();
    expect((await feeding).map((e) => e.name)).toEqual(["gated"]);
    await h.close();
  });

  it("runs feeds one after another, in call order", async () => {
    const h = await DetectorHarness.create(relay("A", "openat", "slow_out", later(3)));
    const [a, b] = await Promise.all([h.feed(open(1)), h.feed(open(2), open(3))]);
    expect(a?.map((e) => e.workload?.process?.pid)).toEqual([1]);
    expect(b?.map((e) => e.workload?.process?.pid)).toEqual([2, 3]);
    await h.close();
  });

  it("resolves to nothing for events no detector requires, and for no events", async () => {
    const h = await DetectorHarness.create(relay("A", "openat", "a_out"));
    expect(await h.feed(buildEvent("close"))).toEqual([]);
    expect(await h.feed()).toEqual([]);
    expect(h.stats().events).toBe(1);
    await h.close();
  });

  it("json gives Tracee's JSON lines of the outputs", async () => {
    const h = await DetectorHarness.create(relay("A", "openat", "a_out"));
    const input = open();
    const [line] = await h.json(input);
    expect(line).toBe(encodeEventJson(h.outputs[0] as TraceeEvent));
    expect(JSON.parse(line as string)).toMatchObject({ id: 7500, name: "a_out", detected_from: { name: "openat" } });
    await h.close();
  });
});

describe("detector failures", () => {
  it("a throw, a rejection or a timeout is counted and logged; feed resolves with the others' outputs", async () => {
    const h = await DetectorHarness.create(
      [
        relay("ok", "openat", "ok_out"),
        defineDetector({
          definition: { id: "thrower", requirements: { events: [{ name: "openat" }] }, producedEvent: { name: "t_out" } },
          onEvent: () => {
            throw new Error("boom");
          },
        }),
        defineDetector({
          definition: { id: "rejecter", requirements: { events: [{ name: "openat" }] }, producedEvent: { name: "r_out" } },
          onEvent: () => Promise.reject(new Error("nope")),
        }),
        relay("stalled", "openat", "s_out", () => new Promise(() => undefined)),
      ],
      { engine: { timeoutMs: 20 } },
    );
    expect((await h.feed(open())).map((e) => e.name)).toEqual(["ok_out"]);
    const stats = h.stats().participants;
    expect(stats["thrower"]).toMatchObject({ processed: 1, errors: 1 });
    expect(stats["rejecter"]).toMatchObject({ processed: 1, errors: 1 });
    expect(stats["stalled"]).toMatchObject({ processed: 1, timeouts: 1 });
    expect(h.logs.filter((l) => l.level === "error").map((l) => l.keyvals[1])).toEqual(["thrower", "rejecter"]);
    expect(h.logs.some((l) => l.level === "warn" && l.keyvals.includes("stalled"))).toBe(true);
    await h.close();
  });

  it("create rejects with the engine's registration error", async () => {
    const needsData = defineDetector({
      definition: {
        id: "needs",
        requirements: { events: [{ name: "openat" }], dataSources: [{ namespace: "ns", id: "missing" }] },
        producedEvent: { name: "needs_out" },
      },
      onEvent: () => detected(),
    });
    const failure = await DetectorHarness.create(needsData).catch((err: unknown) => err);
    expect(isEngineRegistrationError(failure)).toBe(true);
    expect((failure as Error).message).toMatch(/ns\/missing/);
  });
});

describe("life cycle", () => {
  it("init runs once at create; close ends the run, closes the detectors and returns the stats", async () => {
    const calls: string[] = [];
    const h = await DetectorHarness.create(
      defineDetector({
        definition: { id: "L", requirements: { events: [{ name: "openat" }] }, producedEvent: { name: "l_out" } },
        init: () => void calls.push("init"),
        onEvent: () => (calls.push("event"), detected()),
        close: () => void calls.push("close"),
      }),
    );
    expect(calls).toEqual(["init"]);
    await h.feed(open());
    await h.feed(open());
    expect(calls).toEqual(["init", "event", "event"]);
    const stats = await h.close();
    expect(calls).toEqual(["init", "event", "event", "close"]);
    expect(stats).toMatchObject({ events: 2, written: 2 });
    expect(await h.close()).toEqual(stats);
    await expect(h.feed(open())).rejects.toThrow(/after close/);
  });

  it("close waits for async work still running", async () => {
    const calls: string[] = [];
    const h = await DetectorHarness.create(
      defineDetector({
        definition: { id: "L", requirements: { events: [{ name: "openat" }] }, producedEvent: { name: "l_out" } },
        onEvent: async () => {
          await later(3)();
          calls.push("event");
          return detected();
        },
        close: () => void calls.push("close"),
      }),
    );
    const feeding = h.feed(open());
    await h.close();
    expect(calls).toEqual(["event", "close"]);
    expect((await feeding).map((e) => e.name)).toEqual(["l_out"]);
  });
});

describe("options", () => {
  const configured = (id: string) =>
    defineDetector({
      definition: { id, requirements: { events: [{ name: "openat" }] }, producedEvent: { name: `${id}_out` } },
      init(params) {
        this.label = params.config.getString("label", "default");
      },
      onEvent() {
        return detectedWithData([newStringValue("label", this.label ?? "")]);
      },
    } as Detector & { label?: string });

  it("config goes to the one detector, or per id to several", async () => {
    const one = await DetectorHarness.create(configured("A"), { config: { label: "mine" } });
    expect((await one.feed(open())).map((e) => getData(e, "label", "str"))).toEqual(["mine"]);
    await one.close();

    const two = await DetectorHarness.create([configured("A"), configured("B")], { config: { B: { label: "b's" } } });
    expect((await two.feed(open())).map((e) => getData(e, "label", "str"))).toEqual(["default", "b's"]);
    await two.close();
  });

  const reader = defineDetector({
    definition: {
      id: "R",
      requirements: { events: [{ name: "openat" }], dataSources: [{ namespace: "test", id: "level" }] },
      producedEvent: { name: "r_out" },
    },
    init(params) {
      this.ds = params.getDataSource("test", "level");
    },
    onEvent() {
      return detectedWithData([newStringValue("level", String(this.ds?.get("level")["value"]))]);
    },
  } as Detector & { ds?: DataSource | undefined });

  it("data sources, as a list or a registry; writes between feeds are seen", async () => {
    const level = fakeWritableDataSource({ namespace: "test", id: "level", data: { level: { value: "low" } } });
    const h = await DetectorHarness.create(reader, { dataSources: [level] });
    expect((await h.feed(open())).map((e) => getData(e, "level", "str"))).toEqual(["low"]);
    await level.write(new Map([["level", { value: "high" }]]));
    expect((await h.feed(open())).map((e) => getData(e, "level", "str"))).toEqual(["high"]);
    await h.close();

    const registry = new DataSourceRegistry();
    registry.register(fakeDataSource({ namespace: "test", id: "level", data: { level: { value: "fixed" } } }));
    const h2 = await DetectorHarness.create(reader, { dataSources: registry });
    expect(h2.engine.dataSources).toBe(registry);
    expect((await h2.feed(open())).map((e) => getData(e, "level", "str"))).toEqual(["fixed"]);
    await h2.close();
  });

  it("waits for a detector whose read is queued behind a data source write in progress", async () => {
    const level = fakeWritableDataSource({ namespace: "test", id: "level", data: { level: { value: "low" } } });
    const h = await DetectorHarness.create(reader, { dataSources: [level] });
    let release!: () => void;
    const gate = new Promise<void>((resolve) => (release = resolve));
    // As the gRPC server writes: queued per data source, so reads wait for it.
    const writing = runExclusive(level, async () => {
      await gate;
      await level.write(new Map([["level", { value: "high" }]]));
    });
    let resolved = false;
    const feeding = h.feed(open()).then((outputs) => {
      resolved = true;
      return outputs;
    });
    for (let i = 0; i < 20; i++) await nextMacrotask();
    expect(resolved).toBe(false);
    release();
    await writing;
    expect((await feeding).map((e) => getData(e, "level", "str"))).toEqual(["high"]);
    await h.close();
  });

  it("captures log lines and forwards them to a logger; forwards metrics", async () => {
    const forwarded: string[] = [];
    const logger: Logger = {
      debug: (msg) => void forwarded.push(msg),
      info: (msg) => void forwarded.push(msg),
      warn: (msg) => void forwarded.push(msg),
      error: (msg) => void forwarded.push(msg),
    };
    const produced: string[] = [];
    const metrics: EngineMetrics = {
      eventProcessed: () => undefined,
      outputsProduced: (id) => void produced.push(id),
      error: () => undefined,
      timeout: () => undefined,
      dropped: () => undefined,
      duration: () => undefined,
      chainDepthExceeded: () => undefined,
    };
    const h = await DetectorHarness.create(
      defineDetector({
        definition: { id: "W", requirements: { events: [{ name: "openat" }] }, producedEvent: { name: "w_out" } },
        init: (params) => params.logger.infow("ready", "answer", 42),
        onEvent: () => detected(),
      }),
      { logger, engine: { metrics } },
    );
    expect(h.logs).toContainEqual({ level: "info", msg: "ready", keyvals: ["detector", "W", "answer", 42] });
    expect(forwarded).toContain("ready");
    await h.feed(open());
    expect(produced).toEqual(["W"]);
    await h.close();
  });
});
