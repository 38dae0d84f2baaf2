/**
 * The shape every filter shares: `field`, or `field<op>value[,value…]`, and
 * the error a bad one throws. See `../filters.ts` for the grammar.
 *
 * @internal
 * @module
 */

/** A comparison operator of a filter. */
export type Operator = "=" | "!=" | "<" | "<=" | ">" | ">=";

/** Which list a filter came from. */
export type FilterKind = "data" | "scope";

const BRAND: unique symbol = Symbol.for("tracee-ds.FilterSyntaxError");

/**
 * A filter that cannot be compiled: bad syntax, a field or operator Tracee's
 * grammar does not have, or a scope a stream consumer cannot evaluate.
 * Thrown by `compileFilters` at registration, never while events flow.
 */
export class FilterSyntaxError extends Error {
  /** @internal */
  readonly [BRAND] = true;
  constructor(
    /** `"data"` (a `dataFilters` entry) or `"scope"` (a `scopeFilters` entry). */
    readonly kind: FilterKind,
    /** The filter as written. */
    readonly filter: string,
    /** Why it was refused, without the filter. */
    readonly reason: string,
  ) {
    super(`invalid ${kind} filter ${JSON.stringify(filter)}: ${reason}`);
    this.name = "FilterSyntaxError";
  }
}

/** Whether `value` is a {@link FilterSyntaxError} from any copy of this package. */
export function isFilterSyntaxError(value: unknown): value is FilterSyntaxError {
  return typeof value === "object" && value !== null && (value as { [BRAND]?: unknown })[BRAND] === true;
}

/** One filter, split. */
export interface Expression {
  readonly kind: FilterKind;
  /** The filter as written. */
  readonly text: string;
  /** The field (or flag, for a filter without an operator). */
  readonly field: string;
  /** `undefined` for a flag (`container`, `not-container`). */
  readonly op: Operator | undefined;
  /** The comma-separated values, each non-empty; empty for a flag. */
  readonly values: readonly string[];
  /** Everything from the operator on (`"=/etc/*"`), `""` for a flag. */
  readonly opAndValues: string;
}

const WHITESPACE = /\s/;
const EDGE_WHITESPACE = /^\s|\s$/;

/**
 * Splits `text` at its first operator character (`=`, `!`, `<`, `>`), as
 * Tracee's policy parser does (`strings.IndexAny(flag, "=!<>")`), and the
 * rest at commas. Throws a {@link FilterSyntaxError} naming the filter.
 */
export function parseExpression(kind: FilterKind, text: unknown): Expression {
  if (typeof text !== "string") {
    throw new FilterSyntaxError(kind, String(text), `a filter is a string, not ${text === null ? "null" : typeof text}`);
  }
  const fail = (reason: string): never => {
    throw new FilterSyntaxError(kind, text, reason);
  };
  if (text === "") fail("the filter is empty");
  let at = -1;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (c === "=" || c === "!" || c === "<" || c === ">") {
      at = i;
      break;
    }
  }
  if (at === -1) {
    if (WHITESPACE.test(text)) fail("a field name cannot contain whitespace");
    return { kind, text, field: text, op: undefined, values: [], opAndValues: "" };
  }
  const field = text.slice(0, at);
  if (field === "") fail("the field name is missing before the operator");
  if (WHITESPACE.test(field)) fail(`the field name ${JSON.stringify(field)} contains whitespace`);
  const c = text[at] as string;
  const next = text[at + 1];
  let op: Operator;
  if (c === "!") {
    if (next !== "=") fail("`!` must be followed by `=` (the operator is `!=`)");
    op = "!=";
  } else if (c === "=") {
    if (next === "=") fail("`==` is not an operator: write `=`");
    op = "=";
  } else {
    op = next === "=" ? (`${c}=` as Operator) : (c as Operator);
  }
  const opAndValues = text.slice(at);
  const valuesText = text.slice(at + op.length);
  if (valuesText === "") fail(`a value is missing after \`${op}\``);
  if (EDGE_WHITESPACE.test(valuesText)) fail("the value starts or ends with whitespace");
  const values = valuesText.split(",");
  if (values.includes("")) fail("a value in the comma-separated list is empty");
  return { kind, text, field, op, values, opAndValues };
}

/** Throws a {@link FilterSyntaxError} for `expr`. */
export function refuse(expr: Pick<Expression, "kind" | "text">, reason: string): never {
  throw new FilterSyntaxError(expr.kind, expr.text, reason);
}
