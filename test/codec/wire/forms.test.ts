import { create, fromJson, type JsonValue as EsJsonValue } from "@bufbuild/protobuf";
import { ValueSchema, type Value as EsValue } from "@bufbuild/protobuf/wkt";
import fc from "fast-check";
import type { JsonValue } from "type-fest";
import { describe, expect, expectTypeOf, it } from "vitest";
import {
  fromGoogleValue,
  fromValue,
  fromValueBinary,
  fromValueJson,
  toGoogleValue,
  toValue,
  toValueBinary,
  toValueJson,
  type AnyValueForm,
  type EsValueLike,
  type GoogleValueLike,
  type TsProtoValue,
} from "tracee-ds/codec";
import { Value as TsProtoGenValue } from "../../../src/gen/google/protobuf/struct.js";
import { GoogleValue, expectCodecError, hasProtoKey, hex, jsonValue, jsonValueNonFinite } from "./helpers.js";

const protoKeyJson = (): JsonValue =>
  JSON.parse('{"__proto__":{"polluted":true},"constructor":{"prototype":{"x":1}},"l":[{"__proto__":1}]}') as JsonValue;

function expectSafeProtoKeys(value: JsonValue): void {
  const object = value as Record<string, unknown>;
  expect(Object.getPrototypeOf(object)).toBe(Object.prototype);
  expect(Object.hasOwn(object, "__proto__")).toBe(true);
  expect(Object.getOwnPropertyDescriptor(object, "__proto__")?.value).toEqual({ polluted: true });
  expect(object.constructor).toEqual({ prototype: { x: 1 } });
  expect((object as { polluted?: unknown }).polluted).toBeUndefined();
  expect(({} as { polluted?: unknown }).polluted).toBeUndefined();
}

describe("ts-proto form: fromValue / toValue", () => {
  it("fromValue(toValue(x)) equals x for every JSON value", () => {
    fc.assert(
      fc.property(jsonValue(), (x) => {
        expect(fromValue(toValue(x))).toStrictEqual(x);
      }),
      { numRuns: 400 },
    );
  });

  it("round trips -0 and, with allowNonFinite, NaN and ±Infinity", () => {
    fc.assert(
      fc.property(jsonValueNonFinite, (x) => {
        const options = { allowNonFinite: true };
        expect(fromValue(toValue(x, options), options)).toStrictEqual(x);
      }),
      { numRuns: 200 },
    );
    expect(Object.is(fromValue(toValue(-0)), -0)).toBe(true);
  });

  it("agrees with the generated codec: Value.decode of our bytes, and our decode of Value.encode", () => {
    fc.assert(
      fc.property(jsonValue(3), (x) => {
        fc.pre(!hasProtoKey(x)); // ts-proto's decode assigns it into a plain object
        expect(fromValue(TsProtoGenValue.decode(toValueBinary(x)))).toStrictEqual(x);
        expect(fromValueBinary(TsProtoGenValue.encode(toValue(x)).finish())).toStrictEqual(x);
      }),
      { numRuns: 200 },
    );
  });

  it("makes one kind per message", () => {
    expect(toValue(null)).toEqual({ nullValue: 0 });
    expect(toValue(10)).toEqual({ numberValue: 10 });
    expect(toValue("x")).toEqual({ stringValue: "x" });
    expect(toValue(false)).toEqual({ boolValue: false });
    expect(toValue({ threshold: 10 })).toEqual({ structValue: { threshold: 10 } });
    expect(toValue([1])).toEqual({ listValue: [1] });
  });

  it("rejects no kind, several kinds, non-finite numbers, nested undefined, and too deep", () => {
    expectCodecError(() => fromValue({}), [], /^value has no kind set \(.*fromValueJson\)$/);
    expectCodecError(() => fromValue({ numberValue: 1, stringValue: "a" }), [], /more than one kind set \(numberValue, stringValue\)/);
    expectCodecError(() => fromValue({ numberValue: NaN }), [], /not finite/);
    expectCodecError(() => fromValue({ structValue: { a: [1, Infinity] } }), ["a", 1], /not finite/);
    expectCodecError(() => fromValue({ listValue: [1, undefined as unknown as JsonValue] }), [1], /no kind set/);
    expectCodecError(() => fromValue({ structValue: { a: undefined } }), ["a"], /no kind set/);
    expectCodecError(() => fromValue({ numberValue: "1" as unknown as number }), [], /expected a number/);
    expectCodecError(() => fromValue({ structValue: [] as unknown as Record<string, JsonValue> }), [], /expected an object/);
    expectCodecError(() => fromValue({ listValue: [[[1]]] }, { maxDepth: 2 }), [0, 0], /maxDepth 2/);
    expectCodecError(() => toValue({ a: [NaN] }), ["a", 0], /not finite/);
    expectCodecError(() => toValue({ a: "\ud800" }), ["a"], /lone surrogate/);
  });

  it("copies objects so __proto__ stays an own property and no prototype changes", () => {
    const message = { structValue: protoKeyJson() as Record<string, JsonValue> };
    const decoded = fromValue(message);
    expectSafeProtoKeys(decoded);
    expect(decoded).not.toBe(message.structValue);
    expectSafeProtoKeys(toValue(protoKeyJson()).structValue as JsonValue);
  });

  it("accepts the generated Value type and returns one", () => {
    expectTypeOf<TsProtoGenValue>().toMatchTypeOf<TsProtoValue>();
    expectTypeOf(toValue(1)).toMatchTypeOf<TsProtoGenValue>();
    expectTypeOf(fromValue).returns.toEqualTypeOf<JsonValue>();
  });
});

