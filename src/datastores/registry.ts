/**
 * {@link DataStoreRegistry}: the stores of a process by name — what the
 * `DataStoreService` server serves and what detectors' `init` looks stores
 * up in. Go: the writable part of `datastores.Registry`.
 *
 * @module
 */
import type { DataStore, WritableStore } from "./store.js";
import { isWritableStore } from "./store.js";

const STORE_NAME = /^[A-Za-z0-9_.-]+$/;

/** Stores by name. A name is registered once. */
export class DataStoreRegistry {
  readonly #stores = new Map<string, DataStore>();

  constructor(stores: Iterable<DataStore> = []) {
    for (const store of stores) this.register(store);
  }

  /**
   * Adds a store. Throws when the name is taken (Go's registry refuses too),
   * or is not made of letters, digits, `_`, `.` and `-`.
   */
  register(store: DataStore): this {
    if (!STORE_NAME.test(store.name)) {
      throw new TypeError(`a store name is letters, digits, "_", "." and "-"; got ${JSON.stringify(store.name)}`);
    }
    if (this.#stores.has(store.name)) throw new Error(`a store named "${store.name}" is already registered`);
    this.#stores.set(store.name, store);
    return this;
  }

  /** Removes the store with this name; whether there was one. */
  unregister(name: string): boolean {
    return this.#stores.delete(name);
  }

  /** The store with this name. Go: `GetCustom`. */
  get(name: string): DataStore | undefined {
    return this.#stores.get(name);
  }

  /** The writable store with this name, or `undefined` (none, or a read-only one). */
  getWritable(name: string): WritableStore | undefined {
    const store = this.#stores.get(name);
    return isWritableStore(store) ? store : undefined;
  }

  has(name: string): boolean {
    return this.#stores.has(name);
  }

  /** The registered names, sorted. */
  names(): string[] {
    return [...this.#stores.keys()].sort();
  }

  /** The registered stores, by name. */
  list(): DataStore[] {
    return this.names().map((name) => this.#stores.get(name) as DataStore);
  }

  get size(): number {
    return this.#stores.size;
  }
}
