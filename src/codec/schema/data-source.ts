/**
 * defineDataSource and defineWritableDataSource: data sources whose keys,
 * values, `schema()`, `keys()` and `values()` come from one pair of schemas.
 */
import {
  DetectError,
  ErrDataNotFound,
  ErrKeyNotSupported,
} from "../../detect/errors.js";
import {
  dataSourceRef,
  type DataSource,
  type DataSourceRef,
  type WritableDataSource,
  type WriteKey,
} from "../../detect/data-source.js";
import { CodecError, type PathSegment } from "../errors.js";
import { run } from "./decode.js";
import { literalTraceeType, show } from "./internal.js";
import { isOwnSchema, parserOf, traceeTypeOf } from "./standard.js";
import { FAIL, type Infer, type Issue, type Parser, type SchemaLike, type TraceeType } from "./types.js";

/** `T` with every object and list in it read-only: what a data source hands out (its stored data is frozen). */
export type DeepReadonly<T> = T extends (infer U)[]
  ? readonly DeepReadonly<U>[]
  : T extends readonly (infer U)[]
    ? readonly DeepReadonly<U>[]
    : T extends object
      ? { readonly [P in keyof T]: DeepReadonly<T[P]> }
      : T;

/**
 * The default result of `get(key)`: `{ [key]: value }`, as Tracee's threshold
 * data source returns `{ threshold: n }`. For a union of keys, a union of
 * one-entry objects.
 */
export type Entry<K extends WriteKey, V> = K extends WriteKey ? { readonly [P in `${K}`]: V } : never;

/**
 * How `get` shapes its result:
 * - `"entry"` (default): `{ [key]: value }`;
 * - `"value"`: the value itself (it must be an object: a record or a map);
 * - a function `(key, value) => result`, run once per stored entry (at write
 *   time for a writable source), whose result is frozen and reused.
 */
export type ResultShape<K, V> = "entry" | "value" | ((key: K, value: DeepReadonly<V>) => ResultObject);

/** What `get` may return: an object with string keys (Go: `map[string]any`). */
export type ResultObject = Readonly<Record<string, unknown>>;

/** The type `get` returns for the `"entry"` and `"value"` result shapes. */
export type ResultOf<M extends "entry" | "value", K extends WriteKey, V> = M extends "value"
  ? V extends ResultObject
    ? DeepReadonly<V>
    : never
  : Entry<K, DeepReadonly<V>>;

/** How `get` shapes results with `"entry"` or `"value"`: derived `schema()`, optionally overridden. */
export interface NamedShape<M extends "entry" | "value"> {
  /** How `get` shapes its result; default `"entry"`: `{ [key]: value }`. */
  readonly result?: M;
  /** Overrides the document `schema()` returns, derived from the schemas otherwise. */
  readonly schema?: TraceeType;
}

/** How `get` shapes results with a function: `schema()` must be given, as the function's shape cannot be derived. */
export interface FunctionShape<K, V, R extends ResultObject> {
  /** Builds `get`'s result from a key and its value; run once per stored entry. */
  readonly result: (key: K, value: DeepReadonly<V>) => R;
  /** What `schema()` returns: a description of `R`. */
  readonly schema: TraceeType;
}

export interface CommonOptions<KS extends SchemaLike<WriteKey>, VS extends SchemaLike> {
  /** The namespace it registers under; a non-empty string. */
  readonly namespace: string;
  /** The id it registers under; a non-empty string. */
  readonly id: string;
  /** The version of its data's shape, an unsigned integer. Default 1. */
  readonly version?: number;
  /** The keys `get` (and `write`) take. Its output type must be a scalar: string, number, boolean or null. */
  readonly key: KS;
  /** The values stored under a key. */
  readonly value: VS;
  /** Overrides what `keys()` returns, derived from `key` otherwise. */
  readonly keys?: readonly string[];
}

