/**
 * `fakeDataStore`: an in-memory writable datastore for detector tests,
 * keeping the store contract (sources, atomic batches, source isolation)
 * and recording every call.
 *
 * @module
 */
import { deepFreeze } from "../datastores/stores/partitions.js";
import type { JsonValue } from "type-fest";
import type { MessageType } from "../datastores/any.js";
import { isDataStoreError, invalidArgument } from "../datastores/errors.js";
import { checkSource, type StoreEntry, type WritableStore } from "../datastores/store.js";
import { valueType } from "../datastores/types.js";

/** The methods of a {@link FakeDataStore} that record their calls. */
export type StoreMethod = "get" | "write" | "writeBatch" | "delete" | "clear" | "listSources";

/**
 * One recorded call: the method, its arguments, and what it returned or
 * threw. Arguments are recorded as given (a refused call records them too).
 */
export type StoreCall<K = unknown, D = unknown> =
  | { readonly method: "get"; readonly key: K; readonly result: D | undefined }
  | { readonly method: "write"; readonly source: string; readonly entry: StoreEntry<K, D>; readonly error?: unknown }
  | { readonly method: "writeBatch"; readonly source: string; readonly entries: readonly StoreEntry<K, D>[]; readonly result?: number; readonly error?: unknown }
  | { readonly method: "delete"; readonly source: string; readonly key: K; readonly result?: boolean; readonly error?: unknown }
  | { readonly method: "clear"; readonly source: string; readonly result?: number; readonly error?: unknown }
  | { readonly method: "listSources"; readonly result?: readonly string[]; readonly error?: unknown };

/** Entries per source: a plain object (source → entries) or a Map. */
export type FakeStoreEntries<K, D> =
  | Readonly<Record<string, readonly StoreEntry<K, D>[]>>
  | ReadonlyMap<string, readonly StoreEntry<K, D>[]>;

/** Options of {@link fakeDataStore}. */
export interface FakeDataStoreOptions<K, D> {
  /** The name it registers under (`"ip_reputation"`). */
  readonly name: string;
  /** How keys travel (default `valueType`: any JSON value). */
  readonly keyType?: MessageType<K>;
  /** How data travels (default `valueType`). */
  readonly dataType?: MessageType<D>;
  /** What each source holds before any call, in order (seeded entries count as writes, unrecorded). */
  readonly entries?: FakeStoreEntries<K, D>;
  /**
   * Refuses an entry by throwing: a `DataStoreError` passes through, any
   * other error becomes `INVALID_ARGUMENT` (the original as `cause`).
   * Without it, an entry is refused only when `keyType` or `dataType`
   * cannot encode it.
   */
  readonly validate?: (entry: StoreEntry<K, D>, source: string) => void;
}

/** An in-memory {@link WritableStore} that records its calls; made by {@link fakeDataStore}. */
export interface FakeDataStore<K = JsonValue, D = JsonValue> extends WritableStore<K, D> {
  /** Every call so far, oldest first. */
  readonly calls: readonly StoreCall<K, D>[];
  /** The `get` calls (what detectors read), oldest first. */
  readonly gets: readonly Extract<StoreCall<K, D>, { method: "get" }>[];
  write(source: string, entry: StoreEntry<K, D>): void;
  writeBatch(source: string, entries: readonly StoreEntry<K, D>[]): number;
  delete(source: string, key: K): boolean;
  clear(source: string): number;
  listSources(): string[];
  /** Makes the next call of `method` throw `error` and change nothing (queued per method). */
  failNext(method: Exclude<StoreMethod, "get">, error: unknown): this;
  /** Writes an entry for `source` without recording a call (test setup). Throws for an entry the store refuses. */
  set(source: string, key: K, data: D): this;
  /** What each source holds now, sources sorted, entries in write order. */
  snapshot(): Map<string, StoreEntry<K, D>[]>;
  /** Forgets the recorded calls and queued failures; keeps the entries. */
  resetCalls(): void;
}

interface Held<K, D> {
  readonly key: K;
  readonly data: D;
  /** When it was written: `get` picks the latest among sources. */
  readonly seq: number;
}

const hex = (bytes: Uint8Array) => Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString("hex");

