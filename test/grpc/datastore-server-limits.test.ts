/**
 * The DataStoreService server's limits and hooks: message size, batch size,
 * deadlines and cancellation before a store operation starts, authorize,
 * writes serialised per store, close() waiting for started writes, and one
 * server serving both services.
 */
import { Metadata } from "@grpc/grpc-js";
import {
  DataStoreRegistry,
  type IPReputation,
  ipAddressKeyType,
  ipReputationType,
  packAny,
} from "tracee-ds";
import { type AuthorizeRequest, DataSourceClient, serveDataSources, Status } from "tracee-ds/grpc";
import { describe, expect, it } from "vitest";
import { addressFor, deferred, fixture, trackClient, trackServer } from "./helpers.js";
import { recordingLogger } from "./logging.js";
import { MemoryStore, type StoreEvent, serveStores, storeFixture, StoresClient } from "./fixtures/datastore-store.js";

const rep = (severity: number): IPReputation => ({ status: "suspicious", severity, tags: [], metadata: {} });
const ipEntry = (ip: string, severity = 5) => ({
  key: packAny(ipAddressKeyType, ip),
  data: packAny(ipReputationType, rep(severity)),
});
const manyEntries = (n: number, prefix = "10.0") =>
  Array.from({ length: n }, (_, i) => ipEntry(`${prefix}.${(i >> 8) & 255}.${i & 255}`));

/** A gate that holds operations until `release()`; `entered` resolves when the first one waits at it. */
function holdingGate() {
  const opened = deferred();
  const entered = deferred();
  let waiting = 0;
  return {
    gate: async () => {
      waiting++;
      entered.resolve();
      await opened.promise;
    },
    entered: entered.promise,
    release: () => opened.resolve(),
    get waiting() {
      return waiting;
    },
  };
}

/** Resolves once `condition` holds (checked every few milliseconds). */
async function until(condition: () => boolean): Promise<void> {
  while (!condition()) await new Promise((r) => setTimeout(r, 5));
}

describe("limits", () => {
  it("maxMessageBytes: a batch larger than it is RESOURCE_EXHAUSTED (grpc-js), nothing written", async () => {
    const { ip, registry } = storeFixture();
    const server = await serveStores(registry, "tcp", { maxMessageBytes: 4096 });
    const client = new StoresClient(server.address);
    const big = await client.writeBatchData("ip_reputation", "s", manyEntries(200)).outcome;
    expect(big.code).toBe(Status.RESOURCE_EXHAUSTED);
    expect(ip.size).toBe(0);
    expect((await client.writeBatchData("ip_reputation", "s", manyEntries(10)).outcome).code).toBe(Status.OK);
  });

  it("maxBatchEntries: one entry more is RESOURCE_EXHAUSTED, counted and logged; the limit itself passes", async () => {
    const { logger, warnings } = recordingLogger();
    const { ip, registry } = storeFixture();
    const server = await serveStores(registry, "tcp", { maxBatchEntries: 5, logger });
    const client = new StoresClient(server.address);
    const over = await client.writeBatchData("ip_reputation", "s", manyEntries(6)).outcome;
    expect(over).toMatchObject({ code: Status.RESOURCE_EXHAUSTED, details: "batch of 6 entries is more than the limit of 5" });
    expect(ip.size).toBe(0);
    expect(server.stats().limitsExceeded).toEqual({ maxBatchEntries: 1 });
    expect(warnings.map((w) => w.fields)).toEqual([{ store: "ip_reputation", entries: 6, limit: 5 }]);
    const at = await client.writeBatchData("ip_reputation", "s", manyEntries(5)).outcome;
    expect(at).toMatchObject({ code: Status.OK, response: { writtenCount: 5 } });
  });

  it("the default batch limit admits 100,000 entries", async () => {
    const { ip, registry } = storeFixture();
    const server = await serveStores(registry, "tcp", { maxMessageBytes: 64 << 20 });
    const client = new StoresClient(server.address);
    const outcome = await client.writeBatchData("ip_reputation", "s", manyEntries(100_000, "10")).outcome;
    expect(outcome).toMatchObject({ code: Status.OK, response: { writtenCount: 65_536 } }); // 10.x.y: 256*256 distinct keys
    expect(ip.size).toBe(65_536);
    const over = await client.writeBatchData("ip_reputation", "s", manyEntries(100_001, "10")).outcome;
    expect(over.code).toBe(Status.RESOURCE_EXHAUSTED);
  });
});

