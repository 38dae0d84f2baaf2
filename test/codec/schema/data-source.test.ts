import { describe, expect, it } from "vitest";
import {
  DataSourceRegistry,
  ErrDataNotFound,
  ErrFailedToUnmarshal,
  ErrKeyNotSupported,
  defineDataSource,
  defineWritableDataSource,
  errorIs,
  isWritable,
  t,
} from "tracee-ds";
import { thrown } from "../../support/errors.js";

const Ioc = t.record({
  sha256: t.string({ pattern: /^[0-9a-f]{64}$/ }),
  severity: t.enum(["low", "medium", "high"]),
  tags: t.list(t.string()),
});
const sha = (c: string) => c.repeat(64);
const ioc = (c: string, severity: "low" | "medium" | "high" = "high") => ({ sha256: sha(c), severity, tags: ["c2"] });

function iocs(options: { mode?: "merge" | "replace" } = {}) {
  return defineWritableDataSource({
    namespace: "intel",
    id: "iocs",
    version: 2,
    key: t.string({ pattern: /^[0-9a-f]{64}$/ }),
    value: Ioc,
    ...options,
  });
}

describe("defineWritableDataSource", () => {
  it("derives keys(), values() and schema() from the schemas", () => {
    const ds = defineWritableDataSource({ namespace: "n", id: "threshold", key: t.literal("threshold"), value: t.int() });
    expect(ds.keys()).toEqual(['string:"threshold"']);
    expect(ds.values()).toEqual(["int"]);
    expect(JSON.parse(ds.schema())).toEqual({ threshold: "int" });
    const multi = defineWritableDataSource({ namespace: "n", id: "m", key: t.enum(["a", 1]), value: t.enum(["x", "y"]) });
    expect(multi.keys()).toEqual(['string:"a"', "int:1"]);
    expect(multi.values()).toEqual(['string:"x"', 'string:"y"']);
    expect(JSON.parse(multi.schema())).toEqual({ a: 'string:"x"|string:"y"', 1: 'string:"x"|string:"y"' });
    const ds2 = iocs();
    expect(ds2.keys()).toEqual(["string"]);
    expect(JSON.parse(ds2.values()[0] ?? "")).toEqual({
      sha256: "string",
      severity: 'string:"low"|string:"medium"|string:"high"',
      tags: "[]string",
    });
    expect(JSON.parse(ds2.schema())).toEqual({ "<string>": JSON.parse(ds2.values()[0] ?? "") });
    expect([ds2.namespace(), ds2.id(), ds2.version()]).toEqual(["intel", "iocs", 2]);
  });

  it("lets keys(), values() and schema() be overridden", () => {
    const ds = defineWritableDataSource({
      namespace: "n",
      id: "x",
      key: t.string(),
      value: t.int(),
      keys: ["string"],
      values: ["int64"],
      schema: { count: "int" },
    });
    expect([ds.keys(), ds.values(), ds.schema()]).toEqual([["string"], ["int64"], '{"count":"int"}']);
  });

  it("stores a valid write and answers { [key]: value }", () => {
    const ds = iocs();
    ds.write(new Map([[sha("a"), ioc("a")]]));
    expect(ds.get(sha("a"))).toEqual({ [sha("a")]: ioc("a") });
    expect(ds.lookup(sha("a"))).toEqual(ioc("a"));
  });

  it("get: ErrDataNotFound for a valid key with nothing stored, ErrKeyNotSupported naming a bad key", () => {
    const ds = iocs();
    expect(thrown(() => ds.get(sha("b")))).toBe(ErrDataNotFound);
    const err = thrown(() => ds.get("nope"));
    expect(errorIs(err, ErrKeyNotSupported)).toBe(true);
    expect(err.message).toBe('key "nope" is not supported: expected a string matching /^[0-9a-f]{64}$/, got "nope"');
    expect(errorIs(thrown(() => ds.get(5 as unknown as string)), ErrKeyNotSupported)).toBe(true);
    expect(ds.lookup("nope")).toBeUndefined();
  });

  it("a write with one bad value changes nothing, and names the key and path", () => {
    const ds = iocs();
    ds.write(new Map([[sha("a"), ioc("a")]]));
    const err = thrown(() =>
      ds.write(
        new Map<string, unknown>([
          [sha("a"), ioc("a", "low")],
          [sha("b"), { ...ioc("b"), tags: ["ok", 7] }],
        ]),
      ),
    );
    expect(errorIs(err, ErrFailedToUnmarshal)).toBe(true);
    expect(err.message).toBe(`${sha("b")}.tags[1]: expected a string, got 7`);
    expect(ds.lookup(sha("a"))?.severity).toBe("high");
    expect(ds.lookup(sha("b"))).toBeUndefined();
  });

  it("a write with one bad key changes nothing, with ErrKeyNotSupported", () => {
    const ds = iocs();
    const err = thrown(() =>
      ds.write(
        new Map<unknown, unknown>([
          [sha("a"), ioc("a")],
          [42, ioc("b")],
        ]),
      ),
    );
    expect(errorIs(err, ErrKeyNotSupported)).toBe(true);
    expect(errorIs(err, ErrFailedToUnmarshal)).toBe(false);
    expect(err.message).toBe("key 42 is not supported: expected a string, got 42");
    expect(ds.lookup(sha("a"))).toBeUndefined();
  });

  it("merges writes by default; replaces with mode: replace", () => {
    const merged = iocs();
    merged.write(new Map([[sha("a"), ioc("a")]]));
    merged.write(new Map([[sha("b"), ioc("b")]]));
    expect([merged.lookup(sha("a")), merged.lookup(sha("b"))].every(Boolean)).toBe(true);
    const replaced = iocs({ mode: "replace" });
    replaced.write(new Map([[sha("a"), ioc("a")]]));
    replaced.write(new Map([[sha("b"), ioc("b")]]));
    expect(replaced.lookup(sha("a"))).toBeUndefined();
    expect(replaced.lookup(sha("b"))).toBeDefined();
    replaced.write(new Map());
    expect(replaced.lookup(sha("b"))).toBeUndefined();
  });

  it("stores copies, frozen: neither the writer nor a reader can change them", () => {
    const ds = iocs();
    const value = ioc("a");
    ds.write(new Map([[sha("a"), value]]));
    value.tags.push("changed");
    const got = ds.lookup(sha("a"));
    expect(got?.tags).toEqual(["c2"]);
    expect(Object.isFrozen(got) && Object.isFrozen(got?.tags)).toBe(true);
    expect(Object.isFrozen(ds.get(sha("a")))).toBe(true);
    expect(ds.get(sha("a"))).toBe(ds.get(sha("a"))); // built once per write
  });

  it("starts from checked data", () => {
    const ds = defineWritableDataSource({
      namespace: "n",
      id: "t",
      key: t.literal("threshold"),
      value: t.int({ min: 1 }),
      data: [["threshold", 3]],
    });
    expect(ds.get("threshold")).toEqual({ threshold: 3 });
    expect(() =>
      defineWritableDataSource({ namespace: "n", id: "t", key: t.literal("threshold"), value: t.int({ min: 1 }), data: [["threshold", 0]] }),
    ).toThrow("threshold: expected an integer >= 1, got 0");
  });

  it("shapes results as the value, or with a function", () => {
    const byValue = defineWritableDataSource({ namespace: "n", id: "v", key: t.string(), value: Ioc, result: "value" });
    byValue.write(new Map([["x", ioc("a")]]));
    expect(byValue.get("x")).toEqual(ioc("a"));
    expect(JSON.parse(byValue.schema())).toEqual(Ioc.traceeType);
    const byFn = defineWritableDataSource({
      namespace: "n",
      id: "f",
      key: t.string(),
      value: t.int(),
      result: (key, value) => ({ name: key, limit: value }),
      schema: { name: "string", limit: "int" },
    });
    byFn.write(new Map([["cpu", 4]]));
    expect(byFn.get("cpu")).toEqual({ name: "cpu", limit: 4 });
    expect(JSON.parse(byFn.schema())).toEqual({ name: "string", limit: "int" });
  });

  it("keeps a __proto__ key as a key in the entry result", () => {
    const ds = defineWritableDataSource({ namespace: "n", id: "p", key: t.string(), value: t.int() });
    ds.write(new Map([["__proto__", 1]]));
    const got = ds.get("__proto__");
    expect(Object.getPrototypeOf(got)).toBe(Object.prototype);
    expect(Object.keys(got)).toEqual(["__proto__"]);
  });

  it("refuses bad options", () => {
    const base = { namespace: "n", id: "x", key: t.string(), value: t.int() };
    expect(() => defineWritableDataSource({ ...base, namespace: "" })).toThrow(TypeError);
    expect(() => defineWritableDataSource({ ...base, version: -1 })).toThrow(RangeError);
    expect(() => defineWritableDataSource({ ...base, version: 1.5 })).toThrow(RangeError);
    expect(() => defineWritableDataSource({ ...base, mode: "append" as "merge" })).toThrow(RangeError);
    expect(() => defineWritableDataSource({ ...base, key: {} as typeof base.key })).toThrow(TypeError);
    expect(() => iocs().write([] as unknown as Map<string, unknown>)).toThrow(TypeError);
  });

  it("satisfies the contract: registers, is writable, and a typed ref finds it", () => {
    const ds = iocs();
    const registry = new DataSourceRegistry().register(ds);
    expect(isWritable(ds)).toBe(true);
    const ctx = registry.context({ callback: () => {} });
    expect(ctx.getDataSource(ds.ref)).toBe(ds);
    expect(ctx.getDataSource("intel", "iocs")).toBe(ds);
    expect(() => registry.register(iocs())).toThrow(/already registered/);
  });
});

