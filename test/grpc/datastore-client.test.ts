/**
 * DataStoreClient against a reference DataStoreService on a real grpc-js
 * server (test/grpc/fixtures/datastore-server.ts), over TCP and a unix socket:
 * the five RPCs, typed stores, errors, deadlines, cancels, close().
 */
import { join } from "node:path";
import { Metadata } from "@grpc/grpc-js";
import { DataSourceRegistry, DataStoreRegistry, type IPReputation, packAny, valueType, stringValueType, ipAddressKeyType } from "tracee-ds";
import { DataSourceClientError, DataStoreClient, isDataSourceClientError, serveDataSources, serveDataStores, Status } from "tracee-ds/grpc";
import { afterEach, describe, expect, it } from "vitest";
import { IPAddressKey, IPReputation as IPReputationMessage } from "../../src/gen/tracee/v1beta1/datastores/ipreputation.js";
import { fromValueBinary } from "tracee-ds/codec";
import { type DataStoreFixture, startDataStoreServer } from "./fixtures/datastore-server.js";
import { tempDir } from "./helpers.js";

const fixtures: DataStoreFixture[] = [];
const clients: DataStoreClient[] = [];
afterEach(async () => {
  for (const c of clients.splice(0)) c.close();
  await Promise.all(fixtures.splice(0).map((f) => f.close()));
});

async function server(transport: "tcp" | "unix" = "tcp", maxReceiveBytes?: number): Promise<DataStoreFixture> {
  const f = await startDataStoreServer({ transport, ...(maxReceiveBytes === undefined ? {} : { maxReceiveBytes }) });
  fixtures.push(f);
  return f;
}

function clientOf(address: string, options?: ConstructorParameters<typeof DataStoreClient>[1]): DataStoreClient {
  const c = new DataStoreClient(address, options);
  clients.push(c);
  return c;
}

/** The rejection of `promise`, which must be a DataSourceClientError. */
async function failure(promise: Promise<unknown>): Promise<DataSourceClientError> {
  const err = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  if (!isDataSourceClientError(err)) throw new Error(`expected a DataSourceClientError, got ${String(err)}`);
  return err;
}

/** A hook that holds every call until the test ends. */
const hold = () => new Promise<void>(() => undefined);

const rep = (over: Partial<IPReputation> = {}): IPReputation => ({
  status: "deny",
  severity: 8,
  tags: ["c2", "botnet"],
  lastUpdated: new Date("2024-05-01T12:00:00.250Z"),
  metadata: { feed: "abuse" },
  ...over,
});