class FakeStore<K, D> implements FakeDataStore<K, D> {
  readonly name: string;
  readonly keyType: MessageType<K>;
  readonly dataType: MessageType<D>;
  readonly #validate: ((entry: StoreEntry<K, D>, source: string) => void) | undefined;
  /** Source → key identity (the key's encoded bytes) → entry. */
  readonly #sources = new Map<string, Map<string, Held<K, D>>>();
  readonly #calls: StoreCall<K, D>[] = [];
  readonly #failures = new Map<StoreMethod, unknown[]>();
  #seq = 0;

  constructor(options: FakeDataStoreOptions<K, D>) {
    this.name = options.name;
    this.keyType = options.keyType ?? (valueType as unknown as MessageType<K>);
    this.dataType = options.dataType ?? (valueType as unknown as MessageType<D>);
    this.#validate = options.validate;
    const seeded = options.entries instanceof Map ? [...options.entries] : Object.entries(options.entries ?? {});
    for (const [source, entries] of seeded as [string, readonly StoreEntry<K, D>[]][]) {
      for (const entry of entries) this.set(source, entry.key, entry.data);
    }
  }

  get calls(): readonly StoreCall<K, D>[] {
    return [...this.#calls];
  }

  get gets(): readonly Extract<StoreCall<K, D>, { method: "get" }>[] {
    return this.#calls.filter((c): c is Extract<StoreCall<K, D>, { method: "get" }> => c.method === "get");
  }

  get size(): number {
    let n = 0;
    for (const held of this.#sources.values()) n += held.size;
    return n;
  }

  get(key: K): D | undefined {
    let id: string | undefined;
    try {
      id = hex(this.keyType.encode(key));
    } catch {
      id = undefined; // a key that cannot be encoded is held by nobody
    }
    let latest: Held<K, D> | undefined;
    if (id !== undefined) {
      for (const held of this.#sources.values()) {
        const entry = held.get(id);
        if (entry !== undefined && (latest === undefined || entry.seq > latest.seq)) latest = entry;
      }
    }
    this.#calls.push({ method: "get", key, result: latest?.data });
    return latest?.data;
  }

  write(source: string, entry: StoreEntry<K, D>): void {
    this.#record({ method: "write", source, entry }, () => {
      checkSource(source);
      const [id, held] = this.#accept(source, entry);
      this.#held(source).set(id, held);
      return undefined;
    });
  }

