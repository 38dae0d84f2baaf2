import type { JsonValue } from "type-fest";
import type { DataSource, WritableDataSource, WriteData, WriteKey } from "../detect/data-source.js";
import { DetectError, ErrDataNotFound, ErrFailedToUnmarshal, ErrKeyNotSupported, isDetectError } from "../detect/errors.js";

/**
 * The kinds of key a fake serves: the JavaScript kinds of the scalar
 * {@link WriteKey}s (`typeof key`, and `"null"` for `null`).
 */
export type FakeKeyKind = "string" | "number" | "boolean" | "null";

/** A fake's data: a Map from scalar key to result, or a plain object (string keys). */
export type FakeData<Result extends object> =
  | ReadonlyMap<WriteKey, Result>
  | Readonly<Record<string, Result>>;

/** Options for {@link fakeDataSource}. */
export interface FakeDataSourceOptions<Result extends object> {
  /** The namespace the fake registers under. */
  readonly namespace: string;
  /** The id the fake registers under. */
  readonly id: string;
  /** What `version()` returns; defaults to 1. */
  readonly version?: number;
  /** The data `get` serves, key → result. Copied: later changes to it do not reach the fake. */
  readonly data: FakeData<Result>;
  /**
   * What `schema()` returns: a JSON string, or a value to `JSON.stringify`.
   * Defaults to the fields of the results with their JavaScript types, e.g.
   * `{"threshold":"number"}`.
   */
  readonly schema?: string | JsonValue;
  /** What `keys()` returns; defaults to the key kinds, e.g. `["string"]`. */
  readonly keys?: readonly string[];
  /**
   * The kinds of key `get` (and `write`) accept; a key of another kind gets
   * `ErrKeyNotSupported`. Defaults to the kinds of the keys in `data`, or
   * `["string"]` when `data` is empty or a plain object.
   */
  readonly keyKinds?: readonly FakeKeyKind[];
}

/** Options for {@link fakeWritableDataSource}. */
export interface FakeWritableDataSourceOptions<Result extends object> extends Omit<FakeDataSourceOptions<Result>, "data"> {
  /** The data before any write; defaults to none. */
  readonly data?: FakeData<Result>;
  /** What `values()` returns; defaults to `["object"]`. */
  readonly values?: readonly string[];
  /**
   * Turns one written value into the result stored for `key`, or throws to
   * refuse the whole write. A thrown error that is not a detect error is
   * wrapped as `ErrFailedToUnmarshal` (its `cause` is the original).
   * Without it, a value must be a JSON object and is stored as it is.
   */
  readonly validate?: (value: JsonValue, key: WriteKey) => Result;
}

/** One recorded `get`: the key, and the result or the error thrown. */
export interface GetCall<Result extends object = Readonly<Record<string, unknown>>> {
  readonly method: "get";
  readonly key: unknown;
  readonly result?: Result;
  readonly error?: unknown;
}

/** One recorded `write`: a copy of the data, and the error thrown if it was refused. */
export interface WriteCall {
  readonly method: "write";
  readonly data: ReadonlyMap<WriteKey, JsonValue>;
  readonly error?: unknown;
}

/** An in-memory {@link DataSource} that records its calls; made by {@link fakeDataSource}. */
export interface FakeDataSource<Result extends object = Readonly<Record<string, unknown>>>
  extends DataSource<unknown, Result> {
  /** Every `get` so far, oldest first. */
  readonly gets: readonly GetCall<Result>[];
  /** Every recorded call (for a writable fake, `get`s and `write`s interleaved), oldest first. */
  readonly calls: readonly (GetCall<Result> | WriteCall)[];
  /** Makes the next `get` throw `error` (queued: call it twice to fail two gets). */
  failNextGet(error: unknown): this;
  /** Sets the result for `key` without recording a call (test setup). */
  set(key: WriteKey, result: Result): this;
  /** Removes `key` without recording a call; returns whether it was there. */
  delete(key: WriteKey): boolean;
  /** A copy of the current data. */
  snapshot(): Map<WriteKey, Result>;
  /** Forgets the recorded calls and any queued failures; keeps the data. */
  resetCalls(): void;
}

/** An in-memory {@link WritableDataSource} that records its calls; made by {@link fakeWritableDataSource}. */
export interface FakeWritableDataSource<Result extends object = Readonly<Record<string, unknown>>>
  extends FakeDataSource<Result>,
    WritableDataSource<unknown, Result> {
  /** Every `write` so far, accepted or refused, oldest first. */
  readonly writes: readonly WriteCall[];
  /** Makes the next `write` throw `error` and change nothing (queued). */
  failNextWrite(error: unknown): this;
  write(data: WriteData): void;
}

function kindOf(key: unknown): FakeKeyKind | undefined {
  if (key === null) return "null";
  const kind = typeof key;
  return kind === "string" || kind === "number" || kind === "boolean" ? kind : undefined;
}

