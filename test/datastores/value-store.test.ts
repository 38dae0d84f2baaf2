import fc from "fast-check";
import { describe, expect, it } from "vitest";
import type { JsonValue } from "type-fest";
import {
  isWritableStore,
  packAny,
  unpackAny,
  valueStore,
  valueType,
  type StoreEntry,
} from "tracee-ds";
import { invalidArgumentMessage as invalid } from "../support/errors.js";

type Entry = StoreEntry<JsonValue, JsonValue>;


function isDeepFrozen(value: unknown): boolean {
  if (typeof value !== "object" || value === null) return true;
  return Object.isFrozen(value) && Object.values(value).every(isDeepFrozen);
}

describe("valueStore: shape", () => {
  it("is Tracee's e2e writable_store, with Value keys and data", () => {
    const store = valueStore();
    expect(store.name).toBe("writable_store");
    expect(store.keyType).toBe(valueType);
    expect(store.dataType).toBe(valueType);
    expect(isWritableStore(store)).toBe(true);
    expect(valueStore({ name: "thresholds" }).name).toBe("thresholds");
  });

  it("takes keys and data unpacked from Any, keeping non-string values (Tracee makes them \"\")", () => {
    const store = valueStore();
    const key = unpackAny(packAny(valueType, "threshold"), valueType, "key");
    const data = unpackAny(packAny(valueType, { value: 5, enabled: true, tags: ["a", null] }), valueType, "data");
    store.write("e2e", { key, data });
    expect(store.getValue("threshold")).toEqual({ value: 5, enabled: true, tags: ["a", null] });
    store.write("e2e", { key: unpackAny(packAny(valueType, 7), valueType), data: unpackAny(packAny(valueType, 42), valueType) });
    expect(store.get(7)).toBe(42);
  });
});

describe("valueStore: keys", () => {
  it("compares keys by type and value", () => {
    const store = valueStore();
    const keys: JsonValue[] = ["1", 1, "true", true, "null", null, "", 0, false];
    keys.forEach((key, i) => store.write("s", { key, data: i }));
    expect(store.size).toBe(keys.length);
    expect(keys.map((key) => store.get(key))).toEqual(keys.map((_, i) => i));
  });

  it("takes keys and sources named like Object properties", () => {
    const store = valueStore();
    store.write("__proto__", { key: "__proto__", data: 1 });
    store.write("constructor", { key: "constructor", data: 2 });
    expect([store.get("__proto__"), store.get("constructor"), store.get("toString")]).toEqual([1, 2, undefined]);
    expect(store.listSources()).toEqual(["__proto__", "constructor"]);
  });

  it("treats 0 and -0, and 1 and 1.0, as one key", () => {
    const store = valueStore();
    store.write("s", { key: -0, data: "minus" });
    store.write("s", { key: 0, data: "plus" });
    store.write("s", { key: 1.0, data: "one" });
    expect(store.size).toBe(2);
    expect(store.get(-0)).toBe("plus");
    expect(store.get(1)).toBe("one");
  });

  it.each<[string, unknown]>([
    ["an object", { a: 1 }],
    ["a list", ["a"]],
    ["undefined", undefined],
    ["NaN", Number.NaN],
    ["Infinity", Number.POSITIVE_INFINITY],
    ["a bigint", 1n],
    ["a function", () => 1],
    ["a Date", new Date(0)],
  ])("refuses %s as a key, and does not find it", (_, key) => {
    const store = valueStore();
    const message = invalid(() => store.write("s", { key: key as JsonValue, data: 1 }));
    expect(message).toMatch(/^key: expected (a JSON value|a string, a finite number, a boolean or null), got /);
    expect(invalid(() => store.writeBatch("s", [{ key: "ok", data: 1 }, { key: key as JsonValue, data: 1 }]))).toBe(`entry 1: ${message}`);
    expect(invalid(() => store.delete("s", key as JsonValue))).toBe(message);
    expect(store.get(key as JsonValue)).toBeUndefined();
    expect(store.size).toBe(0);
  });
});

