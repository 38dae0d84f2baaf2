/**
 * The datastore contracts: {@link DataStore}, what a detector reads, and
 * {@link WritableStore}, what writers — `DataStoreService` clients, other
 * detectors — change. Go: `datastores.DataStore` and `datastores.WritableStore`
 * in Tracee's `api/v1beta1/datastores`.
 *
 * Every write names its **source**: the writer it comes from ("threat-feed",
 * "allow-list"). A source owns what it wrote: it can delete its own keys and
 * clear its own entries, never another source's.
 *
 * @module
 */
import type { MessageType } from "./any.js";
import { invalidArgument } from "./errors.js";

/** One entry: a key and its data. Go: `DataEntry`, unpacked. */
export interface StoreEntry<K, D> {
  readonly key: K;
  readonly data: D;
}

/**
 * A named store a detector reads. Go: `datastores.DataStore`, with the read
 * method a writable store offers.
 */
export interface DataStore<K = unknown, D = unknown> {
  /** The name it is registered and served under, such as `"ip_reputation"`. */
  readonly name: string;
  /**
   * The data for `key` — when several sources wrote it, the one the store's
   * conflict policy picks — or `undefined`. Synchronous: the detector hot path.
   */
  get(key: K): D | undefined;
  /** Entries held, counting each source's separately. Go: `GetMetrics().ItemCount`. */
  readonly size: number;
}

/**
 * A store that writers change, by source. Go: `datastores.WritableStore`.
 *
 * Each method throws a `DataStoreError` (or rejects with one) for what the
 * caller got wrong — `INVALID_ARGUMENT` for a bad key, data or source — and
 * changes nothing when it throws.
 */
export interface WritableStore<K = unknown, D = unknown> extends DataStore<K, D> {
  /** How keys travel in `google.protobuf.Any` (Go: the key message, such as `IPAddressKey`). */
  readonly keyType: MessageType<K>;
  /** How data travels in `google.protobuf.Any` (such as `IPReputation`). */
  readonly dataType: MessageType<D>;
  /** Writes one entry owned by `source`, replacing what that source had for the key. */
  write(source: string, entry: StoreEntry<K, D>): void | PromiseLike<void>;
  /**
   * Writes entries owned by `source`, all or none: every entry is validated
   * before any is stored. A key given twice keeps its later entry. Returns
   * how many entries were stored (distinct keys).
   */
  writeBatch(source: string, entries: readonly StoreEntry<K, D>[]): number | PromiseLike<number>;
  /** Removes `source`'s entry for `key`; whether there was one. Idempotent. */
  delete(source: string, key: K): boolean | PromiseLike<boolean>;
  /** Removes every entry `source` wrote; how many there were. */
  clear(source: string): number | PromiseLike<number>;
  /** The sources that hold at least one entry, sorted. */
  listSources(): readonly string[] | PromiseLike<readonly string[]>;
}

/** Whether `value` has the shape of a {@link WritableStore} (for objects loaded from plain JavaScript). */
export function isWritableStore(value: unknown): value is WritableStore {
  if (typeof value !== "object" || value === null) return false;
  const store = value as Partial<Record<keyof WritableStore, unknown>>;
  return (
    typeof store.name === "string" &&
    typeof store.get === "function" &&
    typeof store.write === "function" &&
    typeof store.writeBatch === "function" &&
    typeof store.delete === "function" &&
    typeof store.clear === "function" &&
    typeof store.listSources === "function" &&
    typeof store.keyType === "object" &&
    store.keyType !== null &&
    typeof store.dataType === "object" &&
    store.dataType !== null
  );
}

/** Longest source name accepted, in UTF-16 code units (Tracee sets no limit). */
export const MAX_SOURCE_LENGTH = 256;

/**
 * Checks a source name: a non-empty string of at most {@link MAX_SOURCE_LENGTH}
 * characters. Throws `INVALID_ARGUMENT` otherwise. Stores call it first in
 * every method that takes a source.
 */
export function checkSource(source: unknown): asserts source is string {
  if (typeof source !== "string") throw invalidArgument(`source must be a string, got ${typeof source}`);
  if (source === "") throw invalidArgument("source is empty: every write names the source it comes from");
  if (source.length > MAX_SOURCE_LENGTH) {
    throw invalidArgument(`source is ${source.length} characters long, more than ${MAX_SOURCE_LENGTH}`);
  }
}
