/**
 * Data filters: conditions on an event's arguments, by name. See
 * `../filters.ts` for the grammar.
 *
 * @internal
 * @module
 */
import type { EventValue, EventValueKind, TraceeEvent } from "../../events/model.js";
import { kindOf } from "../../events/model.js";
import {
  canonicalInteger,
  MAX_UINT64,
  MIN_INT64,
  parseInteger,
  safeNumber,
  StringSpec,
} from "./match.js";
import { type Expression, parseExpression, refuse } from "./syntax.js";

/** Kinds `<`, `<=`, `>`, `>=` compare. */
const INTEGER_KINDS: ReadonlySet<EventValueKind> = new Set(["int32", "u_int32", "int64", "u_int64", "pointer"]);
/** Kinds whose value has a text form (Go's `fmt.Sprint`) that `=` and `!=` compare. */
const TEXT_KINDS: ReadonlySet<EventValueKind> = new Set([
  ...INTEGER_KINDS,
  "str",
  "bool",
  "bytes",
  "str_array",
  "int32_array",
  "u_int64_array",
]);

/** Everything the filters on one field gave. */
class FieldSpec {
  readonly text = new StringSpec();
  /** Integers an integer-kind value passes on (`=` values Go would print that way, `<=` and `>=` bounds). */
  readonly equalBig = new Set<bigint>();
  readonly equalNumber = new Set<number>();
  /** Integers an integer-kind value fails on (`!=` values Go would print that way). */
  readonly notEqualBig = new Set<bigint>();
  readonly notEqualNumber = new Set<number>();
  /** Exclusive bounds: several `>` keep the lowest, several `<` the highest, as Tracee's numeric filter does. */
  min: bigint | undefined;
  max: bigint | undefined;

  constructor(readonly field: string) {}

  add(expr: Expression, declared: EventValueKind | undefined): void {
    const op = expr.op as NonNullable<Expression["op"]>;
    if (declared !== undefined && !TEXT_KINDS.has(declared)) {
      refuse(expr, `${this.field} is declared ${declared}, which has no text form to compare; filter on it in onEvent`);
    }
    for (const value of expr.values) {
      if (op === "=" || op === "!=") {
        this.text.add(expr, op, value);
        const n = canonicalInteger(value);
        if (n === undefined) continue;
        (op === "=" ? this.equalBig : this.notEqualBig).add(n);
        const small = safeNumber(n);
        if (small !== undefined) (op === "=" ? this.equalNumber : this.notEqualNumber).add(small);
        continue;
      }
      if (declared !== undefined && !INTEGER_KINDS.has(declared)) {
        refuse(expr, `\`${op}\` compares integers, and ${this.field} is declared ${declared}`);
      }
      const n = parseInteger(value);
      if (n === undefined) refuse(expr, `\`${op}\` compares integers, and ${JSON.stringify(value)} is not one`);
      if (n < MIN_INT64 || n > MAX_UINT64) refuse(expr, `${value} is outside the 64-bit integer range`);
      if (op === "<=" || op === ">=") {
        this.equalBig.add(n);
        const small = safeNumber(n);
        if (small !== undefined) this.equalNumber.add(small);
      }
      if (op === "<" || op === "<=") {
        if (this.max === undefined || n > this.max) this.max = n;
      } else if (this.min === undefined || n < this.min) {
        this.min = n;
      }
    }
  }