describe("valueStore: data", () => {
  it("keeps any JSON value as it is", () => {
    fc.assert(
      fc.property(fc.jsonValue(), (data) => {
        const store = valueStore();
        store.write("s", { key: "k", data: data as JsonValue });
        // Compared as JSON text: toEqual tells -0 from 0, and fc.jsonValue makes -0 (which JSON has no text for).
        expect(JSON.stringify(store.get("k"))).toBe(JSON.stringify(data));
      }),
      { numRuns: 200 },
    );
  });

  it.each<[string, unknown, string]>([
    ["undefined", undefined, "data: expected a JSON value, got undefined"],
    ["NaN", Number.NaN, "data: expected a JSON value, got NaN"],
    ["a nested Infinity", { a: [1, Number.NEGATIVE_INFINITY] }, "data: a[1]: expected a JSON value, got -Infinity"],
    ["a function", { f: () => 1 }, "data: f: expected a JSON value, got a function"],
    ["a Date", { when: new Date(0) }, "data: when: expected a JSON value, got an instance of Date"],
    ["a Map", new Map(), "data: expected a JSON value, got an instance of Map"],
    ["a bigint", { n: 1n }, "data: n: expected a JSON value, got the bigint 1n"],
  ])("refuses %s as data", (_, data, message) => {
    const store = valueStore();
    expect(invalid(() => store.write("s", { key: "k", data: data as JsonValue }))).toBe(message);
    expect(invalid(() => store.writeBatch("s", [{ key: "a", data: 1 }, { key: "b", data: 2 }, { key: "k", data: data as JsonValue }]))).toBe(
      `entry 2: ${message}`,
    );
    expect(store.size).toBe(0);
    expect(store.listSources()).toEqual([]);
  });

  it("refuses a cycle", () => {
    const store = valueStore();
    const cyclic: Record<string, unknown> = {};
    cyclic.self = cyclic;
    expect(invalid(() => store.write("s", { key: "k", data: cyclic as JsonValue }))).toMatch(/nested deeper than 64 levels/);
  });

  it("refuses a missing entry without crashing", () => {
    const store = valueStore();
    expect(invalid(() => store.write("s", null as unknown as Entry))).toBe("an entry must be an object with a key and data, got null");
    expect(invalid(() => store.writeBatch("s", [undefined as unknown as Entry]))).toBe(
      "entry 0: an entry must be an object with a key and data, got undefined",
    );
  });

  it("stores deep-frozen copies", () => {
    const store = valueStore();
    const data = { list: [1, { x: "y" }], nested: { a: { b: true } } };
    store.write("s", { key: "k", data });
    data.list.push(2);
    data.nested.a.b = false;
    const got = store.get("k");
    expect(got).toEqual({ list: [1, { x: "y" }], nested: { a: { b: true } } });
    expect(isDeepFrozen(got)).toBe(true);
    expect(Object.isFrozen(data)).toBe(false);
  });

  it("keeps a __proto__ key as data", () => {
    const store = valueStore();
    store.write("s", { key: "k", data: JSON.parse('{"__proto__": {"polluted": true}}') as JsonValue });
    const got = store.get("k") as Record<string, unknown>;
    expect(Object.keys(got)).toEqual(["__proto__"]);
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });
});

