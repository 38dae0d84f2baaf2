/**
 * The scalar schemas: int, uint, number, string, bool, literal, enum.
 */
import { fail, literalTraceeType, makeSchema, show } from "./internal.js";
import { FAIL, type Literal, type Schema } from "./types.js";

/** Bounds for {@link int} and {@link uint}; both inclusive. */
export interface IntOptions {
  /** The smallest value allowed. */
  readonly min?: number;
  /** The largest value allowed. */
  readonly max?: number;
}

/** A schema {@link int} or {@link uint} made. */
export interface IntSchema extends Schema<number> {
  readonly kind: "int" | "uint";
  readonly min: number;
  readonly max: number;
}

function bound(name: string, value: number | undefined, fallback: number): number {
  if (value === undefined) return fallback;
  if (!Number.isSafeInteger(value)) throw new RangeError(`${name} must be a safe integer, got ${show(value)}`);
  return value;
}

function integer(kind: "int" | "uint", noun: string, options: IntOptions | undefined): IntSchema {
  const lowest = kind === "uint" ? 0 : Number.MIN_SAFE_INTEGER;
  const min = bound("min", options?.min, lowest);
  const max = bound("max", options?.max, Number.MAX_SAFE_INTEGER);
  if (min < lowest) throw new RangeError(`min of a uint must be 0 or more, got ${min}`);
  if (min > max) throw new RangeError(`min (${min}) is greater than max (${max})`);
  const range =
    min !== lowest && max !== Number.MAX_SAFE_INTEGER
      ? ` between ${min} and ${max}`
      : min !== lowest
        ? ` >= ${min}`
        : max !== Number.MAX_SAFE_INTEGER
          ? ` <= ${max}`
          : "";
  // The range is named only for an integer outside it: 5.5 is "not an
  // integer", 0 is "not >= 1".
  const reason = (value: unknown): string => {
    if (typeof value !== "number" || !Number.isInteger(value)) return `expected ${noun}, got ${show(value)}`;
    if (!Number.isSafeInteger(value)) return `expected ${noun}${range}, got ${show(value)}, beyond the safe integers (±(2^53-1))`;
    return `expected ${noun}${range}, got ${show(value)}`;
  };
  return makeSchema<number, { min: number; max: number }>(
    kind,
    kind,
    (value, ctx) => {
      if (typeof value === "number" && Number.isSafeInteger(value) && value >= min && value <= max) {
        return value === 0 ? 0 : value; // -0 becomes 0, as Go's int(-0.0) does
      }
      return ctx === null ? FAIL : fail(ctx, reason(value));
    },
    { min, max },
  ) as IntSchema;
}

/**
 * An integer: a number with no fraction, within the safe integers
 * (±(2^53-1)) and the optional inclusive `min`/`max`. Tracee type `"int"`.
 *
 * `-0` decodes to `0`. The builder throws a RangeError for bounds that are not
 * safe integers or for `min > max`.
 *
 * @example
 * ```ts
 * decode(t.int({ min: 1 }), 5);   // 5
 * decode(t.int({ min: 1 }), 5.5); // throws "expected an integer, got 5.5"
 * decode(t.int({ min: 1 }), 0);   // throws "expected an integer >= 1, got 0"
 * ```
 */
export function int(options?: IntOptions): IntSchema {
  return integer("int", "an integer", options);
}

/**
 * An unsigned integer: a safe integer of 0 or more, within the optional
 * `min`/`max`. Tracee type `"uint"` (what `Version()` returns in Go).
 *
 * @example
 * ```ts
 * decode(t.uint(), 3);  // 3
 * decode(t.uint(), -1); // throws "expected an unsigned integer, got -1"
 * ```
 */
export function uint(options?: IntOptions): IntSchema {
  return integer("uint", "an unsigned integer", options);
}

/**
 * A finite number, fraction allowed. Tracee type `"float64"`.
 *
 * NaN and ±Infinity are refused: JSON cannot carry them, and a threshold of
 * NaN compares false with everything.
 *
 * @example
 * ```ts
 * decode(t.number(), 0.25); // 0.25
 * ```
 */
export function number(): Schema<number> {
  return makeSchema<number>("number", "float64", (value, ctx) => {
    if (typeof value === "number" && Number.isFinite(value)) return value;
    return ctx === null ? FAIL : fail(ctx, `expected a finite number, got ${show(value)}`);
  });
}

/** Constraints for {@link string}. Lengths count UTF-16 code units, as `String.prototype.length` does. */
export interface StringOptions {
  readonly minLength?: number;
  readonly maxLength?: number;
  /** A pattern the whole string must match; anchor it (`^…$`) to mean the whole string. */
  readonly pattern?: RegExp;
}

