/**
 * fakeDataStore: the store contract in memory (sources, atomic batches,
 * source isolation, sorted sources), seeded per source, recording calls,
 * failing on demand; hostile entries refused with INVALID_ARGUMENT.
 */
import { DataStoreError, ErrInvalidArgument, errorIs, type IPReputation, ipAddressKeyType, ipReputationType, isDataStoreError, isWritableStore } from "tracee-ds";
import { fakeDataStore } from "tracee-ds/testing";
import { describe, expect, it } from "vitest";

const rep = (status: IPReputation["status"], severity = 5): IPReputation => ({ status, severity, tags: [], metadata: {} });

function refusal(fn: () => unknown): unknown {
  try {
    fn();
  } catch (err) {
    return err;
  }
  throw new Error("did not throw");
}

describe("fakeDataStore", () => {
  it("is a WritableStore holding JSON values by default", () => {
    const store = fakeDataStore({ name: "kv" });
    expect(isWritableStore(store)).toBe(true);
    expect([store.keyType.typeName, store.dataType.typeName]).toEqual(["google.protobuf.Value", "google.protobuf.Value"]);
    store.write("a", { key: { host: "x", port: 1 }, data: [1, "two", null, { three: true }] });
    expect(store.get({ host: "x", port: 1 })).toEqual([1, "two", null, { three: true }]);
    expect(store.get({ host: "x", port: 2 })).toBeUndefined();
    expect(store.size).toBe(1);
  });

  it("is seeded per source; a key several sources hold reads as the latest write", () => {
    const store = fakeDataStore({
      name: "ip_reputation",
      keyType: ipAddressKeyType,
      dataType: ipReputationType,
      entries: { feed: [{ key: "10.0.0.1", data: rep("deny", 9) }], allow: [{ key: "10.0.0.1", data: rep("allow", 1) }] },
    });
    expect(store.get("10.0.0.1")?.status).toBe("allow");
    expect(store.size).toBe(2);
    expect(store.listSources()).toEqual(["allow", "feed"]);
    store.write("feed", { key: "10.0.0.1", data: rep("deny", 7) });
    expect(store.get("10.0.0.1")).toEqual({ ...rep("deny", 7), lastUpdated: undefined });
    expect(store.delete("feed", "10.0.0.1")).toBe(true);
    expect(store.get("10.0.0.1")?.status).toBe("allow");
    expect(store.calls.filter((c) => c.method !== "get").length).toBe(3); // seeding records nothing; listSources, write and delete do
  });

  it("holds what the wire would carry: a copy, not the caller's object", () => {
    const store = fakeDataStore({ name: "kv" });
    const data = { n: 1 };
    store.write("a", { key: "k", data });
    data.n = 2;
    expect(store.get("k")).toEqual({ n: 1 });
  });

  it("writeBatch is all or none, keeps a repeated key's later entry, and counts distinct keys", () => {
    const store = fakeDataStore({ name: "kv" });
    expect(store.writeBatch("a", [{ key: "x", data: 1 }, { key: "y", data: 2 }, { key: "x", data: 3 }])).toBe(2);
    expect([store.get("x"), store.get("y")]).toEqual([3, 2]);
    const err = refusal(() => store.writeBatch("b", [{ key: "z", data: 1 }, { key: "w", data: (() => 1) as never }]));
    expect(errorIs(err, ErrInvalidArgument)).toBe(true);
    expect((err as Error).message).toMatch(/^entry 1: data is not a google\.protobuf\.Value/);
    expect(store.get("z")).toBeUndefined();
    expect(store.listSources()).toEqual(["a"]);
  });

  it("delete and clear touch only the caller's source; delete is idempotent; clear counts", () => {
    const store = fakeDataStore({ name: "kv", entries: { a: [{ key: "k", data: 1 }, { key: "j", data: 2 }], b: [{ key: "k", data: 3 }] } });
    expect(store.delete("c", "k")).toBe(false);
    expect(store.delete("b", "k")).toBe(true);
    expect(store.delete("b", "k")).toBe(false);
    expect(store.get("k")).toBe(1);
    expect(store.listSources()).toEqual(["a"]);
    expect(store.clear("b")).toBe(0);
    expect(store.clear("a")).toBe(2);
    expect([store.size, store.get("k"), store.listSources()]).toEqual([0, undefined, []]);
  });

  it.each([
    ["an empty source", () => fakeDataStore({ name: "kv" }).write("", { key: "k", data: 1 })],
    ["a non-string source", () => fakeDataStore({ name: "kv" }).clear(7 as never)],
    ["a source of 257 characters", () => fakeDataStore({ name: "kv" }).delete("s".repeat(257), "k")],
    ["a null entry", () => fakeDataStore({ name: "kv" }).write("a", null as never)],
    ["entries that are not a list", () => fakeDataStore({ name: "kv" }).writeBatch("a", { 0: { key: 1, data: 1 } } as never)],
    ["an unencodable key", () => fakeDataStore({ name: "kv" }).write("a", { key: Symbol("k") as never, data: 1 })],
    ["an unknown reputation status", () => fakeDataStore({ name: "ip", keyType: ipAddressKeyType, dataType: ipReputationType }).write("a", { key: "1.1.1.1", data: rep("nope" as never) })],
    ["an entry validate refuses", () => fakeDataStore({ name: "kv", validate: (e) => { if (e.data === 0) throw new Error("zero"); } }).write("a", { key: "k", data: 0 })],
  ])("refuses %s with INVALID_ARGUMENT", (_, call) => {
    const err = refusal(call);
    expect(isDataStoreError(err) && err.code).toBe("INVALID_ARGUMENT");
  });

  it("a DataStoreError from validate passes through as it is", () => {
    const down = new DataStoreError("UNAVAILABLE", "feed is down");
    const store = fakeDataStore({
      name: "kv",
      validate: () => {
        throw down;
      },
    });
    expect(refusal(() => store.write("a", { key: "k", data: 1 }))).toBe(down);
    expect(store.size).toBe(0);
  });

  it("records every call with its result or error; failNext fails the next call of a method and changes nothing", () => {
    const store = fakeDataStore({ name: "kv" });
    const boom = new Error("boom");
    store.failNext("write", boom);
    expect(refusal(() => store.write("a", { key: "k", data: 1 }))).toBe(boom);
    store.write("a", { key: "k", data: 2 });
    store.get("k");
    store.get("nope");
    store.clear("a");
    expect(store.calls).toEqual([
      { method: "write", source: "a", entry: { key: "k", data: 1 }, error: boom },
      { method: "write", source: "a", entry: { key: "k", data: 2 } },
      { method: "get", key: "k", result: 2 },
      { method: "get", key: "nope", result: undefined },
      { method: "clear", source: "a", result: 1 },
    ]);
    expect(store.gets.map((c) => c.key)).toEqual(["k", "nope"]);
    store.resetCalls();
    expect(store.calls).toEqual([]);
  });

  it("set writes without recording; snapshot lists each source's entries", () => {
    const store = fakeDataStore({ name: "kv" }).set("b", "x", 1).set("a", "y", 2).set("a", "z", 3);
    expect(store.calls).toEqual([]);
    expect([...store.snapshot()]).toEqual([
      ["a", [{ key: "y", data: 2 }, { key: "z", data: 3 }]],
      ["b", [{ key: "x", data: 1 }]],
    ]);
    expect(() => store.set("", "k", 1)).toThrow(/source is empty/);
  });

  it("a key that cannot be encoded is held by nobody: get answers undefined", () => {
    const store = fakeDataStore({ name: "kv", entries: { a: [{ key: "k", data: 1 }] } });
    expect(store.get(Symbol("k") as never)).toBeUndefined();
    expect(store.get(undefined as never)).toBeUndefined();
  });
});
