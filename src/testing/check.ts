import { isDeepStrictEqual } from "node:util";
import type { JsonValue } from "type-fest";
import { type DataSource, isWritable, type WriteKey } from "../detect/data-source.js";
import { ErrDataNotFound, ErrFailedToUnmarshal, ErrKeyNotSupported, errorIs, isDetectError } from "../detect/errors.js";
import { isThenable } from "../internal/promise.js";

/** What part of the data source contract a {@link Violation} breaks. */
export type ViolationKind =
  /** `namespace()` or `id()` is not a non-empty string. */
  | "identity"
  /** `version()` is not an integer >= 1. */
  | "version"
  /** `schema()` is not valid JSON. */
  | "schema"
  /** `keys()` is not a non-empty list of strings. */
  | "keys"
  /** `values()` of a writable source is not a non-empty list of strings. */
  | "values"
  /** `get` of a valid key threw, or returned something other than an object. */
  | "get-valid"
  /** `get` of a missing key did not throw `ErrDataNotFound`. */
  | "get-missing"
  /** `get` of a key of an unsupported kind did not throw `ErrKeyNotSupported`. */
  | "get-bad-key"
  /** Writes were given but the source has no `write`/`values`. */
  | "not-writable"
  /** A good write threw. */
  | "write-good"
  /** A bad write did not throw `ErrFailedToUnmarshal` or `ErrKeyNotSupported`. */
  | "write-bad"
  /** A bad write changed what `get` returns for the valid keys. */
  | "write-changed";

/** One way a data source breaks the contract, found by {@link checkDataSource}. */
export interface Violation {
  readonly kind: ViolationKind;
  /** What went wrong, in a sentence naming the key or write. */
  readonly message: string;
  /** The key `get` was called with, for the `get-*` kinds. */
  readonly key?: unknown;
  /** The write, for the `write-*` kinds. */
  readonly write?: ReadonlyMap<WriteKey, JsonValue>;
  /** What the data source threw, when that is the problem. */
  readonly error?: unknown;
}

/** One write for {@link checkDataSource}: a Map, or a plain object with string keys. */
export type CheckWrite = ReadonlyMap<WriteKey, JsonValue> | Readonly<Record<string, JsonValue>>;

/** What to try in {@link checkDataSource}; every list defaults to empty. */
export interface CheckDataSourceOptions {
  /** Keys `get` must answer with an object. Also compared before and after each bad write. */
  readonly validKeys?: readonly unknown[];
  /** Keys of a supported kind that have no data: `get` must throw `ErrDataNotFound`. */
  readonly missingKeys?: readonly unknown[];
  /** Keys of a kind the source does not serve: `get` must throw `ErrKeyNotSupported`. */
  readonly badKeys?: readonly unknown[];
  /** Writes that must succeed. Run in order, before the bad writes. */
  readonly goodWrites?: readonly CheckWrite[];
  /** Writes that must throw `ErrFailedToUnmarshal` or `ErrKeyNotSupported` and change nothing. */
  readonly badWrites?: readonly CheckWrite[];
}

/**
 * Checks `ds` against Tracee's data source contract and returns every
 * violation found (an empty list when it passes); it never throws for a
 * violation.
 *
 * Checks: `namespace()`/`id()` are non-empty strings; `version()` is an
 * integer >= 1; `schema()` is valid JSON; `keys()` (and, for a writable
 * source, `values()`) is a non-empty list of strings; `get` of each valid key
 * returns an object synchronously; each missing key throws `ErrDataNotFound`
 * and each bad key `ErrKeyNotSupported` (wrapped is fine, see `errorIs`);
 * each good write succeeds; each bad write throws `ErrFailedToUnmarshal` or
 * `ErrKeyNotSupported` and leaves `get` of every valid key as it was. Good
 * writes run before bad writes, so the data source is left written to.
 * Async `write` is awaited.
 *
 * @example
 * ```ts
 * const violations = await checkDataSource(new ThresholdDataSource(), {
 *   validKeys: ["threshold"],
 *   badKeys: ["limit", 5, { threshold: true }],
 *   goodWrites: [{ threshold: 7 }],
 *   badWrites: [{ threshold: "seven" }, { limit: 5 }],
 * });
 * expect(violations).toEqual([]);
 * ```
 */
