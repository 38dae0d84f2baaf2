import type { JsonValue } from "type-fest";
import { describe, expect, it } from "vitest";
import {
  DataSourceRegistry,
  ErrDataNotFound,
  ErrFailedToUnmarshal,
  ErrKeyNotSupported,
  errorIs,
  isWritable,
  type WritableDataSource,
  type WriteData,
} from "tracee-ds";
import { fakeDataSource, fakeWritableDataSource, type GetCall, type WriteCall } from "tracee-ds/testing";
import { type Ioc, IocDataSource, thrown } from "./support.js";

const severityOf = (value: unknown): Ioc => {
  const severity = typeof value === "object" && value !== null ? (value as Record<string, unknown>)["severity"] : undefined;
  if (typeof severity !== "number") throw ErrFailedToUnmarshal;
  return { severity };
};

// The same table runs against the hand-written data source and the fake
// configured to stand in for it: the fake must behave as the real piece does.
const implementations: [string, (initial: Record<string, Ioc>) => WritableDataSource<unknown, Ioc>][] = [
  ["hand-written IocDataSource", (initial) => new IocDataSource(initial)],
  [
    "fakeWritableDataSource",
    (initial) => fakeWritableDataSource<Ioc>({ namespace: "test", id: "iocs", data: initial, validate: severityOf }),
  ],
];

describe.each(implementations)("the writable contract: %s", (_name, make) => {
  const w = (entries: [string | number | boolean | null, unknown][]): WriteData => new Map(entries) as WriteData;

  it("answers a known key with its object", () => {
    const ds = make({ "evil.example": { severity: 3 } });
    expect(ds.get("evil.example")).toEqual({ severity: 3 });
  });

  it("throws ErrDataNotFound for an unknown key of the served kind", () => {
    const ds = make({ "evil.example": { severity: 3 } });
    expect(errorIs(thrown(() => ds.get("good.example")), ErrDataNotFound)).toBe(true);
  });

  it.each([[42], [true], [null], [{ k: "evil.example" }], [["evil.example"]], [undefined]])(
    "throws ErrKeyNotSupported for the key %j",
    (key) => {
      const ds = make({ "evil.example": { severity: 3 } });
      expect(errorIs(thrown(() => ds.get(key)), ErrKeyNotSupported)).toBe(true);
    },
  );

  it("stores written entries", async () => {
    const ds = make({});
    await ds.write(w([["a.example", { severity: 1 }], ["b.example", { severity: 2 }]]));
    expect(ds.get("a.example")).toEqual({ severity: 1 });
    expect(ds.get("b.example")).toEqual({ severity: 2 });
  });

  it("refuses a bad value with ErrFailedToUnmarshal and stores nothing of that write", async () => {
    const ds = make({ "a.example": { severity: 1 } });
    const err = await Promise.resolve()
      .then(() => ds.write(w([["a.example", { severity: 9 }], ["b.example", "high"]])))
      .then(() => undefined, (e: unknown) => e);
    expect(errorIs(err, ErrFailedToUnmarshal)).toBe(true);
    expect(ds.get("a.example")).toEqual({ severity: 1 });
    expect(errorIs(thrown(() => ds.get("b.example")), ErrDataNotFound)).toBe(true);
  });

  it("refuses a key of another kind with ErrKeyNotSupported and stores nothing of that write", async () => {
    const ds = make({ "a.example": { severity: 1 } });
    const err = await Promise.resolve()
      .then(() => ds.write(w([["a.example", { severity: 9 }], [7, { severity: 2 }]])))
      .then(() => undefined, (e: unknown) => e);
    expect(errorIs(err, ErrKeyNotSupported)).toBe(true);
    expect(ds.get("a.example")).toEqual({ severity: 1 });
  });

  it("is writable and registers like any data source", () => {
    const ds = make({});
    expect(isWritable(ds)).toBe(true);
    const registry = new DataSourceRegistry().register(ds);
    expect(registry.get("test", "iocs")).toBe(ds);
    expect(() => registry.register(make({}))).toThrow(/already registered/);
  });
});

