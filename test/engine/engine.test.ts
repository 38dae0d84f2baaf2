/**
 * The engine's dispatch as Tracee's: by name, the input before its outputs,
 * outputs built by Tracee's rules and chained breadth first to depth 5; and
 * what Tracee does not guard: throws, rejections, timeouts, stalled
 * detectors, registration mistakes, data sources written during a run.
 */
import { DataSourceRegistry, ErrDataNotFound, type Signature, type SignatureContext, SOURCE_COMPLETE_TRACEE, type WriteData } from "tracee-ds";
import {
  defineDetector,
  detected,
  detectedWithData,
  type Detector,
  Engine,
  isEngineRegistrationError,
} from "tracee-ds/engine";
import { getData, newStringValue, type Threat, type TraceeEvent } from "tracee-ds/events";
import { buildEvent } from "tracee-ds/testing";
import { describe, expect, expectTypeOf, it } from "vitest";
import { runExclusive } from "../../src/internal/exclusive.js";

const threat: Threat = {
  description: "a process blocks debuggers",
  mitre: { tactic: { name: "Defense Evasion" }, technique: { id: "T1622", name: "Debugger Evasion" } },
  severity: 1,
  name: "Anti-Debugging detected",
  properties: { Category: "defense-evasion" },
};

/** A detector of `name` that fires on `input` events, with options. */
function fire(id: string, input: string, produced: string, extra: Partial<Detector["definition"]> = {}): Detector {
  return defineDetector({
    definition: { id, requirements: { events: [{ name: input }] }, producedEvent: { name: produced }, ...extra },
    onEvent: () => detected(),
  });
}

async function* from(events: readonly TraceeEvent[]): AsyncGenerator<TraceeEvent> {
  yield* events;
}

/** Runs `events` through `engine`, collecting what is written. */
async function run(engine: Engine, events: readonly TraceeEvent[], outputAll = false): Promise<TraceeEvent[]> {
  const written: TraceeEvent[] = [];
  await engine.run(from(events), { outputs: [{ write: (e) => void written.push(e) }], outputAll });
  return written;
}

const ptrace = (request: bigint, pid = 7) =>
  buildEvent("ptrace", { data: [{ name: "request", int64: request }, { name: "pid", int32: 0 }], process: { pid, comm: "strace", entityId: 99 }, policies: ["p1"] });

describe("dispatch", () => {
  it("builds output events by Tracee's rules", async () => {
    const engine = new Engine();
    engine.addDetector(
      defineDetector({
        definition: {
          id: "TRC-102",
          requirements: { events: [{ name: "ptrace", fields: { request: "int64" } }] },
          producedEvent: { name: "anti_debugging", version: "1.0.0" },
          threat,
          autoPopulate: { threat: true, detectedFrom: true },
        },
        onEvent(event, ctx) {
          const request = ctx.get("request");
          expectTypeOf(request).toEqualTypeOf<bigint | undefined>();
          expectTypeOf(event.name).toEqualTypeOf<"ptrace">();
          if (request === 0n) return detected();
          return undefined;
        },
      }),
    );
    const input = ptrace(0n);
    const [out, ...rest] = await run(engine, [input, ptrace(16n)]);
    expect(rest).toEqual([]);
    expect(out).toEqual({
      timestamp: input.timestamp,
      id: 7500,
      name: "anti_debugging",
      policies: { matched: ["p1"] },
      workload: input.workload,
      data: [],
      threat,
      detectedFrom: { id: input.id, name: "ptrace", data: input.data, parent: undefined },
    });
    expect(out?.threat).not.toBe(threat); // a copy
  });

  it("an output's own threat wins; without autoPopulate there is no threat nor detected_from", async () => {
    const engine = new Engine();
    const own = { ...threat, name: "custom", severity: 4 };
    engine.addDetector(
      defineDetector({
        definition: { id: "A", requirements: { events: [{ name: "ptrace" }] }, producedEvent: { name: "a_out" }, threat },
        onEvent: () => [{ data: [newStringValue("why", "x")] }, { threat: own }],
      }),
    );
    const [plain, custom] = await run(engine, [ptrace(0n)]);
    expect(plain).toMatchObject({ name: "a_out", data: [{ name: "why", str: "x" }], threat: undefined, detectedFrom: undefined });
    expect(custom?.threat).toEqual(own);
  });

  it("writes the input before its outputs, and outputs breadth first", async () => {
    const engine = new Engine();
    engine.addDetector(fire("L1a", "openat", "level1a"));
    engine.addDetector(fire("L1b", "openat", "level1b"));
    engine.addDetector(fire("L2a", "level1a", "level2a", { autoPopulate: { detectedFrom: true } }));
    engine.addDetector(fire("L2b", "level1b", "level2b"));
    const written = await run(engine, [buildEvent("openat"), buildEvent("close")], true);
    expect(written.map((e) => e.name)).toEqual(["openat", "level1a", "level1b", "level2a", "level2b", "close"]);
    const level2a = written[3];
    expect(level2a?.detectedFrom?.name).toBe("level1a");
    expect(written.map((e) => e.id).slice(1, 5)).toEqual([7500, 7501, 7502, 7503]);
  });

  it("chains at most 5 levels deep, counting what it drops", async () => {
    const engine = new Engine();
    for (let level = 1; level <= 7; level++) {
      engine.addDetector(
        fire(`L${level}`, level === 1 ? "openat" : `level${level - 1}`, `level${level}`, { autoPopulate: { detectedFrom: true } }),
      );
    }
    const written = await run(engine, [buildEvent("openat")]);
    expect(written.map((e) => e.name)).toEqual(["level1", "level2", "level3", "level4", "level5"]);
    expect(engine.stats().chainDepthExceeded).toBe(1);
    // detected_from records the whole chain.
    let depth = 0;
    for (let d = written[4]?.detectedFrom; d !== undefined; d = d.parent) depth++;
    expect(depth).toBe(5);
  });

  it("dispatches by name: a detector sees only the events it requires", async () => {
    const seen: string[] = [];
    const engine = new Engine();
    engine.addDetector(
      defineDetector({
        definition: { id: "S", requirements: { events: [{ name: "execve" }, { name: "openat" }] }, producedEvent: { name: "s_out" } },
        onEvent: (event) => void seen.push(event.name),
      }),
    );
    await run(engine, ["close", "openat", "execve", "write"].map((n) => buildEvent(n)));
    expect(seen).toEqual(["openat", "execve"]);
    expect(engine.stats().participants["S"]?.processed).toBe(2);
  });
});

