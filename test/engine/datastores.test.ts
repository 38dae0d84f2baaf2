/**
 * Datastores in the engine: `requirements.dataStores` and
 * `params.dataStores` (Go: `GetCustom`, `RegisterWritableStore`), the order
 * inits run in so an owner's store is there for its readers, required stores
 * checked once every init ran, stores kept across reloads, and a refused set
 * leaving no store behind.
 */
import { DataStoreRegistry, type DataStore, type WritableStore } from "tracee-ds";
import {
  defineDetector,
  detected,
  detectedWithData,
  type Detector,
  type DetectorParams,
  Engine,
  isEngineRegistrationError,
  storeRef,
} from "tracee-ds/engine";
import { newStringValue, type TraceeEvent } from "tracee-ds/events";
import { buildEvent, DetectorHarness, type FakeDataStore, fakeDataStore } from "tracee-ds/testing";
import type { JsonValue } from "type-fest";
import { describe, expect, expectTypeOf, it } from "vitest";

async function* from(events: readonly TraceeEvent[]): AsyncGenerator<TraceeEvent> {
  yield* events;
}

/** Reads `key` from the store `name` on each `openat`, firing with the value when it is a string. */
function reader(id: string, name: string, options: { dependency?: "required" | "optional"; key?: string; log?: string[] } = {}): Detector {
  let store: DataStore | undefined;
  return defineDetector({
    definition: {
      id,
      requirements: { events: [{ name: "openat" }], dataStores: [{ name, ...(options.dependency === undefined ? {} : { dependency: options.dependency }) }] },
      producedEvent: { name: `${id}_fired` },
    },
    init(params) {
      store = params.dataStores.get(name);
      options.log?.push(`init ${id}: ${store === undefined ? "no store" : "store"}`);
    },
    onEvent() {
      const value = store?.get(options.key ?? "k");
      return typeof value === "string" ? detectedWithData([newStringValue("value", value)]) : undefined;
    },
    close: () => void options.log?.push(`close ${id}`),
  });
}

/** Registers `store` in init when the registry has none by its name (Tracee's e2e pattern); fires on `close` events. */
function owner(id: string, store: () => WritableStore, options: { requires?: readonly string[]; log?: string[] } = {}): Detector {
  return defineDetector({
    definition: {
      id,
      requirements: { events: [{ name: "close" }], dataStores: (options.requires ?? []).map((name) => ({ name })) },
      producedEvent: { name: `${id}_fired` },
    },
    init(params) {
      const made = store();
      const found = params.dataStores.get(made.name);
      options.log?.push(`init ${id}: ${found === undefined ? "registers" : "finds"} ${made.name}`);
      if (found === undefined) params.dataStores.register(made);
    },
    onEvent: () => detected(),
    close: () => void options.log?.push(`close ${id}`),
  });
}

const kv = (name = "kv", entries: Record<string, { key: JsonValue; data: JsonValue }[]> = {}) => fakeDataStore({ name, entries });

async function startError(engine: Engine): Promise<Error> {
  const err = await engine.start().then(
    () => undefined,
    (e: unknown) => e as Error,
  );
  if (err === undefined) throw new Error("start() resolved");
  return err;
}