/** Options for {@link defineDataSource}, besides the result shape. */
export type DataSourceOptions<KS extends SchemaLike<WriteKey>, VS extends SchemaLike> = CommonOptions<KS, VS> & {
    /**
     * The data, checked against the schemas once, here: an iterable of
     * `[key, value]` pairs (a Map, an array of pairs).
     */
    readonly data?: Iterable<readonly [Infer<KS>, Infer<VS>]>;
    /**
     * Reads the value for a key (already checked against `key`) from elsewhere;
     * `undefined` means not found. Its results are trusted, not checked. Use
     * either `data` or `read`.
     */
    readonly read?: (key: Infer<KS>) => Infer<VS> | undefined;
  };

/** Options for {@link defineWritableDataSource}, besides the result shape. */
export type WritableDataSourceOptions<KS extends SchemaLike<WriteKey>, VS extends SchemaLike> = CommonOptions<KS, VS> & {
    /** What it holds before the first write, checked like a write. */
    readonly data?: Iterable<readonly [Infer<KS>, Infer<VS>]>;
    /**
     * What a write does with the keys it does not name: `"merge"` (default)
     * keeps them, `"replace"` drops them, so each write is the whole content.
     */
    readonly mode?: "merge" | "replace";
    /** Overrides what `values()` returns, derived from `value` otherwise. */
    readonly values?: readonly string[];
  };

/**
 * A data source made by {@link defineDataSource}: a `DataSource` whose `get`
 * is typed by its schemas.
 */
export interface TypedDataSource<K extends WriteKey, V, R extends ResultObject> extends DataSource<K, R> {
  /**
   * The data for `key`, shaped by the `result` option (default `{ [key]: value }`).
   * Throws a DetectError wrapping `ErrKeyNotSupported` (message names the key)
   * for a key the key schema refuses, and `ErrDataNotFound` itself when nothing
   * is stored for a valid key. The result is frozen.
   */
  get(key: K): R;
  /** The value stored for `key`, or `undefined` (also for a key the schema refuses): `get` without throwing. */
  lookup(key: K): DeepReadonly<V> | undefined;
  /** A typed reference: `ctx.getDataSource(ds.ref)` returns this data source's type. */
  readonly ref: DataSourceRef<TypedDataSource<K, V, R>>;
}

/**
 * A data source made by {@link defineWritableDataSource}: writable, every
 * write checked against its schemas, all or nothing.
 */
export interface TypedWritableDataSource<K extends WriteKey, V, R extends ResultObject>
  extends WritableDataSource<K, R>,
    Omit<TypedDataSource<K, V, R>, "ref"> {
  get(key: K): R;
  /**
   * Stores the entries of `data`, all or nothing.
   *
   * Every key is checked against the key schema and every value against the
   * value schema before anything changes. A bad key throws a DetectError
   * wrapping `ErrKeyNotSupported` (`key "limit" is not supported: expected "threshold", got "limit"`);
   * a bad value throws a {@link CodecError} (`ErrFailedToUnmarshal`) whose path
   * starts with the key (`threshold: expected an integer, got 5.5`).
   * Then the entries are stored (merged, or replacing everything with
   * `mode: "replace"`). Synchronous.
   */
  write(data: ReadonlyMap<unknown, unknown>): void;
  values(): string[];
  /** A typed reference: `ctx.getDataSource(ds.ref)` returns this data source's type. */
  readonly ref: DataSourceRef<TypedWritableDataSource<K, V, R>>;
}

// ---------------------------------------------------------------------------

interface Stored {
  readonly value: unknown;
  readonly result: object;
}

function deepFreeze<T>(value: T): T {
  if (typeof value === "object" && value !== null && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const key of Object.keys(value)) deepFreeze((value as Record<string, unknown>)[key]);
  }
  return value;
}

/** The Tracee type names a schema lists in `keys()`/`values()`: one per literal of an enum. */
function alternatives(schema: SchemaLike): string[] {
  if (isOwnSchema(schema)) {
    if (schema.kind === "literal") return [literalTraceeType((schema as unknown as { value: WriteKey }).value)];
    if (schema.kind === "enum") return (schema as unknown as { values: readonly WriteKey[] }).values.map(literalTraceeType);
  }
  const type = traceeTypeOf(schema);
  return [typeof type === "string" ? type : JSON.stringify(type)];
}

