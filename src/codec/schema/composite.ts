/**
 * The composite schemas: list, record, map, optional, nullable.
 */
import { compileList, compileRecord } from "./compile.js";
import { DEFAULT_JSON_DEPTH, copyJson } from "./json.js";
import { fail, isPlainObject, makeSchema, setOwn, show } from "./internal.js";
import { parserOf, traceeTypeOf } from "./standard.js";
import {
  FAIL,
  type Flatten,
  type Infer,
  type OptionalSchema,
  type Parser,
  type Schema,
  type SchemaLike,
  type TraceeType,
} from "./types.js";

const hasOwn = Object.hasOwn as (o: object, key: string) => boolean;

function inner(type: TraceeType, prefix: string): TraceeType {
  return typeof type === "string" ? `${prefix}${type}` : type;
}

/** Length bounds for {@link list}; both inclusive. */
export interface ListOptions {
  readonly minLength?: number;
  readonly maxLength?: number;
}

/** A schema {@link list} made. */
export interface ListSchema<S extends SchemaLike> extends Schema<Infer<S>[]> {
  readonly kind: "list";
  readonly item: S;
}

/**
 * A list whose items all match `item`. Tracee type `"[]int"`, or `[{…}]` for
 * a list of records.
 *
 * The result is a new array. Holes and non-array values (array-likes, typed
 * arrays) are refused.
 *
 * @example
 * ```ts
 * const Tags = t.list(t.string(), { maxLength: 32 }); // Schema<string[]>
 * ```
 */
export function list<S extends SchemaLike>(item: S, options?: ListOptions): ListSchema<S> {
  const parseItem = parserOf(item) as Parser<Infer<S>>;
  const minLength = options?.minLength ?? 0;
  const maxLength = options?.maxLength ?? Number.POSITIVE_INFINITY;
  const itemType = traceeTypeOf(item);
  const slow: Parser<Infer<S>[]> = (value, ctx) => {
    if (!Array.isArray(value)) return ctx === null ? FAIL : fail(ctx, `expected a list, got ${show(value)}`);
    const n = value.length;
    if (n < minLength || n > maxLength) {
      if (ctx === null) return FAIL;
      return fail(
        ctx,
        n < minLength
          ? `expected a list of at least ${minLength} items, got ${n}`
          : `expected a list of at most ${maxLength} items, got ${n}`,
      );
    }
    const out: Infer<S>[] = [];
    if (ctx === null) {
      for (let i = 0; i < n; i++) {
        const r = parseItem(value[i], null);
        if (r === FAIL) return FAIL;
        out.push(r);
      }
      return out;
    }
    let bad = false;
    for (let i = 0; i < n; i++) {
      ctx.path.push(i);
      const r = parseItem(value[i], ctx);
      ctx.path.pop();
      if (r === FAIL) {
        bad = true;
        if (ctx.issues.length >= ctx.max) break;
      } else out.push(r);
    }
    return bad ? FAIL : out;
  };
  const parse = compileList(parseItem, minLength, maxLength, slow) ?? slow;
  return makeSchema("list", typeof itemType === "string" ? `[]${itemType}` : [itemType], parse, { item }) as ListSchema<S>;
}

/** The fields of a {@link record}: field name → schema. */
export type Shape = { readonly [field: string]: SchemaLike };

type OptionalKeys<F extends Shape> = { [K in keyof F]: F[K] extends OptionalSchema<unknown> ? K : never }[keyof F];

/** The type a record of `F` decodes to: optional fields become `field?: T`. */
export type InferShape<F extends Shape> = Flatten<
  { -readonly [K in Exclude<keyof F, OptionalKeys<F>>]: Infer<F[K]> } & {
    -readonly [K in OptionalKeys<F>]?: F[K] extends OptionalSchema<infer U> ? U : never;
  }
>;

/**
 * What a {@link record} does with fields it does not declare:
 * `"reject"` (default) fails the decode and names the field, `"strip"` drops
 * them, `"keep"` copies them as JSON values (checked like {@link json}).
 */
export type UnknownFields = "reject" | "strip" | "keep";

/** Options for {@link record}. */
export interface RecordOptions<U extends UnknownFields = UnknownFields> {
  /** What to do with undeclared fields. Default `"reject"`. */
  readonly unknown?: U;
}

