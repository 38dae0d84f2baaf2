import { describe, expect, it } from "vitest";
import { decode, safeDecode, t } from "tracee-ds/codec";

function message(schema: Parameters<typeof safeDecode>[0], value: unknown): string {
  const result = safeDecode(schema, value);
  if (result.success) throw new Error(`expected ${JSON.stringify(value)} to be refused`);
  return result.error.message;
}

const Ioc = t.record({
  sha256: t.string({ pattern: /^[0-9a-f]{64}$/ }),
  domain: t.string(),
  severity: t.enum(["low", "medium", "high"]),
  tags: t.list(t.string()),
  first_seen: t.optional(t.string()),
  score: t.nullable(t.int({ min: 0, max: 100 })),
});
const sha = "a".repeat(64);
const ioc = { sha256: sha, domain: "evil.example", severity: "high", tags: ["c2"], score: 80 };

describe("t.list", () => {
  it("decodes into a new array", () => {
    const input = [1, 2, 3];
    const out = decode(t.list(t.int()), input);
    expect(out).toEqual([1, 2, 3]);
    expect(out).not.toBe(input);
  });

  it("names the index of a bad item", () => {
    expect(message(t.list(t.int()), [1, "2", 3])).toBe('[1]: expected an integer, got "2"');
    expect(message(t.list(t.int()), { 0: 1, length: 1 })).toBe("expected a list, got an object");
  });

  it("checks length bounds", () => {
    expect(message(t.list(t.int(), { minLength: 1 }), [])).toBe("expected a list of at least 1 items, got 0");
    expect(message(t.list(t.int(), { maxLength: 1 }), [1, 2])).toBe("expected a list of at most 1 items, got 2");
  });

  it("refuses holes", () => {
    // eslint-disable-next-line no-sparse-arrays
    expect(message(t.list(t.int()), [1, , 3])).toBe("[1]: expected an integer, got undefined");
  });

  it("names itself []T, or [{…}] for records", () => {
    expect(t.list(t.string()).traceeType).toBe("[]string");
    expect(t.list(t.record({ a: t.int() })).traceeType).toEqual([{ a: "int" }]);
  });
});

describe("t.record", () => {
  it("decodes into a new object with the declared fields", () => {
    const out = decode(Ioc, ioc);
    expect(out).toEqual(ioc);
    expect(out).not.toBe(ioc);
    expect(out.tags).not.toBe(ioc.tags);
    expect(Object.getPrototypeOf(out)).toBe(Object.prototype);
  });

  it("names the path of a bad field, nested", () => {
    expect(message(t.record({ threshold: t.int() }), { threshold: 5.5 })).toBe("threshold: expected an integer, got 5.5");
    expect(message(Ioc, { ...ioc, tags: ["ok", 5] })).toBe("tags[1]: expected a string, got 5");
    const Outer = t.record({ iocs: t.list(Ioc) });
    expect(message(Outer, { iocs: [ioc, { ...ioc, severity: "urgent" }] })).toBe(
      'iocs[1].severity: expected one of "low", "medium", "high", got "urgent"',
    );
  });

  it("reports a missing required field; an optional one may be missing or undefined", () => {
    const { domain: _, ...noDomain } = ioc;
    expect(message(Ioc, noDomain)).toBe("domain: required field is missing");
    const out = decode(Ioc, { ...ioc, first_seen: undefined });
    expect("first_seen" in out).toBe(false);
    expect(decode(Ioc, { ...ioc, first_seen: "2024-01-01" }).first_seen).toBe("2024-01-01");
    expect(decode(Ioc, { ...ioc, score: null }).score).toBe(null);
  });

  it("refuses unknown fields by default, naming them", () => {
    expect(message(Ioc, { ...ioc, extra: 1 })).toBe("extra: unknown field");
    expect(message(t.record({}), { "a b": 1 })).toBe('["a b"]: unknown field');
  });

  it("strips or keeps unknown fields when told", () => {
    const Strip = t.record({ a: t.int() }, { unknown: "strip" });
    expect(decode(Strip, { a: 1, b: 2 })).toEqual({ a: 1 });
    const Keep = t.record({ a: t.int() }, { unknown: "keep" });
    const kept = decode(Keep, { a: 1, b: { c: [1] } });
    expect(kept).toEqual({ a: 1, b: { c: [1] } });
    expect(message(Keep, { a: 1, b: Number.NaN })).toBe("b: expected a JSON value, got NaN");
    expect(() => t.record({}, { unknown: "drop" as "strip" })).toThrow(RangeError);
  });

  it("takes plain objects only", () => {
    expect(message(Ioc, [ioc])).toBe("expected an object, got a list");
    expect(message(Ioc, null)).toBe("expected an object, got null");
    expect(message(t.record({}), new Date(0))).toBe("expected an object, got an instance of Date");
    const bare = Object.assign(Object.create(null) as object, { a: 1 });
    expect(decode(t.record({ a: t.int() }), bare)).toEqual({ a: 1 });
  });

  it("reads own properties only: fields named like Object.prototype members are not found there", () => {
    const s = t.record({ constructor: t.optional(t.string()), toString: t.string() });
    expect(message(s, {})).toBe("toString: required field is missing");
    expect(decode(s, { toString: "x" })).toEqual({ toString: "x" });
  });

  it("keeps a __proto__ field as a field, never as a prototype", () => {
    // A computed key: in an object literal, a plain `__proto__:` would set the prototype.
    const s = t.record({ ["__proto__"]: t.record({ polluted: t.bool() }) });
    expect(s.traceeType).toEqual({ ["__proto__"]: { polluted: "bool" } });
    const input = JSON.parse('{"__proto__": {"polluted": true}}') as unknown;
    const out = decode(s, input) as Record<string, unknown>;
    expect(Object.getPrototypeOf(out)).toBe(Object.prototype);
    expect(Object.keys(out)).toEqual(["__proto__"]);
    expect(({} as Record<string, unknown>)["polluted"]).toBeUndefined();
  });

  it("refuses a JSON __proto__ key it does not declare, and is not fooled by a polluted prototype", () => {
    const s = t.record({ a: t.int() });
    expect(message(s, JSON.parse('{"a": 1, "__proto__": {"b": 1}}'))).toBe("__proto__: unknown field");
    const proto = Object.prototype as Record<string, unknown>;
    proto["b"] = 2;
    try {
      const Two = t.record({ a: t.int(), b: t.int() });
      expect(message(Two, { a: 1 })).toBe("b: required field is missing");
      expect(decode(s, { a: 1 })).toEqual({ a: 1 });
    } finally {
      delete proto["b"];
    }
  });

  it("describes itself as Tracee's Schema() does", () => {
    expect(t.record({ threshold: t.int() }).traceeType).toEqual({ threshold: "int" });
    expect(Ioc.traceeType).toEqual({
      sha256: "string",
      domain: "string",
      severity: 'string:"low"|string:"medium"|string:"high"',
      tags: "[]string",
      first_seen: "*string",
      score: "*int",
    });
  });
});