describe("reading a datastore", () => {
  it("get by name or by storeRef; what the store holds at each event decides", async () => {
    const store = kv("kv", { feed: [{ key: "k", data: "one" }] });
    const typed = storeRef<FakeDataStore>("kv");
    let viaRef: FakeDataStore | undefined;
    let viaName: DataStore | undefined;
    const detector = defineDetector({
      definition: { id: "R", requirements: { events: [{ name: "openat" }], dataStores: [{ name: "kv" }] }, producedEvent: { name: "r" } },
      init(params) {
        viaName = params.dataStores.get("kv");
        viaRef = params.dataStores.get(typed);
        expectTypeOf(params.dataStores.get(typed)).toEqualTypeOf<FakeDataStore | undefined>();
        expectTypeOf(params.dataStores.get("kv")).toEqualTypeOf<DataStore | undefined>();
      },
      onEvent() {
        const value = viaRef?.get("k");
        return typeof value === "string" ? detectedWithData([newStringValue("value", value)]) : undefined;
      },
    });
    const engine = new Engine().addDataStore(store).addDetector(detector);
    expect(engine.dataStores.get("kv")).toBe(store);
    const written: TraceeEvent[] = [];
    async function* input() {
      yield buildEvent("openat");
      store.write("feed", { key: "k", data: "two" });
      yield buildEvent("openat");
      store.delete("feed", "k");
      yield buildEvent("openat");
    }
    await engine.run(input(), { outputs: [{ write: (e) => void written.push(e) }] });
    expect(viaName).toBe(store);
    expect(viaRef).toBe(store);
    expect(written.map((e) => e.data[0]?.str)).toEqual(["one", "two"]);
    expect(store.gets.map((c) => [c.key, c.result])).toEqual([
      ["k", "one"],
      ["k", "two"],
      ["k", undefined],
    ]);
  });

  it("uses the registry given as an option, so a server can serve the same one", () => {
    const registry = new DataStoreRegistry([kv()]);
    expect(new Engine({ dataStores: registry }).dataStores).toBe(registry);
    expect(new Engine().dataStores.names()).toEqual([]);
  });

  it("a missing required store fails start, naming the detector and the store", async () => {
    const engine = new Engine().addDetector(reader("R", "ip_reputation"));
    const err = await startError(engine);
    expect(isEngineRegistrationError(err)).toBe(true);
    expect(err.message).toBe(
      `R: requires the datastore "ip_reputation", which is not registered (neither given to the engine nor registered by a detector's init)`,
    );
  });

  it("a missing optional store: get gives undefined, a log line says so, the detector runs", async () => {
    const lines: unknown[][] = [];
    const logger = { debug() {}, info: (...a: unknown[]) => void lines.push(a), warn() {}, error() {} };
    const log: string[] = [];
    const engine = new Engine({ logger }).addDetector(reader("R", "maybe", { dependency: "optional", log }));
    const stats = await engine.run(from([buildEvent("openat")]), { outputs: [] });
    expect(log).toEqual(["init R: no store", "close R"]);
    expect(stats.participants.R).toMatchObject({ processed: 1, produced: 0 });
    expect(lines).toContainEqual(["optional datastore not registered", "detector", "R", "store", "maybe"]);
  });

  it("get of hostile names and refs gives undefined, never throws", async () => {
    const seen: unknown[] = [];
    const detector = defineDetector({
      definition: { id: "H", requirements: { events: [{ name: "openat" }] }, producedEvent: { name: "h" } },
      init({ dataStores }) {
        const get = dataStores.get as (x: unknown) => unknown;
        for (const x of [null, undefined, 42, {}, { name: 7 }, "__proto__", "constructor", "toString"]) seen.push(get(x));
      },
      onEvent: () => undefined,
    });
    await new Engine().addDataStore(kv()).addDetector(detector).start();
    expect(seen).toEqual(Array(8).fill(undefined));
  });

  it("list() shows the stores a detector declares, optional ones with ?", () => {
    const engine = new Engine()
      .addDetector(reader("R", "kv"))
      .addDetector(reader("O", "maybe", { dependency: "optional" }))
      .addDetector(owner("W", () => kv("w")));
    expect(engine.list().map((p) => [p.id, p.dataStores])).toEqual([
      ["R", ["kv"]],
      ["O", ["maybe?"]],
      ["W", undefined],
    ]);
    expect("dataStores" in (engine.list()[2] as object)).toBe(false);
  });

  it.each([
    ["not an array", { name: "kv" }, "definition.requirements.dataStores must be an array"],
    ["an entry without a name", [{ dependency: "required" }], "every required datastore needs a name"],
    ["an empty name", [{ name: "" }], "every required datastore needs a name"],
    ["a null entry", [null], "every required datastore needs a name"],
    ["an unknown dependency", [{ name: "kv", dependency: "maybe" }], `datastore "kv": dependency must be "required" or "optional", got "maybe"`],
    ["a store required twice", [{ name: "kv" }, { name: "kv", dependency: "optional" }], `datastore "kv" is required twice`],
  ])("refuses a definition with %s", (_, dataStores, reason) => {
    const detector = {
      definition: { id: "bad", requirements: { events: [{ name: "openat" }], dataStores }, producedEvent: { name: "bad_fired" } },
      onEvent: () => undefined,
    } as unknown as Detector;
    expect(() => new Engine().addDetector(detector)).toThrow(`bad: ${reason}`);
  });
});