/** A schema {@link record} made. */
export interface RecordSchema<F extends Shape, U extends UnknownFields = "reject">
  extends Schema<U extends "keep" ? Flatten<InferShape<F> & { [field: string]: unknown }> : InferShape<F>> {
  readonly kind: "record";
  readonly fields: F;
  readonly unknown: U;
}

/**
 * An object with fixed fields. Tracee type: an object of field → type
 * (`{"threshold":"int"}`), the form Tracee's `Schema()` uses.
 *
 * Only plain objects are taken (prototype `Object.prototype` or `null`), and
 * only own properties are read, so a field named `constructor` or `toString`
 * is never filled from the prototype. A field is optional when its schema is
 * {@link optional}; a present field whose value is `undefined` counts as
 * missing. The result is a new plain object with the declared fields in
 * declaration order (a `__proto__` field is an own key). Undeclared fields
 * are refused unless `unknown` says otherwise.
 *
 * @example
 * ```ts
 * const Ioc = t.record({
 *   sha256: t.string(),
 *   severity: t.enum(["low", "medium", "high"]),
 *   first_seen: t.optional(t.string()),
 * });
 * decode(Ioc, { sha256: "…", severity: "urgent" }); // throws `severity: expected one of "low", "medium", "high", got "urgent"`
 * ```
 */
export function record<const F extends Shape, const U extends UnknownFields = "reject">(
  fields: F,
  options?: RecordOptions<U>,
): RecordSchema<F, U> {
  const unknown = (options?.unknown ?? "reject") as U;
  if (unknown !== "reject" && unknown !== "strip" && unknown !== "keep") {
    throw new RangeError(`unknown must be "reject", "strip" or "keep", got ${show(unknown)}`);
  }
  const keys = Object.keys(fields);
  const n = keys.length;
  const parsers: Parser<unknown>[] = [];
  const optional: boolean[] = [];
  const type: Record<string, TraceeType> = {};
  for (const key of keys) {
    const schema = fields[key] as SchemaLike;
    const isOptional = (schema as Partial<OptionalSchema<unknown>>).kind === "optional" && "inner" in schema;
    parsers.push(parserOf(schema));
    optional.push(isOptional);
    setOwn(type, key, traceeTypeOf(schema));
  }
  const known = new Set(keys);
  const strip = unknown === "strip";
  const keep = unknown === "keep";

  const slow: Parser<Record<string, unknown>> = (value, ctx) => {
    if (!isPlainObject(value)) return ctx === null ? FAIL : fail(ctx, `expected an object, got ${show(value)}`);
    const out: Record<string, unknown> = {};
    let seen = 0;
    let bad = false;
    for (let i = 0; i < n; i++) {
      const key = keys[i] as string;
      const raw = hasOwn(value, key) ? value[key] : undefined;
      if (raw === undefined) {
        if (optional[i]) continue;
        if (ctx === null) return FAIL;
        ctx.path.push(key);
        fail(ctx, "required field is missing");
        ctx.path.pop();
        bad = true;
        if (ctx.issues.length >= ctx.max) return FAIL;
        continue;
      }
      seen++;
      if (ctx !== null) ctx.path.push(key);
      const r = (parsers[i] as Parser<unknown>)(raw, ctx);
      if (ctx !== null) ctx.path.pop();
      if (r === FAIL) {
        if (ctx === null || ctx.issues.length >= ctx.max) return FAIL;
        bad = true;
      } else if (key === "__proto__") setOwn(out, key, r);
      else out[key] = r;
    }
    if (strip) return bad ? FAIL : out;
    if (ctx === null && !keep) {
      // Fast check: as many enumerable keys as fields seen. A mismatch (or a
      // polluted prototype) sends the decode to the slow path, which decides.
      let count = 0;
      for (const _ in value) count++;
      return count === seen ? out : FAIL;
    }
    for (const key of Object.keys(value)) {
      if (known.has(key) || value[key] === undefined) continue;
      if (keep) {
        if (ctx !== null) ctx.path.push(key);
        const r = copyJson(value[key], DEFAULT_JSON_DEPTH, ctx);
        if (ctx !== null) ctx.path.pop();
        if (r === FAIL) {
          if (ctx === null || ctx.issues.length >= ctx.max) return FAIL;
          bad = true;
        } else setOwn(out, key, r);
      } else if (ctx !== null) {
        ctx.path.push(key);
        fail(ctx, "unknown field");
        ctx.path.pop();
        bad = true;
        if (ctx.issues.length >= ctx.max) return FAIL;
      }
    }
    return bad ? FAIL : out;
  };
  const keepRest = (value: Record<string, unknown>, out: Record<string, unknown>): boolean => {
    for (const key of Object.keys(value)) {
      if (known.has(key) || value[key] === undefined) continue;
      const r = copyJson(value[key], DEFAULT_JSON_DEPTH, null);
      if (r === FAIL) return false;
      setOwn(out, key, r);
    }
    return true;
  };
  const parse = compileRecord({ keys, parsers, optional, unknown, keepRest, slow }) ?? slow;
  return makeSchema("record", type, parse, { fields, unknown }) as unknown as RecordSchema<F, U>;
}