describe("guards", () => {
  it("a detector that throws, rejects, never resolves or is slow leaves the others' outputs unchanged", async () => {
    const engine = new Engine({ timeoutMs: 50 });
    engine.addDetector(fire("good", "openat", "good_out"));
    engine.addDetector(
      defineDetector({
        definition: { id: "thrower", requirements: { events: [{ name: "openat" }] }, producedEvent: { name: "t_out" } },
        onEvent: () => {
          throw new Error("boom");
        },
      }),
    );
    engine.addDetector(
      defineDetector({
        definition: { id: "rejecter", requirements: { events: [{ name: "openat" }] }, producedEvent: { name: "r_out" } },
        onEvent: async () => Promise.reject(new Error("nope")),
      }),
    );
    engine.addDetector(
      defineDetector({
        definition: { id: "stalled", requirements: { events: [{ name: "openat" }] }, producedEvent: { name: "n_out" } },
        onEvent: () => new Promise<never>(() => undefined),
      }),
    );
    engine.addDetector(
      defineDetector({
        definition: { id: "slow", requirements: { events: [{ name: "openat" }] }, producedEvent: { name: "slow_out" } },
        onEvent: async () => {
          await new Promise((r) => setTimeout(r, 5));
          return detected();
        },
      }),
    );
    const written = await run(engine, Array.from({ length: 5 }, () => buildEvent("openat")));
    expect(written.filter((e) => e.name === "good_out")).toHaveLength(5);
    expect(written.filter((e) => e.name === "slow_out")).toHaveLength(5);
    const stats = engine.stats().participants;
    expect(stats["thrower"]).toMatchObject({ processed: 5, errors: 5 });
    expect(stats["rejecter"]).toMatchObject({ errors: 5 });
    expect(stats["stalled"]).toMatchObject({ timeouts: 5 });
    expect(stats["good"]).toMatchObject({ processed: 5, produced: 5, errors: 0 });
  });

  it("a busy async detector queues at most maxPendingPerDetector events, dropping (and counting) the rest", async () => {
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    const engine = new Engine({ maxPendingPerDetector: 3, timeoutMs: 10_000 });
    engine.addDetector(
      defineDetector({
        definition: { id: "gated", requirements: { events: [{ name: "openat" }] }, producedEvent: { name: "g_out" } },
        onEvent: async () => {
          await gate;
          return detected();
        },
      }),
    );
    engine.addDetector(fire("quick", "openat", "q_out"));
    const written: TraceeEvent[] = [];
    let quickDone!: () => void;
    const allQuick = new Promise<void>((r) => (quickDone = r));
    const running = engine.run(from(Array.from({ length: 10 }, () => buildEvent("openat"))), {
      outputs: [
        {
          write: (e) => {
            written.push(e);
            if (written.filter((w) => w.name === "q_out").length === 10) quickDone();
          },
        },
      ],
    });
    await allQuick; // the others went on while "gated" waits
    expect(written.filter((e) => e.name === "g_out")).toHaveLength(0);
    release();
    await running;
    expect(written.filter((e) => e.name === "g_out")).toHaveLength(4); // 1 running + 3 queued
    expect(engine.stats().participants["gated"]?.dropped).toBe(6);
  });
});