describe("t.map", () => {
  it("decodes every key, including __proto__ and constructor, as plain own keys", () => {
    const input = JSON.parse('{"a": 1, "__proto__": 2, "constructor": 3}') as unknown;
    const out = decode(t.map(t.int()), input);
    expect(Object.getPrototypeOf(out)).toBe(Object.prototype);
    expect(Object.keys(out)).toEqual(["a", "__proto__", "constructor"]);
    expect(Object.getOwnPropertyDescriptor(out, "__proto__")?.value).toBe(2);
  });

  it("names a bad key's path", () => {
    expect(message(t.map(t.int()), { "app.kubernetes.io/name": "x" })).toBe(
      '["app.kubernetes.io/name"]: expected an integer, got "x"',
    );
    expect(t.map(t.int()).traceeType).toBe("map[string]int");
    expect(t.map(t.record({ a: t.int() })).traceeType).toEqual({ "map[string]": { a: "int" } });
  });
});

describe("t.optional and t.nullable", () => {
  it("let undefined or null through", () => {
    expect(decode(t.optional(t.int()), undefined)).toBe(undefined);
    expect(decode(t.nullable(t.int()), null)).toBe(null);
    expect(message(t.nullable(t.int()), undefined)).toBe("expected an integer, got undefined");
    expect(message(t.optional(t.int()), null)).toBe("expected an integer, got null");
    expect(t.nullable(t.list(t.int())).traceeType).toBe("*[]int");
  });
});

describe("t.json", () => {
  it("copies any JSON value deeply", () => {
    const input = { a: [1, "x", null, true, { b: {} }] };
    const out = decode(t.json(), input);
    expect(out).toEqual(input);
    expect(out).not.toBe(input);
    expect((out as { a: unknown[] }).a[4]).not.toBe(input.a[4]);
    expect(t.json().traceeType).toBe("any");
  });

  it.each([
    [undefined, "expected a JSON value, got undefined"],
    [Number.NaN, "expected a JSON value, got NaN"],
    [{ a: [1, () => 1] }, "a[1]: expected a JSON value, got a function"],
    [{ d: new Date(0) }, "d: expected a JSON value, got an instance of Date"],
    [10n, "expected a JSON value, got the bigint 10n"],
  ])("refuses %s", (value, reason) => {
    expect(message(t.json(), value)).toBe(reason);
  });

  it("limits nesting (which also stops cycles)", () => {
    let deep: unknown = 1;
    for (let i = 0; i < 1000; i++) deep = [deep];
    expect(message(t.json(), deep)).toMatch(/nested deeper than 64 levels$/);
    let ok: unknown = 1;
    for (let i = 0; i < 64; i++) ok = [ok];
    expect(decode(t.json(), ok)).toEqual(ok);
    const cycle: Record<string, unknown> = {};
    cycle["self"] = cycle;
    expect(message(t.json({ maxDepth: 3 }), cycle)).toBe("self.self.self: nested deeper than 3 levels");
  });

  it("keeps __proto__ keys as keys", () => {
    const out = decode(t.json(), JSON.parse('{"__proto__": {"x": 1}}')) as object;
    expect(Object.getPrototypeOf(out)).toBe(Object.prototype);
    expect(Object.keys(out)).toEqual(["__proto__"]);
  });
});