describe.each(["tcp", "unix"] as const)("DataStoreClient over %s", (transport) => {
  it("WriteData sends the store, source and both Anys as given", async () => {
    const f = await server(transport);
    const client = clientOf(f.address);
    await client.writeData({ store: "values", source: "feed", key: packAny(valueType, "k1"), data: packAny(valueType, { a: [1, 2] }) });
    expect(f.calls).toHaveLength(1);
    const call = f.calls[0]!;
    expect([call.method, call.store, call.source]).toEqual(["WriteData", "values", "feed"]);
    const entry = call.entries[0]!;
    expect(entry.key?.typeUrl).toBe("type.googleapis.com/google.protobuf.Value");
    expect(entry.data?.typeUrl).toBe("type.googleapis.com/google.protobuf.Value");
    expect(fromValueBinary(entry.key!.value)).toBe("k1");
    expect(fromValueBinary(entry.data!.value)).toEqual({ a: [1, 2] });
    expect(f.entries("values", "feed").get('"k1"')?.data).toEqual({ a: [1, 2] });
  });

  it("WriteBatchData resolves with the server's written_count", async () => {
    const f = await server(transport);
    const client = clientOf(f.address);
    const entry = (k: string, v: number) => ({ key: packAny(valueType, k), data: packAny(valueType, v) });
    // "a" twice: the reference store counts distinct keys, and the later entry wins.
    const count = await client.writeBatchData({ store: "values", source: "feed", entries: [entry("a", 1), entry("b", 2), entry("a", 3)] });
    expect(count).toBe(2);
    expect(f.calls[0]!.entries.map((e) => fromValueBinary(e.key!.value))).toEqual(["a", "b", "a"]);
    expect(f.entries("values", "feed").get('"a"')?.data).toBe(3);
  });

  it("DeleteData, ClearSource and ListSources", async () => {
    const f = await server(transport);
    const client = clientOf(f.address);
    const values = client.store("values", { key: valueType, data: valueType });
    await values.writeBatch("zeta", [{ key: "x", data: 1 }]);
    await values.writeBatch("alpha", [
      { key: "x", data: 1 },
      { key: "y", data: 2 },
      { key: "z", data: 3 },
    ]);
    expect(await client.listSources({ store: "values" })).toEqual(["alpha", "zeta"]);
    await client.deleteData({ store: "values", source: "alpha", key: packAny(valueType, "y") });
    expect(f.calls.at(-1)?.key?.typeUrl).toBe("type.googleapis.com/google.protobuf.Value");
    expect([...f.entries("values", "alpha").keys()]).toEqual(['"x"', '"z"']);
    // zeta's "x" is zeta's own: alpha's delete and clear leave it.
    expect(await client.clearSource({ store: "values", source: "alpha" })).toBe(2);
    expect(await client.clearSource({ store: "values", source: "alpha" })).toBe(0);
    expect(await values.listSources()).toEqual(["zeta"]);
    expect(f.entries("values", "zeta").size).toBe(1);
  });

  it("ipReputation() packs IPAddressKey and IPReputation, field by field", async () => {
    const f = await server(transport);
    const reputation = clientOf(f.address).ipReputation();
    expect(reputation.name).toBe("ip_reputation");
    await reputation.write("feed", { key: "203.0.113.7", data: rep() });
    const entry = f.calls[0]!.entries[0]!;
    expect(entry.key?.typeUrl).toBe("type.googleapis.com/tracee.v1beta1.datastores.IPAddressKey");
    expect(entry.data?.typeUrl).toBe("type.googleapis.com/tracee.v1beta1.datastores.IPReputation");
    expect(IPAddressKey.decode(entry.key!.value).ip).toBe("203.0.113.7");
    const data = IPReputationMessage.decode(entry.data!.value);
    expect(data.status).toBe(2); // REPUTATION_DENY
    expect(data.severity).toBe(8);
    expect(data.tags).toEqual(["c2", "botnet"]);
    expect(data.lastUpdated).toEqual({ seconds: 1714564800n, nanos: 250_000_000 });
    expect(data.metadata).toEqual({ feed: "abuse" });

    expect(await reputation.writeBatch("feed", [{ key: "198.51.100.1", data: rep({ status: "suspicious", severity: 3 }) }])).toBe(1);
    await reputation.delete("feed", "203.0.113.7");
    expect(IPAddressKey.decode(f.calls.at(-1)!.key!.value).ip).toBe("203.0.113.7");
    expect([...f.entries("ip_reputation", "feed").keys()]).toEqual(["198.51.100.1"]);
    expect(await reputation.clear("feed")).toBe(1);
  });

  it("maps the server's statuses: NOT_FOUND and INVALID_ARGUMENT with its message", async () => {
    const f = await server(transport);
    const client = clientOf(f.address);
    const missing = await failure(client.ipReputation("nope").write("feed", { key: "10.0.0.1", data: rep() }));
    expect(missing).toBeInstanceOf(DataSourceClientError);
    expect(missing.code).toBe(Status.NOT_FOUND);
    expect(missing.message).toBe('NOT_FOUND: store "nope" not found');
    const bad = await failure(client.ipReputation().write("feed", { key: "10.0.0.1", data: rep({ severity: 11 }) }));
    expect(bad.codeName).toBe("INVALID_ARGUMENT");
    expect(bad.details).toBe("severity must be 1-10, got 11");
    // A key of another type: the server names what it expected.
    const wrongType = await failure(
      client.writeData({ store: "ip_reputation", source: "feed", key: packAny(stringValueType, "10.0.0.1"), data: packAny(valueType, 1) }),
    );
    expect(wrongType.details).toBe(
      'key must be a tracee.v1beta1.datastores.IPAddressKey, got type URL "type.googleapis.com/google.protobuf.StringValue"',
    );
    const noSource = await failure(client.clearSource({ store: "values", source: "" }));
    expect(noSource.message).toBe("INVALID_ARGUMENT: source is empty");
  });
});

