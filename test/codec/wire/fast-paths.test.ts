/**
 * The speed tricks in the binary codec (see the comments in utf8.ts and
 * encode-binary.ts) must never change a result: the string cache on decode,
 * and on encode the length-size guesses, the native UTF-8 writer and the
 * pooled result buffers.
 */
import type { JsonValue } from "type-fest";
import { describe, expect, it } from "vitest";
import { fromValueBinary, toValueBinary } from "tracee-ds/codec";
import { GoogleValue, bytes, expectCodecError, hex, ld, utf8, v } from "./helpers.js";

/** google-protobuf's bytes for `x`, the reference on encode. */
const google = (x: JsonValue): string => hex(GoogleValue.fromJavaScript(x as never).serializeBinary());

describe("string cache on decode", () => {
  it("returns the right string for every length, first and again from the cache", () => {
    for (let n = 0; n <= 40; n++) {
      const s = Array.from({ length: n }, (_, i) => String.fromCharCode(97 + ((i * 7 + n) % 26))).join("");
      const wire = toValueBinary({ [s]: [s, s] });
      for (let round = 0; round < 3; round++) expect(fromValueBinary(wire)).toEqual({ [s]: [s, s] });
    }
  });

  it("tells apart keys that differ only in their last, first or a middle byte", () => {
    for (let n = 1; n <= 30; n++) {
      const base = "k".repeat(n);
      const variants = new Set([base]);
      for (const at of [0, n >> 1, n - 1, Math.max(0, n - 4), Math.min(n - 1, 4)]) {
        for (const c of ["a", "z", "\x7f"]) variants.add(base.slice(0, at) + c + base.slice(at + 1));
      }
      const keys = [...variants];
      const object = Object.fromEntries(keys.map((k, i) => [k, i]));
      // Twice, and in both orders, so each key meets the others' cache entries.
      for (const list of [keys, [...keys].reverse(), keys]) {
        expect(fromValueBinary(toValueBinary(list))).toEqual(list);
        expect(fromValueBinary(toValueBinary(object))).toEqual(object);
      }
    }
  });

  it("survives slot collisions: more same-length strings than slots, sharing first and last bytes", () => {
    // 6,000 strings of 16 bytes over 4,096 slots: many share a slot, and all
    // share their first and last four bytes, so a hit is decided by the middle.
    const strings = Array.from({ length: 6000 }, (_, i) => `abcd-${String(i).padStart(5, "0")}-wxyz`);
    const wire = toValueBinary(strings);
    expect(fromValueBinary(wire)).toEqual(strings);
    const shuffled = strings.map((_, i) => strings[(i * 4099) % strings.length]!);
    expect(fromValueBinary(toValueBinary(shuffled))).toEqual(shuffled);
    expect(fromValueBinary(wire)).toEqual(strings);
    // Strings that differ only in their last bytes: a hit is decided by the last word.
    const pair = (i: number): string => String.fromCharCode(33 + (i % 90), 33 + Math.floor(i / 90));
    for (const prefix of ["", "ab", "abcdef", "abcdefghijkl", "abcdefghijklmnopqrstuv"]) {
      const tails = Array.from({ length: 6000 }, (_, i) => prefix + pair(i));
      expect(fromValueBinary(toValueBinary(tails))).toEqual(tails);
      expect(fromValueBinary(toValueBinary([...tails].reverse()))).toEqual([...tails].reverse());
    }
    // Short strings (under four bytes) share one word per slot.
    const short = Array.from({ length: 3000 }, (_, i) => String.fromCharCode(33 + (i % 90), 33 + Math.floor(i / 90), 33 + (i % 7)));
    expect(fromValueBinary(toValueBinary(short))).toEqual(short);
    expect(fromValueBinary(toValueBinary(short.map((s) => s.slice(0, 2))))).toEqual(short.map((s) => s.slice(0, 2)));
  });

  it("never caches non-ASCII strings and still rejects invalid UTF-8 after a cached look-alike", () => {
    const strings = ["caf\u00e9", "cafe", "caf\u00e9", "\u00e9t\u00e9", "\u65e5\u672c", "\u65e5\u672c"];
    expect(fromValueBinary(toValueBinary(strings))).toEqual(strings);
    // "abcd" is cached, then the same length with a stray continuation byte is an error.
    expect(fromValueBinary(bytes(v.str("abcd")))).toBe("abcd");
    expectCodecError(() => fromValueBinary(bytes(ld(3, [0x61, 0x62, 0x63, 0x80]))), [], /string is not valid UTF-8/);
    expectCodecError(() => fromValueBinary(bytes(ld(3, [0x80, 0x62, 0x63, 0x64]))), [], /string is not valid UTF-8/);
    expect(fromValueBinary(bytes(ld(3, utf8("abcd"))))).toBe("abcd");
  });
});