describe("google-protobuf form: fromGoogleValue / toGoogleValue", () => {
  it("fromGoogleValue(toGoogleValue(x, Value)) equals x for every JSON value", () => {
    fc.assert(
      fc.property(jsonValue(), (x) => {
        fc.pre(!hasProtoKey(x)); // refused by toGoogleValue, tested below
        expect(fromGoogleValue(toGoogleValue(x, GoogleValue))).toStrictEqual(x);
      }),
      { numRuns: 300 },
    );
  });

  it("agrees with google-protobuf's own fromJavaScript / toJavaScript", () => {
    fc.assert(
      fc.property(jsonValue(), (x) => {
        fc.pre(!hasProtoKey(x));
        expect(fromGoogleValue(GoogleValue.fromJavaScript(x))).toStrictEqual(x);
        const mine = toGoogleValue(x, GoogleValue);
        expect(mine).toBeInstanceOf(GoogleValue);
        expect(mine.toJavaScript()).toStrictEqual(x);
        expect(hex(mine.serializeBinary())).toBe(hex(GoogleValue.fromJavaScript(x).serializeBinary()));
      }),
      { numRuns: 200 },
    );
  });

  it("round trips -0 and, with allowNonFinite, NaN and ±Infinity", () => {
    expect(Object.is(fromGoogleValue(toGoogleValue(-0, GoogleValue)), -0)).toBe(true);
    const options = { allowNonFinite: true };
    expect(fromGoogleValue(toGoogleValue([NaN, Infinity, -Infinity], GoogleValue, options), options)).toEqual([NaN, Infinity, -Infinity]);
  });

  it("rejects no kind, non-finite numbers, lone surrogates and too deep, naming the path", () => {
    expectCodecError(() => fromGoogleValue(new GoogleValue()), [], /^value has no kind set$/);
    const nan = GoogleValue.fromJavaScript({ a: [1, 2] });
    nan.getStructValue()!.getFieldsMap().get("a")!.getListValue()!.getValuesList()[1]!.setNumberValue(NaN);
    expectCodecError(() => fromGoogleValue(nan), ["a", 1], /not finite/);
    // google-protobuf decodes invalid UTF-8 leniently, into a lone surrogate.
    const lenient = GoogleValue.deserializeBinary(Uint8Array.of(0x1a, 0x03, 0xed, 0xa0, 0x80));
    expectCodecError(() => fromGoogleValue(lenient), [], /not valid UTF-8/);
    expectCodecError(() => fromGoogleValue(GoogleValue.fromJavaScript([[[]]]), { maxDepth: 2 }), [0, 0], /maxDepth 2/);
    expectCodecError(() => fromGoogleValue({} as GoogleValueLike), [], /expected a google-protobuf Value/);
    expectCodecError(() => toGoogleValue({ a: NaN }, GoogleValue), ["a"], /not finite/);
  });

  it("refuses a __proto__ key that google-protobuf's map would drop", () => {
    expectCodecError(() => toGoogleValue(protoKeyJson(), GoogleValue), ["__proto__"], /cannot hold the key __proto__/);
    const nested = JSON.parse('{"l":[1,{"__proto__":1}]}') as JsonValue;
    expectCodecError(() => toGoogleValue(nested, GoogleValue), ["l", 1, "__proto__"], /cannot hold/);
    const constructorOnly = toGoogleValue({ constructor: { prototype: { x: 1 } } }, GoogleValue);
    expect(fromGoogleValue(constructorOnly)).toEqual({ constructor: { prototype: { x: 1 } } });
  });

  it("needs the class", () => {
    expect(() => toGoogleValue(1, undefined as unknown as typeof GoogleValue)).toThrow(TypeError);
  });
});

