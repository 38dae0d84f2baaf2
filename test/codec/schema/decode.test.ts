import type { StandardSchemaV1 } from "@standard-schema/spec";
import { describe, expect, it } from "vitest";
import { ErrFailedToUnmarshal, errorIs, isCodecError } from "tracee-ds";
import { decode, is, safeDecode, t } from "tracee-ds/codec";

const Point = t.record({ x: t.int(), y: t.int(), label: t.optional(t.string()) });

describe("decode", () => {
  it("returns the value typed by the schema", () => {
    expect(decode(Point, { x: 1, y: 2 })).toEqual({ x: 1, y: 2 });
  });

  it("never mutates its input", () => {
    const input = { x: 1, y: 2, label: "p", extra: true };
    const frozen = Object.freeze({ ...input });
    expect(() => decode(t.record({ x: t.int(), y: t.int(), label: t.string() }, { unknown: "strip" }), frozen)).not.toThrow();
    expect(safeDecode(Point, input).success).toBe(false);
    expect(input).toEqual({ x: 1, y: 2, label: "p", extra: true });
  });

  it("throws the first problem only, as a CodecError naming its path", () => {
    try {
      decode(Point, { x: 1.5, y: "2" });
      expect.unreachable();
    } catch (err) {
      expect(isCodecError(err)).toBe(true);
      expect(errorIs(err, ErrFailedToUnmarshal)).toBe(true);
      expect((err as Error).message).toBe("x: expected an integer, got 1.5");
      expect((err as { path: unknown }).path).toEqual(["x"]);
      expect((err as { reason: unknown }).reason).toBe("expected an integer, got 1.5");
    }
  });

  it("refuses things that are not schemas", () => {
    expect(() => decode({} as never, 1)).toThrow(TypeError);
  });
});

describe("safeDecode", () => {
  it("returns success with the value", () => {
    expect(safeDecode(Point, { x: 1, y: 2 })).toEqual({ success: true, value: { x: 1, y: 2 } });
  });

  it("collects every issue, in input order, with the first as error", () => {
    const result = safeDecode(Point, { x: 1.5, y: "2", z: 0 });
    expect(result.success).toBe(false);
    if (result.success) return;
    expect(result.issues.map((i) => i.message)).toEqual([
      "x: expected an integer, got 1.5",
      'y: expected an integer, got "2"',
      "z: unknown field",
    ]);
    expect(result.issues[1]?.path).toEqual(["y"]);
    expect(result.error.message).toBe("x: expected an integer, got 1.5");
  });

  it("stops at 100 issues", () => {
    const result = safeDecode(t.list(t.int()), Array.from({ length: 1000 }, () => "x"));
    expect(result.success || result.issues.length).toBe(100);
  });
});

describe("is", () => {
  it("is a type guard with decode's rules", () => {
    const key: unknown = 3;
    expect(is(t.int(), key)).toBe(true);
    expect(is(t.int(), "3")).toBe(false);
  });
});

describe("Standard Schema v1", () => {
  it("every schema implements ~standard", async () => {
    const std = Point["~standard"];
    expect(std.version).toBe(1);
    expect(std.vendor).toBe("tracee-ds");
    expect(await std.validate({ x: 1, y: 2 })).toEqual({ value: { x: 1, y: 2 } });
    expect(await std.validate({ x: 1.5, y: 2 })).toEqual({
      issues: [{ message: "expected an integer, got 1.5", path: ["x"] }],
    });
  });

  // A hand-written Standard Schema, the way zod or valibot would present one.
  const evenNumber: StandardSchemaV1<unknown, number> = {
    "~standard": {
      version: 1,
      vendor: "hand",
      validate: (value) =>
        typeof value === "number" && value % 2 === 0
          ? { value }
          : { issues: [{ message: "must be even", path: [{ key: "n" }] }] },
    },
  };
  const asyncSchema: StandardSchemaV1<unknown, string> = {
    "~standard": { version: 1, vendor: "later", validate: (value) => Promise.resolve({ value: String(value) }) },
  };

  it("decode and safeDecode take a foreign schema", () => {
    const n: number = decode(evenNumber, 4);
    expect(n).toBe(4);
    const result = safeDecode(evenNumber, 3);
    expect(!result.success && result.error.message).toBe("n: must be even");
    expect(() => decode(evenNumber, 3)).toThrow(expect.objectContaining({ code: "FAILED_TO_UNMARSHAL" }) as Error);
  });

  it("t's composites take a foreign schema, and name its path under theirs", () => {
    const Pairs = t.record({ evens: t.list(evenNumber) });
    expect(decode(Pairs, { evens: [2, 4] })).toEqual({ evens: [2, 4] });
    expect(() => decode(Pairs, { evens: [2, 5] })).toThrow("evens[1].n: must be even");
    expect(Pairs.traceeType).toEqual({ evens: "[]any" });
  });

  it("a foreign schema that validates asynchronously is a clear TypeError in sync places", () => {
    expect(() => decode(asyncSchema, 1)).toThrow(
      "the later schema validates asynchronously; decode, get and write need a synchronous schema",
    );
    expect(() => safeDecode(t.list(asyncSchema), [1])).toThrow(TypeError);
  });
});