describe("registering a store from init (Go: RegisterWritableStore)", () => {
  it("a reader registered before the owner still sees the store in its init: it waits for the owner", async () => {
    const log: string[] = [];
    const store = kv("owned");
    const engine = new Engine()
      .addDetector(reader("R", "owned", { log }))
      .addDetector(owner("W", () => store, { log }))
      .addDetector(reader("S", "other", { dependency: "optional", log }));
    const written: TraceeEvent[] = [];
    async function* input() {
      yield buildEvent("openat");
      store.write("api", { key: "k", data: "v" });
      yield buildEvent("openat");
    }
    await engine.run(input(), { outputs: [{ write: (e) => void written.push(e) }] });
    // W goes first (R waits for "owned"); S waits for "other", which nobody registers, and goes last.
    expect(log.filter((l) => l.startsWith("init"))).toEqual(["init W: registers owned", "init R: store", "init S: no store"]);
    expect(engine.dataStores.get("owned")).toBe(store);
    expect(written.map((e) => [e.id, e.name])).toEqual([[7500, "R_fired"]]); // ids follow registration order, not init order
  });

  it("the owner may require its own store and register it when absent (Tracee's e2e detector)", async () => {
    const log: string[] = [];
    const engine = new Engine().addDetector(owner("W", () => kv("self"), { requires: ["self"], log }));
    await engine.start();
    expect(log).toEqual(["init W: registers self"]);
    expect(engine.dataStores.names()).toEqual(["self"]);
  });

  it("when every waiting detector lacks a store, the first goes anyway; a cycle of owners resolves in registration order", async () => {
    const log: string[] = [];
    const engine = new Engine()
      .addDetector(owner("A", () => kv("y"), { requires: ["x"], log }))
      .addDetector(owner("B", () => kv("x"), { requires: ["y"], log }));
    await engine.start();
    expect(log).toEqual(["init A: registers y", "init B: registers x"]);
  });

  it("a required store nobody registers fails after every init; the set is closed and its stores unregistered", async () => {
    const log: string[] = [];
    const engine = new Engine().addDetector(owner("W", () => kv("w"), { log })).addDetector(reader("R", "nobody", { log }));
    const err = await startError(engine);
    expect(err.message).toMatch(/^R: requires the datastore "nobody", which is not registered/);
    expect(log).toEqual(["init W: registers w", "init R: no store", "close W", "close R"]);
    expect(engine.dataStores.names()).toEqual([]);
  });

  it("registering a taken name throws: the init fails, naming the detector", async () => {
    const engine = new Engine().addDataStore(kv("taken"));
    engine.addDetector(
      defineDetector({
        definition: { id: "W", requirements: { events: [{ name: "openat" }] }, producedEvent: { name: "w" } },
        init: (params) => void params.dataStores.register(kv("taken")),
        onEvent: () => undefined,
      }),
    );
    const err = await startError(engine);
    expect(isEngineRegistrationError(err)).toBe(true);
    expect(err.message).toBe(`W: init failed: a store named "taken" is already registered`);
  });

  it.each([
    ["a read-only store", { name: "ro", get: () => undefined, size: 0 }],
    ["null", null],
    ["a store with a bad name", { ...kv("x"), name: "has space" }],
  ])("register refuses %s", async (_, store) => {
    const engine = new Engine().addDetector(
      defineDetector({
        definition: { id: "W", requirements: { events: [{ name: "openat" }] }, producedEvent: { name: "w" } },
        init: (params: DetectorParams) => void params.dataStores.register(store as WritableStore),
        onEvent: () => undefined,
      }),
    );
    const err = await startError(engine);
    expect(err.message).toMatch(/^W: init failed: /);
    expect(engine.dataStores.names()).toEqual([]);
  });

  it("returns the store it registered, and a store registered later (in onEvent) is found by later gets", async () => {
    let returned: unknown;
    const late = kv("late", { s: [{ key: "k", data: "late-value" }] });
    const registrar = defineDetector({
      definition: { id: "W", requirements: { events: [{ name: "close" }] }, producedEvent: { name: "w" } },
      init(params) {
        returned = params.dataStores.register(kv("early"));
        this.params = params;
      },
      onEvent() {
        (this as unknown as { params: DetectorParams }).params.dataStores.register(late);
        return undefined;
      },
    } as Detector & { params?: DetectorParams });
    let params: DetectorParams | undefined;
    const lookup = defineDetector({
      definition: { id: "L", requirements: { events: [{ name: "openat" }] }, producedEvent: { name: "l" } },
      init: (p) => void (params = p),
      onEvent() {
        const value = params?.dataStores.get("late")?.get("k");
        return typeof value === "string" ? detectedWithData([newStringValue("value", value)]) : undefined;
      },
    });
    const written: TraceeEvent[] = [];
    const engine = new Engine().addDetector(registrar).addDetector(lookup);
    await engine.run(from([buildEvent("openat"), buildEvent("close"), buildEvent("openat")]), { outputs: [{ write: (e) => void written.push(e) }] });
    expect(returned).toBe(engine.dataStores.get("early"));
    expect(written.map((e) => e.data[0]?.str)).toEqual(["late-value"]);
  });
});

