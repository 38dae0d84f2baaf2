import type { StandardSchemaV1 } from "@standard-schema/spec";
import { describe, expect, it } from "vitest";
import {
  DataStoreError,
  defineWritableStore,
  ipAddressKeyType,
  ipReputationType,
  isWritableStore,
  normalizeIP,
  packAny,
  stringValueType,
  t,
  unpackAny,
  valueType,
  type IPReputation,
  type MessageType,
  type StoreCandidate,
} from "tracee-ds";
import { invalidArgumentMessage as invalid } from "../support/errors.js";

const Host = t.record({ owner: t.string(), critical: t.bool(), ports: t.list(t.int({ min: 1, max: 65535 })) });

describe("defineWritableStore with schemas", () => {
  const hosts = () =>
    defineWritableStore({ name: "host_inventory", key: t.string({ pattern: /^[a-z0-9.-]+$/ }), data: Host });

  it("is a writable store whose key and data travel as google.protobuf.Value", () => {
    const store = hosts();
    expect(store.name).toBe("host_inventory");
    expect(store.keyType).toBe(valueType);
    expect(store.dataType).toBe(valueType);
    expect(isWritableStore(store)).toBe(true);
  });

  it("stores what the schema outputs, typed, as a frozen copy", () => {
    const store = hosts();
    const data = { owner: "dba", critical: true, ports: [5432] };
    store.write("cmdb", { key: "db1", data });
    data.ports.push(22);
    const got = store.get("db1");
    // Typed by the schema: a read-only record.
    const owner: string | undefined = got?.owner;
    expect(owner).toBe("dba");
    expect(got).toEqual({ owner: "dba", critical: true, ports: [5432] });
    expect(Object.isFrozen(got)).toBe(true);
    expect(Object.isFrozen(got?.ports)).toBe(true);
    // @ts-expect-error keys are strings
    expect(store.get(5)).toBeUndefined();
  });

  it("checks every write with the schema: INVALID_ARGUMENT with the schema's issue", () => {
    const store = hosts();
    expect(invalid(() => store.write("cmdb", { key: "db1", data: { owner: "dba", critical: "yes", ports: [] } as never }))).toBe(
      'data: critical: expected a boolean, got "yes"',
    );
    expect(invalid(() => store.write("cmdb", { key: "db1", data: { owner: "dba", critical: true, ports: [1, 70000] } }))).toBe(
      "data: ports[1]: expected an integer between 1 and 65535, got 70000",
    );
    expect(invalid(() => store.write("cmdb", { key: "DB1", data: { owner: "dba", critical: true, ports: [] } }))).toMatch(/^key: /);
    expect(
      invalid(() =>
        store.writeBatch("cmdb", [
          { key: "db1", data: { owner: "a", critical: true, ports: [] } },
          { key: "db2", data: { owner: 7, critical: true, ports: [] } as never },
        ]),
      ),
    ).toBe("entry 1: data: owner: expected a string, got 7");
    expect(store.size).toBe(0);
    expect(store.listSources()).toEqual([]);
  });

  it("identifies object keys by value, whatever their property order", () => {
    const store = defineWritableStore({ name: "pairs", key: t.record({ a: t.int(), b: t.string() }), data: t.int() });
    store.write("s", { key: { a: 1, b: "x" }, data: 1 });
    expect(store.writeBatch("s", [{ key: { b: "x", a: 1 }, data: 2 }])).toBe(1);
    expect(store.size).toBe(1);
    expect(store.get({ b: "x", a: 1 })).toBe(2);
    expect(store.get({ a: 1, b: "y" })).toBeUndefined();
  });

  it("copies JSON out of a foreign Standard Schema's input before checking, so nothing of the caller's is kept or frozen", () => {
    // A schema that hands its input back as is (many do for objects).
    const passThrough: StandardSchemaV1<unknown, { n: number }> = {
      "~standard": {
        version: 1,
        vendor: "test",
        validate: (value) =>
          typeof value === "object" && value !== null && typeof (value as { n?: unknown }).n === "number"
            ? { value: value as { n: number } }
            : { issues: [{ message: "expected { n: number }", path: ["n"] }] },
      },
    };
    const store = defineWritableStore({ name: "foreign", key: t.string(), data: passThrough });
    const data = { n: 1 };
    store.write("s", { key: "k", data });
    expect(Object.isFrozen(data)).toBe(false);
    data.n = 2;
    expect(store.get("k")).toEqual({ n: 1 });
    expect(invalid(() => store.write("s", { key: "k", data: { n: "1" } as never }))).toBe("data: n: expected { n: number }");
    expect(invalid(() => store.write("s", { key: "k", data: { n: 1, when: new Date() } as never }))).toBe(
      "data: when: expected a JSON value, got an instance of Date",
    );
  });
});

