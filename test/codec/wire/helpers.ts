/** Test helpers: google-protobuf (tests only), a tiny wire writer, and error checks. */
import { createRequire } from "node:module";
import fc from "fast-check";
import type { JsonValue } from "type-fest";
import { expect } from "vitest";
import { errorIs, ErrFailedToUnmarshal } from "tracee-ds";
import { isCodecError, type CodecError, type PathSegment } from "tracee-ds/codec";
import type * as StructPb from "google-protobuf/google/protobuf/struct_pb.js";

// google-protobuf is CommonJS that writes globals: load it in tests only.
const require = createRequire(import.meta.url);
export const structPb = require("google-protobuf/google/protobuf/struct_pb.js") as typeof StructPb;
export const GoogleValue = structPb.Value;

/** JSON values with well-formed Unicode strings (google-protobuf writes lone surrogates as invalid UTF-8). */
export const jsonValue = (maxDepth = 4): fc.Arbitrary<JsonValue> =>
  fc.jsonValue({ maxDepth, stringUnit: "binary" }) as fc.Arbitrary<JsonValue>;

/** JSON values that also hold -0, NaN and ±Infinity. */
export const jsonValueNonFinite: fc.Arbitrary<JsonValue> = fc.letrec<{ value: JsonValue }>((tie) => ({
  value: fc.oneof(
    { depthSize: "small", withCrossShrink: true },
    fc.constantFrom<JsonValue>(null, true, false, -0, NaN, Infinity, -Infinity),
    fc.double(),
    fc.string({ unit: "binary" }),
    fc.array(tie("value"), { maxLength: 4 }),
    fc.dictionary(fc.string({ unit: "binary" }), tie("value"), { maxKeys: 4, noNullPrototype: true }),
  ),
})).value;

export { hasProtoKey } from "../../support/json.js";

export const hex = (bytes: Uint8Array): string => Buffer.from(bytes).toString("hex");
export const fromHex = (s: string): Uint8Array => new Uint8Array(Buffer.from(s.replace(/\s+/g, ""), "hex"));

// ---- a tiny protobuf wire writer for hand-made messages

export function varint(n: number | bigint): number[] {
  let v = BigInt(n);
  if (v < 0n) v += 1n << 64n;
  const out: number[] = [];
  while (v >= 0x80n) {
    out.push(Number(v & 0x7fn) | 0x80);
    v >>= 7n;
  }
  out.push(Number(v));
  return out;
}
export const tag = (field: number, wireType: number): number[] => varint(field * 8 + wireType);
export const ld = (field: number, payload: ArrayLike<number>): number[] => [
  ...tag(field, 2),
  ...varint(payload.length),
  ...Array.from(payload),
];
export function f64(field: number, n: number): number[] {
  const b = new Uint8Array(8);
  new DataView(b.buffer).setFloat64(0, n, true);
  return [...tag(field, 1), ...b];
}
export const utf8 = (s: string): number[] => Array.from(Buffer.from(s, "utf8"));
export const bytes = (...parts: number[][]): Uint8Array => Uint8Array.from(parts.flat());

/** Value builders: `v.num(1)` is the bytes of a Value holding 1. */
export const v = {
  null: (): number[] => [...tag(1, 0), 0],
  num: (n: number): number[] => f64(2, n),
  str: (s: string): number[] => ld(3, utf8(s)),
  bool: (b: boolean): number[] => [...tag(4, 0), b ? 1 : 0],
  struct: (...entries: number[][]): number[] => ld(5, entries.flat()),
  list: (...values: number[][]): number[] => ld(6, values.flatMap((x) => ld(1, x))),
  /** A map entry (Struct field 1) with a key and a value. */
  entry: (key: string, value: number[]): number[] => ld(1, [...ld(1, utf8(key)), ...ld(2, value)]),
};

/** Runs `fn` and checks it throws a CodecError recognised by errorIs, with this path and a reason matching `reason`. */
export function expectCodecError(fn: () => unknown, path: readonly PathSegment[], reason: RegExp): CodecError {
  let thrown: unknown;
  try {
    fn();
  } catch (error) {
    thrown = error;
  }
  expect(thrown, "expected a CodecError").toBeDefined();
  expect(isCodecError(thrown), `expected a CodecError, got ${String(thrown)}`).toBe(true);
  expect(errorIs(thrown, ErrFailedToUnmarshal)).toBe(true);
  const err = thrown as CodecError;
  expect(err.path).toEqual(path);
  expect(err.reason).toMatch(reason);
  return err;
}
