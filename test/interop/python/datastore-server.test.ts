/**
 * Python's grpcio against this SDK's DataStoreService server: every RPC,
 * with keys and data packed by Python's `Any.Pack` (`type.googleapis.com/…`),
 * and the error statuses a Python client sees. Also checks the kit's own
 * Python server, which the DataStoreClient tests use.
 */
import { DataStoreRegistry, ipAddressKeyType, ipReputationStore, ipReputationType, valueStore } from "tracee-ds";
import { describe, expect, it } from "vitest";
import { serveStores, storeFixture } from "../../grpc/fixtures/datastore-store.js";
import { type PythonCall, python, runPythonClient, skipReason, startPythonDataStoreServer } from "./index.js";

const reputation = (severity: number, extra: Record<string, unknown> = {}) => ({
  reputation: { status: "REPUTATION_DENY", severity, tags: ["botnet", "c2"], ...extra },
});

describe.skipIf(!python.ok)(`Python client → our DataStoreService${skipReason}`, () => {
  it("every RPC, with Any.Pack'd IPAddressKey/IPReputation and google.protobuf.Value", async () => {
    const { ip, values, registry } = storeFixture();
    const server = await serveStores(registry);
    const plan: PythonCall[] = [
      {
        method: "WriteData",
        store_name: "ip_reputation",
        source: "py-feed",
        entry: {
          key: { ip: "192.0.2.10" },
          data: reputation(8, { last_updated: "2024-05-06T07:08:09.123Z", metadata: { origin: "python" } }),
        },
      },
      {
        method: "WriteBatchData",
        store_name: "ip_reputation",
        source: "py-batch",
        entries: [
          { key: { ip: "192.0.2.11" }, data: reputation(1) },
          { key: { ip: "192.0.2.12" }, data: reputation(2) },
          { key: { ip: "192.0.2.12" }, data: { reputation: { status: "REPUTATION_ALLOW", severity: 3 } } },
        ],
      },
      { method: "ListSources", store_name: "ip_reputation" },
      { method: "DeleteData", store_name: "ip_reputation", source: "py-batch", key: { ip: "192.0.2.11" } },
      { method: "DeleteData", store_name: "ip_reputation", source: "py-batch", key: { ip: "192.0.2.11" } },
      { method: "ClearSource", store_name: "ip_reputation", source: "py-batch" },
      { method: "ListSources", store_name: "ip_reputation" },
      {
        method: "WriteData",
        store_name: "values",
        source: "py",
        entry: { key: { value: "limits" }, data: { value: { max: 10, tags: ["a", null, true], nested: { x: 1.5 } } } },
      },
    ];
    const results = await runPythonClient(server.address, plan);
    expect(results).toEqual([
      { code: "OK", details: "" },
      { code: "OK", details: "", written_count: 2 },
      { code: "OK", details: "", sources: ["py-batch", "py-feed"] },
      { code: "OK", details: "" },
      { code: "OK", details: "" },
      { code: "OK", details: "", deleted_count: 1 },
      { code: "OK", details: "", sources: ["py-feed"] },
      { code: "OK", details: "" },
    ]);
    expect(ip.held("py-feed", "192.0.2.10")).toEqual({
      status: "deny",
      severity: 8,
      tags: ["botnet", "c2"],
      lastUpdated: new Date("2024-05-06T07:08:09.123Z"),
      metadata: { origin: "python" },
    });
    expect(ip.held("py-batch", "192.0.2.12")).toBeUndefined(); // cleared
    expect(values.held("py", "limits")).toEqual({ max: 10, tags: ["a", null, true], nested: { x: 1.5 } });
  });

  it("client mistakes reach Python as INVALID_ARGUMENT / NOT_FOUND with our messages", async () => {
    const { ip, registry } = storeFixture();
    const server = await serveStores(registry);
    const ok = { key: { ip: "192.0.2.1" }, data: reputation(5) };
    const results = await runPythonClient(server.address, [
      { method: "WriteData", store_name: "nope", source: "s", entry: ok },
      { method: "WriteData", store_name: "ip_reputation", source: "", entry: ok },
      { method: "WriteData", store_name: "ip_reputation", source: "s", entry: null },
      { method: "WriteData", store_name: "ip_reputation", source: "s", entry: { key: { ip: "192.0.2.1" } } },
      { method: "WriteData", store_name: "ip_reputation", source: "s", entry: { key: { value: "192.0.2.1" }, data: reputation(5) } },
      {
        method: "WriteData",
        store_name: "ip_reputation",
        source: "s",
        entry: { key: { ip: "192.0.2.1" }, data: { raw: { type_url: "type.googleapis.com/tracee.v1beta1.datastores.IPReputation", value_b64: "CgE=" } } },
      },
      { method: "WriteBatchData", store_name: "ip_reputation", source: "s", entries: [ok, { key: { ip: "192.0.2.2" }, data: reputation(11) }] },
      { method: "WriteBatchData", store_name: "ip_reputation", source: "s", entries: [] },
      { method: "DeleteData", store_name: "ip_reputation", source: "s", key: null },
      { method: "ListSources", store_name: "" },
      { method: "ListSources", store_name: "readonly" },
    ]);
    expect(results.map((r) => [r.code, r.details])).toEqual([
      ["NOT_FOUND", 'datastore "nope" not found'],
      ["INVALID_ARGUMENT", "source is empty: every write names the source it comes from"],
      ["INVALID_ARGUMENT", "entry is missing"],
      ["INVALID_ARGUMENT", "data is missing"],
      [
        "INVALID_ARGUMENT",
        'key must be a tracee.v1beta1.datastores.IPAddressKey, got type URL "type.googleapis.com/google.protobuf.Value"',
      ],
      ["INVALID_ARGUMENT", expect.stringMatching(/^data is not a valid tracee\.v1beta1\.datastores\.IPReputation: /)],
      ["INVALID_ARGUMENT", 'datastore "ip_reputation": entry 1: severity must be 1-10, got 11'],
      ["INVALID_ARGUMENT", "batch has no entries"],
      ["INVALID_ARGUMENT", "key is missing"],
      ["INVALID_ARGUMENT", "store_name is empty"],
      ["UNIMPLEMENTED", 'datastore "readonly" is not writable'],
    ]);
    expect(ip.size).toBe(0);
  });
});