export async function checkDataSource(ds: DataSource, options: CheckDataSourceOptions = {}): Promise<Violation[]> {
  const out: Violation[] = [];
  const add = (kind: ViolationKind, message: string, extra: Omit<Violation, "kind" | "message"> = {}) =>
    out.push({ kind, message, ...extra });

  // Identity and description.
  for (const method of ["namespace", "id"] as const) {
    const got = attempt(() => ds[method]());
    if (!got.ok) add("identity", `${method}() threw: ${describeError(got.error)}`, { error: got.error });
    else if (typeof got.value !== "string" || got.value === "")
      add("identity", `${method}() must return a non-empty string, got ${show(got.value)}`);
  }
  const version = attempt(() => ds.version());
  if (!version.ok) add("version", `version() threw: ${describeError(version.error)}`, { error: version.error });
  else if (!Number.isInteger(version.value) || version.value < 1)
    add("version", `version() must be an integer >= 1, got ${show(version.value)}`);

  const schema = attempt(() => ds.schema());
  if (!schema.ok) add("schema", `schema() threw: ${describeError(schema.error)}`, { error: schema.error });
  else if (typeof schema.value !== "string") add("schema", `schema() must return a JSON string, got ${show(schema.value)}`);
  else {
    const parsed = attempt(() => JSON.parse(schema.value) as unknown);
    if (!parsed.ok) add("schema", `schema() is not valid JSON: ${describeError(parsed.error)}`, { error: parsed.error });
  }

  checkNames(ds, "keys", add);
  const writable = isWritable(ds);
  if (writable) checkNames(ds, "values", add);

  // Reads.
  for (const key of options.validKeys ?? []) {
    const got = attempt(() => ds.get(key));
    if (!got.ok) add("get-valid", `get(${show(key)}) threw: ${describeError(got.error)}`, { key, error: got.error });
    else if (isThenable(got.value)) add("get-valid", `get(${show(key)}) returned a Promise; get must be synchronous`, { key });
    else if (typeof got.value !== "object" || got.value === null)
      add("get-valid", `get(${show(key)}) must return an object, got ${show(got.value)}`, { key });
  }
  const expectThrow = (kind: ViolationKind, key: unknown, target: unknown, name: string) => {
    const got = attempt(() => ds.get(key));
    if (got.ok) add(kind, `get(${show(key)}) must throw ${name}, but returned ${show(got.value)}`, { key });
    else if (!errorIs(got.error, target))
      add(kind, `get(${show(key)}) must throw ${name}, but threw ${describeError(got.error)}`, { key, error: got.error });
  };
  for (const key of options.missingKeys ?? []) expectThrow("get-missing", key, ErrDataNotFound, "ErrDataNotFound");
  for (const key of options.badKeys ?? []) expectThrow("get-bad-key", key, ErrKeyNotSupported, "ErrKeyNotSupported");

  // Writes.
  const goodWrites = (options.goodWrites ?? []).map(toWriteMap);
  const badWrites = (options.badWrites ?? []).map(toWriteMap);
  if (goodWrites.length + badWrites.length > 0 && !writable) {
    add("not-writable", "writes were given, but the data source has no write() and values()");
    return out;
  }
  if (!writable) return out;
  for (const write of goodWrites) {
    const got = await attemptAsync(() => ds.write(write));
    if (!got.ok) add("write-good", `write(${showWrite(write)}) threw: ${describeError(got.error)}`, { write, error: got.error });
  }
  for (const write of badWrites) {
    const before = snapshot(ds, options.validKeys ?? []);
    const got = await attemptAsync(() => ds.write(write));
    if (got.ok) add("write-bad", `write(${showWrite(write)}) must throw ErrFailedToUnmarshal or ErrKeyNotSupported, but succeeded`, { write });
    else if (!errorIs(got.error, ErrFailedToUnmarshal) && !errorIs(got.error, ErrKeyNotSupported))
      add(
        "write-bad",
        `write(${showWrite(write)}) must throw ErrFailedToUnmarshal or ErrKeyNotSupported, but threw ${describeError(got.error)}`,
        { write, error: got.error },
      );
    const after = snapshot(ds, options.validKeys ?? []);
    for (const [i, key] of (options.validKeys ?? []).entries()) {
      if (!isDeepStrictEqual(before[i], after[i]))
        add(
          "write-changed",
          `write(${showWrite(write)}) ${got.ok ? "succeeded" : "was refused"} but changed get(${show(key)}) from ${showSnapshot(before[i])} to ${showSnapshot(after[i])}`,
          { key, write },
        );
    }
  }
  return out;
}

