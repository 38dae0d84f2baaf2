/**
 * DataStoreClient against the other DataStoreService implementations: this
 * SDK's own server (serveDataStores over ipReputationStore and valueStore),
 * and the Python interop kit's grpcio server (test/interop/python), which
 * reports the Anys as Python unpacked them.
 */
import { DataStoreRegistry, ipReputationStore, valueStore, valueType } from "tracee-ds";
import { DataStoreClient, type DataStoreServer, serveDataStores, Status } from "tracee-ds/grpc";
import { afterEach, describe, expect, it } from "vitest";
import { python, type PythonDataStoreServer, skipReason, startPythonDataStoreServer } from "../interop/python/index.js";
import { addressFor } from "./helpers.js";

const clients: DataStoreClient[] = [];
const servers: { close(): Promise<void> }[] = [];
afterEach(async () => {
  for (const c of clients.splice(0)) c.close();
  await Promise.all(servers.splice(0).map((s) => s.close()));
});

function clientOf(address: string): DataStoreClient {
  const client = new DataStoreClient(address);
  clients.push(client);
  return client;
}

async function failure(promise: Promise<unknown>) {
  const err = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  if (!(err instanceof Error)) throw new Error(`expected a rejection, got ${String(err)}`);
  return err as Error & { codeName: string; details: string; written?: number; resumeAt?: number };
}

const rep = { status: "deny" as const, severity: 8, tags: ["c2"], lastUpdated: new Date("2024-05-06T07:08:09.123Z"), metadata: { origin: "ts" } };

describe.each(["tcp", "unix"] as const)("DataStoreClient → serveDataStores over %s", (transport) => {
  it("writes, batches, deletes, clears and lists on the SDK's own stores", async () => {
    const ip = ipReputationStore();
    const values = valueStore();
    const server: DataStoreServer = await serveDataStores(new DataStoreRegistry([ip, values]), { address: addressFor(transport) });
    servers.push({ close: () => server.close({ graceMs: 0 }) });
    const client = clientOf(server.address);
    const reputation = client.ipReputation();

    await reputation.write("feed-a", { key: "203.0.113.7", data: rep });
    expect(ip.get("203.0.113.7")).toMatchObject({ status: "deny", severity: 8, source: "feed-a", tags: ["c2"], metadata: { origin: "ts" } });
    const entries = Array.from({ length: 25 }, (_, i) => ({ key: `198.51.100.${i}`, data: { ...rep, severity: (i % 10) + 1 } }));
    expect(await reputation.writeAll("feed-b", entries, { maxBatchEntries: 10 })).toMatchObject({ written: 25, stored: 25, batches: 3 });
    expect(await reputation.listSources()).toEqual(["feed-a", "feed-b"]);
    await reputation.delete("feed-b", "198.51.100.3");
    expect(ip.get("198.51.100.3")).toBeUndefined();
    expect(await reputation.clear("feed-b")).toBe(24);

    const generic = client.store("writable_store", { key: values.keyType, data: values.dataType });
    expect(await generic.writeBatch("e2e", [{ key: "threshold", data: { value: 5 } }, { key: 7, data: [1, "two"] }])).toBe(2);
    expect(values.getValue("threshold")).toEqual({ value: 5 });
    expect(values.getValue(7)).toEqual([1, "two"]);

    // The server's refusals, as the client reports them.
    const bad = await failure(reputation.write("feed-a", { key: "203.0.113.8", data: { ...rep, severity: 11 } }));
    expect(bad.codeName).toBe("INVALID_ARGUMENT");
    expect(bad.details).toMatch(/severity/);
    const missing = await failure(client.ipReputation("nope").listSources());
    expect(missing.codeName).toBe("NOT_FOUND");
    // A bad entry mid-writeAll: its batch is refused whole, the earlier ones stay written.
    const mixed = entries.map((e, i) => (i === 14 ? { ...e, data: { ...e.data, severity: 0 } } : e));
    const partial = await failure(reputation.writeAll("feed-c", mixed, { maxBatchEntries: 10 }));
    expect([partial.codeName, partial.written, partial.resumeAt]).toEqual(["INVALID_ARGUMENT", 10, 10]);
    expect(await reputation.clear("feed-c")).toBe(10);
  });
});