function literalKeys(schema: SchemaLike): readonly WriteKey[] | undefined {
  if (!isOwnSchema(schema)) return undefined;
  if (schema.kind === "literal") return [(schema as unknown as { value: WriteKey }).value];
  if (schema.kind === "enum") return (schema as unknown as { values: readonly WriteKey[] }).values;
  return undefined;
}

function describeResult(mode: unknown, key: SchemaLike, value: SchemaLike): TraceeType {
  const valueType = traceeTypeOf(value);
  if (mode === "value") return valueType;
  const out: Record<string, TraceeType> = {};
  const literals = literalKeys(key);
  if (literals !== undefined) {
    for (const k of literals) Object.defineProperty(out, String(k), { value: valueType, enumerable: true, writable: true, configurable: true });
  } else {
    const keyType = traceeTypeOf(key);
    out[`<${typeof keyType === "string" ? keyType : "key"}>`] = valueType;
  }
  return out;
}

function segment(key: unknown): PathSegment {
  return typeof key === "string" || typeof key === "number" ? key : String(key);
}

function keyError(key: unknown, issues: readonly Issue[]): DetectError {
  const reason = issues[0]?.message ?? "invalid key";
  return new DetectError("KEY_NOT_SUPPORTED", `key ${show(key)} is not supported: ${reason}`, {
    cause: ErrKeyNotSupported,
  });
}

function checkIdentity(options: CommonOptions<SchemaLike<WriteKey>, SchemaLike>): number {
  const { namespace, id } = options;
  if (typeof namespace !== "string" || namespace === "" || typeof id !== "string" || id === "") {
    throw new TypeError(`namespace and id must be non-empty strings, got ${show(namespace)} and ${show(id)}`);
  }
  const version = options.version ?? 1;
  if (!Number.isSafeInteger(version) || version < 0) {
    throw new RangeError(`version must be an unsigned integer, got ${show(version)}`);
  }
  parserOf(options.key);
  parserOf(options.value);
  return version;
}

interface Core {
  readonly parseKey: Parser<unknown>;
  readonly parseValue: Parser<unknown>;
  /** Whether a valid key is stored as given (own schemas), so `get` may look up before checking. */
  readonly identityKeys: boolean;
  readonly shape: (key: unknown, value: unknown) => object;
  readonly common: Pick<DataSource, "version" | "keys" | "schema" | "namespace" | "id">;
}

function core(options: CommonOptions<SchemaLike<WriteKey>, SchemaLike> & {
  readonly result?: unknown;
  readonly schema?: TraceeType;
}): Core {
  const version = checkIdentity(options);
  const mode = options.result ?? "entry";
  if (mode !== "entry" && mode !== "value" && typeof mode !== "function") {
    throw new RangeError(`result must be "entry", "value" or a function, got ${show(mode)}`);
  }
  if (typeof mode === "function" && options.schema === undefined) {
    throw new TypeError("a result function needs the schema option: its shape cannot be derived");
  }
  const shape =
    mode === "entry"
      ? (key: unknown, value: unknown): object => ({ [String(key)]: value })
      : mode === "value"
        ? (key: unknown, value: unknown): object => {
            if (typeof value !== "object" || value === null) {
              throw new TypeError(`result "value" needs object values, got ${show(value)} for key ${show(key)}`);
            }
            return value;
          }
        : (mode as (key: unknown, value: unknown) => object);
  const schemaJson = JSON.stringify(options.schema ?? describeResult(mode, options.key, options.value));
  const keys = Object.freeze([...(options.keys ?? alternatives(options.key))]);
  const { namespace, id } = options;
  return {
    parseKey: parserOf(options.key),
    parseValue: parserOf(options.value),
    identityKeys: isOwnSchema(options.key),
    shape,
    common: {
      version: () => version,
      keys: () => [...keys],
      schema: () => schemaJson,
      namespace: () => namespace,
      id: () => id,
    },
  };
}