describe("DataStoreClient: local failures, deadlines, cancels", () => {
  it("refuses data it cannot encode before sending anything, naming key, data or entry", async () => {
    const f = await server();
    const reputation = clientOf(f.address).ipReputation();
    const status = await failure(reputation.write("feed", { key: "10.0.0.1", data: rep({ status: "blocked" as never }) }));
    expect(status.codeName).toBe("INVALID_ARGUMENT");
    expect(status.details).toBe('data: invalid reputation status: "blocked" (not sent)');
    const date = await failure(reputation.writeBatch("feed", [
      { key: "10.0.0.1", data: rep() },
      { key: "10.0.0.2", data: rep({ lastUpdated: new Date(Number.NaN) }) },
    ]));
    expect(date.details).toBe("entry 1: data: lastUpdated is an invalid Date (not sent)");
    const key = await failure(clientOf(f.address).store("values", { key: valueType, data: valueType }).delete("feed", Number.NaN));
    expect(key.codeName).toBe("INVALID_ARGUMENT");
    expect(key.details).toMatch(/^key: .*\(not sent\)$/);
    expect(f.calls).toEqual([]);
  });

  it("UNAVAILABLE when no server listens, on a unix socket and on TCP", async () => {
    const unix = await failure(clientOf(`unix://${join(tempDir(), "nobody.sock")}`).listSources({ store: "values" }));
    expect(unix.codeName).toBe("UNAVAILABLE");
    expect(unix.details).toContain("nobody.sock");
    const f = await server();
    const address = f.address;
    await f.close();
    const tcp = await failure(clientOf(address, { connectTimeoutMs: 5000 }).clearSource({ store: "values", source: "s" }));
    expect(tcp.codeName).toBe("UNAVAILABLE");
  });

  it("a server without DataStoreService (a Tracee release serves only DataSourceService) is UNIMPLEMENTED, saying so", async () => {
    const only = await serveDataSources(new DataSourceRegistry(), { address: "127.0.0.1:0" });
    try {
      const err = await failure(clientOf(only.address).ipReputation().listSources());
      expect(err.codeName).toBe("UNIMPLEMENTED");
      expect(err.details).toContain("this server does not serve DataStoreService");
    } finally {
      await only.close();
    }
    // A read-only store of a DataStoreService is a different UNIMPLEMENTED, passed on as the server said it.
    const stores = new DataStoreRegistry().register({ name: "readonly", get: () => undefined, size: 0 });
    const served = await serveDataStores(stores, { address: "127.0.0.1:0" });
    try {
      const plain = await failure(clientOf(served.address).writeData({ store: "readonly", source: "s", key: packAny(valueType, "k"), data: packAny(valueType, 1) }));
      expect(plain.codeName).toBe("UNIMPLEMENTED");
      expect(plain.details).toBe('datastore "readonly" is not writable');
    } finally {
      await served.close();
    }
  });

  it("a call past its deadline rejects with DEADLINE_EXCEEDED: per call, and the client's default", async () => {
    const f = await server();
    f.hook = hold;
    const client = clientOf(f.address, { deadlineMs: 200 });
    const byDefault = await failure(client.listSources({ store: "values" }));
    expect(byDefault.codeName).toBe("DEADLINE_EXCEEDED");
    const perCall = await failure(clientOf(f.address).ipReputation().clear("feed", { deadlineMs: 100 }));
    expect(perCall.codeName).toBe("DEADLINE_EXCEEDED");
    expect(f.calls.map((c) => c.method)).toEqual(["ListSources", "ClearSource"]);
  });

  it("an AbortSignal cancels a call in flight, and one already aborted sends nothing", async () => {
    const f = await server();
    const client = clientOf(f.address);
    const before = new AbortController();
    before.abort(new Error("not today"));
    const early = await failure(client.listSources({ store: "values" }, { signal: before.signal }));
    expect(early.codeName).toBe("CANCELLED");
    expect((early.cause as Error).message).toBe("not today");
    expect(f.calls).toEqual([]);

    let arrived!: () => void;
    const held = new Promise<void>((resolve) => (arrived = resolve));
    f.hook = () => {
      arrived();
      return hold();
    };
    const controller = new AbortController();
    const pending = failure(client.clearSource({ store: "values", source: "s" }, { signal: controller.signal }));
    await held;
    controller.abort(new Error("stop"));
    const err = await pending;
    expect(err.codeName).toBe("CANCELLED");
    expect((err.cause as Error).message).toBe("stop");
  });

  it("sends the client's metadata and each call's own", async () => {
    const f = await server();
    const metadata = new Metadata();
    metadata.set("authorization", "Bearer t0k3n");
    const client = clientOf(f.address, { metadata });
    const extra = new Metadata();
    extra.set("x-request-id", "r-1");
    await client.listSources({ store: "values" }, { metadata: extra });
    await client.listSources({ store: "values" });
    expect(f.calls[0]!.metadata.get("authorization")).toEqual(["Bearer t0k3n"]);
    expect(f.calls[0]!.metadata.get("x-request-id")).toEqual(["r-1"]);
    expect(f.calls[1]!.metadata.get("x-request-id")).toEqual([]);
  });

  it("close() cancels calls in flight, and later calls fail CANCELLED", async () => {
    const f = await server("unix");
    let arrived!: () => void;
    const held = new Promise<void>((resolve) => (arrived = resolve));
    f.hook = () => {
      arrived();
      return hold();
    };
    const client = clientOf(f.address);
    const pending = failure(client.writeData({ store: "values", source: "s", key: packAny(valueType, 1), data: packAny(valueType, 2) }));
    await held;
    client.close();
    expect((await pending).codeName).toBe("CANCELLED");
    expect((await failure(client.listSources({ store: "values" }))).codeName).toBe("CANCELLED");
  });

  it("checks its options and address", () => {
    expect(() => new DataStoreClient("not an address")).toThrow(TypeError);
    expect(() => new DataStoreClient("127.0.0.1:1", { deadlineMs: 0 })).toThrow(RangeError);
    expect(() => new DataStoreClient("127.0.0.1:1", { connectTimeoutMs: 0.5 })).toThrow(RangeError);
    expect(() => new DataStoreClient("127.0.0.1:1", { maxConcurrentCalls: 0 })).toThrow(RangeError);
    expect(new DataStoreClient("dns:///127.0.0.1:1").address).toBe("127.0.0.1:1");
  });

  it("a user's own key type: the server refuses it with the type it wanted", async () => {
    const f = await server();
    const client = clientOf(f.address);
    const wrong = client.store("ip_reputation", { key: stringValueType, data: valueType });
    const err = await failure(wrong.write("feed", { key: "10.0.0.1", data: 1 }));
    expect(err.codeName).toBe("INVALID_ARGUMENT");
    expect(err.details).toContain(ipAddressKeyType.typeName);
  });
});
