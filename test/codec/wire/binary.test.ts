import { fromBinary, toJson } from "@bufbuild/protobuf";
import { ValueSchema } from "@bufbuild/protobuf/wkt";
import fc from "fast-check";
import type { JsonValue } from "type-fest";
import { describe, expect, it } from "vitest";
import { DEFAULT_MAX_DEPTH, fromValueBinary, toValueBinary } from "tracee-ds/codec";
import { Value as TsProtoValue } from "../../../src/gen/google/protobuf/struct.js";
import {
  GoogleValue,
  bytes,
  expectCodecError,
  f64,
  fromHex,
  hasProtoKey,
  hex,
  jsonValue,
  jsonValueNonFinite,
  ld,
  tag,
  utf8,
  v,
  varint,
} from "./helpers.js";

describe("toValueBinary / fromValueBinary round trip", () => {
  it("fromValueBinary(toValueBinary(x)) equals x for every JSON value", () => {
    fc.assert(
      fc.property(jsonValue(), (x) => {
        expect(fromValueBinary(toValueBinary(x))).toStrictEqual(x);
      }),
      { numRuns: 500 },
    );
  });

  it("round trips -0 and non-finite numbers with allowNonFinite", () => {
    fc.assert(
      fc.property(jsonValueNonFinite, (x) => {
        const options = { allowNonFinite: true };
        expect(fromValueBinary(toValueBinary(x, options), options)).toStrictEqual(x);
      }),
      { numRuns: 300 },
    );
  });

  it("keeps -0 both ways (JSON.stringify would print it as 0)", () => {
    const encoded = toValueBinary(-0);
    expect(hex(encoded)).toBe("110000000000000080");
    expect(Object.is(fromValueBinary(encoded), -0)).toBe(true);
    expect(Object.is((fromValueBinary(toValueBinary([-0])) as number[])[0], -0)).toBe(true);
  });

  it("encodes the threshold number and record as documented", () => {
    expect(hex(toValueBinary(10))).toBe("110000000000002440");
    expect(fromValueBinary(fromHex("110000000000002440"))).toBe(10);
    expect(fromValueBinary(toValueBinary({ threshold: 10 }))).toEqual({ threshold: 10 });
  });

  it("reads a Value inside a larger buffer through subarray", () => {
    const inner = toValueBinary({ a: [1, "x", null, true] });
    const outer = new Uint8Array(inner.length + 7);
    outer.set(inner, 3);
    expect(fromValueBinary(outer.subarray(3, 3 + inner.length))).toEqual({ a: [1, "x", null, true] });
    expect(fromValueBinary(Buffer.from(inner))).toEqual({ a: [1, "x", null, true] });
  });

  it("round trips short and long strings, ASCII and not, and repeats from the string cache", () => {
    const strings = ["", "a", "é", "日本語", "😀", "x".repeat(24), "y".repeat(25), "z".repeat(300), "é".repeat(200), "a😀".repeat(50)];
    for (const s of strings) {
      expect(fromValueBinary(toValueBinary(s))).toBe(s);
      expect(fromValueBinary(toValueBinary({ [s]: s }))).toEqual({ [s]: s });
    }
    // Same length, same first/middle/last byte: a cache slot collision must not return the wrong string.
    expect(fromValueBinary(toValueBinary(["abXcd", "abXce", "abXcd", "aaXcd"]))).toEqual(["abXcd", "abXce", "abXcd", "aaXcd"]);
    expect(fromValueBinary(toValueBinary(["abcde", "abzde", "abcde"]))).toEqual(["abcde", "abzde", "abcde"]);
  });

  it("writes lengths of every varint size", () => {
    for (const n of [127, 128, 16383, 16384, 2_097_152]) {
      const s = "q".repeat(n);
      expect(fromValueBinary(toValueBinary({ s, l: [s] }))).toEqual({ s, l: [s] });
    }
  });
});