describe.skipIf(!python.ok)(`the kit's Python DataStoreService${skipReason}`, () => {
  it("answers with real counts and sorted sources, and reports what it unpacked", async () => {
    const server = await startPythonDataStoreServer();
    try {
      const results = await runPythonClient(server.address, [
        {
          method: "WriteBatchData",
          store_name: "ip_reputation",
          source: "b",
          entries: [
            { key: { ip: "192.0.2.1" }, data: reputation(4) },
            { key: { ip: "192.0.2.1" }, data: reputation(5) },
            { key: { ip: "192.0.2.2" }, data: reputation(6) },
          ],
        },
        { method: "WriteData", store_name: "ip_reputation", source: "a", entry: { key: { ip: "192.0.2.3" }, data: reputation(7) } },
        { method: "ListSources", store_name: "ip_reputation" },
        { method: "ClearSource", store_name: "ip_reputation", source: "b" },
        { method: "WriteData", store_name: "nope", source: "a", entry: null },
        { method: "ListSources", store_name: "unavailable" },
        {
          method: "WriteData",
          store_name: "ip_reputation",
          source: "a",
          metadata: [["authorization", "Bearer t0ken"]],
          entry: { key: { ip: "192.0.2.4" }, data: reputation(11) },
        },
      ]);
      expect(results).toEqual([
        { code: "OK", details: "", written_count: 2 },
        { code: "OK", details: "" },
        { code: "OK", details: "", sources: ["a", "b"] },
        { code: "OK", details: "", deleted_count: 2 },
        { code: "NOT_FOUND", details: 'datastore "nope" not found' },
        { code: "UNAVAILABLE", details: "datastore unavailable fails on purpose" },
        { code: "INVALID_ARGUMENT", details: "severity must be 1-10, got 11" },
      ]);
      const received = await server.waitForReceived(7);
      const batch = received[0]!;
      expect(batch).toMatchObject({ method: "WriteBatchData", store_name: "ip_reputation", source: "b", code: "OK" });
      expect(batch.entries?.[2]).toEqual({
        key: {
          type_url: "type.googleapis.com/tracee.v1beta1.datastores.IPAddressKey",
          type_name: "tracee.v1beta1.datastores.IPAddressKey",
          value_hex: Buffer.from(ipAddressKeyType.encode("192.0.2.2")).toString("hex"),
          message: { ip: "192.0.2.2" },
        },
        data: expect.objectContaining({
          type_url: "type.googleapis.com/tracee.v1beta1.datastores.IPReputation",
          message: { status: "REPUTATION_DENY", severity: 6, tags: ["botnet", "c2"] },
        }),
      });
      // Python's IPReputation bytes decode with our type to what Python meant.
      expect(ipReputationType.decode(Buffer.from(batch.entries![2]!.data!.value_hex, "hex"))).toMatchObject({
        status: "deny",
        severity: 6,
      });
      expect(received[6]).toMatchObject({ code: "INVALID_ARGUMENT", metadata: { authorization: "Bearer t0ken" } });
    } finally {
      await server.close();
    }
  });
});

