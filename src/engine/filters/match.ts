/**
 * Matchers shared by data and scope filters: Tracee's string filter (exact
 * values, `*` prefix / suffix / contains wildcards, `=` and `!=`), and the
 * integer helpers numeric comparisons use.
 *
 * @internal
 * @module
 */
import { type Expression, refuse } from "./syntax.js";

/**
 * The values a field's `=` and `!=` filters gave, as Tracee's
 * `StringFilter` keeps them (pkg/filters/string.go): a value ending in `*` is
 * a prefix, one starting with `*` a suffix, one with both a substring; a `*`
 * anywhere else is a literal character.
 */
export class StringSpec {
  readonly equal = new Set<string>();
  readonly prefixes: string[] = [];
  readonly suffixes: string[] = [];
  readonly contains: string[] = [];
  readonly notEqual = new Set<string>();
  readonly notPrefixes: string[] = [];
  readonly notSuffixes: string[] = [];
  readonly notContains: string[] = [];

  /** Adds one value of an `=` or `!=` filter. `*` and `**` alone are refused, as Tracee refuses them. */
  add(expr: Expression, op: "=" | "!=", value: string): void {
    if (value === "*" || value === "**") {
      refuse(expr, `${JSON.stringify(value)} alone would match every value: leave the filter out instead`);
    }
    const negated = op === "!=";
    const starEnd = value.endsWith("*");
    const starStart = value.startsWith("*");
    if (starStart && starEnd) push(negated ? this.notContains : this.contains, value.slice(1, -1));
    else if (starEnd) push(negated ? this.notPrefixes : this.prefixes, value.slice(0, -1));
    else if (starStart) push(negated ? this.notSuffixes : this.suffixes, value.slice(1));
    else (negated ? this.notEqual : this.equal).add(value);
  }

  /** Whether any `!=` value was given. */
  get hasNegatives(): boolean {
    return this.notEqual.size + this.notPrefixes.length + this.notSuffixes.length + this.notContains.length > 0;
  }

  /** Whether any `=` value has a wildcard. */
  get hasPatterns(): boolean {
    return this.prefixes.length + this.suffixes.length + this.contains.length > 0;
  }

  /** Whether any `!=` value has a wildcard. */
  get hasNegativePatterns(): boolean {
    return this.notPrefixes.length + this.notSuffixes.length + this.notContains.length > 0;
  }

  /** Whether `s` matches a wildcard `=` value. */
  matchesPattern(s: string): boolean {
    return anyPrefix(this.prefixes, s) || anySuffix(this.suffixes, s) || anyContained(this.contains, s);
  }

  /** Whether `s` matches a wildcard `!=` value. */
  matchesNegativePattern(s: string): boolean {
    return anyPrefix(this.notPrefixes, s) || anySuffix(this.notSuffixes, s) || anyContained(this.notContains, s);
  }

  /**
   * Tracee's `StringFilter.filter`: an `=` value (exact or wildcard) that
   * matches passes, whatever the `!=` values say; otherwise, when `!=`
   * values were given, the value passes unless one of them matches it;
   * with only `=` values, it fails.
   */
  compile(): (s: string) => boolean {
    const equal = this.equal;
    const notEqual = this.notEqual;
    const patterns = this.hasPatterns;
    const negativePatterns = this.hasNegativePatterns;
    const negatives = this.hasNegatives;
    if (!patterns && !negatives) return (s) => equal.has(s);
    return (s) => {
      if (equal.has(s)) return true;
      if (patterns && this.matchesPattern(s)) return true;
      if (!negatives) return false;
      if (negativePatterns && this.matchesNegativePattern(s)) return false;
      return !notEqual.has(s);
    };
  }
}

function push(list: string[], value: string): void {
  if (!list.includes(value)) list.push(value);
}

function anyPrefix(list: readonly string[], s: string): boolean {
  for (let i = 0; i < list.length; i++) if (s.startsWith(list[i] as string)) return true;
  return false;
}

function anySuffix(list: readonly string[], s: string): boolean {
  for (let i = 0; i < list.length; i++) if (s.endsWith(list[i] as string)) return true;
  return false;
}

function anyContained(list: readonly string[], s: string): boolean {
  for (let i = 0; i < list.length; i++) if (s.includes(list[i] as string)) return true;
  return false;
}

/** The text Go's `fmt.Sprint` gives an integer: no sign for positives, no leading zeros. */
const CANONICAL_DECIMAL = /^(?:0|-?[1-9][0-9]*)$/;
/** What Go's `strconv.ParseInt(s, 10, 64)` / `ParseUint` accept: an optional sign and decimal digits. */
const GO_DECIMAL = /^[+-]?[0-9]+$/;

/** `text` as an integer when it is exactly how Go prints one (`"42"`, `"-1"`, not `"+42"` or `"042"`). */
export function canonicalInteger(text: string): bigint | undefined {
  return CANONICAL_DECIMAL.test(text) ? BigInt(text) : undefined;
}

/** `text` as an integer the way Go's `strconv` parses a base-10 one, or `undefined`. */
export function parseInteger(text: string): bigint | undefined {
  return GO_DECIMAL.test(text) ? BigInt(text) : undefined;
}

export const MIN_INT64 = -(2n ** 63n);
export const MAX_INT64 = 2n ** 63n - 1n;
export const MAX_UINT64 = 2n ** 64n - 1n;

/** `n` as a number when it is one exactly. */
export function safeNumber(n: bigint): number | undefined {
  return n >= BigInt(Number.MIN_SAFE_INTEGER) && n <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(n) : undefined;
}
