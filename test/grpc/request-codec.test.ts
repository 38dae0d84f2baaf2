/**
 * The request encoder and decoder (internal), property-tested: the encoder's
 * bytes are google-protobuf's for any request, and the decoder reads them back.
 */
import { status as Status } from "@grpc/grpc-js";
import fc from "fast-check";
import * as structPb from "google-protobuf/google/protobuf/struct_pb.js";
import type { JsonValue } from "type-fest";
import { describe, expect, it } from "vitest";
import { decodeRequest, RequestEncoder } from "../../src/grpc/request-codec.js";
import { hasProtoKey } from "../support/json.js";
import { concat, ld } from "./helpers.js";

const scalar = fc.oneof(
  fc.string({ unit: "grapheme" }),
  fc.string(),
  fc.double({ noNaN: true, noDefaultInfinity: true }),
  fc.integer(),
  fc.boolean(),
  fc.constant(null),
);
const json: fc.Arbitrary<JsonValue> = fc.letrec<{ value: JsonValue }>((tie) => ({
  value: fc.oneof(
    { depthSize: "small" },
    scalar,
    fc.array(tie("value"), { maxLength: 4 }),
    fc.dictionary(fc.string(), tie("value"), { maxKeys: 4 }),
  ),
})).value;

function google(namespace: string, id: string, key: JsonValue, value: JsonValue): Uint8Array {
  const parts: Uint8Array[] = [];
  if (id !== "") parts.push(ld(1, id));
  if (namespace !== "") parts.push(ld(2, namespace));
  parts.push(ld(3, structPb.Value.fromJavaScript(key as structPb.JavaScriptValue).serializeBinary()));
  parts.push(ld(4, structPb.Value.fromJavaScript(value as structPb.JavaScriptValue).serializeBinary()));
  return concat(...parts);
}

const wellFormed = (s: string) => !/[\ud800-\udfff]/.test(s.replace(/[\ud800-\udbff][\udc00-\udfff]/g, ""));

describe("RequestEncoder", () => {
  it("writes google-protobuf's bytes for any scalar key and JSON value", () => {
    const encoder = new RequestEncoder(64);
    fc.assert(
      fc.property(fc.string({ minLength: 1 }), fc.string({ minLength: 1 }), scalar, json, (namespace, id, key, value) => {
        fc.pre(wellFormed(namespace) && wellFormed(id) && wellFormed(JSON.stringify([key, value])));
        fc.pre(!hasProtoKey(value)); // google-protobuf drops a __proto__ key
        const bytes = encoder.encode(namespace, id, key as string, value);
        expect([...bytes]).toEqual([...google(namespace, id, key, value)]);
        const frame = decodeRequest(bytes, { maxMessageBytes: 1 << 30, maxDepth: 1000 });
        expect(frame.details).toBe("");
        expect([frame.namespace, frame.id]).toEqual([namespace, id]);
        expect(frame.key).toEqual(key);
        expect(frame.value).toEqual(value);
      }),
      { numRuns: 300 },
    );
  });

  it("keeps -0 and refuses NaN, Infinity and lone surrogates", () => {
    const encoder = new RequestEncoder(64);
    const minusZero = encoder.encode("n", "i", -0, -0);
    expect(Object.is(decodeRequest(minusZero, { maxMessageBytes: 100, maxDepth: 8 }).value, -0)).toBe(true);
    expect(() => encoder.encode("n", "i", Number.NaN, 1)).toThrow(/^key: /);
    expect(() => encoder.encode("n", "i", "k", Number.POSITIVE_INFINITY)).toThrow(/^value: /);
    expect(() => encoder.encode("n", "i", "\ud800", 1)).toThrow(/^key: /);
    expect(() => encoder.encode("n", "i", "k", "\udc00")).toThrow(/^value: /);
    expect(() => encoder.encode("n\ud800", "i", "k", 1)).toThrow(/well-formed/);
  });
});