describe("deadlines and cancellation", () => {
  it("a call whose deadline passed while it waited for the store writes nothing", async () => {
    const hold = holdingGate();
    const { ip, registry } = storeFixture({ ip: { gate: hold.gate } });
    const server = await serveStores(registry);
    const client = new StoresClient(server.address);
    const first = client.writeData("ip_reputation", "a", ipEntry("192.0.2.1"));
    await hold.entered; // the first write holds the store
    const late = await client.writeBatchData("ip_reputation", "b", [ipEntry("192.0.2.2")], { deadline: Date.now() + 150 })
      .outcome;
    expect(late.code).toBe(Status.DEADLINE_EXCEEDED);
    hold.release();
    expect((await first.outcome).code).toBe(Status.OK);
    await trackServer(server).close({ graceMs: 1000 });
    expect(ip.held("a", "192.0.2.1")).toBeDefined();
    expect(ip.held("b", "192.0.2.2")).toBeUndefined();
    expect(hold.waiting).toBe(1); // the late batch never reached the store
    expect(server.stats().answers.WriteBatchData).toEqual({ DEADLINE_EXCEEDED: 1 });
  });

  it("a call cancelled while it waited for the store writes nothing", async () => {
    const hold = holdingGate();
    const { ip, registry } = storeFixture({ ip: { gate: hold.gate } });
    const server = await serveStores(registry);
    const client = new StoresClient(server.address);
    const first = client.clearSource("ip_reputation", "a");
    await hold.entered;
    const doomed = client.writeData("ip_reputation", "b", ipEntry("192.0.2.2"));
    await until(() => server.stats().pendingOperations === 2); // queued behind the first
    doomed.cancel();
    expect((await doomed.outcome).code).toBe(Status.CANCELLED);
    // The server reads frames of one connection in order: once a later call on it is
    // answered (by an ungated store), the server has seen the cancel.
    expect((await client.listSources("values").outcome).code).toBe(Status.OK);
    hold.release();
    expect((await first.outcome).code).toBe(Status.OK);
    await trackServer(server).close({ graceMs: 1000 });
    expect(ip.held("b", "192.0.2.2")).toBeUndefined();
    expect(ip.began("write")).toBe(0);
  });
});

describe("authorize", () => {
  it("sees method, store, source and metadata for every method, and refusing is PERMISSION_DENIED before any lookup", async () => {
    const seen: AuthorizeRequest[] = [];
    const { ip, registry } = storeFixture();
    const server = await serveStores(registry, "tcp", {
      authorize: (request) => {
        seen.push(request);
        return request.metadata.get("token")[0] === "letmein";
      },
    });
    const client = new StoresClient(server.address);
    const good = new Metadata();
    good.set("token", "letmein");
    await client.writeData("ip_reputation", "s1", ipEntry("192.0.2.1"), { metadata: good }).outcome;
    await client.writeBatchData("ip_reputation", "s2", [ipEntry("192.0.2.2")], { metadata: good }).outcome;
    await client.deleteData("ip_reputation", "s1", packAny(ipAddressKeyType, "192.0.2.1"), { metadata: good }).outcome;
    await client.clearSource("ip_reputation", "s2", { metadata: good }).outcome;
    expect((await client.listSources("ip_reputation", { metadata: good }).outcome).code).toBe(Status.OK);
    expect(seen.map(({ method, store, source, namespace, id }) => ({ method, store, source, namespace, id }))).toEqual([
      { method: "WriteData", store: "ip_reputation", source: "s1", namespace: "", id: "" },
      { method: "WriteBatchData", store: "ip_reputation", source: "s2", namespace: "", id: "" },
      { method: "DeleteData", store: "ip_reputation", source: "s1", namespace: "", id: "" },
      { method: "ClearSource", store: "ip_reputation", source: "s2", namespace: "", id: "" },
      { method: "ListSources", store: "ip_reputation", source: "", namespace: "", id: "" },
    ]);
    expect(seen[0]!.peer).toMatch(/^127\.0\.0\.1:\d+$/);

    const refused = await client.writeData("ip_reputation", "s", ipEntry("192.0.2.3")).outcome;
    expect(refused).toMatchObject({
      code: Status.PERMISSION_DENIED,
      details: 'not allowed to call WriteData on datastore "ip_reputation"',
    });
    // An unknown store is refused the same way: a refused client learns nothing about which stores exist.
    expect((await client.listSources("nope").outcome).code).toBe(Status.PERMISSION_DENIED);
    expect(ip.held("s", "192.0.2.3")).toBeUndefined();
  });

  it("a hook that throws or rejects refuses the call (logged at warn); an async yes lets it through", async () => {
    const { logger, warnings } = recordingLogger();
    const { ip, registry } = storeFixture();
    const server = await serveStores(registry, "tcp", {
      logger,
      authorize: async ({ source }) => {
        if (source === "throws") throw new Error("hook broke");
        return source === "ok";
      },
    });
    const client = new StoresClient(server.address);
    expect((await client.writeData("ip_reputation", "throws", ipEntry("192.0.2.1")).outcome).code).toBe(Status.PERMISSION_DENIED);
    expect((await client.writeData("ip_reputation", "no", ipEntry("192.0.2.1")).outcome).code).toBe(Status.PERMISSION_DENIED);
    expect((await client.writeData("ip_reputation", "ok", ipEntry("192.0.2.1")).outcome).code).toBe(Status.OK);
    expect(ip.size).toBe(1);
    expect(warnings.map((w) => w.msg)).toEqual(["authorize hook threw; refusing the call"]);
  });
});