describe("agreement with google-protobuf", () => {
  it("encodes byte for byte like Value.fromJavaScript(x).serializeBinary()", () => {
    fc.assert(
      fc.property(jsonValue(), (x) => {
        // google-protobuf's map drops a __proto__ key (see hostile.test.ts); we keep it.
        fc.pre(!hasProtoKey(x));
        expect(hex(toValueBinary(x))).toBe(hex(GoogleValue.fromJavaScript(x).serializeBinary()));
      }),
      { numRuns: 500 },
    );
  });

  it("decodes google-protobuf's bytes to what its toJavaScript() gives", () => {
    fc.assert(
      fc.property(jsonValue(), (x) => {
        fc.pre(!hasProtoKey(x));
        const encoded = GoogleValue.fromJavaScript(x).serializeBinary();
        expect(fromValueBinary(encoded)).toStrictEqual(GoogleValue.deserializeBinary(encoded).toJavaScript());
      }),
      { numRuns: 500 },
    );
  });

  it("sorts object keys by UTF-16 code units like jspb.Map, and writes empty keys and empty containers", () => {
    const x = { b: 1, a: 2, "10": 3, "9": 4, é: 5, "😀": 6, "\uffff": 7, "": {}, z: [] };
    expect(hex(toValueBinary(x))).toBe(hex(GoogleValue.fromJavaScript(x).serializeBinary()));
    expect(hex(toValueBinary({ "": null }))).toBe("2a080a060a0012020800");
    expect(hex(toValueBinary([]))).toBe("3200");
    expect(hex(toValueBinary({}))).toBe("2a00");
  });

  it("writes NaN as google-protobuf does when allowNonFinite is on", () => {
    for (const n of [NaN, Infinity, -Infinity]) {
      expect(hex(toValueBinary(n, { allowNonFinite: true }))).toBe(hex(GoogleValue.fromJavaScript(n).serializeBinary()));
    }
  });

  it("agrees with ts-proto and protobuf-es decoders on the same bytes", () => {
    fc.assert(
      fc.property(jsonValue(3), (x) => {
        // ts-proto assigns a __proto__ key into a plain object (a prototype change); we keep it as a key.
        fc.pre(!hasProtoKey(x));
        const encoded = toValueBinary(x);
        expect(fromValueBinary(encoded)).toStrictEqual(toJson(ValueSchema, fromBinary(ValueSchema, encoded)));
        expect(fromValueBinary(encoded)).toEqual(TsProtoValue.unwrap(TsProtoValue.decode(encoded)));
      }),
      { numRuns: 200 },
    );
  });
});

