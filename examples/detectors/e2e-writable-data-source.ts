/**
 * The writable data source of Tracee's end-to-end tests, ported from Go
 * (tests/e2e-inst-signatures/datasourcetest/write.go, before Tracee moved its
 * e2e checks to detectors; the detector is in writable-data-store.ts).
 *
 * A string → string cache of at most 1024 entries, the least recently used
 * dropped first. Tracee's e2e client (`ds_writer`) writes a thousand random
 * words into it over gRPC, then `bruh` = `moment`; `get("bruh")` answers
 * `{ value: "moment" }`.
 *
 * Served by `tracee-ds serve` (or `run --serve`) under `e2e_inst/demo`, the
 * namespace and id that client writes to.
 *
 * One difference from Go, on purpose: a write is all or nothing. Go stores
 * entries one by one and stops at the first one it cannot read, keeping
 * those before it; here a write with any entry that is not string → string
 * stores nothing, as this package's data source contract asks.
 */
import {
  dataSourceRef,
  ErrDataNotFound,
  ErrFailedToUnmarshal,
  ErrKeyNotSupported,
  type WritableDataSource,
  type WriteData,
} from "tracee-ds";

export const E2E_NAMESPACE = "e2e_inst";
export const E2E_ID = "demo";

/** How many entries the cache keeps (Go: `lru.New(1024)`). */
export const E2E_CAPACITY = 1024;

/** What `get` returns for a key. */
export type E2eValue = { readonly value: string };

export class E2eWritableDataSource implements WritableDataSource<unknown, E2eValue> {
  /** Oldest use first: a Map keeps insertion order, and a use re-inserts. */
  readonly #cache = new Map<string, string>();

  /**
   * `{ value }` for a string key. Throws `ErrKeyNotSupported` for any other
   * key and `ErrDataNotFound` for a key not stored (or dropped). A found key
   * becomes the most recently used.
   */
  get(key: unknown): E2eValue {
    if (typeof key !== "string") throw ErrKeyNotSupported;
    const value = this.#cache.get(key);
    if (value === undefined) throw ErrDataNotFound;
    this.#touch(key, value);
    return { value };
  }

  version(): number {
    return 1;
  }

  keys(): string[] {
    return ["string"];
  }

  schema(): string {
    return JSON.stringify({ value: "string" });
  }

  namespace(): string {
    return E2E_NAMESPACE;
  }

  id(): string {
    return E2E_ID;
  }

  /** Stores every entry, or none: each key and value must be a string, else `ErrFailedToUnmarshal`. */
  write(data: WriteData): void {
    const entries: [string, string][] = [];
    for (const [key, value] of data) {
      if (typeof key !== "string" || typeof value !== "string") throw ErrFailedToUnmarshal;
      entries.push([key, value]);
    }
    for (const [key, value] of entries) this.#touch(key, value);
  }

  values(): string[] {
    return ["string"];
  }

  /** How many entries it holds. */
  get size(): number {
    return this.#cache.size;
  }

  /** Stores `value` as the most recent use of `key`, dropping the oldest entry when over capacity. */
  #touch(key: string, value: string): void {
    this.#cache.delete(key);
    this.#cache.set(key, value);
    if (this.#cache.size > E2E_CAPACITY) {
      const oldest = this.#cache.keys().next();
      if (oldest.done !== true) this.#cache.delete(oldest.value);
    }
  }
}

/** Typed lookup: `params.getDataSource(E2eWritableRef)` is an `E2eWritableDataSource | undefined`. */
export const E2eWritableRef = dataSourceRef<E2eWritableDataSource>(E2E_NAMESPACE, E2E_ID);

/** The instance the engine registers and `--serve` hosts when this folder is loaded. */
export const e2eWritableDataSource = new E2eWritableDataSource();