function toMap<Result extends object>(data: FakeData<Result> | undefined): Map<WriteKey, Result> {
  if (data === undefined) return new Map();
  if (data instanceof Map) return new Map(data as ReadonlyMap<WriteKey, Result>);
  return new Map(Object.entries(data as Readonly<Record<string, Result>>));
}

function isJsonObject(value: JsonValue): value is { [key: string]: JsonValue } {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

function describeKey(key: unknown): string {
  return typeof key === "string" ? JSON.stringify(key) : String(key);
}

function inferSchema(data: ReadonlyMap<WriteKey, object>): string {
  // No prototype: a field named `constructor`, `toString` or `__proto__` is
  // described like any other.
  const fields: Record<string, string> = Object.create(null) as Record<string, string>;
  for (const result of data.values()) {
    for (const [field, value] of Object.entries(result)) {
      fields[field] ??= value === null ? "null" : Array.isArray(value) ? "array" : typeof value;
    }
  }
  return JSON.stringify(fields);
}

class Fake<Result extends object> implements FakeWritableDataSource<Result> {
  readonly #namespace: string;
  readonly #id: string;
  readonly #version: number;
  readonly #schema: string | undefined;
  readonly #keys: readonly string[];
  readonly #kinds: ReadonlySet<FakeKeyKind>;
  readonly #values: readonly string[];
  readonly #validate: ((value: JsonValue, key: WriteKey) => Result) | undefined;
  #data: Map<WriteKey, Result>;
  readonly #calls: (GetCall<Result> | WriteCall)[] = [];
  readonly #failGets: unknown[] = [];
  readonly #failWrites: unknown[] = [];

  constructor(options: FakeWritableDataSourceOptions<Result>) {
    this.#namespace = options.namespace;
    this.#id = options.id;
    this.#version = options.version ?? 1;
    this.#data = toMap(options.data);
    this.#schema = options.schema === undefined ? undefined : typeof options.schema === "string" ? options.schema : JSON.stringify(options.schema);
    let kinds: FakeKeyKind[] = options.keyKinds !== undefined ? [...options.keyKinds] : [];
    if (options.keyKinds === undefined) {
      for (const key of this.#data.keys()) {
        const kind = kindOf(key);
        if (kind !== undefined && !kinds.includes(kind)) kinds.push(kind);
      }
      if (kinds.length === 0) kinds = ["string"];
    }
    this.#kinds = new Set(kinds);
    this.#keys = options.keys !== undefined ? [...options.keys] : kinds;
    this.#values = options.values !== undefined ? [...options.values] : ["object"];
    this.#validate = options.validate;
  }

  get calls(): readonly (GetCall<Result> | WriteCall)[] {
    return [...this.#calls];
  }

  get gets(): readonly GetCall<Result>[] {
    return this.#calls.filter((c): c is GetCall<Result> => c.method === "get");
  }

  get writes(): readonly WriteCall[] {
    return this.#calls.filter((c): c is WriteCall => c.method === "write");
  }

  get(key: unknown): Result {
    try {
      if (this.#failGets.length > 0) throw this.#failGets.shift();
      const kind = kindOf(key);
      if (kind === undefined || !this.#kinds.has(kind)) throw ErrKeyNotSupported;
      const result = this.#data.get(key as WriteKey);
      if (result === undefined) throw ErrDataNotFound;
      this.#calls.push({ method: "get", key, result });
      return result;
    } catch (error) {
      this.#calls.push({ method: "get", key, error });
      throw error;
    }
  }

  write(data: WriteData): void {
    const copy = new Map(data);
    try {
      if (this.#failWrites.length > 0) throw this.#failWrites.shift();
      // Stage every entry first: one bad entry refuses the whole write.
      const staged: [WriteKey, Result][] = [];
      for (const [key, value] of copy) {
        const kind = kindOf(key);
        if (kind === undefined || !this.#kinds.has(kind)) throw ErrKeyNotSupported;
        staged.push([key, this.#decode(value, key)]);
      }
      for (const [key, result] of staged) this.#data.set(key, result);
      this.#calls.push({ method: "write", data: copy });
    } catch (error) {
      this.#calls.push({ method: "write", data: copy, error });
      throw error;
    }
  }

  #decode(value: JsonValue, key: WriteKey): Result {
    if (this.#validate === undefined) {
      if (!isJsonObject(value)) {
        throw new DetectError(
          "FAILED_TO_UNMARSHAL",
          `key ${describeKey(key)}: expected a JSON object: ${ErrFailedToUnmarshal.message}`,
          { cause: ErrFailedToUnmarshal },
        );
      }
      return value as unknown as Result;
    }
    try {
      return this.#validate(value, key);
    } catch (error) {
      if (isDetectError(error)) throw error;
      const reason = error instanceof Error ? error.message : String(error);
      throw new DetectError("FAILED_TO_UNMARSHAL", `key ${describeKey(key)}: ${reason}: ${ErrFailedToUnmarshal.message}`, {
        cause: error,
      });
    }
  }

  version(): number {
    return this.#version;
  }

  keys(): string[] {
    return [...this.#keys];
  }

  schema(): string {
    return this.#schema ?? inferSchema(this.#data);
  }

  namespace(): string {
    return this.#namespace;
  }

  id(): string {
    return this.#id;
  }

  values(): string[] {
    return [...this.#values];
  }

  failNextGet(error: unknown): this {
    this.#failGets.push(error);
    return this;
  }

  failNextWrite(error: unknown): this {
    this.#failWrites.push(error);
    return this;
  }

  set(key: WriteKey, result: Result): this {
    this.#data.set(key, result);
    return this;
  }

  delete(key: WriteKey): boolean {
    return this.#data.delete(key);
  }

  snapshot(): Map<WriteKey, Result> {
    return new Map(this.#data);
  }

  resetCalls(): void {
    this.#calls.length = 0;
    this.#failGets.length = 0;
    this.#failWrites.length = 0;
  }
}

/** A read-only view of a {@link Fake}: the writable members are not there at all, so `isWritable` is false. */
class ReadOnlyFake<Result extends object> implements FakeDataSource<Result> {
  readonly #inner: Fake<Result>;
  constructor(inner: Fake<Result>) {
    this.#inner = inner;
  }
  get calls() {
    return this.#inner.calls;
  }
  get gets() {
    return this.#inner.gets;
  }
  get(key: unknown): Result {
    return this.#inner.get(key);
  }
  version(): number {
    return this.#inner.version();
  }
  keys(): string[] {
    return this.#inner.keys();
  }
  schema(): string {
    return this.#inner.schema();
  }
  namespace(): string {
    return this.#inner.namespace();
  }
  id(): string {
    return this.#inner.id();
  }
  failNextGet(error: unknown): this {
    this.#inner.failNextGet(error);
    return this;
  }
  set(key: WriteKey, result: Result): this {
    this.#inner.set(key, result);
    return this;
  }
  delete(key: WriteKey): boolean {
    return this.#inner.delete(key);
  }
  snapshot(): Map<WriteKey, Result> {
    return this.#inner.snapshot();
  }
  resetCalls(): void {
    this.#inner.resetCalls();
  }
}

/**
 * An in-memory, read-only data source for tests, following the
 * {@link DataSource} contract exactly and recording every `get`.
 *
 * `get(key)` returns the result stored for `key`. A key whose kind (see
 * {@link FakeKeyKind}; by default the kinds of the keys in `data`, or
 * `"string"`) the fake does not serve throws `ErrKeyNotSupported`; a key of a
 * served kind with no data throws `ErrDataNotFound`. `failNextGet(err)` makes
 * the next `get` throw `err`. Every `get` lands in `.gets` with its result or
 * error. The fake has no `write`, so the gRPC server answers `UNIMPLEMENTED`.
 *
 * @example
 * ```ts
 * const iocs = fakeDataSource({
 *   namespace: "my_namespace",
 *   id: "iocs",
 *   data: { "evil.example": { severity: 3 } },
 * });
 * iocs.get("evil.example"); // { severity: 3 }
 * iocs.get("good.example"); // throws ErrDataNotFound
 * iocs.get(42);             // throws ErrKeyNotSupported (keys are strings)
 * ```
 */
export function fakeDataSource<Result extends object = Readonly<Record<string, unknown>>>(
  options: FakeDataSourceOptions<Result>,
): FakeDataSource<Result> {
  return new ReadOnlyFake(new Fake<Result>(options));
}

/**
 * An in-memory, writable data source for tests, following the
 * {@link WritableDataSource} contract exactly and recording every `get` and
 * `write`.
 *
 * `get` behaves as in {@link fakeDataSource}. `write(data)` stores each
 * entry's value as the result for its key, all or nothing: a key of a kind
 * the fake does not serve throws `ErrKeyNotSupported`, a value `validate`
 * refuses (or, without `validate`, a value that is not a JSON object) throws
 * `ErrFailedToUnmarshal`, and then nothing of that write is stored.
 * `failNextWrite(err)` makes the next write throw `err` and store nothing.
 * Every write lands in `.writes` with a copy of its data and its error.
 *
 * @example
 * ```ts
 * const threshold = fakeWritableDataSource({
 *   namespace: "my_namespace",
 *   id: "threshold_datasource",
 *   data: { threshold: { threshold: 5 } },
 *   validate: (value) => {
 *     if (typeof value !== "number") throw ErrFailedToUnmarshal;
 *     return { threshold: Math.trunc(value) };
 *   },
 * });
 * threshold.write(new Map([["threshold", 10]]));
 * threshold.get("threshold"); // { threshold: 10 }
 * threshold.writes.length;    // 1
 * ```
 */
export function fakeWritableDataSource<Result extends object = Readonly<Record<string, unknown>>>(
  options: FakeWritableDataSourceOptions<Result>,
): FakeWritableDataSource<Result> {
  return new Fake<Result>(options);
}