/** A schema {@link map} made. */
export interface MapSchema<S extends SchemaLike> extends Schema<{ [key: string]: Infer<S> }> {
  readonly kind: "map";
  readonly value: S;
}

/**
 * An object used as a dictionary: any string keys, every value matching
 * `value`. Tracee type `"map[string]int"`, or `{"map[string]": {…}}` for
 * records as values.
 *
 * The result is a new plain object with every own enumerable key of the
 * input (`__proto__` and `constructor` stay ordinary keys).
 *
 * @example
 * ```ts
 * const Labels = t.map(t.string()); // Schema<{ [key: string]: string }>
 * ```
 */
export function map<S extends SchemaLike>(value: S): MapSchema<S> {
  const parseValue = parserOf(value) as Parser<Infer<S>>;
  const valueType = traceeTypeOf(value);
  const parse: Parser<{ [key: string]: Infer<S> }> = (input, ctx) => {
    if (!isPlainObject(input)) return ctx === null ? FAIL : fail(ctx, `expected an object, got ${show(input)}`);
    const out: { [key: string]: Infer<S> } = {};
    let bad = false;
    for (const key of Object.keys(input)) {
      if (ctx !== null) ctx.path.push(key);
      const r = parseValue(input[key], ctx);
      if (ctx !== null) ctx.path.pop();
      if (r === FAIL) {
        if (ctx === null || ctx.issues.length >= ctx.max) return FAIL;
        bad = true;
      } else setOwn(out, key, r);
    }
    return bad ? FAIL : out;
  };
  return makeSchema(
    "map",
    typeof valueType === "string" ? `map[string]${valueType}` : { "map[string]": valueType },
    parse,
    { value },
  ) as MapSchema<S>;
}

/**
 * A value that may be absent. In a {@link record} the field may be missing;
 * on its own, `undefined` passes. Tracee type: the inner type as a Go
 * pointer (`"*string"`); a record's or list's type is kept as is.
 *
 * @example
 * ```ts
 * t.record({ first_seen: t.optional(t.string()) }); // { first_seen?: string }
 * ```
 */
export function optional<S extends SchemaLike>(schema: S): OptionalSchema<Infer<S>> {
  const parseInner = parserOf(schema) as Parser<Infer<S>>;
  return makeSchema<Infer<S> | undefined, { inner: S }>(
    "optional",
    inner(traceeTypeOf(schema), "*"),
    (value, ctx) => (value === undefined ? undefined : parseInner(value, ctx)),
    { inner: schema },
  ) as unknown as OptionalSchema<Infer<S>>;
}

/** A schema {@link nullable} made. */
export interface NullableSchema<S extends SchemaLike> extends Schema<Infer<S> | null> {
  readonly kind: "nullable";
  readonly inner: S;
}

/**
 * A value that may be `null`. Tracee type: the inner type as a Go pointer
 * (`"*int"`); a record's or list's type is kept as is.
 *
 * @example
 * ```ts
 * decode(t.nullable(t.int()), null); // null
 * ```
 */
export function nullable<S extends SchemaLike>(schema: S): NullableSchema<S> {
  const parseInner = parserOf(schema) as Parser<Infer<S>>;
  return makeSchema<Infer<S> | null, { inner: S }>(
    "nullable",
    inner(traceeTypeOf(schema), "*"),
    (value, ctx) => (value === null ? null : parseInner(value, ctx)),
    { inner: schema },
  ) as NullableSchema<S>;
}
