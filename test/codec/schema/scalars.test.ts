import { describe, expect, it } from "vitest";
import { ErrFailedToUnmarshal, errorIs } from "tracee-ds";
import { CodecError, decode, safeDecode, t } from "tracee-ds/codec";

function reason(schema: Parameters<typeof safeDecode>[0], value: unknown): string {
  const result = safeDecode(schema, value);
  if (result.success) throw new Error(`expected ${JSON.stringify(value)} to be refused`);
  return result.error.message;
}

describe("t.int", () => {
  it("takes safe integers and turns -0 into 0", () => {
    expect(decode(t.int(), 5)).toBe(5);
    expect(decode(t.int(), -7)).toBe(-7);
    expect(decode(t.int(), Number.MAX_SAFE_INTEGER)).toBe(Number.MAX_SAFE_INTEGER);
    expect(Object.is(decode(t.int(), -0), 0)).toBe(true);
  });

  it.each([
    [5.5, "expected an integer, got 5.5"],
    ["5", 'expected an integer, got "5"'],
    [Number.NaN, "expected an integer, got NaN"],
    [Number.POSITIVE_INFINITY, "expected an integer, got Infinity"],
    [null, "expected an integer, got null"],
    [true, "expected an integer, got true"],
    [[1], "expected an integer, got a list"],
    [{ n: 1 }, "expected an integer, got an object"],
    [2 ** 53, "expected an integer, got 9007199254740992, beyond the safe integers (±(2^53-1))"],
  ])("refuses %j", (value, message) => {
    expect(reason(t.int(), value)).toBe(message);
  });

  it("checks min and max, inclusive", () => {
    const s = t.int({ min: 1, max: 10 });
    expect(decode(s, 1)).toBe(1);
    expect(decode(s, 10)).toBe(10);
    expect(reason(s, 0)).toBe("expected an integer between 1 and 10, got 0");
    expect(reason(s, 11)).toBe("expected an integer between 1 and 10, got 11");
    expect(reason(t.int({ min: 1 }), 5.5)).toBe("expected an integer, got 5.5");
    expect(reason(t.int({ min: 1 }), "5")).toBe('expected an integer, got "5"');
    expect(reason(t.int({ max: 3 }), 4)).toBe("expected an integer <= 3, got 4");
  });

  it("refuses bad bounds when built", () => {
    expect(() => t.int({ min: 1.5 })).toThrow(RangeError);
    expect(() => t.int({ min: 5, max: 4 })).toThrow("min (5) is greater than max (4)");
    expect(() => t.uint({ min: -1 })).toThrow(RangeError);
  });

  it("names itself int", () => {
    expect(t.int().traceeType).toBe("int");
    expect(t.int().kind).toBe("int");
  });
});

describe("t.uint", () => {
  it("takes 0 and up, refuses negatives and fractions", () => {
    expect(decode(t.uint(), 0)).toBe(0);
    expect(decode(t.uint(), 42)).toBe(42);
    expect(reason(t.uint(), -1)).toBe("expected an unsigned integer, got -1");
    expect(reason(t.uint(), 1.5)).toBe("expected an unsigned integer, got 1.5");
    expect(t.uint().traceeType).toBe("uint");
  });
});

describe("t.number", () => {
  it("takes finite numbers only", () => {
    expect(decode(t.number(), 0.25)).toBe(0.25);
    expect(decode(t.number(), -3)).toBe(-3);
    expect(reason(t.number(), Number.NaN)).toBe("expected a finite number, got NaN");
    expect(reason(t.number(), Number.NEGATIVE_INFINITY)).toBe("expected a finite number, got -Infinity");
    expect(reason(t.number(), "1")).toBe('expected a finite number, got "1"');
    expect(t.number().traceeType).toBe("float64");
  });
});

describe("t.string", () => {
  it("takes strings", () => {
    expect(decode(t.string(), "")).toBe("");
    expect(decode(t.string(), "héllo")).toBe("héllo");
    expect(reason(t.string(), 5)).toBe("expected a string, got 5");
    expect(t.string().traceeType).toBe("string");
  });

  it("checks length and pattern", () => {
    const sha = t.string({ pattern: /^[0-9a-f]{4}$/ });
    expect(decode(sha, "00ff")).toBe("00ff");
    expect(reason(sha, "00fg")).toBe('expected a string matching /^[0-9a-f]{4}$/, got "00fg"');
    expect(reason(t.string({ minLength: 2 }), "a")).toBe('expected a string of at least 2 characters, got "a"');
    expect(reason(t.string({ maxLength: 2 }), "abc")).toBe('expected a string of at most 2 characters, got "abc"');
  });

  it("refuses stateful patterns", () => {
    expect(() => t.string({ pattern: /a/g })).toThrow(RangeError);
  });

  it("shortens long values in messages", () => {
    const message = reason(t.int(), "x".repeat(1000));
    expect(message.length).toBeLessThan(100);
    expect(message).toContain("(1000 characters)");
  });
});

describe("t.bool", () => {
  it("takes true and false only", () => {
    expect(decode(t.bool(), false)).toBe(false);
    expect(reason(t.bool(), "true")).toBe('expected a boolean, got "true"');
    expect(reason(t.bool(), 1)).toBe("expected a boolean, got 1");
    expect(t.bool().traceeType).toBe("bool");
  });
});

describe("t.literal and t.enum", () => {
  it("literal takes exactly its value and names itself as Tracee's keys() do", () => {
    const s = t.literal("threshold");
    expect(decode(s, "threshold")).toBe("threshold");
    expect(reason(s, "limit")).toBe('expected "threshold", got "limit"');
    expect(s.traceeType).toBe('string:"threshold"');
    expect(t.literal(5).traceeType).toBe("int:5");
    expect(t.literal(0.5).traceeType).toBe("float64:0.5");
    expect(t.literal(true).traceeType).toBe("bool:true");
    expect(t.literal(null).traceeType).toBe("null");
    expect(decode(t.literal(null), null)).toBe(null);
    expect(() => t.literal(Number.NaN)).toThrow(RangeError);
  });

  it("enum takes any of its values", () => {
    const s = t.enum(["low", "medium", "high"]);
    expect(decode(s, "medium")).toBe("medium");
    expect(reason(s, "urgent")).toBe('expected one of "low", "medium", "high", got "urgent"');
    expect(s.values).toEqual(["low", "medium", "high"]);
    expect(s.traceeType).toBe('string:"low"|string:"medium"|string:"high"');
    expect(decode(t.enum([1, 2, null]), null)).toBe(null);
    expect(() => t.enum([] as unknown as ["a"])).toThrow(RangeError);
  });
});

describe("errors", () => {
  it("decode throws a CodecError that errorIs recognises as ErrFailedToUnmarshal", () => {
    let thrown: unknown;
    try {
      decode(t.int(), 5.5);
    } catch (err) {
      thrown = err;
    }
    expect(thrown).toBeInstanceOf(CodecError);
    expect(errorIs(thrown, ErrFailedToUnmarshal)).toBe(true);
    expect((thrown as CodecError).message).toBe("expected an integer, got 5.5");
    expect((thrown as CodecError).path).toEqual([]);
  });
});