describe("registration", () => {
  it("names the detector and the reason", async () => {
    const unknown = new Engine();
    unknown.addDetector(fire("X-1", "no_such_event", "x_out"));
    const err = await unknown.start().catch((e: unknown) => e);
    expect(isEngineRegistrationError(err) && err.message).toBe(
      'X-1: requires the event "no_such_event", which is neither one of Tracee\'s events nor produced by a registered detector',
    );

    const missingDs = new Engine();
    missingDs.addDetector(fire("X-2", "openat", "x2", { requirements: { events: [{ name: "openat" }], dataSources: [{ namespace: "n", id: "i" }] } }));
    await expect(missingDs.start()).rejects.toThrow(/^X-2: requires the data source n\/i, which is not registered$/);

    const engine = new Engine();
    engine.addDetector(fire("D", "openat", "d_out"));
    expect(() => engine.addDetector(fire("D", "openat", "other"))).toThrow(/^D: another detector or signature has this id$/);
    expect(() => engine.addDetector(fire("E", "openat", "d_out"))).toThrow(/^E: D already produces the event "d_out"$/);
    expect(() => engine.addDetector(fire("F", "openat", "openat"))).toThrow(/one of Tracee's own events/);
  });

  it("optional requirements are skipped with a log line; a detector's own events satisfy others", async () => {
    const lines: string[] = [];
    const logger = { debug() {}, info: (msg: string) => void lines.push(msg), warn() {}, error() {} };
    const engine = new Engine({ logger });
    engine.addDetector(fire("needs-later", "made_later", "chained"));
    engine.addDetector(fire("maker", "openat", "made_later"));
    engine.addDetector(
      fire("opt", "openat", "opt_out", {
        requirements: { events: [{ name: "openat" }, { name: "nope", dependency: "optional" }], dataSources: [{ namespace: "n", id: "i", dependency: "optional" }] },
      }),
    );
    const written = await run(engine, [buildEvent("openat")]);
    expect(written.map((e) => e.name)).toEqual(["made_later", "opt_out", "chained"]);
    expect(lines).toEqual(["optional event not available; the detector runs without it", "optional data source not registered"]);
  });

  it("init gets a logger, config and data sources; a failing init fails the start", async () => {
    const ds = {
      get: (key: unknown) => {
        if (key !== "k") throw ErrDataNotFound;
        return { v: 1 };
      },
      version: () => 1,
      keys: () => ["string"],
      schema: () => "{}",
      namespace: () => "n",
      id: () => "i",
    };
    const logged: unknown[][] = [];
    const engine = new Engine({ logger: { debug() {}, info: (...a: unknown[]) => void logged.push(a), warn() {}, error() {} } });
    engine.addDataSource(ds);
    let seen: unknown;
    engine.addDetector(
      defineDetector({
        definition: { id: "cfg", requirements: { events: [{ name: "openat" }], dataSources: [{ namespace: "n", id: "i" }] }, producedEvent: { name: "cfg_out" } },
        init({ config, getDataSource, logger }) {
          seen = [config.getInt("threshold", 0), getDataSource("n", "i")?.get("k")];
          logger.infow("ready", "k", 1);
        },
        onEvent: () => undefined,
      }),
      { config: { threshold: "7" } },
    );
    await engine.start();
    expect(seen).toEqual([7, { v: 1 }]);
    expect(logged).toEqual([["ready", "detector", "cfg", "k", 1]]);

    const failing = new Engine();
    failing.addDetector(
      defineDetector({
        definition: { id: "bad-init", requirements: { events: [{ name: "openat" }] }, producedEvent: { name: "b" } },
        init: () => {
          throw new Error("no config");
        },
        onEvent: () => undefined,
      }),
    );
    await expect(failing.start()).rejects.toThrow(/^bad-init: init failed: no config$/);
  });
});

describe("data sources written during a run", () => {
  it("a write in progress finishes before onEvent reads, and an async onEvent holds off a write", async () => {
    const store = new Map<string, string>();
    const order: string[] = [];
    const ds = {
      get: (key: unknown) => {
        const v = store.get(String(key));
        if (v === undefined) throw ErrDataNotFound;
        return { value: v };
      },
      version: () => 1,
      keys: () => ["string"],
      schema: () => "{}",
      namespace: () => "ns",
      id: () => "kv",
      values: () => ["string"],
      write: async (data: WriteData) => {
        order.push("write start");
        await new Promise((r) => setTimeout(r, 5));
        for (const [k, v] of data) store.set(String(k), String(v));
        order.push("write end");
      },
    };
    const engine = new Engine({ dataSources: new DataSourceRegistry().register(ds) });
    engine.addDetector(
      defineDetector({
        definition: { id: "reader", requirements: { events: [{ name: "openat" }], dataSources: [{ namespace: "ns", id: "kv" }] }, producedEvent: { name: "r_out" } },
        async onEvent(event) {
          order.push(`read ${getData(event, "n", "int32")} start`);
          const value = (() => {
            try {
              return ds.get("bruh").value;
            } catch {
              return undefined;
            }
          })();
          await new Promise((r) => setTimeout(r, 5));
          order.push(`read ${getData(event, "n", "int32")} end`);
          return value === "moment" ? detectedWithData([newStringValue("bruh", value)]) : undefined;
        },
      }),
    );
    await engine.start();
    // A write starts before the first event: the read waits for it.
    const writing = runExclusive(ds, () => ds.write(new Map([["bruh", "moment"]])));
    const events = [0, 1].map((n) => buildEvent("openat", { data: { n } }));
    const written: TraceeEvent[] = [];
    let second: Promise<void> | undefined;
    await engine.run(
      (async function* () {
        yield events[0] as TraceeEvent;
        // While event 0's async read runs, a second write must wait for it.
        await new Promise((r) => setTimeout(r, 1));
        second = runExclusive(ds, () => ds.write(new Map([["bruh", "later"]])));
        yield events[1] as TraceeEvent;
      })(),
      { outputs: [{ write: (e) => void written.push(e) }] },
    );
    await writing;
    await second;
    expect(order.slice(0, 4)).toEqual(["write start", "write end", "read 0 start", "read 0 end"]);
    expect(order.indexOf("read 0 end")).toBeLessThan(order.lastIndexOf("write start"));
    expect(written.map((e) => getData(e, "bruh", "str"))).toEqual(["moment"]);
  });
});

describe("filters and signatures in the engine", () => {
  it("a requirement's data and scope filters run before onEvent", async () => {
    const engine = new Engine();
    const seen: string[] = [];
    engine.addDetector(
      defineDetector({
        definition: {
          id: "etc",
          requirements: {
            events: [{ name: "security_file_open", dataFilters: ["pathname=/etc/*"], scopeFilters: ["comm!=cron"] }],
          },
          producedEvent: { name: "etc_open" },
        },
        onEvent(event) {
          seen.push(`${getData(event, "pathname", "str")} ${event.workload?.process?.thread?.name}`);
          return detected();
        },
      }),
    );
    const open = (pathname: string, comm: string) => buildEvent("security_file_open", { data: { pathname }, process: { comm } });
    const written = await run(engine, [open("/etc/shadow", "cat"), open("/tmp/x", "cat"), open("/etc/passwd", "cron")]);
    expect(seen).toEqual(["/etc/shadow cat"]);
    expect(written).toHaveLength(1);
    expect(engine.stats().participants["etc"]?.processed).toBe(1);
    expect(() =>
      new Engine().addDetector(fire("bad", "openat", "b_out", { requirements: { events: [{ name: "openat", scopeFilters: ["mntns=1"] }] } })),
    ).toThrow(/^bad: event "openat": invalid scope filter "mntns=1"/);
  });

  it("a legacy signature runs beside detectors: selectors, the finding as an event, the end signal", async () => {
    const signals: unknown[] = [];
    const signature: Signature = {
      getMetadata: () => ({ id: "SIG-1", version: "1", name: "open watcher", eventName: "open_seen", description: "", properties: { Severity: 2 } }),
      getSelectedEvents: () => [{ source: "tracee", name: "openat", origin: "*" }],
      init(ctx) {
        this.ctx = ctx;
      },
      onEvent(event) {
        (this as { ctx: SignatureContext }).ctx.callback({ data: { path: "/x" }, event, sigMetadata: this.getMetadata() });
      },
      onSignal: (signal) => void signals.push(signal),
      close() {},
    } as Signature & { ctx?: SignatureContext };
    const engine = new Engine();
    engine.addSignature(signature);
    engine.addDetector(fire("after-sig", "open_seen", "chained"));
    expect(engine.list()).toEqual([
      { id: "SIG-1", kind: "signature", events: ["openat"], produces: ["open_seen"], dataSources: [] },
      { id: "after-sig", kind: "detector", events: ["open_seen"], produces: ["chained"], dataSources: [] },
    ]);
    const input = buildEvent("openat");
    const written = await run(engine, [input, buildEvent("close")]);
    expect(written.map((e) => [e.name, e.id])).toEqual([
      ["open_seen", 6000],
      ["chained", 7500],
    ]);
    expect(written[0]).toMatchObject({ timestamp: input.timestamp, data: [{ name: "path", str: "/x" }], threat: { severity: 2, name: "open watcher" } });
    expect(signals).toEqual([SOURCE_COMPLETE_TRACEE]);
  });
});