/**
 * A string, optionally with a length range and a pattern. Tracee type `"string"`.
 *
 * A `pattern` with the `g` or `y` flag is refused (RangeError): those make
 * `test` stateful.
 *
 * @example
 * ```ts
 * const Sha256 = t.string({ pattern: /^[0-9a-f]{64}$/ });
 * ```
 */
export function string(options?: StringOptions): Schema<string> {
  const minLength = options?.minLength ?? 0;
  const maxLength = options?.maxLength ?? Number.POSITIVE_INFINITY;
  const pattern = options?.pattern;
  if (pattern !== undefined && (pattern.global || pattern.sticky)) {
    throw new RangeError(`pattern ${String(pattern)} has the g or y flag, which makes matching stateful`);
  }
  const plain = minLength === 0 && maxLength === Number.POSITIVE_INFINITY && pattern === undefined;
  const reason = (value: unknown): string => {
    if (typeof value !== "string") return `expected a string, got ${show(value)}`;
    if (value.length < minLength) return `expected a string of at least ${minLength} characters, got ${show(value)}`;
    if (value.length > maxLength) return `expected a string of at most ${maxLength} characters, got ${show(value)}`;
    return `expected a string matching ${String(pattern)}, got ${show(value)}`;
  };
  return makeSchema<string>(
    "string",
    "string",
    plain
      ? (value, ctx) => (typeof value === "string" ? value : ctx === null ? FAIL : fail(ctx, reason(value)))
      : (value, ctx) => {
          if (
            typeof value === "string" &&
            value.length >= minLength &&
            value.length <= maxLength &&
            (pattern === undefined || pattern.test(value))
          ) {
            return value;
          }
          return ctx === null ? FAIL : fail(ctx, reason(value));
        },
  );
}

/**
 * `true` or `false`. Tracee type `"bool"`.
 *
 * @example
 * ```ts
 * decode(t.bool(), "true"); // throws "expected a boolean, got \"true\""
 * ```
 */
export function bool(): Schema<boolean> {
  return makeSchema<boolean>("bool", "bool", (value, ctx) => {
    if (typeof value === "boolean") return value;
    return ctx === null ? FAIL : fail(ctx, `expected a boolean, got ${show(value)}`);
  });
}

/** A schema {@link literal} made. */
export interface LiteralSchema<V extends Literal> extends Schema<V> {
  readonly kind: "literal";
  readonly value: V;
}

function checkLiteral(value: Literal): void {
  if (typeof value === "number" && !Number.isFinite(value)) {
    throw new RangeError(`a literal must be a finite number, got ${show(value)}`);
  }
}

/**
 * Exactly one value: a string, finite number, boolean or null. Tracee type
 * `string:"threshold"` (the form Tracee's `keys()` uses), `int:5`, `bool:true`, `null`.
 *
 * @example
 * ```ts
 * const Key = t.literal("threshold"); // Schema<"threshold">
 * ```
 */
export function literal<const V extends Literal>(value: V): LiteralSchema<V> {
  checkLiteral(value);
  const expected = `expected ${show(value)}`;
  return makeSchema<V, { value: V }>(
    "literal",
    literalTraceeType(value),
    (input, ctx) => (input === value ? value : ctx === null ? FAIL : fail(ctx, `${expected}, got ${show(input)}`)),
    { value },
  ) as LiteralSchema<V>;
}

/** A schema {@link enumOf} (`t.enum`) made. */
export interface EnumSchema<V extends Literal> extends Schema<V> {
  readonly kind: "enum";
  readonly values: readonly V[];
}

/**
 * One of a fixed list of literal values. Tracee type: the literals' types
 * joined with `|` (`string:"low"|string:"high"`); a data source's `keys()`
 * or `values()` lists them one by one.
 *
 * Throws a RangeError for an empty list. Exposed as `t.enum`.
 *
 * @example
 * ```ts
 * const Severity = t.enum(["low", "medium", "high"]); // Schema<"low" | "medium" | "high">
 * ```
 */
export function enumOf<const V extends readonly [Literal, ...Literal[]]>(values: V): EnumSchema<V[number]> {
  if (values.length === 0) throw new RangeError("t.enum needs at least one value");
  values.forEach(checkLiteral);
  const set = new Set<unknown>(values);
  const list = Object.freeze([...values]) as readonly V[number][];
  const expected = `expected one of ${list.map(show).join(", ")}`;
  return makeSchema<V[number], { values: readonly V[number][] }>(
    "enum",
    list.map(literalTraceeType).join("|"),
    (input, ctx) => {
      if (set.has(input)) return (input === 0 ? 0 : input) as V[number];
      return ctx === null ? FAIL : fail(ctx, `${expected}, got ${show(input)}`);
    },
    { values: list },
  ) as EnumSchema<V[number]>;
}
