import type { JsonValue } from "type-fest";

/**
 * A key a writer can send: a `google.protobuf.Value` scalar.
 *
 * Tracee puts written keys into a Go map, so only hashable kinds make sense;
 * this SDK rejects struct and list keys before they reach a data source.
 */
export type WriteKey = string | number | boolean | null;

/** The data handed to {@link WritableDataSource.write}: key → JSON value. */
export type WriteData = ReadonlyMap<WriteKey, JsonValue>;

/**
 * A read-only source of data that signatures query by key. Go: `detect.DataSource`.
 *
 * `get` is synchronous: it runs on the signature's hot path. It returns the
 * data for `key`, or throws {@link ErrKeyNotSupported} for a key of a kind the
 * source does not serve and {@link ErrDataNotFound} when nothing is known for a
 * supported key (possibly wrapped; test with {@link errorIs}).
 *
 * @typeParam Key - what `get` accepts. Tracee's Go signature takes `any`, and
 *   a data source checks the key's type itself, so the default is `unknown`.
 * @typeParam Result - what `get` returns. Go: `map[string]any`.
 */
export interface DataSource<Key = unknown, Result extends object = Readonly<Record<string, unknown>>> {
  /** The data for `key`. Throws `ErrKeyNotSupported` or `ErrDataNotFound`. Go: `Get`. */
  get(key: Key): Result;
  /**
   * The version of the data's shape, an unsigned integer. Signatures refuse
   * versions newer than they know. Go: `Version() uint`.
   */
  version(): number;
  /** The kinds of key `get` accepts, as Tracee type names (`"string"`). Go: `Keys`. */
  keys(): string[];
  /** A JSON document describing what `get` returns. Go: `Schema`. */
  schema(): string;
  /** The namespace the source registers under (signatures look it up by namespace and id). */
  namespace(): string;
  /** The id the source registers under, unique within its namespace. Go: `ID`. */
  id(): string;
}

/**
 * A data source that outside programs can write into, over gRPC or directly.
 * Go: `detect.WriteableDataSource`.
 *
 * `write` receives every entry of one write at once: one entry for a unary
 * `Write`, all of a stream's entries for `WriteStream`. It throws
 * {@link ErrFailedToUnmarshal} for values it cannot read and
 * {@link ErrKeyNotSupported} for keys it does not take; a write that throws
 * should change nothing. It may return a Promise; writes to one data source
 * through this SDK's server never overlap.
 */
export interface WritableDataSource<Key = unknown, Result extends object = Readonly<Record<string, unknown>>>
  extends DataSource<Key, Result> {
  /** Stores `data`, all or nothing. Go: `Write(data map[any]any) error`. */
  write(data: WriteData): void | Promise<void>;
  /** The kinds of value `write` accepts, as Tracee type names (`"int"`). Go: `Values`. */
  values(): string[];
}

/** The methods of the {@link DataSource} contract, in Go's order. */
export const DATA_SOURCE_METHODS = ["get", "version", "keys", "schema", "namespace", "id"] as const;

/**
 * Whether `value` has every method of the {@link DataSource} contract.
 *
 * Checks shape only (the methods exist); it does not call them. Useful for
 * data sources loaded from plain JavaScript modules.
 */
export function isDataSource(value: unknown): value is DataSource {
  if (typeof value !== "object" || value === null) return false;
  const candidate = value as Record<string, unknown>;
  return DATA_SOURCE_METHODS.every((method) => typeof candidate[method] === "function");
}

/** Whether `ds` can be written to: it has `write` and `values`. */
export function isWritable<Key, Result extends object>(
  ds: DataSource<Key, Result>,
): ds is WritableDataSource<Key, Result> {
  const candidate = ds as Partial<WritableDataSource<Key, Result>>;
  return typeof candidate.write === "function" && typeof candidate.values === "function";
}

declare const REF_TYPE: unique symbol;

/**
 * A typed handle on a registered data source: its namespace and id, plus the
 * type a lookup returns.
 *
 * The type is a promise made by whoever creates the reference; lookups check
 * only namespace and id. Create one with {@link dataSourceRef}.
 */
export interface DataSourceRef<D extends DataSource = DataSource> {
  readonly namespace: string;
  readonly id: string;
  /** @internal Carries `D` at the type level only. */
  readonly [REF_TYPE]?: D;
}

/**
 * Names a data source with the type that `getDataSource(ref)` should return.
 *
 * @example
 * ```ts
 * const Threshold = dataSourceRef<ThresholdDataSource>("my_namespace", "threshold_datasource");
 * const ds = ctx.getDataSource(Threshold); // ThresholdDataSource | undefined
 * ```
 */
export function dataSourceRef<D extends DataSource = DataSource>(namespace: string, id: string): DataSourceRef<D> {
  return Object.freeze({ namespace, id });
}