  writeBatch(source: string, entries: readonly StoreEntry<K, D>[]): number {
    return this.#record({ method: "writeBatch", source, entries }, () => {
      checkSource(source);
      if (!Array.isArray(entries)) throw invalidArgument("entries must be an array");
      // Every entry is checked before any is stored: all or none.
      const staged = new Map<string, Held<K, D>>();
      for (const [i, entry] of entries.entries()) {
        const [id, held] = this.#accept(source, entry, `entry ${i}: `);
        staged.delete(id); // a key given twice keeps its later entry, in its later place
        staged.set(id, held);
      }
      const target = this.#held(source);
      for (const [id, held] of staged) target.set(id, held);
      return staged.size;
    });
  }

  delete(source: string, key: K): boolean {
    return this.#record({ method: "delete", source, key }, () => {
      checkSource(source);
      const id = this.#keyId(key, "");
      const held = this.#sources.get(source);
      const had = held?.delete(id) ?? false;
      if (held?.size === 0) this.#sources.delete(source);
      return had;
    });
  }

  clear(source: string): number {
    return this.#record({ method: "clear", source }, () => {
      checkSource(source);
      const count = this.#sources.get(source)?.size ?? 0;
      this.#sources.delete(source);
      return count;
    });
  }

  listSources(): string[] {
    return this.#record({ method: "listSources" }, () => [...this.#sources.keys()].sort());
  }

  failNext(method: Exclude<StoreMethod, "get">, error: unknown): this {
    const queue = this.#failures.get(method) ?? [];
    queue.push(error);
    this.#failures.set(method, queue);
    return this;
  }

  set(source: string, key: K, data: D): this {
    checkSource(source);
    const [id, held] = this.#accept(source, { key, data });
    this.#held(source).set(id, held);
    return this;
  }

  snapshot(): Map<string, StoreEntry<K, D>[]> {
    const out = new Map<string, StoreEntry<K, D>[]>();
    for (const source of [...this.#sources.keys()].sort()) {
      const held = [...(this.#sources.get(source)?.values() ?? [])].sort((a, b) => a.seq - b.seq);
      out.set(source, held.map(({ key, data }) => ({ key, data })));
    }
    return out;
  }

  resetCalls(): void {
    this.#calls.length = 0;
    this.#failures.clear();
  }

  /** Runs `fn` unless a failure is queued for the method, and records the call with its result or error. */
  #record<T>(call: StoreCall<K, D>, fn: () => T): T {
    try {
      const queued = this.#failures.get(call.method);
      if (queued !== undefined && queued.length > 0) throw queued.shift();
      const result = fn();
      this.#calls.push(result === undefined ? call : ({ ...call, result } as StoreCall<K, D>));
      return result;
    } catch (error) {
      this.#calls.push({ ...call, error } as StoreCall<K, D>);
      throw error;
    }
  }

  #held(source: string): Map<string, Held<K, D>> {
    let held = this.#sources.get(source);
    if (held === undefined) {
      held = new Map();
      this.#sources.set(source, held);
    }
    return held;
  }

  #keyId(key: K, where: string): string {
    try {
      return hex(this.keyType.encode(key));
    } catch (err) {
      throw invalidArgument(`${where}key is not a ${this.keyType.typeName}: ${(err as Error)?.message ?? String(err)}`, { cause: err });
    }
  }

  /** Checks an entry; returns its key identity and what to hold: the data as it comes back from the wire. */
  #accept(source: string, entry: StoreEntry<K, D>, where = ""): [string, Held<K, D>] {
    if (typeof entry !== "object" || entry === null) throw invalidArgument(`${where}an entry is an object with a key and data`);
    const id = this.#keyId(entry.key, where);
    let data: D;
    try {
      // Frozen as the real stores hold it: a detector that changes what `get` returns fails here too.
      data = deepFreeze(this.dataType.decode(this.dataType.encode(entry.data)));
    } catch (err) {
      throw invalidArgument(`${where}data is not a ${this.dataType.typeName}: ${(err as Error)?.message ?? String(err)}`, { cause: err });
    }
    if (this.#validate !== undefined) {
      try {
        this.#validate(entry, source);
      } catch (err) {
        if (isDataStoreError(err)) throw err;
        throw invalidArgument(`${where}${(err as Error)?.message ?? String(err)}`, { cause: err });
      }
    }
    return [id, { key: entry.key, data, seq: ++this.#seq }];
  }
}

/**
 * An in-memory {@link WritableStore} for tests, keeping the store contract
 * and recording every call (`calls`, and `gets` for what detectors read).
 *
 * - Keys are the same key when `keyType` encodes them to the same bytes.
 * - An entry is refused with `INVALID_ARGUMENT` when `keyType` or `dataType`
 *   cannot encode it, or `validate` throws; the data held is what
 *   `dataType.decode(dataType.encode(data))` gives back, as after a gRPC write.
 * - `writeBatch` is all or none; `delete` and `clear` touch only the
 *   caller's source; `listSources` is sorted; a bad source name is
 *   `INVALID_ARGUMENT` (`checkSource`).
 * - `get(key)`: when several sources hold the key, the latest write wins.
 *   What it returns is frozen, as in the real stores.
 * - It checks no more than the types do: it neither normalises IP addresses
 *   nor validates reputations. For code that depends on those rules, test
 *   with `ipReputationStore()` itself.
 * - `failNext(method, err)` makes the next call throw `err` and change nothing.
 *
 * @example
 * ```ts
 * const store = fakeDataStore({
 *   name: "ip_reputation",
 *   keyType: ipAddressKeyType,
 *   dataType: ipReputationType,
 *   entries: { "threat-feed": [{ key: "203.0.113.7", data: { status: "deny", severity: 8, tags: ["c2"], metadata: {} } }] },
 * });
 * store.get("203.0.113.7")?.status; // "deny"
 * ```
 */
export function fakeDataStore<K = JsonValue, D = JsonValue>(options: FakeDataStoreOptions<K, D>): FakeDataStore<K, D> {
  return new FakeStore<K, D>(options);
}