describe("defineDataSource", () => {
  it("serves checked data, read-only", () => {
    const ds = defineDataSource({
      namespace: "n",
      id: "ports",
      key: t.int({ min: 0, max: 65535 }),
      value: t.string(),
      data: new Map([[22, "ssh"]]),
    });
    expect(ds.get(22)).toEqual({ 22: "ssh" });
    expect(thrown(() => ds.get(23))).toBe(ErrDataNotFound);
    expect(errorIs(thrown(() => ds.get(70000)), ErrKeyNotSupported)).toBe(true);
    expect(isWritable(ds)).toBe(false);
    expect(ds.keys()).toEqual(["int"]);
    expect(() => defineDataSource({ namespace: "n", id: "p", key: t.int(), value: t.string(), data: [[1.5, "x"]] })).toThrow(
      "key 1.5 is not supported: expected an integer, got 1.5",
    );
  });

  it("reads through a function, after checking the key", () => {
    const seen: unknown[] = [];
    const ds = defineDataSource({
      namespace: "tracee",
      id: "containers",
      key: t.string(),
      value: t.record({ container_id: t.string(), k8s_pod_sandbox: t.bool() }),
      result: "value",
      read: (id) => {
        seen.push(id);
        return id === "abc" ? { container_id: "abc", k8s_pod_sandbox: false } : undefined;
      },
    });
    expect(ds.get("abc")).toEqual({ container_id: "abc", k8s_pod_sandbox: false });
    expect(thrown(() => ds.get("zzz"))).toBe(ErrDataNotFound);
    expect(errorIs(thrown(() => ds.get(1 as unknown as string)), ErrKeyNotSupported)).toBe(true);
    expect(seen).toEqual(["abc", "zzz"]);
    expect(JSON.parse(ds.schema())).toEqual({ container_id: "string", k8s_pod_sandbox: "bool" });
    expect(() =>
      defineDataSource({ namespace: "n", id: "x", key: t.string(), value: t.int(), data: [], read: () => 1 }),
    ).toThrow("give data or read, not both");
  });
});