describe("writes are serialised per store", () => {
  it("an async store's batches never interleave with each other or with other writes", async () => {
    const { ip, registry } = storeFixture({ ip: { yieldBetweenEntries: true } });
    const server = await serveStores(registry);
    const clients = [new StoresClient(server.address), new StoresClient(server.address)];
    const calls = Array.from({ length: 16 }, (_, i) => {
      const client = clients[i % 2]!;
      const source = `s${i}`;
      return i % 4 === 3
        ? client.writeData("ip_reputation", source, ipEntry(`192.0.2.${i}`)).outcome
        : client.writeBatchData("ip_reputation", source, manyEntries(8, `10.${i}`)).outcome;
    });
    expect((await Promise.all(calls)).map((o) => o.code)).toEqual(Array(16).fill(Status.OK));
    // Between an operation's begin and end, only its own puts.
    let open: StoreEvent | undefined;
    for (const event of ip.events) {
      if ("phase" in event && event.phase === "begin") {
        expect(open, "an operation began while another ran").toBeUndefined();
        open = event;
      } else if ("phase" in event) {
        open = undefined;
      } else {
        expect(event.source).toBe(open?.source);
      }
    }
    expect(ip.began("writeBatch")).toBe(12);
    expect(ip.began("write")).toBe(4);
  });
});

describe("close()", () => {
  it("waits for a store write that had started", async () => {
    const hold = holdingGate();
    const { ip, registry } = storeFixture({ ip: { gate: hold.gate } });
    const server = await serveStores(registry);
    const client = new StoresClient(server.address);
    const call = client.writeBatchData("ip_reputation", "s", [ipEntry("192.0.2.1")]);
    await hold.entered;
    let closed = false;
    const closing = server.close({ graceMs: 0 }).then(() => (closed = true));
    await new Promise((r) => setTimeout(r, 50)); // time for close to finish wrongly, were it to
    expect(closed).toBe(false);
    expect(server.stats().pendingOperations).toBe(1);
    hold.release();
    await closing;
    expect(ip.held("s", "192.0.2.1")).toBeDefined();
    expect(server.stats().pendingOperations).toBe(0);
    void call.outcome; // cancelled by the forced shutdown or answered: either is fine
  });
});

describe("one server, both services", () => {
  it("serveDataSources({ dataStores }) serves DataStoreService beside DataSourceService; one authorize sees both", async () => {
    const methods: string[] = [];
    const { ds, registry } = fixture();
    const { ip, registry: stores } = storeFixture();
    const server = trackServer(
      await serveDataSources(registry, {
        address: addressFor("unix"),
        dataStores: stores,
        authorize: ({ method }) => {
          methods.push(method);
          return true;
        },
      }),
    );
    const writer = trackClient(new DataSourceClient(server.address));
    await writer.write({ namespace: "test", id: "recorder", key: "k", value: 1 });
    const client = new StoresClient(server.address);
    expect((await client.writeData("ip_reputation", "s", ipEntry("192.0.2.1")).outcome).code).toBe(Status.OK);
    expect(ds.entryCount()).toBe(1);
    expect(ip.size).toBe(1);
    expect(methods).toEqual(["Write", "WriteData"]);
    expect(server.stats().dataStores?.answers.WriteData).toEqual({ OK: 1 });
    expect(server.stats().openStreams).toBe(0);
  });

  it("serveDataStores({ dataSources }) serves DataSourceService beside DataStoreService", async () => {
    const { ds, registry } = fixture();
    const { ip, registry: stores } = storeFixture();
    const server = await serveStores(stores, "tcp", { dataSources: registry });
    const writer = trackClient(new DataSourceClient(server.address));
    await writer.writeStream([{ namespace: "test", id: "recorder", key: "k", value: 2 }]);
    const client = new StoresClient(server.address);
    expect((await client.writeBatchData("ip_reputation", "s", manyEntries(3)).outcome).response?.writtenCount).toBe(3);
    expect(ds.store.get("k")).toBe(2);
    expect(ip.size).toBe(3);
    expect(server.stats().dataSources?.committedStreams).toBe(1);
    expect(server.stats().entriesWritten).toBe(3);
  });

  it("without dataStores, serveDataSources does not serve DataStoreService", async () => {
    const { registry } = fixture();
    const server = trackServer(await serveDataSources(registry, { address: addressFor("tcp") }));
    const client = new StoresClient(server.address);
    expect((await client.listSources("ip_reputation").outcome).code).toBe(Status.UNIMPLEMENTED);
    expect(server.stats().dataStores).toBeUndefined();
  });
});

describe("stores registered later", () => {
  it("a store registered after the server started is served; an unregistered one is NOT_FOUND", async () => {
    const stores = new DataStoreRegistry();
    const server = await serveStores(stores);
    const client = new StoresClient(server.address);
    expect((await client.listSources("late").outcome).code).toBe(Status.NOT_FOUND);
    stores.register(new MemoryStore("late", ipAddressKeyType, ipReputationType));
    expect(await client.listSources("late").outcome).toMatchObject({ code: Status.OK, response: { sources: [] } });
    stores.unregister("late");
    expect((await client.listSources("late").outcome).code).toBe(Status.NOT_FOUND);
  });
});