describe("fakeDataSource", () => {
  it("serves a plain object's data and is not writable", () => {
    const ds = fakeDataSource({ namespace: "ns", id: "ro", data: { a: { n: 1 } } });
    expect(ds.get("a")).toEqual({ n: 1 });
    expect(isWritable(ds)).toBe(false);
    expect("write" in ds).toBe(false);
    expect([ds.namespace(), ds.id(), ds.version()]).toEqual(["ns", "ro", 1]);
  });

  it("takes the served key kinds from a Map's keys", () => {
    const ds = fakeDataSource({ namespace: "ns", id: "pids", data: new Map([[1, { name: "init" }]]) });
    expect(ds.get(1)).toEqual({ name: "init" });
    expect(errorIs(thrown(() => ds.get(2)), ErrDataNotFound)).toBe(true);
    expect(errorIs(thrown(() => ds.get("1")), ErrKeyNotSupported)).toBe(true);
    expect(ds.keys()).toEqual(["number"]);
  });

  it("takes the served key kinds from keyKinds, and keys() and schema() as given", () => {
    const ds = fakeDataSource({
      namespace: "ns",
      id: "x",
      version: 3,
      data: {},
      keyKinds: ["string", "number"],
      keys: ['string:"threshold"'],
      schema: { threshold: "int" },
    });
    expect(errorIs(thrown(() => ds.get(5)), ErrDataNotFound)).toBe(true);
    expect(errorIs(thrown(() => ds.get(false)), ErrKeyNotSupported)).toBe(true);
    expect(ds.keys()).toEqual(['string:"threshold"']);
    expect(JSON.parse(ds.schema())).toEqual({ threshold: "int" });
    expect(ds.version()).toBe(3);
  });

  it("describes the data's fields in the default schema", () => {
    const ds = fakeDataSource({ namespace: "ns", id: "x", data: { a: { n: 1, tags: ["x"], name: "a" } } });
    expect(JSON.parse(ds.schema())).toEqual({ n: "number", tags: "array", name: "string" });
  });

  it("does not let a key such as __proto__ reach a prototype", () => {
    const ds = fakeDataSource({ namespace: "ns", id: "x", data: { a: { n: 1 } } });
    expect(errorIs(thrown(() => ds.get("__proto__")), ErrDataNotFound)).toBe(true);
    expect(errorIs(thrown(() => ds.get("toString")), ErrDataNotFound)).toBe(true);
  });

  it("copies its data: changing the object it was given changes nothing", () => {
    const data: Record<string, { n: number }> = { a: { n: 1 } };
    const ds = fakeDataSource({ namespace: "ns", id: "x", data });
    data["b"] = { n: 2 };
    expect(errorIs(thrown(() => ds.get("b")), ErrDataNotFound)).toBe(true);
    ds.set("b", { n: 2 });
    expect(ds.get("b")).toEqual({ n: 2 });
    expect(ds.delete("b")).toBe(true);
    expect([...ds.snapshot().keys()]).toEqual(["a"]);
  });

  it("records every get with its result or error", () => {
    const ds = fakeDataSource({ namespace: "ns", id: "x", data: { a: { n: 1 } } });
    ds.get("a");
    thrown(() => ds.get("b"));
    thrown(() => ds.get(1));
    const gets: readonly GetCall[] = ds.gets;
    expect(gets.map((g) => g.key)).toEqual(["a", "b", 1]);
    expect(gets[0]).toEqual({ method: "get", key: "a", result: { n: 1 } });
    expect(errorIs(gets[1]?.error, ErrDataNotFound)).toBe(true);
    expect(errorIs(gets[2]?.error, ErrKeyNotSupported)).toBe(true);
    expect(ds.calls).toEqual(gets);
    ds.resetCalls();
    expect(ds.gets).toEqual([]);
  });

  it("fails the next gets with the queued errors, then serves again", () => {
    const ds = fakeDataSource({ namespace: "ns", id: "x", data: { a: { n: 1 } } });
    const boom = new Error("boom");
    ds.failNextGet(boom).failNextGet(ErrDataNotFound);
    expect(thrown(() => ds.get("a"))).toBe(boom);
    expect(thrown(() => ds.get("a"))).toBe(ErrDataNotFound);
    expect(ds.get("a")).toEqual({ n: 1 });
    expect(ds.gets.map((g) => g.error)).toEqual([boom, ErrDataNotFound, undefined]);
  });
});