describe.skipIf(!python.ok)(`Python client → the shipped stores${skipReason}`, () => {
  it("ipReputationStore and valueStore take what Python writes", async () => {
    const ip = ipReputationStore({ policy: "max-severity" });
    const json = valueStore();
    const server = await serveStores(new DataStoreRegistry().register(ip).register(json));
    const results = await runPythonClient(server.address, [
      { method: "WriteData", store_name: "ip_reputation", source: "feed-a", entry: { key: { ip: "2001:DB8::1" }, data: reputation(4) } },
      {
        method: "WriteBatchData",
        store_name: "ip_reputation",
        source: "feed-b",
        entries: [
          { key: { ip: "2001:db8:0::1" }, data: reputation(9, { last_updated: "2024-01-02T03:04:05Z" }) },
          { key: { ip: "198.51.100.7" }, data: { reputation: { status: "REPUTATION_ALLOW", severity: 1 } } },
        ],
      },
      { method: "WriteData", store_name: "ip_reputation", source: "feed-b", entry: { key: { ip: "198.51.100.8" }, data: reputation(11) } },
      { method: "WriteData", store_name: "ip_reputation", source: "feed-b", entry: { key: { ip: "not an ip" }, data: reputation(3) } },
      { method: "ListSources", store_name: "ip_reputation" },
      {
        method: "WriteData",
        store_name: "writable_store",
        source: "py",
        entry: { key: { value: "config" }, data: { value: { enabled: true, limits: [1, 2, 3] } } },
      },
    ]);
    expect(results.map((r) => r.code)).toEqual(["OK", "OK", "INVALID_ARGUMENT", "INVALID_ARGUMENT", "OK", "OK"]);
    expect(results[1]!.written_count).toBe(2);
    expect(results[2]!.details).toMatch(/^datastore "ip_reputation": .*severity/);
    expect(results[4]!.sources).toEqual(["feed-a", "feed-b"]);
    // One address written in two forms; max-severity picks feed-b's 9.
    expect(ip.get("2001:db8::1")).toMatchObject({ source: "feed-b", severity: 9, status: "deny" });
    expect(ip.isAllowed("198.51.100.7")).toBe(true);
    expect(json.get("config")).toEqual({ enabled: true, limits: [1, 2, 3] });

    const [cleared] = await runPythonClient(server.address, [{ method: "ClearSource", store_name: "ip_reputation", source: "feed-b" }]);
    expect(cleared).toEqual({ code: "OK", details: "", deleted_count: 2 });
    expect(ip.get("2001:db8::1")).toMatchObject({ source: "feed-a", severity: 4 });
    expect(ip.isAllowed("198.51.100.7")).toBe(false);
  });
});
