/**
 * Records and lists decode through generated code (the fast path) and fall
 * back to an interpreter that explains failures (the slow path). These tests
 * check the two agree, and that the interpreter alone works where code
 * generation is disallowed.
 */
import fc from "fast-check";
import { describe, expect, it, vi } from "vitest";
import { PARSE, FAIL, type Schema } from "../../../src/codec/schema/types.js";
import { t } from "tracee-ds/codec";

const Ioc = t.record({
  sha256: t.string(),
  severity: t.enum(["low", "high"]),
  tags: t.list(t.string()),
  score: t.optional(t.nullable(t.int({ min: 0 }))),
  meta: t.optional(t.map(t.json())),
  constructor: t.optional(t.bool()),
});
const schemas: [string, Schema<unknown>][] = [
  ["reject", Ioc],
  ["strip", t.record({ sha256: t.string(), score: t.optional(t.int()) }, { unknown: "strip" })],
  ["keep", t.record({ sha256: t.string() }, { unknown: "keep" })],
  ["list", t.list(t.record({ a: t.int() }), { maxLength: 3 })],
];

// Values near the schema: valid records with fields dropped, changed or added.
const nearIoc = fc.record(
  {
    sha256: fc.oneof(fc.string(), fc.integer()),
    severity: fc.constantFrom("low", "high", "mid"),
    tags: fc.oneof(fc.array(fc.string(), { maxLength: 3 }), fc.array(fc.jsonValue(), { maxLength: 3 })),
    score: fc.oneof(fc.constant(null), fc.integer({ min: -2, max: 5 }), fc.double(), fc.constant(undefined)),
    meta: fc.oneof(fc.dictionary(fc.string(), fc.jsonValue()), fc.constant(undefined)),
    constructor: fc.boolean(),
    extra: fc.jsonValue(),
    a: fc.integer(),
  },
  { requiredKeys: [] },
);
function isEqual(a: unknown, b: unknown): boolean {
  expect(a).toStrictEqual(b);
  return true;
}
const anyInput = fc.oneof(nearIoc, fc.array(nearIoc, { maxLength: 4 }), fc.jsonValue());

describe("fast and slow paths", () => {
  it("records and lists use generated code here", () => {
    expect(Ioc[PARSE].name).toBe("record");
    expect(t.list(t.int())[PARSE].name).toBe("list");
  });

  it("the fast path decides a plain valid record alone", () => {
    const input = { sha256: "x", severity: "low", tags: ["a"], score: null };
    expect(Ioc[PARSE](input, null)).toStrictEqual(input);
  });

  it.each(schemas)("agree on every input (%s)", (_, schema) => {
    const parse = schema[PARSE];
    fc.assert(
      fc.property(anyInput, (input) => {
        const fast = parse(input, null);
        const ctx = { path: [], issues: [], max: 100 };
        const slow = parse(input, ctx);
        // The fast path may refuse what the slow path accepts (it defers when
        // unsure, e.g. an own key holding undefined), never the reverse.
        if (slow === FAIL) expect(fast).toBe(FAIL);
        else expect(fast === FAIL || isEqual(fast, slow)).toBe(true);
        expect(slow === FAIL).toBe(ctx.issues.length > 0);
      }),
      { numRuns: 500 },
    );
  });
});

describe("without code generation", () => {
  it("the interpreter decodes and explains alone", async () => {
    vi.resetModules();
    const RealFunction = globalThis.Function;
    // What a CSP or --disallow-code-generation-from-strings does to `new Function`.
    const Refusing = function () {
      throw new EvalError("Code generation from strings disallowed for this context");
    } as unknown as FunctionConstructor;
    vi.stubGlobal("Function", Refusing);
    try {
      const codec = await import("../../../src/codec/schema/index.js");
      const types = await import("../../../src/codec/schema/types.js");
      const s = codec.t.record({ a: codec.t.int(), b: codec.t.list(codec.t.string()) });
      expect(s[types.PARSE].name).toBe("slow"); // the interpreter, not generated code
      expect(codec.decode(s, { a: 1, b: ["x"] })).toEqual({ a: 1, b: ["x"] });
      expect(() => codec.decode(s, { a: 1, b: [2] })).toThrow("b[0]: expected a string, got 2");
      expect(() => codec.decode(s, { a: 1, b: [], c: 0 })).toThrow("c: unknown field");
    } finally {
      vi.stubGlobal("Function", RealFunction);
      vi.unstubAllGlobals();
      vi.resetModules();
    }
  });
});