/** Checks every entry; returns the decoded pairs, or throws for the first bad one. */
function stage(c: Core, data: Iterable<readonly [unknown, unknown]>): [unknown, Stored][] {
  const staged: [unknown, Stored][] = [];
  for (const [rawKey, rawValue] of data) {
    const key = run(c.parseKey, rawKey, 1);
    if (!key.ok) throw keyError(rawKey, key.issues);
    const value = run(c.parseValue, rawValue, 1);
    if (!value.ok) {
      const issue = value.issues[0] as Issue;
      throw new CodecError(issue.reason, [segment(rawKey), ...issue.path]);
    }
    const frozen = deepFreeze(value.value);
    staged.push([key.value, { value: frozen, result: deepFreeze(c.shape(key.value, frozen)) }]);
  }
  return staged;
}

function makeGet(c: Core, store: Map<unknown, Stored>): (key: unknown) => object {
  const { parseKey, identityKeys } = c;
  return (key) => {
    if (identityKeys) {
      const hit = store.get(key);
      if (hit !== undefined) return hit.result;
    }
    const decoded = run(parseKey, key, 1);
    if (!decoded.ok) throw keyError(key, decoded.issues);
    const hit = identityKeys ? undefined : store.get(decoded.value);
    if (hit !== undefined) return hit.result;
    throw ErrDataNotFound;
  };
}

function makeLookup(c: Core, store: Map<unknown, Stored>): (key: unknown) => unknown {
  const { parseKey, identityKeys } = c;
  return (key) => {
    if (identityKeys) return store.get(key)?.value;
    const decoded = parseKey(key, null);
    return decoded === FAIL ? undefined : store.get(decoded)?.value;
  };
}

/**
 * Defines a read-only data source from a key schema and a value schema.
 *
 * `keys()` and `schema()` are derived from the schemas (one definition,
 * several outputs): a key `t.literal("threshold")` gives `['string:"threshold"']`,
 * and with an int value `schema()` gives `{"threshold":"int"}`. The data comes
 * from `data` (checked once, here: a bad entry throws as `write` would) or
 * from a `read` function. `get` checks the key and throws
 * `ErrKeyNotSupported` (wrapped, naming the key) or `ErrDataNotFound`.
 * Throws a TypeError or RangeError for bad options.
 *
 * @example
 * ```ts
 * const containers = defineDataSource({
 *   namespace: "tracee", id: "containers",
 *   key: t.string(),
 *   value: t.record({ container_id: t.string(), container_image: t.string() }),
 *   result: "value",
 *   read: (id) => manager.lookup(id),
 * });
 * ```
 */
export function defineDataSource<KS extends SchemaLike<WriteKey>, VS extends SchemaLike, R extends ResultObject>(
  options: DataSourceOptions<KS, VS> & FunctionShape<Infer<KS>, Infer<VS>, R>,
): TypedDataSource<Infer<KS>, Infer<VS>, DeepReadonly<R>>;
export function defineDataSource<
  KS extends SchemaLike<WriteKey>,
  VS extends SchemaLike,
  M extends "entry" | "value" = "entry",
>(
  options: DataSourceOptions<KS, VS> & NamedShape<M>,
): TypedDataSource<Infer<KS>, Infer<VS>, ResultOf<M, Infer<KS>, Infer<VS>>>;
export function defineDataSource(
  options: DataSourceOptions<SchemaLike<WriteKey>, SchemaLike> & { readonly result?: unknown; readonly schema?: TraceeType },
): TypedDataSource<WriteKey, unknown, ResultObject> {
  type Result = TypedDataSource<WriteKey, unknown, ResultObject>;
  const c = core(options);
  const read = options.read as ((key: unknown) => unknown) | undefined;
  if (read !== undefined && options.data !== undefined) throw new TypeError("give data or read, not both");
  if (read !== undefined && typeof read !== "function") throw new TypeError("read must be a function");
  let get: (key: unknown) => object;
  let lookup: (key: unknown) => unknown;
  if (read === undefined) {
    const store = new Map(stage(c, options.data ?? []));
    get = makeGet(c, store);
    lookup = makeLookup(c, store);
  } else {
    get = (key) => {
      const decoded = run(c.parseKey, key, 1);
      if (!decoded.ok) throw keyError(key, decoded.issues);
      const value = read(decoded.value);
      if (value === undefined) throw ErrDataNotFound;
      return c.shape(decoded.value, value);
    };
    lookup = (key) => {
      const decoded = c.parseKey(key, null);
      return decoded === FAIL ? undefined : read(decoded);
    };
  }
  const ds = { ...c.common, get, lookup, ref: dataSourceRef(options.namespace, options.id) };
  return Object.freeze(ds) as unknown as Result;
}