describe("decoding what other encoders may write", () => {
  it("takes map entry fields in either order, and a missing key as \"\"", () => {
    const valueFirst = ld(1, [...ld(2, v.num(1)), ...ld(1, utf8("a"))]);
    expect(fromValueBinary(bytes(ld(5, valueFirst)))).toEqual({ a: 1 });
    expect(fromValueBinary(bytes(ld(5, ld(1, ld(2, v.bool(true))))))).toEqual({ "": true });
  });

  it("keeps the last value for a repeated map key (protobuf map semantics)", () => {
    const encoded = bytes(v.struct(v.entry("k", v.num(1)), v.entry("j", v.null()), v.entry("k", v.str("last"))));
    expect(fromValueBinary(encoded)).toEqual({ k: "last", j: null });
  });

  it("follows oneof and merge rules when a field repeats", () => {
    // Last kind wins.
    expect(fromValueBinary(bytes(v.num(1), v.str("s")))).toBe("s");
    expect(fromValueBinary(bytes(v.str("s"), v.null()))).toBeNull();
    // A repeated message field merges: maps union, lists concatenate.
    expect(fromValueBinary(bytes(v.struct(v.entry("a", v.num(1))), v.struct(v.entry("b", v.num(2)))))).toEqual({ a: 1, b: 2 });
    expect(fromValueBinary(bytes(v.list(v.num(1)), v.list(v.num(2))))).toEqual([1, 2]);
    // ... but only while the oneof keeps that case.
    expect(fromValueBinary(bytes(v.list(v.num(1)), v.null(), v.list(v.num(2))))).toEqual([2]);
    // A map entry whose value field repeats merges the values.
    const entry = ld(1, [...ld(1, utf8("k")), ...ld(2, v.num(1)), ...ld(2, [])]);
    expect(fromValueBinary(bytes(ld(5, entry)))).toEqual({ k: 1 });
    for (const encoded of [bytes(v.list(v.num(1)), v.list(v.num(2))), bytes(ld(5, entry))]) {
      expect(fromValueBinary(encoded)).toEqual(toJson(ValueSchema, fromBinary(ValueSchema, encoded)));
    }
  });

  it("reads any null_value number as null and any non-zero bool varint as true", () => {
    expect(fromValueBinary(bytes(tag(1, 0), varint(1)))).toBeNull();
    expect(fromValueBinary(bytes(tag(1, 0), varint(-1)))).toBeNull();
    expect(fromValueBinary(bytes(tag(4, 0), varint(2)))).toBe(true);
    expect(fromValueBinary(bytes(tag(4, 0), varint(1n << 40n)))).toBe(true);
    expect(fromValueBinary(bytes(tag(4, 0), [0x80, 0x00]))).toBe(false);
  });

  it("skips unknown fields of every wire type in Value, Struct, map entries and ListValue", () => {
    const unknown = [
      ...tag(100, 0), ...varint(2n ** 63n),
      ...tag(101, 1), 1, 2, 3, 4, 5, 6, 7, 8,
      ...ld(102, [9, 9, 9]),
      ...tag(103, 5), 1, 2, 3, 4,
      ...tag(104, 3), ...tag(1, 0), 5, ...tag(105, 3), ...tag(105, 4), ...tag(104, 4),
    ];
    const entry = ld(1, [...unknown, ...ld(1, utf8("k")), ...unknown, ...ld(2, [...unknown, ...v.num(3)])]);
    const struct = ld(5, [...unknown, ...entry, ...unknown]);
    const list = ld(6, [...unknown, ...ld(1, v.str("x")), ...unknown]);
    expect(fromValueBinary(bytes(unknown, struct, unknown))).toEqual({ k: 3 });
    expect(fromValueBinary(bytes(list))).toEqual(["x"]);
  });
});