describe("defineWritableStore with message types", () => {
  it("keys by the key's encoded bytes and stores data decoded from its own encoding", () => {
    const store = defineWritableStore({ name: "reputations", key: stringValueType, data: ipReputationType });
    expect(store.keyType).toBe(stringValueType);
    expect(store.dataType).toBe(ipReputationType);
    const data: IPReputation = { status: "deny", severity: 3, tags: ["x"], metadata: { a: "b" } };
    store.write("s", { key: "k", data });
    const got = store.get("k");
    expect(got).toEqual({ status: "deny", severity: 3, tags: ["x"], metadata: { a: "b" }, lastUpdated: undefined });
    expect(got).not.toBe(data);
    expect(Object.isFrozen(got)).toBe(true);
    expect(Object.isFrozen(got?.tags)).toBe(true);
    expect(store.get("K")).toBeUndefined();
  });

  it("refuses data its message type cannot encode", () => {
    const store = defineWritableStore({ name: "reputations", key: stringValueType, data: ipReputationType });
    expect(invalid(() => store.write("s", { key: "k", data: { status: "nope" } as never }))).toBe(
      'data: cannot be encoded as a tracee.v1beta1.datastores.IPReputation: invalid reputation status: "nope"',
    );
    expect(store.size).toBe(0);
  });

  it("refuses a key its message type cannot encode, on writes and deletes; a read does not find it", () => {
    const throwing: MessageType<string> = {
      typeName: "test.Key",
      encode: (key) => {
        if (key.length > 3) throw new RangeError("too long");
        return new TextEncoder().encode(key);
      },
      decode: (bytes) => new TextDecoder().decode(bytes),
    };
    const store = defineWritableStore({ name: "k", key: throwing, data: stringValueType });
    expect(invalid(() => store.write("s", { key: "abcd", data: "x" }))).toBe("key: cannot be encoded as a test.Key: too long");
    expect(invalid(() => store.delete("s", "abcd"))).toBe("key: cannot be encoded as a test.Key: too long");
    expect(store.get("abcd")).toBeUndefined();
    store.write("s", { key: "abc", data: "x" });
    expect(store.get("abc")).toBe("x");
  });

  it("takes a keyId that normalises (and checks) keys", () => {
    const store = defineWritableStore({ name: "ips", key: ipAddressKeyType, data: stringValueType, keyId: normalizeIP });
    store.write("s", { key: "::FFFF:1.2.3.4", data: "mapped" });
    expect(store.get("1.2.3.4")).toBe("mapped");
    expect(store.writeBatch("s", [{ key: "1.2.3.4", data: "plain" }, { key: "::ffff:0102:0304", data: "hex" }])).toBe(1);
    expect(store.size).toBe(1);
    expect(store.get("1.2.3.4")).toBe("hex");
    expect(invalid(() => store.write("s", { key: "01.2.3.4", data: "x" }))).toBe('key: "01.2.3.4" is not an IPv4 or IPv6 address');
    expect(store.get("01.2.3.4")).toBeUndefined();
    expect(store.delete("s", "::ffff:1.2.3.4")).toBe(true);
  });

  it("takes values unpacked from Any", () => {
    const store = defineWritableStore({ name: "strings", key: stringValueType, data: stringValueType });
    const entry = {
      key: unpackAny(packAny(stringValueType, "k"), stringValueType, "key"),
      data: unpackAny(packAny(stringValueType, "v"), stringValueType, "data"),
    };
    store.write("s", entry);
    expect(store.get("k")).toBe("v");
  });
});