describe("fakeWritableDataSource", () => {
  it("without validate, stores JSON objects and refuses anything else", () => {
    const ds = fakeWritableDataSource({ namespace: "ns", id: "w" });
    ds.write(new Map([["a", { n: 1 }]]));
    expect(ds.get("a")).toEqual({ n: 1 });
    for (const value of [1, "x", null, [1], true]) {
      const err = thrown(() => ds.write(new Map([["a", value]])));
      expect(errorIs(err, ErrFailedToUnmarshal)).toBe(true);
      expect((err as Error).message).toMatch(/^key "a": expected a JSON object/);
    }
    expect(ds.get("a")).toEqual({ n: 1 });
    expect(ds.values()).toEqual(["object"]);
  });

  it("wraps an ordinary error from validate as ErrFailedToUnmarshal, keeping it as the cause", () => {
    const cause = new TypeError("not a number");
    const ds = fakeWritableDataSource({
      namespace: "ns",
      id: "w",
      values: ["int"],
      validate: () => {
        throw cause;
      },
    });
    const err = thrown(() => ds.write(new Map([["threshold", "x"]])));
    expect(errorIs(err, ErrFailedToUnmarshal)).toBe(true);
    expect((err as Error).cause).toBe(cause);
    expect((err as Error).message).toBe('key "threshold": not a number: given value could not be unmarshaled');
    expect(ds.values()).toEqual(["int"]);
  });

  it("records every write, accepted or refused, with a copy of its data", () => {
    const ds = fakeWritableDataSource({ namespace: "ns", id: "w" });
    const data = new Map<string, { n: number } | string>([["a", { n: 1 }]]);
    ds.write(data);
    data.set("b", "not an object");
    thrown(() => ds.write(data));
    const writes: readonly WriteCall[] = ds.writes;
    expect(writes).toHaveLength(2);
    expect([...(writes[0]?.data.keys() ?? [])]).toEqual(["a"]);
    expect(writes[0]?.error).toBeUndefined();
    expect(errorIs(writes[1]?.error, ErrFailedToUnmarshal)).toBe(true);
    ds.get("a");
    expect(ds.calls.map((c) => c.method)).toEqual(["write", "write", "get"]);
  });

  it("describes fields named like Object.prototype members in the default schema", () => {
    const ds = fakeWritableDataSource({ namespace: "ns", id: "w" });
    const value = JSON.parse('{"constructor":"c","toString":1,"__proto__":[],"hasOwnProperty":null,"n":2}') as JsonValue;
    ds.write(new Map([["a", value]]));
    expect(ds.schema()).toBe(
      '{"constructor":"string","toString":"number","__proto__":"array","hasOwnProperty":"null","n":"number"}',
    );
  });

  it("fails the next write with the queued error and stores nothing", () => {
    const ds = fakeWritableDataSource({ namespace: "ns", id: "w", data: { a: { n: 1 } } });
    const unavailable = new Error("store unavailable");
    ds.failNextWrite(unavailable);
    expect(thrown(() => ds.write(new Map([["a", { n: 2 }]])))).toBe(unavailable);
    expect(ds.get("a")).toEqual({ n: 1 });
    ds.write(new Map([["a", { n: 2 }]]));
    expect(ds.get("a")).toEqual({ n: 2 });
  });
});
