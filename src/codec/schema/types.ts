import type { StandardSchemaV1 } from "@standard-schema/spec";
import type { PathSegment } from "../errors.js";

/**
 * How a schema describes itself to Tracee, in the data source's `schema()`,
 * `keys()` and `values()`: a Go-style type name (`"int"`, `"string"`,
 * `"[]string"`, `string:"threshold"`), or for a record an object of field →
 * type, for a list of records a one-element array.
 */
export type TraceeType = string | readonly TraceeType[] | { readonly [field: string]: TraceeType };

/** What kind of schema `t` built. */
export type SchemaKind =
  | "int"
  | "uint"
  | "number"
  | "string"
  | "bool"
  | "literal"
  | "enum"
  | "list"
  | "record"
  | "map"
  | "optional"
  | "nullable"
  | "json";

/** One problem found while decoding: where, and what. */
export interface Issue {
  /** Where in the value: object keys and list indexes from the root. */
  readonly path: readonly PathSegment[];
  /** The problem, without the path: `expected an integer, got 5.5`. */
  readonly reason: string;
  /** The path and the reason: `threshold: expected an integer, got 5.5`. */
  readonly message: string;
}

/** @internal Returned by a parser instead of a value when the input does not match. */
export const FAIL: unique symbol = Symbol("tracee-ds.schema.fail");
/** @internal */
export type Fail = typeof FAIL;

/**
 * @internal What a parser gets on the slow path, after the fast path failed:
 * the current path and the issues found so far. The fast path passes `null`,
 * so a successful decode builds no path and no issue.
 */
export interface ParseContext {
  readonly path: PathSegment[];
  readonly issues: Issue[];
  /** Stop collecting once this many issues are known. */
  readonly max: number;
}

/** A compiled checker: returns the decoded value, or FAIL. Not part of the public API. */
export type Parser<T> = (value: unknown, ctx: ParseContext | null) => T | Fail;

/** @internal Key under which a schema built by `t` keeps its compiled parser. */
export const PARSE: unique symbol = Symbol("tracee-ds.schema.parse");

/**
 * A schema built by {@link t}: it checks a JSON value at run time, gives its
 * static type through {@link Infer}, and names its Tracee type.
 *
 * Every schema is a Standard Schema v1 (`schema["~standard"].validate`), so
 * libraries that take Standard Schemas take these too.
 */
export interface Schema<T> extends StandardSchemaV1<T, T> {
  /** Which builder made it. */
  readonly kind: SchemaKind;
  /** How Tracee names its type: `"int"`, `"[]string"`, `{"threshold":"int"}`. */
  readonly traceeType: TraceeType;
  /** @internal */
  readonly [PARSE]: Parser<T>;
}

/**
 * A schema {@link t.optional} made: in a {@link t.record}, its field may be
 * missing (and is then missing from the result, too).
 */
export interface OptionalSchema<T> extends Schema<T | undefined> {
  readonly kind: "optional";
  /** The schema of the value when it is there. */
  readonly inner: SchemaLike<T>;
}

/** Anything this SDK takes as a schema: one built by {@link t}, or any Standard Schema v1 (zod, valibot, arktype …). */
export type SchemaLike<T = unknown> = StandardSchemaV1<unknown, T>;

/**
 * The type a schema decodes to.
 *
 * @example
 * ```ts
 * const Ioc = t.record({ sha256: t.string(), severity: t.enum(["low", "high"]) });
 * type Ioc = Infer<typeof Ioc>; // { sha256: string; severity: "low" | "high" }
 * ```
 */
export type Infer<S extends StandardSchemaV1> = StandardSchemaV1.InferOutput<S>;

/** A literal value `t.literal` and `t.enum` take. */
export type Literal = string | number | boolean | null;

/** Flattens an intersection into one object type, for readable hovers. */
export type Flatten<T> = { [K in keyof T]: T[K] } & {};
