import fc from "fast-check";
import type { JsonValue } from "type-fest";
import { describe, expect, it } from "vitest";
import { errorIs, ErrFailedToUnmarshal } from "tracee-ds";
import { fromValueBinary, isCodecError, toValueBinary } from "tracee-ds/codec";
import { GoogleValue, bytes, expectCodecError, hex, jsonValue, ld, tag, utf8, v, varint } from "./helpers.js";

/** The bytes of `depth` nested lists around null, built without recursion. */
function nestedListBytes(depth: number): Uint8Array {
  // Each level is Value{list_value(6): ListValue{values(1): <inner Value>}}.
  const valueLengths = new Array<number>(depth + 1);
  const listLengths = new Array<number>(depth + 1);
  valueLengths[0] = 2; // 08 00
  for (let i = 1; i <= depth; i++) {
    listLengths[i] = 1 + varint(valueLengths[i - 1]!).length + valueLengths[i - 1]!;
    valueLengths[i] = 1 + varint(listLengths[i]!).length + listLengths[i]!;
  }
  const out = new Uint8Array(valueLengths[depth]!);
  let p = 0;
  for (let i = depth; i >= 1; i--) {
    out[p++] = 0x32;
    for (const b of varint(listLengths[i]!)) out[p++] = b;
    out[p++] = 0x0a;
    for (const b of varint(valueLengths[i - 1]!)) out[p++] = b;
  }
  out[p++] = 0x08;
  out[p++] = 0x00;
  return out;
}