describe("decodeRequest", () => {
  const limits = { maxMessageBytes: 1 << 20, maxDepth: 64 };
  const target = concat(ld(1, "i"), ld(2, "n"));

  it("reads scalar keys and values on its fast path exactly as the codec does", () => {
    const cases: Array<[Uint8Array, unknown]> = [
      [Uint8Array.of(0x08, 0x00), null],
      [Uint8Array.of(0x20, 0x01), true],
      [Uint8Array.of(0x20, 0x00), false],
      [Uint8Array.of(0x20, 0x02), true], // a varint other than 0/1: the codec decides
      [Uint8Array.of(0x1a, 0x02, 0xc3, 0xa9), "é"],
      [concat(Uint8Array.of(0x1a, 0x01, 0x61), Uint8Array.of(0x20, 0x01)), true], // two kinds: the last wins
    ];
    for (const [bytes, expected] of cases) {
      const frame = decodeRequest(concat(target, ld(3, bytes), ld(4, bytes)), limits);
      expect(frame.details).toBe("");
      expect(frame.key).toEqual(expected);
      expect(frame.value).toEqual(expected);
    }
  });

  it("keeps a leading U+FEFF in names and values: it is part of the string, as Go reads it", () => {
    const bom = "\uFEFF";
    const bytes = google(`${bom}ns`, `${bom}id`, `${bom}key`, { [`${bom}field`]: `${bom}value` });
    const frame = decodeRequest(bytes, { maxMessageBytes: 1 << 20, maxDepth: 64 });
    expect(frame.details).toBe("");
    expect([frame.namespace, frame.id, frame.key]).toEqual([`${bom}ns`, `${bom}id`, `${bom}key`]);
    expect(frame.value).toEqual({ [`${bom}field`]: `${bom}value` });
  });

  it("refuses invalid UTF-8, NaN and a missing kind in a key, whatever path reads it", () => {
    const nan = new Uint8Array(9);
    nan[0] = 0x11;
    new DataView(nan.buffer).setFloat64(1, Number.NaN, true);
    for (const bad of [Uint8Array.of(0x1a, 0x01, 0xff), nan, new Uint8Array(0)]) {
      const frame = decodeRequest(concat(target, ld(3, bad), ld(4, Uint8Array.of(0x08, 0))), limits);
      expect(frame.details).toMatch(/^key: /);
    }
  });

  it("refuses a request that names no data source, with INVALID_ARGUMENT naming what is empty", () => {
    const key = ld(3, Uint8Array.of(0x08, 0));
    const value = ld(4, Uint8Array.of(0x08, 0));
    const cases: Array<[Uint8Array, string]> = [
      [new Uint8Array(0), "request names no data source: id and namespace are empty"], // an empty Write
      [concat(key, value), "request names no data source: id and namespace are empty"],
      [concat(ld(2, "n"), key, value), "request names no data source: id is empty"],
      [concat(ld(1, "i"), key, value), "request names no data source: namespace is empty"],
      [concat(ld(1, ""), ld(2, "n"), key, value), "request names no data source: id is empty"], // written empty
      [concat(ld(1, "i")), "request names no data source: namespace is empty"], // before key and value
    ];
    for (const [bytes, details] of cases) {
      const frame = decodeRequest(bytes, limits);
      expect({ code: frame.code, details: frame.details, targetKnown: frame.targetKnown }).toEqual({
        code: Status.INVALID_ARGUMENT,
        details,
        targetKnown: false,
      });
    }
    // The same request with both named goes on to its key and value.
    const named = decodeRequest(concat(target, key, value), limits);
    expect([named.code, named.targetKnown]).toEqual([Status.OK, true]);
    const noKey = decodeRequest(target, limits);
    expect([noKey.details, noKey.targetKnown]).toEqual(["key is missing", true]);
  });

  it("reuses the namespace and id strings of the previous request, and still reads new ones", () => {
    const a = decodeRequest(concat(target, ld(3, Uint8Array.of(0x08, 0)), ld(4, Uint8Array.of(0x08, 0))), limits);
    const b = decodeRequest(concat(ld(1, "j"), ld(2, "n"), ld(3, Uint8Array.of(0x08, 0)), ld(4, Uint8Array.of(0x08, 0))), limits);
    expect([a.namespace, a.id, b.namespace, b.id]).toEqual(["n", "i", "n", "j"]);
  });
});