describe("encode fast paths agree with google-protobuf byte for byte", () => {
  it("guesses length sizes wrong in both directions (lists and objects whose item sizes alternate)", () => {
    const small = { a: 1 };
    const big = { a: "x".repeat(200) };
    const huge = { a: "y".repeat(20_000) };
    const values: JsonValue[] = [
      [small, big, small, big, big, small],
      [big, huge, small, huge, big],
      { a: small, b: big, c: small, d: huge, e: small },
      [[small], [big, big], [], [huge], [small]],
      [{ x: [big] }, { x: [] }, { x: [big, big] }, { x: [small] }],
      ["x".repeat(126), "x".repeat(127), "x".repeat(128), "x", "x".repeat(16_383), "x".repeat(16_384), ""],
    ];
    for (const x of values) {
      expect(hex(toValueBinary(x))).toBe(google(x));
      expect(fromValueBinary(toValueBinary(x))).toEqual(x);
    }
  });

  it("writes long strings through the native writer: ASCII, non-ASCII whose length needs a longer varint, and surrogate pairs", () => {
    const strings = [
      "a".repeat(128),
      "a".repeat(300),
      "\u00e9".repeat(64), // under 128 units: the JavaScript loop, then the slow path
      "\u00e9".repeat(100),
      "\u65e5".repeat(5_500), // 5,500 units, 16,500 bytes: 2-byte guess, 3-byte length
      "x".repeat(120) + "\u{1f600}".repeat(10),
      "\u0080".repeat(8_192),
    ];
    for (const s of strings) {
      expect(hex(toValueBinary(s))).toBe(google(s));
      expect(hex(toValueBinary({ [s]: [s] }))).toBe(google({ [s]: [s] }));
      expect(fromValueBinary(toValueBinary(s))).toBe(s);
    }
  });

  it("rejects a lone surrogate in a long string as in a short one", () => {
    for (const s of ["a".repeat(200) + "\ud800", "\udc00" + "b".repeat(200), "c".repeat(20) + "\ud800"]) {
      expectCodecError(() => toValueBinary({ k: s }), ["k"], /string has a lone surrogate, so it has no UTF-8 form/);
    }
  });

  it("returns independent results, small and large", () => {
    const a = toValueBinary({ s: "a".repeat(100) });
    const b = toValueBinary({ s: "b".repeat(100) });
    const c = toValueBinary([1, 2]);
    const d = toValueBinary("z".repeat(10_000));
    expect(a).toBeInstanceOf(Uint8Array);
    expect(fromValueBinary(a)).toEqual({ s: "a".repeat(100) });
    expect(fromValueBinary(b)).toEqual({ s: "b".repeat(100) });
    expect(fromValueBinary(c)).toEqual([1, 2]);
    expect(fromValueBinary(d)).toBe("z".repeat(10_000));
    a.fill(0);
    expect(fromValueBinary(b)).toEqual({ s: "b".repeat(100) });
  });
});