describe.skipIf(!python.ok)(`DataStoreClient → Python's grpcio DataStoreService${skipReason}`, () => {
  async function pythonServer(): Promise<PythonDataStoreServer> {
    const server = await startPythonDataStoreServer();
    servers.push(server);
    return server;
  }

  it("Python unpacks our Anys as IPAddressKey, IPReputation and google.protobuf.Value", async () => {
    const server = await pythonServer();
    const client = clientOf(server.address);
    await client.ipReputation().write("ts-feed", { key: "192.0.2.10", data: rep });
    expect(await client.ipReputation().writeAll("ts-batch", [
      { key: "192.0.2.11", data: { ...rep, status: "suspicious", severity: 3, tags: [], metadata: {} } },
      { key: "192.0.2.12", data: { ...rep, status: "allow", severity: 1, lastUpdated: undefined } },
    ])).toMatchObject({ written: 2, stored: 2, batches: 1 });
    await client.store("values", { key: valueType, data: valueType }).write("ts", {
      key: "limits",
      data: { max: 10, tags: ["a", null, true], nested: { x: 1.5 } },
    });
    expect(await client.listSources({ store: "ip_reputation" })).toEqual(["ts-batch", "ts-feed"]);
    await client.ipReputation().delete("ts-batch", "192.0.2.11");
    expect(await client.ipReputation().clear("ts-batch")).toBe(1);

    const received = await server.waitForReceived(6);
    const [write, batch, value, , del] = received;
    expect(write).toMatchObject({ method: "WriteData", store_name: "ip_reputation", source: "ts-feed", code: "OK" });
    expect(write!.entries![0]!.key).toMatchObject({
      type_url: "type.googleapis.com/tracee.v1beta1.datastores.IPAddressKey",
      type_name: "tracee.v1beta1.datastores.IPAddressKey",
      message: { ip: "192.0.2.10" },
    });
    expect(write!.entries![0]!.data).toMatchObject({
      type_url: "type.googleapis.com/tracee.v1beta1.datastores.IPReputation",
      message: {
        status: "REPUTATION_DENY",
        severity: 8,
        tags: ["c2"],
        last_updated: "2024-05-06T07:08:09.123Z",
        metadata: { origin: "ts" },
      },
    });
    expect(batch).toMatchObject({ method: "WriteBatchData", source: "ts-batch", code: "OK" });
    expect(batch!.entries!.map((e) => e.data?.message)).toEqual([
      { status: "REPUTATION_SUSPICIOUS", severity: 3, last_updated: "2024-05-06T07:08:09.123Z" },
      { status: "REPUTATION_ALLOW", severity: 1, tags: ["c2"], metadata: { origin: "ts" } },
    ]);
    expect(value!.entries![0]).toMatchObject({
      key: { type_url: "type.googleapis.com/google.protobuf.Value", message: "limits" },
      data: { type_url: "type.googleapis.com/google.protobuf.Value", message: { max: 10, tags: ["a", null, true], nested: { x: 1.5 } } },
    });
    expect(del).toMatchObject({ method: "DeleteData", key: { message: { ip: "192.0.2.11" } }, code: "OK" });
  });

  it("Python's statuses reach the client with their messages", async () => {
    const server = await pythonServer();
    const client = clientOf(server.address);
    const bad = await failure(client.ipReputation().write("s", { key: "192.0.2.1", data: { ...rep, severity: 11 } }));
    expect([bad.codeName, bad.details]).toEqual(["INVALID_ARGUMENT", "severity must be 1-10, got 11"]);
    const missing = await failure(client.ipReputation("nope").clear("s"));
    expect([missing.codeName, missing.details]).toEqual(["NOT_FOUND", 'datastore "nope" not found']);
    const down = await failure(client.ipReputation("unavailable").listSources());
    expect((down as unknown as { code: number }).code).toBe(Status.UNAVAILABLE);
  });
});