describe("valueStore: sources", () => {
  it("returns the most recent write when several sources hold a key", () => {
    const store = valueStore();
    store.write("a", { key: "k", data: "from a" });
    store.write("b", { key: "k", data: "from b" });
    expect(store.get("k")).toBe("from b");
    store.write("a", { key: "k", data: "a again" });
    expect(store.get("k")).toBe("a again");
    expect(store.delete("a", "k")).toBe(true);
    expect(store.get("k")).toBe("from b");
    expect(store.size).toBe(1);
  });

  it("orders writes by a counter, so writes in the same millisecond are still ordered", () => {
    const store = valueStore();
    for (let i = 0; i < 50; i++) store.write(i % 2 === 0 ? "even" : "odd", { key: "k", data: i });
    expect(store.get("k")).toBe(49);
    store.writeBatch("even", [{ key: "k", data: "batch" }, { key: "other", data: 1 }]);
    expect(store.get("k")).toBe("batch");
  });

  it("lets a source delete and clear only its own entries, with real counts", () => {
    const store = valueStore();
    expect(store.writeBatch("a", [{ key: "x", data: 1 }, { key: "y", data: 2 }, { key: 1, data: 3 }])).toBe(3);
    expect(store.writeBatch("b", [{ key: "x", data: 10 }, { key: "z", data: 20 }])).toBe(2);
    expect(store.size).toBe(5);
    expect(store.listSources()).toEqual(["a", "b"]);

    expect(store.delete("b", "y")).toBe(false);
    expect(store.get("y")).toBe(2);
    expect(store.delete("b", "1")).toBe(false);
    expect(store.delete("a", "1")).toBe(false);
    expect(store.delete("a", 1)).toBe(true);

    expect(store.clear("a")).toBe(2);
    expect(store.get("x")).toBe(10);
    expect(store.get("y")).toBeUndefined();
    expect(store.listSources()).toEqual(["b"]);
    expect(store.clear("b")).toBe(2);
    expect(store.clear("b")).toBe(0);
    expect(store.listSources()).toEqual([]);
    expect(store.size).toBe(0);
  });

  it("refuses an empty source", () => {
    const store = valueStore();
    expect(invalid(() => store.write("", { key: "k", data: 1 }))).toMatch(/^source is empty/);
    expect(invalid(() => store.clear(""))).toMatch(/^source is empty/);
  });
});

describe("valueStore: batches", () => {
  it("keeps the later entry of a repeated key and counts distinct keys", () => {
    const store = valueStore();
    const n = store.writeBatch("s", [
      { key: "k", data: 1 },
      { key: 0, data: "zero" },
      { key: "k", data: 2 },
      { key: -0, data: "minus zero" },
      { key: "0", data: "string zero" },
    ]);
    expect(n).toBe(3);
    expect([store.get("k"), store.get(0), store.get("0")]).toEqual([2, "minus zero", "string zero"]);
  });

  it("stores nothing when any entry is bad (property)", () => {
    const key = fc.oneof(fc.constantFrom("a", "b", "1"), fc.constantFrom(1, 0, -0), fc.boolean(), fc.constant(null));
    const entry = fc.record({ key, data: fc.jsonValue({ maxDepth: 2 }) as fc.Arbitrary<JsonValue> });
    const bad = fc.oneof(
      fc.record({ key: fc.constantFrom<unknown>({}, [], undefined, Number.NaN), data: fc.constant(1) }),
      fc.record({ key: fc.constant("a"), data: fc.constantFrom<unknown>(undefined, Number.NaN, () => 1) }),
    );
    fc.assert(
      fc.property(fc.array(entry, { maxLength: 6 }), fc.array(entry, { maxLength: 6 }), bad, fc.nat(), (seed, batch, badEntry, where) => {
        const store = valueStore();
        store.writeBatch("s", seed);
        const probe: JsonValue[] = ["a", "b", "1", 1, 0, true, false, null];
        const before = probe.map((k) => store.get(k));
        const entries = [...batch] as unknown[];
        entries.splice(where % (entries.length + 1), 0, badEntry);
        expect(invalid(() => store.writeBatch("s", entries as Entry[]))).toMatch(/^entry \d+: /);
        expect(probe.map((k) => store.get(k))).toEqual(before);
        expect(store.size).toBe(new Set(seed.map((e) => JSON.stringify(e.key))).size);
      }),
      { numRuns: 200 },
    );
  });
});