describe("protobuf JSON form: fromValueJson / toValueJson", () => {
  it("fromValueJson(toValueJson(x)) equals x, as a copy", () => {
    fc.assert(
      fc.property(jsonValue(), (x) => {
        const out = fromValueJson(toValueJson(x));
        expect(out).toStrictEqual(x);
        if (typeof x === "object" && x !== null) expect(out).not.toBe(x);
      }),
      { numRuns: 300 },
    );
  });

  it("keeps -0; NaN and ±Infinity only with allowNonFinite", () => {
    expect(Object.is(fromValueJson(-0), -0)).toBe(true);
    expectCodecError(() => fromValueJson({ a: { b: Infinity } }), ["a", "b"], /not finite/);
    expect(fromValueJson([NaN], { allowNonFinite: true })).toEqual([NaN]);
  });

  it("checks what JSON.parse cannot make, and copies __proto__ keys safely", () => {
    expectCodecError(() => fromValueJson({ a: [1, 2n] }), ["a", 1], /expected a JSON value, got bigint/);
    expectCodecError(() => fromValueJson(undefined), [], /no kind set/);
    expectCodecError(() => fromValueJson({ when: new Date(0) }), ["when"], /got Date/);
    expectCodecError(() => fromValueJson({ a: undefined }), ["a"], /no kind set/);
    expect(toValueJson({ a: 1, b: undefined } as unknown as JsonValue)).toStrictEqual({ a: 1 });
    expectCodecError(() => toValueJson([undefined as unknown as JsonValue]), [0], /got undefined/);
    expectSafeProtoKeys(fromValueJson(protoKeyJson()));
    expectSafeProtoKeys(toValueJson(protoKeyJson()));
    const deep = JSON.parse(`${"[".repeat(65)}${"]".repeat(65)}`) as JsonValue;
    expectCodecError(() => fromValueJson(deep), new Array(64).fill(0), /maxDepth 64/);
  });
});

/** Whether fromValue reads `x` as a message rather than as JSON: an object shaped like a ts-proto or protobuf-es Value. */
const KIND_PROPERTIES = ["nullValue", "numberValue", "stringValue", "boolValue", "structValue", "listValue"];
function messageShaped(x: JsonValue): boolean {
  if (typeof x !== "object" || x === null || Array.isArray(x)) return false;
  const keys = Object.keys(x);
  return keys.length === 0 || keys.some((k) => KIND_PROPERTIES.includes(k) || k === "kind");
}