describe("hostile input to fromValueBinary and toValueBinary", () => {
  it("depth 1,000: a CodecError at the default limit, decoded with a higher one", () => {
    const encoded = nestedListBytes(1000);
    const err = expectCodecError(() => fromValueBinary(encoded), new Array(64).fill(0), /nests deeper than maxDepth 64/);
    expect(err.message.startsWith("[0][0]")).toBe(true);
    let expected: JsonValue = null;
    for (let i = 0; i < 1000; i++) expected = [expected];
    expect(fromValueBinary(encoded, { maxDepth: 1000 })).toEqual(expected);
    expect(hex(toValueBinary(expected, { maxDepth: 1000 }))).toBe(hex(encoded));
    expectCodecError(() => toValueBinary(expected), new Array(64).fill(0), /maxDepth 64/);
  });

  it("depth 100,000 with maxDepth Infinity: a CodecError for the call stack, not a crash", () => {
    const encoded = nestedListBytes(100_000);
    expectCodecError(() => fromValueBinary(encoded, { maxDepth: Infinity }), [], /too deep for the call stack/);
    let deep: JsonValue = null;
    for (let i = 0; i < 100_000; i++) deep = [deep];
    expectCodecError(() => toValueBinary(deep, { maxDepth: Infinity }), [], /too deep for the call stack/);
  });

  it("a 10 MB string, ASCII and not, round trips and matches google-protobuf's bytes", () => {
    for (const s of ["a".repeat(10 * 1024 * 1024), "é😀x".repeat((10 * 1024 * 1024) / 7)]) {
      const encoded = toValueBinary({ blob: s });
      expect((fromValueBinary(encoded) as { blob: string }).blob === s).toBe(true);
      expect(Buffer.compare(encoded, GoogleValue.fromJavaScript({ blob: s }).serializeBinary())).toBe(0);
    }
  });

  it("__proto__ and constructor keys become own properties and never change a prototype", () => {
    const encoded = bytes(
      v.struct(
        v.entry("__proto__", v.struct(v.entry("polluted", v.bool(true)))),
        v.entry("constructor", v.struct(v.entry("prototype", v.struct(v.entry("polluted", v.bool(true)))))),
        v.entry("list", v.list(v.struct(v.entry("__proto__", v.null())))),
      ),
    );
    const decoded = fromValueBinary(encoded) as Record<string, unknown>;
    expect(Object.getPrototypeOf(decoded)).toBe(Object.prototype);
    expect(Object.keys(decoded)).toEqual(["__proto__", "constructor", "list"]);
    expect(Object.getOwnPropertyDescriptor(decoded, "__proto__")?.value).toEqual({ polluted: true });
    expect(decoded.constructor).toEqual({ prototype: { polluted: true } });
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
    expect((decoded as { polluted?: unknown }).polluted).toBeUndefined();
    const inner = (decoded.list as Array<Record<string, unknown>>)[0]!;
    expect(Object.getPrototypeOf(inner)).toBe(Object.prototype);
    expect(Object.hasOwn(inner, "__proto__")).toBe(true);
    // Same as JSON.parse, and back to the same bytes.
    const text = '{"__proto__":{"polluted":true},"constructor":{"prototype":{"polluted":true}},"list":[{"__proto__":null}]}';
    expect(decoded).toEqual(JSON.parse(text));
    expect(hex(toValueBinary(JSON.parse(text) as JsonValue))).toBe(hex(encoded));
  });

  it("NaN: a CodecError naming the path by default, passed with allowNonFinite", () => {
    const encoded = bytes(v.struct(v.entry("threshold", v.num(NaN))));
    const err = expectCodecError(() => fromValueBinary(encoded), ["threshold"], /number NaN is not finite/);
    expect(err.message).toBe("threshold: number NaN is not finite (allowNonFinite is off)");
    expect((fromValueBinary(encoded, { allowNonFinite: true }) as { threshold: number }).threshold).toBeNaN();
  });

  it("truncated buffers: every proper prefix of a valid encoding is a CodecError", () => {
    fc.assert(
      fc.property(jsonValue(3), (x) => {
        const encoded = toValueBinary(x);
        for (let n = 0; n < encoded.length; n++) {
          expect(() => fromValueBinary(encoded.subarray(0, n))).toThrow(/./);
          try {
            fromValueBinary(encoded.subarray(0, n));
          } catch (error) {
            expect(isCodecError(error) && errorIs(error, ErrFailedToUnmarshal)).toBe(true);
          }
        }
      }),
      { numRuns: 100 },
    );
    expectCodecError(() => fromValueBinary(bytes([0x11, 0, 0, 0])), [], /truncated number_value/);
    expectCodecError(() => fromValueBinary(bytes([0x08])), [], /truncated/);
    expectCodecError(() => fromValueBinary(bytes(v.list(v.num(1)), [0x32])), [], /truncated length/);
  });

  it("a wrong wire type for a known field is a CodecError naming the field", () => {
    expectCodecError(() => fromValueBinary(bytes(tag(2, 0), [10])), [], /number_value has wire type varint, expected fixed64/);
    expectCodecError(() => fromValueBinary(bytes(tag(3, 0), [1])), [], /string_value has wire type varint/);
    expectCodecError(() => fromValueBinary(bytes(tag(1, 2), [0])), [], /null_value has wire type length-delimited/);
    expectCodecError(() => fromValueBinary(bytes(v.list(v.num(1), [...tag(5, 1), 0, 0, 0, 0, 0, 0, 0, 0]))), [1], /struct_value/);
    expectCodecError(() => fromValueBinary(bytes(ld(5, [...tag(1, 0), 1]))), [], /Struct.fields has wire type varint/);
    expectCodecError(() => fromValueBinary(bytes(ld(6, [...tag(1, 5), 0, 0, 0, 0]))), [], /ListValue.values has wire type fixed32/);
    expectCodecError(() => fromValueBinary(bytes(ld(5, ld(1, [...tag(2, 0), 1])))), [], /map entry value has wire type varint/);
  });

  it("invalid wire types, field number 0 and stray end-groups are CodecErrors", () => {
    expectCodecError(() => fromValueBinary(bytes(tag(9, 6))), [], /invalid wire type 6/);
    expectCodecError(() => fromValueBinary(bytes(tag(9, 7))), [], /invalid wire type 7/);
    expectCodecError(() => fromValueBinary(bytes([0x02, 0x00])), [], /field number 0/);
    expectCodecError(() => fromValueBinary(bytes([0x80, 0x00])), [], /field number 0/);
    expectCodecError(() => fromValueBinary(bytes(tag(9, 4))), [], /unexpected end-group/);
    expectCodecError(() => fromValueBinary(bytes(tag(9, 3), tag(8, 4))), [], /end-group for field 8 closes group 9/);
    expectCodecError(() => fromValueBinary(bytes(tag(9, 3), tag(1, 0))), [], /truncated/);
  });

  it("invalid UTF-8 is a CodecError", () => {
    expectCodecError(() => fromValueBinary(bytes(ld(3, [0x61, 0xff]))), [], /string is not valid UTF-8/);
    expectCodecError(() => fromValueBinary(bytes(v.struct(v.entry("k", ld(3, [0xed, 0xb0, 0x80]))))), ["k"], /not valid UTF-8/);
  });

  it("varint overflow: longer than 10 bytes, past 64 bits, a tag or length past 32 bits", () => {
    const eleven = [0x81, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x00];
    expectCodecError(() => fromValueBinary(bytes(tag(1, 0), eleven)), [], /longer than 10 bytes/);
    expectCodecError(() => fromValueBinary(bytes(tag(4, 0), [0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x02])), [], /overflows 64 bits/);
    expectCodecError(() => fromValueBinary(bytes(varint(2n ** 35n))), [], /tag does not fit in 32 bits/);
    expectCodecError(() => fromValueBinary(bytes(tag(3, 2), varint(2n ** 32n + 1n), [0x61])), [], /length does not fit in 32 bits/);
    expectCodecError(() => fromValueBinary(bytes(tag(3, 2), eleven)), [], /longer than 10 bytes/);
  });

  it("a length beyond the buffer is a CodecError with the path so far", () => {
    expectCodecError(() => fromValueBinary(bytes(tag(3, 2), varint(5), utf8("ab"))), [], /length 5 runs past the end/);
    const inList = bytes(ld(6, [...ld(1, v.num(1)), ...ld(1, [...tag(3, 2), ...varint(100), 0x61])]));
    expectCodecError(() => fromValueBinary(inList), [1], /length 100 runs past the end of the message \(1 bytes left\)/);
    // A length that fits the buffer but not the enclosing message.
    const entry = bytes(ld(5, ld(1, [...ld(1, utf8("k")), ...tag(2, 2), ...varint(9)])), v.num(1));
    expectCodecError(() => fromValueBinary(entry), [], /runs past the end/);
  });

  it("random bytes: either a JSON value or a CodecError, never another error or a hang", () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 64 }), (input) => {
        try {
          const value = fromValueBinary(input, { allowNonFinite: true });
          expect(value === null || ["string", "number", "boolean", "object"].includes(typeof value)).toBe(true);
        } catch (error) {
          expect(isCodecError(error)).toBe(true);
        }
      }),
      { numRuns: 3000 },
    );
  });

  it("mutated valid encodings: either a value or a CodecError", () => {
    fc.assert(
      fc.property(jsonValue(3), fc.nat(), fc.integer({ min: 0, max: 255 }), (x, at, byte) => {
        const encoded = toValueBinary(x).slice();
        encoded[at % encoded.length] = byte;
        try {
          fromValueBinary(encoded, { allowNonFinite: true });
        } catch (error) {
          expect(isCodecError(error)).toBe(true);
        }
      }),
      { numRuns: 1000 },
    );
  });
});