/**
 * Defines a writable data source from a key schema and a value schema.
 *
 * `keys()`, `values()` and `schema()` are derived from the schemas: key
 * `t.literal("threshold")` and value `t.int()` give `['string:"threshold"']`,
 * `["int"]` and `{"threshold":"int"}`. `write` checks every entry first and
 * changes nothing unless all pass: a bad key throws a DetectError wrapping
 * `ErrKeyNotSupported`, a bad value a {@link CodecError} (`ErrFailedToUnmarshal`),
 * each message naming the key and path. A write merges into what is stored
 * (`mode: "merge"`, default) or replaces it (`mode: "replace"`). Stored values
 * are frozen; `get` returns a frozen result built once per write, so it
 * allocates nothing. Throws a TypeError or RangeError for bad options, and
 * like `write` for bad `data`.
 *
 * @example
 * ```ts
 * const threshold = defineWritableDataSource({
 *   namespace: "my_namespace", id: "threshold_datasource",
 *   key: t.literal("threshold"),
 *   value: t.int({ min: 1 }),
 * });
 * threshold.write(new Map([["threshold", 5]]));
 * threshold.get("threshold"); // { threshold: 5 }
 * threshold.write(new Map([["threshold", 5.5]])); // throws "threshold: expected an integer, got 5.5"
 * ```
 */
export function defineWritableDataSource<
  KS extends SchemaLike<WriteKey>,
  VS extends SchemaLike,
  R extends ResultObject,
>(
  options: WritableDataSourceOptions<KS, VS> & FunctionShape<Infer<KS>, Infer<VS>, R>,
): TypedWritableDataSource<Infer<KS>, Infer<VS>, DeepReadonly<R>>;
export function defineWritableDataSource<
  KS extends SchemaLike<WriteKey>,
  VS extends SchemaLike,
  M extends "entry" | "value" = "entry",
>(
  options: WritableDataSourceOptions<KS, VS> & NamedShape<M>,
): TypedWritableDataSource<Infer<KS>, Infer<VS>, ResultOf<M, Infer<KS>, Infer<VS>>>;
export function defineWritableDataSource(
  options: WritableDataSourceOptions<SchemaLike<WriteKey>, SchemaLike> & {
    readonly result?: unknown;
    readonly schema?: TraceeType;
  },
): TypedWritableDataSource<WriteKey, unknown, ResultObject> {
  type Result = TypedWritableDataSource<WriteKey, unknown, ResultObject>;
  const c = core(options);
  const mode = options.mode ?? "merge";
  if (mode !== "merge" && mode !== "replace") throw new RangeError(`mode must be "merge" or "replace", got ${show(mode)}`);
  const store = new Map(stage(c, options.data ?? []));
  const valueTypes = Object.freeze([...(options.values ?? alternatives(options.value))]);
  const write = (data: ReadonlyMap<unknown, unknown>): void => {
    const candidate = data as Partial<Map<unknown, unknown>> | null;
    if (typeof candidate !== "object" || candidate === null || typeof candidate.entries !== "function" || typeof candidate.get !== "function") {
      throw new TypeError(`write expects a Map of key → value, got ${show(data)}`);
    }
    const staged = stage(c, data.entries());
    if (mode === "replace") store.clear();
    for (const [key, stored] of staged) store.set(key, stored);
  };
  const ds = {
    ...c.common,
    get: makeGet(c, store),
    lookup: makeLookup(c, store),
    write,
    values: () => [...valueTypes],
    ref: dataSourceRef(options.namespace, options.id),
  };
  return Object.freeze(ds) as unknown as Result;
}