describe("fromValue reads every form", () => {
  it("reads the same JSON value from ts-proto, google-protobuf, protobuf-es, bytes and plain JSON", () => {
    fc.assert(
      fc.property(jsonValue(), (x) => {
        fc.pre(!hasProtoKey(x)); // google-protobuf and protobuf-es drop or refuse it
        expect(fromValue(toValue(x))).toStrictEqual(x);
        expect(fromValue(GoogleValue.fromJavaScript(x))).toStrictEqual(x);
        expect(fromValue(fromJson(ValueSchema, x as EsJsonValue))).toStrictEqual(x);
        if (!messageShaped(x)) {
          expect(fromValue(x)).toStrictEqual(x);
          expect(fromValue(x)).toStrictEqual(fromValueJson(x));
        }
      }),
      { numRuns: 300 },
    );
  });

  it("reads a google-protobuf instance, found by its getters (the codec never loads google-protobuf)", () => {
    expect(fromValue(GoogleValue.fromJavaScript({ threshold: 10 }))).toEqual({ threshold: 10 });
    expect(fromValue(toGoogleValue([1, "a", null], GoogleValue))).toEqual([1, "a", null]);
    expectCodecError(() => fromValue(new GoogleValue()), [], /^value has no kind set$/);
    expectCodecError(() => fromValue(GoogleValue.fromJavaScript([[[]]]), { maxDepth: 2 }), [0, 0], /maxDepth 2/);
  });

  it("reads a protobuf-es message, with or without $typeName, and checks it", () => {
    expect(fromValue(create(ValueSchema, { kind: { case: "boolValue", value: true } }))).toBe(true);
    expect(fromValue({ kind: { case: "numberValue", value: 10 } })).toBe(10);
    expect(fromValue(fromJson(ValueSchema, { a: [1, "x", null, { b: false }] }))).toEqual({ a: [1, "x", null, { b: false }] });
    expectCodecError(() => fromValue(create(ValueSchema)), [], /^value has no kind set$/);
    const nan = fromJson(ValueSchema, { a: [1, 2] });
    const list = nan.kind.case === "structValue" ? nan.kind.value.fields["a"] : undefined;
    if (list?.kind.case !== "listValue") throw new Error("unexpected protobuf-es shape");
    list.kind.value.values[1] = create(ValueSchema, { kind: { case: "numberValue", value: NaN } });
    expectCodecError(() => fromValue(nan), ["a", 1], /not finite/);
    expectCodecError(() => fromValue(fromJson(ValueSchema, [[[]]]), { maxDepth: 2 }), [0, 0], /maxDepth 2/);
    expectCodecError(
      () => fromValue({ kind: { case: "stringValue", value: 5 } } as unknown as AnyValueForm),
      [],
      /stringValue is 5, expected a string/,
    );
  });

  it("reads plain JSON: scalars, lists and objects without kind properties", () => {
    expect(fromValue(10)).toBe(10);
    expect(fromValue("ten")).toBe("ten");
    expect(fromValue(null)).toBeNull();
    expect(fromValue([1, { numberValue: 2 }])).toEqual([1, { numberValue: 2 }]); // nested objects are data
    expect(fromValue({ threshold: 10 })).toEqual({ threshold: 10 });
    // Shaped almost like protobuf-es, but with more: JSON.
    expect(fromValue({ kind: "file" })).toEqual({ kind: "file" });
    expect(fromValue({ kind: { case: "numberValue", value: 1 }, size: 2 })).toEqual({
      kind: { case: "numberValue", value: 1 },
      size: 2,
    });
    expect(fromValue({ kind: { case: "other", value: 1 } })).toEqual({ kind: { case: "other", value: 1 } });
    expectCodecError(() => fromValue({ a: [1, NaN] }), ["a", 1], /not finite/);
    expectCodecError(() => fromValue(undefined as unknown as AnyValueForm), [], /no kind set/);
  });

  it("refuses ambiguous shapes, naming fromValueJson, and objects that are neither", () => {
    expectCodecError(() => fromValue({}), [], /fromValueJson/);
    expectCodecError(
      () => fromValue({ numberValue: 1, note: "x" } as AnyValueForm),
      [],
      /mixes Value kind properties \(numberValue\) with other keys \(note\).*fromValueJson/,
    );
    expect(fromValueJson({ numberValue: 1, note: "x" })).toEqual({ numberValue: 1, note: "x" });
    expectCodecError(() => fromValue(new Date(0) as unknown as AnyValueForm), [], /expected a google.protobuf.Value message or a JSON value, got Date/);
  });

  it("takes each library's Value type", () => {
    expectTypeOf<EsValue>().toMatchTypeOf<EsValueLike>();
    expectTypeOf<EsValue>().toMatchTypeOf<AnyValueForm>();
    expectTypeOf<InstanceType<typeof GoogleValue>>().toMatchTypeOf<AnyValueForm>();
    expectTypeOf<TsProtoGenValue>().toMatchTypeOf<AnyValueForm>();
    expectTypeOf<JsonValue>().toMatchTypeOf<AnyValueForm>();
  });
});