  /** The field's test, on the argument found under its name. */
  compile(): (value: EventValue) => boolean {
    const text = this.text;
    const equalBig = this.equalBig;
    const equalNumber = this.equalNumber;
    const notEqualBig = this.notEqualBig;
    const notEqualNumber = this.notEqualNumber;
    const patterns = text.hasPatterns;
    const negativePatterns = text.hasNegativePatterns;
    const negatives = text.hasNegatives;
    const min = this.min;
    const max = this.max;
    const ranged = min !== undefined || max !== undefined;
    // A number compared with a bound beyond 2^53 keeps its order: the
    // numbers here (int32, u_int32) are far inside.
    const minNumber = min === undefined ? undefined : Number(min);
    const maxNumber = max === undefined ? undefined : Number(max);
    const stringTest = text.compile();

    /**
     * A value with a text form only (str, bool, arrays): Tracee's string
     * filter; it is never inside a range, so with one only an `=` passes it.
     */
    const onText = ranged ? (s: string) => text.equal.has(s) || (patterns && text.matchesPattern(s)) : stringTest;
    const onNumber = (n: number): boolean => {
      if (equalNumber.has(n)) return true;
      if (patterns && text.matchesPattern(String(n))) return true;
      if (notEqualNumber.has(n)) return false;
      if (negativePatterns && text.matchesNegativePattern(String(n))) return false;
      if (ranged) return (minNumber === undefined || n > minNumber) && (maxNumber === undefined || n < maxNumber);
      return negatives;
    };
    const onBig = (n: bigint): boolean => {
      if (equalBig.has(n)) return true;
      if (patterns && text.matchesPattern(String(n))) return true;
      if (notEqualBig.has(n)) return false;
      if (negativePatterns && text.matchesNegativePattern(String(n))) return false;
      if (ranged) return (min === undefined || n > min) && (max === undefined || n < max);
      return negatives;
    };
    return (v) => {
      // In field order, so a hand-made value with several members is read as kindOf reads it.
      if (v.int32 !== undefined) return onNumber(v.int32);
      if (v.int64 !== undefined) return onBig(v.int64);
      if (v.uInt32 !== undefined) return onNumber(v.uInt32);
      if (v.uInt64 !== undefined) return onBig(v.uInt64);
      if (v.str !== undefined) return onText(v.str);
      if (v.bytes !== undefined) return onText(goSlice(v.bytes));
      if (v.bool !== undefined) return onText(v.bool ? "true" : "false");
      if (v.strArray !== undefined) return onText(goSlice(v.strArray.value));
      if (v.int32Array !== undefined) return onText(goSlice(v.int32Array.value));
      if (v.uInt64Array !== undefined) return onText(goSlice(v.uInt64Array.value));
      if (v.pointer !== undefined && kindOf(v) === "pointer") return onBig(v.pointer);
      return false;
    };
  }
}

/** Go's `fmt.Sprint` of a slice: `[a b c]`. */
function goSlice(values: ArrayLike<string | number | bigint>): string {
  let out = "[";
  for (let i = 0; i < values.length; i++) out += (i === 0 ? "" : " ") + String(values[i]);
  return `${out}]`;
}

/**
 * Compiles data filters into one test per field (the field's filters OR as
 * Tracee merges them, the fields AND). `fields` are the kinds a requirement
 * declares, checked against the operators used.
 */
export function compileDataFilters(
  filters: readonly string[],
  fields: Readonly<Record<string, EventValueKind>> | undefined,
): ((event: TraceeEvent) => boolean)[] {
  const specs = new Map<string, FieldSpec>();
  for (const text of filters) {
    const expr = parseExpression("data", text);
    if (expr.op === undefined) {
      refuse(expr, "a data filter needs an operator and a value: field=value, field!=value, field<value, field>value, …");
    }
    if (expr.field.startsWith("data.")) {
      refuse(expr, `name the argument without the policy's "data." prefix: ${expr.field.slice(5)}${expr.opAndValues}`);
    }
    let spec = specs.get(expr.field);
    if (spec === undefined) {
      spec = new FieldSpec(expr.field);
      specs.set(expr.field, spec);
    }
    const declared = fields !== undefined && Object.hasOwn(fields, expr.field) ? fields[expr.field] : undefined;
    spec.add(expr, declared);
  }
  const tests: ((event: TraceeEvent) => boolean)[] = [];
  for (const spec of specs.values()) {
    const field = spec.field;
    const test = spec.compile();
    tests.push((event) => {
      const data = event.data;
      for (let i = 0; i < data.length; i++) {
        const value = data[i] as EventValue;
        // The first argument of that name, as getData finds it; none: no match, as in Tracee.
        if (value.name === field) return test(value);
      }
      return false;
    });
  }
  return tests;
}