/** Thrown by {@link assertDataSource}; `violations` lists what {@link checkDataSource} found. */
export class DataSourceContractError extends Error {
  readonly violations: readonly Violation[];
  constructor(violations: readonly Violation[]) {
    super(`data source breaks the contract:\n${violations.map((v) => `  - [${v.kind}] ${v.message}`).join("\n")}`);
    this.name = "DataSourceContractError";
    this.violations = violations;
  }
}

/**
 * Like {@link checkDataSource}, but rejects with a
 * {@link DataSourceContractError} listing every violation; for test
 * frameworks without deep equality (`node:test`, plain scripts).
 *
 * @example
 * ```ts
 * await assertDataSource(myDataSource, { validKeys: ["k"], missingKeys: ["nope"] });
 * ```
 */
export async function assertDataSource(ds: DataSource, options: CheckDataSourceOptions = {}): Promise<void> {
  const violations = await checkDataSource(ds, options);
  if (violations.length > 0) throw new DataSourceContractError(violations);
}

type Attempt<T> = { ok: true; value: T } | { ok: false; error: unknown };

function attempt<T>(fn: () => T): Attempt<T> {
  try {
    return { ok: true, value: fn() };
  } catch (error) {
    return { ok: false, error };
  }
}

async function attemptAsync<T>(fn: () => T | Promise<T>): Promise<Attempt<T>> {
  try {
    return { ok: true, value: await fn() };
  } catch (error) {
    return { ok: false, error };
  }
}

function checkNames(
  ds: DataSource,
  method: "keys" | "values",
  add: (kind: ViolationKind, message: string, extra?: Omit<Violation, "kind" | "message">) => void,
): void {
  const got = attempt(() => (ds as unknown as Record<typeof method, () => unknown>)[method]());
  if (!got.ok) add(method, `${method}() threw: ${describeError(got.error)}`, { error: got.error });
  else if (!Array.isArray(got.value) || got.value.length === 0 || !got.value.every((v) => typeof v === "string"))
    add(method, `${method}() must return a non-empty list of strings, got ${show(got.value)}`);
}

type Snapshot = { value: unknown } | { error: string };

function snapshot(ds: DataSource, keys: readonly unknown[]): Snapshot[] {
  return keys.map((key) => {
    const got = attempt(() => ds.get(key));
    if (!got.ok) return { error: describeError(got.error) };
    // Copy now: a source may hand out the object it later mutates in place.
    const copy = attempt(() => structuredClone(got.value));
    return { value: copy.ok ? copy.value : got.value };
  });
}

function toWriteMap(write: CheckWrite): ReadonlyMap<WriteKey, JsonValue> {
  return write instanceof Map ? write : new Map(Object.entries(write as Readonly<Record<string, JsonValue>>));
}

function describeError(error: unknown): string {
  if (isDetectError(error)) return `${error.code} (${error.message})`;
  if (error instanceof Error) return `${error.name}: ${error.message}`;
  return show(error);
}

function show(value: unknown): string {
  if (value === undefined) return "undefined";
  if (typeof value === "number" && !Number.isFinite(value)) return String(value);
  try {
    return JSON.stringify(value) ?? String(value);
  } catch {
    return String(value);
  }
}

function showSnapshot(snap: Snapshot | undefined): string {
  if (snap === undefined) return "undefined";
  return "error" in snap ? `a throw of ${snap.error}` : show(snap.value);
}

function showWrite(write: ReadonlyMap<WriteKey, JsonValue>): string {
  return `{${[...write].map(([k, v]) => `${show(k)}: ${show(v)}`).join(", ")}}`;
}