describe("encoded key fields per shape on encode", () => {
  /** Encodes `x` three times (miss, second sighting, cached) and checks each against google-protobuf. */
  const agree = (x: JsonValue): void => {
    const want = google(x);
    for (let round = 0; round < 3; round++) expect(hex(toValueBinary(x))).toBe(want);
  };

  it("matches google-protobuf for one shape in differing key orders and shapes that share a prefix", () => {
    agree({ b: 1, a: 2, c: 3 });
    agree({ c: 3, a: 2, b: 1 });
    agree({ a: 2, b: 1, c: 3 });
    agree({ a: 2, b: 1 });
    agree({ a: 2, b: 1, c: 3, d: [{ a: 2, b: 1 }] });
    agree([{ b: 1, a: 2 }, { a: 2, b: 1 }, { b: 1, a: 2, c: 3 }, { b: 1, a: 2 }]);
  });

  it("skips undefined values in a cached shape, as on the first sighting", () => {
    // google-protobuf cannot take undefined: its reference is the object without the key.
    for (let i = 0; i < 6; i++) {
      const shaped = { z: i, m: i % 2 === 0 ? (undefined as unknown as JsonValue) : "x", a: true };
      const reference = i % 2 === 0 ? { z: i, a: true } : shaped;
      expect(hex(toValueBinary(shaped))).toBe(google(reference));
    }
  });

  it("writes keys whose length needs a two-byte varint, non-ASCII keys and __proto__", () => {
    const long = "k".repeat(200);
    agree({ [long]: 1, "é€😀": 2, "": 4 });
    // google-protobuf drops an own __proto__ key, so here the reference is the first encode.
    const x = JSON.parse(`{"${long}": 1, "é€😀": 2, "__proto__": 3, "": 4}`) as JsonValue;
    const first = hex(toValueBinary(x));
    for (let round = 0; round < 3; round++) {
      expect(hex(toValueBinary(x))).toBe(first);
      const back = fromValueBinary(toValueBinary(x)) as Record<string, JsonValue>;
      expect(Object.getPrototypeOf(back)).toBe(Object.prototype);
      expect(Object.getOwnPropertyDescriptor(back, "__proto__")?.value).toBe(3);
      expect(back[long]).toBe(1);
    }
  });

  it("still rejects a key with a lone surrogate once its shape is cached", () => {
    const key = "a\ud800";
    for (let round = 0; round < 3; round++) {
      expectCodecError(() => toValueBinary({ b: 1, [key]: 2 }), [key], /lone surrogate/);
    }
  });

  it("stays right when shapes evict one another from the cache", () => {
    // Far more shapes than cache slots, several rounds, so entries are
    // replaced, seen again and re-encoded.
    const shapes = Array.from({ length: 300 }, (_, i) => {
      const n = 2 + (i % 7);
      return Object.fromEntries(Array.from({ length: n }, (_, k) => [`key${(i * 13 + k * 7) % 50}_${k}`, k]));
    });
    for (let round = 0; round < 3; round++) for (const x of shapes) expect(hex(toValueBinary(x))).toBe(google(x));
  });

  it("handles shapes with more keys than get encoded key fields", () => {
    const wide = Object.fromEntries(Array.from({ length: 100 }, (_, k) => [`w${(k * 37) % 100}`, k]));
    agree(wide);
  });
});

describe("word reads on decode", () => {
  it("reads strings from a view at an odd offset into a larger buffer, and from a reused buffer", () => {
    const value = { domain: "c2-1.update.example", ip: "203.0.113.77", sha: "0123456789abcdef0123" };
    const wire = toValueBinary(value);
    // Messages of 1 KiB and more are read through a DataView (utf8.ts VIEW_MIN).
    const big = Array.from({ length: 120 }, (_, i) => ({ ...value, i: `n${i}`, pad: "p".repeat(i % 9) }));
    const bigWire = toValueBinary(big);
    expect(bigWire.length).toBeGreaterThan(4096);
    for (const offset of [1, 2, 3, 5]) {
      const backing = new Uint8Array(bigWire.length + offset + 5).fill(0x41);
      backing.set(bigWire, offset);
      for (let round = 0; round < 2; round++) {
        expect(fromValueBinary(backing.subarray(offset, offset + bigWire.length))).toEqual(big);
      }
    }
    for (const offset of [1, 3, 7]) {
      const backing = new Uint8Array(wire.length + offset + 5).fill(0x41);
      backing.set(wire, offset);
      expect(fromValueBinary(backing.subarray(offset, offset + wire.length))).toEqual(value);
    }
    // The same Uint8Array decoded twice with different contents.
    const scratch = new Uint8Array(wire.length);
    scratch.set(wire);
    expect(fromValueBinary(scratch)).toEqual(value);
    const other = toValueBinary({ domain: "c2-2.update.example", ip: "203.0.113.78", sha: "0123456789abcdef0124" });
    expect(other.length).toBe(wire.length);
    scratch.set(other);
    expect(fromValueBinary(scratch)).toEqual({ domain: "c2-2.update.example", ip: "203.0.113.78", sha: "0123456789abcdef0124" });
  });
});