describe("policies", () => {
  it("has a default depth limit of 64 lists and objects", () => {
    expect(DEFAULT_MAX_DEPTH).toBe(64);
    const nest = (n: number): JsonValue => (n === 0 ? 1 : [nest(n - 1)]);
    expect(fromValueBinary(toValueBinary(nest(64)))).toEqual(nest(64));
    const deep = toValueBinary(nest(65), { maxDepth: 65 });
    const err = expectCodecError(() => fromValueBinary(deep), new Array(64).fill(0), /nests deeper than maxDepth 64/);
    expect(err.message).toBe("[0][0][0]…[0][0][0] (depth 64): value nests deeper than maxDepth 64");
    expectCodecError(() => toValueBinary(nest(65)), new Array(64).fill(0), /nests deeper than maxDepth 64/);
    expect(fromValueBinary(deep, { maxDepth: 65 })).toEqual(nest(65));
    expectCodecError(() => fromValueBinary(toValueBinary({ a: 1 }), { maxDepth: 0 }), [], /maxDepth 0/);
    expect(fromValueBinary(toValueBinary("scalar"), { maxDepth: 0 })).toBe("scalar");
  });

  it("rejects NaN and ±Infinity by default, naming the path, and passes them with allowNonFinite", () => {
    for (const n of [NaN, Infinity, -Infinity]) {
      const encoded = bytes(v.struct(v.entry("iocs", v.list(v.num(1), v.num(n)))));
      expectCodecError(() => fromValueBinary(encoded), ["iocs", 1], /not finite/);
      expect(fromValueBinary(encoded, { allowNonFinite: true })).toEqual({ iocs: [1, n] });
      expectCodecError(() => toValueBinary({ iocs: [1, n] }), ["iocs", 1], /not finite/);
    }
  });

  it("rejects a Value with no kind set: empty, only unknown fields, or a map entry without a value", () => {
    expectCodecError(() => fromValueBinary(new Uint8Array(0)), [], /^value has no kind set$/);
    expectCodecError(() => fromValueBinary(bytes(ld(100, [1]))), [], /no kind set/);
    expectCodecError(() => fromValueBinary(bytes(v.list(v.num(1), []))), [1], /no kind set/);
    expectCodecError(() => fromValueBinary(bytes(ld(5, ld(1, ld(1, utf8("k")))))), ["k"], /no kind set/);
    expectCodecError(() => fromValueBinary(bytes(v.struct(v.entry("k", [])))), ["k"], /no kind set/);
  });

  it("rejects strings and keys that are not valid UTF-8", () => {
    const invalid = [[0xff], [0xc0, 0xaf], [0xed, 0xa0, 0x80], [0xf4, 0x90, 0x80, 0x80], [0xe2, 0x82], [0x80]];
    for (const b of invalid) {
      expectCodecError(() => fromValueBinary(bytes(ld(3, b))), [], /string is not valid UTF-8/);
      expectCodecError(() => fromValueBinary(bytes(ld(3, [...utf8("é".repeat(200)), ...b]))), [], /not valid UTF-8/);
      expectCodecError(() => fromValueBinary(bytes(v.list(ld(3, [...utf8("ok"), ...b])))), [0], /not valid UTF-8/);
      expectCodecError(() => fromValueBinary(bytes(ld(5, ld(1, [...ld(1, b), ...ld(2, v.null())])))), [], /map key is not valid UTF-8/);
    }
  });

  it("rejects strings with lone surrogates on encode (they have no UTF-8 form)", () => {
    expectCodecError(() => toValueBinary("\ud800"), [], /lone surrogate/);
    expectCodecError(() => toValueBinary({ a: ["ok", `${"x".repeat(100)}\udc00`] }), ["a", 1], /lone surrogate/);
    expectCodecError(() => toValueBinary({ "\ud83d": 1 }), ["\ud83d"], /lone surrogate/);
  });

  it("rejects what is not a JSON value on encode, and leaves out undefined properties like JSON.stringify", () => {
    const cases: Array<[unknown, Array<string | number>, RegExp]> = [
      [undefined, [], /got undefined/],
      [[1, undefined], [1], /got undefined/],
      [{ a: 10n }, ["a"], /got bigint/],
      [{ a: () => 1 }, ["a"], /got function/],
      [{ when: new Date(0) }, ["when"], /got Date/],
      [new Map(), [], /got Map/],
      [Symbol("s"), [], /got symbol/],
    ];
    for (const [value, path, reason] of cases) expectCodecError(() => toValueBinary(value as JsonValue), path, reason);
    expect(fromValueBinary(toValueBinary({ a: 1, b: undefined } as unknown as JsonValue))).toStrictEqual({ a: 1 });
    const nullProto = Object.assign(Object.create(null) as object, { x: 1 });
    expect(fromValueBinary(toValueBinary(nullProto as JsonValue))).toEqual({ x: 1 });
  });

  it("turns a cycle into a depth error, not a hang", () => {
    const cyclic: Record<string, unknown> = {};
    cyclic.self = cyclic;
    expectCodecError(() => toValueBinary(cyclic as JsonValue), new Array(64).fill("self"), /maxDepth/);
  });

  it("checks its options", () => {
    expect(() => fromValueBinary(toValueBinary(1), { maxDepth: -1 })).toThrow(RangeError);
    expect(() => toValueBinary(1, { allowNonFinite: "yes" as unknown as boolean })).toThrow(TypeError);
    expect(() => fromValueBinary([1, 2] as unknown as Uint8Array)).toThrow(TypeError);
  });

  it("supports a getter that encodes while an encode runs", () => {
    const inner = { get nested(): JsonValue {
      return Array.from(toValueBinary({ deep: "x".repeat(50) }));
    } };
    const encoded = toValueBinary(inner as unknown as JsonValue);
    const decoded = fromValueBinary(encoded) as { nested: number[] };
    expect(fromValueBinary(Uint8Array.from(decoded.nested))).toEqual({ deep: "x".repeat(50) });
  });
});

describe("field helpers", () => {
  it("build what toValueBinary writes", () => {
    expect(hex(bytes(v.struct(v.entry("a", v.list(v.num(1), v.str("b"), v.bool(false), v.null())))))).toBe(
      hex(toValueBinary({ a: [1, "b", false, null] })),
    );
    expect(hex(bytes(f64(2, 10)))).toBe("110000000000002440");
  });
});