describe("defineWritableStore: sources, resolve and validate", () => {
  it("by default returns the most recent write among sources, and isolates sources", () => {
    const store = defineWritableStore({ name: "n", key: t.string(), data: t.int() });
    store.write("b", { key: "k", data: 1 });
    store.write("a", { key: "k", data: 2 });
    expect(store.get("k")).toBe(2);
    expect(store.getFromSource("b", "k")).toBe(1);
    expect(store.delete("c", "k")).toBe(false);
    expect(store.clear("a")).toBe(1);
    expect(store.get("k")).toBe(1);
    expect(store.listSources()).toEqual(["b"]);
  });

  it("hands resolve every source's candidate, sorted by source, with increasing write counters", () => {
    const seen: (readonly StoreCandidate<number>[])[] = [];
    const store = defineWritableStore({
      name: "max",
      key: t.string(),
      data: t.int(),
      resolve: (candidates) => {
        seen.push(candidates);
        return Math.max(...candidates.map((c) => c.data));
      },
    });
    store.write("zeta", { key: "k", data: 5 });
    store.write("alpha", { key: "k", data: 3 });
    store.write("Mid", { key: "k", data: 9 });
    store.write("alpha", { key: "k", data: 4 });
    expect(store.get("k")).toBe(9);
    const [candidates] = seen;
    expect(candidates?.map((c) => [c.source, c.data])).toEqual([
      ["Mid", 9],
      ["alpha", 4],
      ["zeta", 5],
    ]);
    const seq = Object.fromEntries(candidates?.map((c) => [c.source, c.seq]) ?? []);
    expect(seq.zeta).toBeLessThan(seq.Mid as number);
    expect(seq.Mid).toBeLessThan(seq.alpha as number);
    expect(store.get("missing")).toBeUndefined();
    expect(seen).toHaveLength(1);
  });

  it("reads a resolve that returns undefined as not found", () => {
    const store = defineWritableStore({
      name: "trusted",
      key: t.string(),
      data: t.string(),
      resolve: (candidates) => candidates.find((c) => c.source === "trusted")?.data,
    });
    store.write("other", { key: "k", data: "x" });
    expect(store.get("k")).toBeUndefined();
    store.write("trusted", { key: "k", data: "y" });
    expect(store.get("k")).toBe("y");
  });

  it("refuses entries validate rejects, atomically, with the entry's index", () => {
    const store = defineWritableStore({
      name: "ranges",
      key: t.string(),
      data: t.record({ lo: t.int(), hi: t.int() }),
      validate: ({ key, data }) => (data.lo > data.hi ? `range ${key} has lo > hi` : undefined),
    });
    store.write("s", { key: "a", data: { lo: 1, hi: 2 } });
    expect(invalid(() => store.write("s", { key: "b", data: { lo: 3, hi: 2 } }))).toBe("range b has lo > hi");
    expect(
      invalid(() =>
        store.writeBatch("s", [
          { key: "a", data: { lo: 0, hi: 9 } },
          { key: "c", data: { lo: 5, hi: 4 } },
        ]),
      ),
    ).toBe("entry 1: range c has lo > hi");
    expect(store.get("a")).toEqual({ lo: 1, hi: 2 });
    expect(store.size).toBe(1);
  });

  it("lets an error thrown by validate through unchanged", () => {
    const bug = new Error("validator bug");
    const unavailable = new DataStoreError("UNAVAILABLE", "backend down");
    let throwWhat: unknown = bug;
    const store = defineWritableStore({
      name: "v",
      key: t.string(),
      data: t.int(),
      validate: () => {
        throw throwWhat;
      },
    });
    expect(() => store.write("s", { key: "k", data: 1 })).toThrow(bug);
    throwWhat = unavailable;
    expect(() => store.writeBatch("s", [{ key: "k", data: 1 }])).toThrow(unavailable);
    expect(store.size).toBe(0);
  });

  it("refuses bad definitions with a TypeError", () => {
    expect(() => defineWritableStore({ name: "", key: t.string(), data: t.int() })).toThrow(TypeError);
    expect(() => defineWritableStore({ name: "x", key: {} as never, data: t.int() })).toThrow(/key must be a MessageType or a schema/);
    expect(() => defineWritableStore({ name: "x", key: t.string(), data: "int" as never })).toThrow(/data must be a MessageType or a schema/);
    expect(() => defineWritableStore({ name: "x", key: t.string(), data: t.int(), resolve: 1 as never })).toThrow(/resolve must be a function/);
  });

  it("refuses a keyId that returns something other than a string", () => {
    const store = defineWritableStore({ name: "x", key: t.string(), data: t.int(), keyId: (() => 1) as never });
    expect(() => store.write("s", { key: "k", data: 1 })).toThrow(/keyId must return a string, got 1/);
  });
});