describe("reload", () => {
  it("keeps every store and its contents; the new owner finds the store instead of registering another", async () => {
    const log: string[] = [];
    let made = 0;
    const make = () => {
      made++;
      return kv("owned");
    };
    const h = await DetectorHarness.create([owner("W", make, { log }), reader("R", "owned", { log })]);
    const store = h.engine.dataStores.getWritable("owned") as WritableStore;
    await store.write("api", { key: "k", data: "before" });
    expect((await h.feed(buildEvent("openat"))).map((e) => e.data[0]?.str)).toEqual(["before"]);

    await h.engine.reload({ detectors: [owner("W", make, { log }), reader("R", "owned", { log })] });
    expect(h.engine.dataStores.get("owned")).toBe(store);
    expect((await h.feed(buildEvent("openat"))).map((e) => e.data[0]?.str)).toEqual(["before"]);
    await store.write("api", { key: "k", data: "after" });
    expect((await h.feed(buildEvent("openat"))).map((e) => e.data[0]?.str)).toEqual(["after"]);

    // A set without the owner: the store stays, data and all.
    await h.engine.reload({ detectors: [reader("R", "owned", { log })] });
    expect(h.engine.dataStores.get("owned")).toBe(store);
    expect((await h.feed(buildEvent("openat"))).map((e) => e.data[0]?.str)).toEqual(["after"]);
    await h.close();
    expect(log.filter((l) => l.startsWith("init W"))).toEqual(["init W: registers owned", "init W: finds owned"]);
    expect(made).toBe(2); // each owner's init made one; the second found the first and left its own unregistered
  });

  it("a refused reload unregisters what its inits registered and keeps the running set", async () => {
    const h = await DetectorHarness.create(reader("R", "kv"), { dataStores: [kv("kv", { s: [{ key: "k", data: "v" }] })] });
    const err = await h.engine.reload({ detectors: [owner("W", () => kv("fresh")), reader("R", "kv"), reader("X", "missing")] }).then(
      () => undefined,
      (e: unknown) => e as Error,
    );
    expect(err?.message).toMatch(/^X: requires the datastore "missing"/);
    expect(h.engine.dataStores.names()).toEqual(["kv"]);
    expect((await h.feed(buildEvent("openat"))).map((e) => [e.name, e.data[0]?.str])).toEqual([["R_fired", "v"]]);
    await h.close();
  });

  it("a store registered by a set that then fails to init is unregistered, so a retry can register it again", async () => {
    let fail = true;
    const flaky = defineDetector({
      definition: { id: "F", requirements: { events: [{ name: "openat" }] }, producedEvent: { name: "f" } },
      init() {
        if (fail) throw new Error("not today");
      },
      onEvent: () => undefined,
    });
    const engine = new Engine().addDetector(owner("W", () => kv("w"))).addDetector(flaky);
    expect((await startError(engine)).message).toBe("F: init failed: not today");
    expect(engine.dataStores.names()).toEqual([]);
    fail = false;
    await engine.start();
    expect(engine.dataStores.names()).toEqual(["w"]);
  });
});
