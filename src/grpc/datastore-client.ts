/**
 * {@link DataStoreClient}: a client of Tracee's writable datastores service
 * (`tracee.v1beta1.datastores.DataStoreService`), raw and typed.
 *
 * @module
 */
import { status as Status } from "@grpc/grpc-js";
import { type AnyMessage, type MessageType, packAny } from "../datastores/any.js";
import type { StoreEntry } from "../datastores/store.js";
import { type IPReputation, ipAddressKeyType, ipReputationType } from "../datastores/types.js";
import { ClearSourceResponse, ListSourcesResponse, WriteBatchDataResponse } from "../gen/tracee/v1beta1/datastores/writable.js";
import { TRACEE_DEFAULT_ADDRESS } from "./address.js";
import type { DataSourceClientOptions, Entries } from "./client.js";
import { writeAll, type WriteAllOptions, type WriteAllResult } from "./datastore-batch.js";
import { type DataStoreCallOptions, UnaryCaller } from "./datastore-call.js";
import {
  BatchHeader,
  clearSourceRequest,
  DATA_STORE_PATHS,
  deleteDataRequest,
  encodeDataEntry,
  fieldSize,
  listSourcesRequest,
  writeDataRequest,
} from "./datastore-wire.js";
import { DataSourceClientError } from "./errors.js";

/**
 * Options of {@link DataStoreClient}: those of `DataSourceClient` that apply
 * (credentials, `deadlineMs`, `connectTimeoutMs`, `maxConcurrentCalls`,
 * `metadata`, `channelOptions`).
 */
export type DataStoreClientOptions = Omit<DataSourceClientOptions, "maxDepth">;

/** One entry as it travels: key and data, each packed in an `Any` (see `packAny`). */
export interface RawDataEntry {
  readonly key: AnyMessage;
  readonly data: AnyMessage;
}

/** A `WriteData` request. */
export interface WriteDataRequest extends RawDataEntry {
  readonly store: string;
  readonly source: string;
}

/** A `WriteBatchData` request. */
export interface WriteBatchDataRequest {
  readonly store: string;
  readonly source: string;
  readonly entries: readonly RawDataEntry[];
}

/** A `DeleteData` request. */
export interface DeleteDataRequest {
  readonly store: string;
  readonly source: string;
  readonly key: AnyMessage;
}

/** A `ClearSource` request. */
export interface ClearSourceRequest {
  readonly store: string;
  readonly source: string;
}

/** A `ListSources` request. */
export interface ListSourcesRequest {
  readonly store: string;
}

/**
 * One store of a {@link DataStoreClient}, with its key and data types: entries
 * are plain values, packed into `Any`s of those types on the way out. Every
 * method rejects with a `DataSourceClientError`; a key or data that cannot be
 * encoded rejects with `INVALID_ARGUMENT` before anything is sent.
 */
export interface RemoteDataStore<K, D> {
  /** The store's name on the server, such as `"ip_reputation"`. */
  readonly name: string;
  readonly keyType: MessageType<K>;
  readonly dataType: MessageType<D>;
  /** Writes one entry owned by `source` (`WriteData`). */
  write(source: string, entry: StoreEntry<K, D>, options?: DataStoreCallOptions): Promise<void>;
  /**
   * Writes entries owned by `source` in one `WriteBatchData` call, all or
   * none; resolves with the server's `written_count`. No entries: nothing is
   * sent, and it resolves with 0. For more entries than one message holds,
   * use {@link writeAll}.
   */
  writeBatch(source: string, entries: Iterable<StoreEntry<K, D>>, options?: DataStoreCallOptions): Promise<number>;
  /** Removes `source`'s entry for `key` (`DeleteData`); removing what is not there is no error. */
  delete(source: string, key: K, options?: DataStoreCallOptions): Promise<void>;
  /** Removes every entry `source` wrote (`ClearSource`); resolves with the server's `deleted_count`. */
  clear(source: string, options?: DataStoreCallOptions): Promise<number>;
  /** The sources that hold entries in the store (`ListSources`). */
  listSources(options?: DataStoreCallOptions): Promise<string[]>;
  /**
   * Writes any number of entries owned by `source` in `WriteBatchData` calls
   * of at most `maxBatchBytes` and `maxBatchEntries`, reading `entries` (an
   * array, a generator, an async iterable such as a file's parsed lines) only
   * as fast as batches go out. Resolves with the totals; rejects with a
   * `WriteAllError` that says what was written before the failure and where
   * to resume.
   */
  writeAll(source: string, entries: Entries<StoreEntry<K, D>>, options?: WriteAllOptions): Promise<WriteAllResult>;
}

function encodeFailure(err: unknown, where: string): DataSourceClientError {
  const reason = err instanceof Error ? err.message : String(err);
  return new DataSourceClientError(Status.INVALID_ARGUMENT, `${where}${reason} (not sent)`, { cause: err });
}

function decodeResponse<T>(bytes: Buffer | undefined, decode: (bytes: Uint8Array) => T, method: string): T {
  try {
    return decode(bytes ?? new Uint8Array(0));
  } catch (err) {
    throw new DataSourceClientError(
      Status.INTERNAL,
      `the server's ${method} response does not decode: ${err instanceof Error ? err.message : String(err)}`,
      { cause: err },
    );
  }
}

/**
 * A client of Tracee's `DataStoreService` (`tracee.v1beta1.datastores`):
 * writes, deletes and clears entries of writable datastores — Tracee's own
 * `ip_reputation`, or any store a server of this SDK serves — and lists their
 * sources.
 *
 * The raw methods mirror the five RPCs and take keys and data already packed
 * in `Any`s; {@link store} and {@link ipReputation} give a typed view of one
 * store. Calls share one HTTP/2 connection, made on first use and remade
 * after the server restarts. Every failure rejects with a
 * `DataSourceClientError` carrying the gRPC status (`NOT_FOUND` for an
 * unknown store, `INVALID_ARGUMENT` with the server's reason, `UNAVAILABLE`
 * without a server, …). The constructor throws `TypeError` for an unusable
 * address.
 *
 * @example
 * ```ts
 * const client = new DataStoreClient("unix:///var/run/tracee.sock");
 * const reputation = client.ipReputation();
 * await reputation.write("threat-feed", {
 *   key: "203.0.113.7",
 *   data: { status: "deny", severity: 8, tags: ["c2"], lastUpdated: new Date(), metadata: {} },
 * });
 * const { written } = await reputation.writeAll("threat-feed", feedEntries());
 * client.close();
 * ```
 */
export class DataStoreClient {
  /** The address this client dials (unix addresses in `unix:///abs` form). */
  readonly address: string;
  readonly #caller: UnaryCaller;

  /**
   * @param address - `unix:///path` or `host:port` (also `dns:///host:port`);
   *   defaults to Tracee's `unix:///var/run/tracee.sock`.
   */
  constructor(address: string = TRACEE_DEFAULT_ADDRESS, options: DataStoreClientOptions = {}) {
    this.#caller = new UnaryCaller(address, options);
    this.address = this.#caller.address;
  }

  /** `WriteData`: writes one entry owned by `source` into `store`. */
  async writeData(request: WriteDataRequest, options?: DataStoreCallOptions): Promise<void> {
    let entry: Buffer;
    try {
      entry = encodeDataEntry(request.key, request.data);
    } catch (err) {
      throw encodeFailure(err, "entry: ");
    }
    await this.#caller.call(DATA_STORE_PATHS.writeData, writeDataRequest(request.store, request.source, entry), options);
  }

  /** `WriteBatchData`: writes entries owned by `source`, all or none; resolves with the server's `written_count` (0 without a call for no entries). */
  async writeBatchData(request: WriteBatchDataRequest, options?: DataStoreCallOptions): Promise<number> {
    return this.#writeBatch(request.store, request.source, request.entries, (e) => encodeDataEntry(e.key, e.data), options);
  }

  /** `DeleteData`: removes `source`'s entry for `key`. */
  async deleteData(request: DeleteDataRequest, options?: DataStoreCallOptions): Promise<void> {
    let bytes: Buffer;
    try {
      bytes = deleteDataRequest(request.store, request.source, request.key);
    } catch (err) {
      throw encodeFailure(err, "key: ");
    }
    await this.#caller.call(DATA_STORE_PATHS.deleteData, bytes, options);
  }

  /** `ClearSource`: removes every entry `source` wrote to `store`; resolves with the server's `deleted_count`. */
  async clearSource(request: ClearSourceRequest, options?: DataStoreCallOptions): Promise<number> {
    const response = await this.#caller.call(DATA_STORE_PATHS.clearSource, clearSourceRequest(request.store, request.source), options);
    return decodeResponse(response, (b) => ClearSourceResponse.decode(b).deletedCount, "ClearSource");
  }

  /** `ListSources`: the sources that hold entries in `store`, as the server lists them. */
  async listSources(request: ListSourcesRequest, options?: DataStoreCallOptions): Promise<string[]> {
    const response = await this.#caller.call(DATA_STORE_PATHS.listSources, listSourcesRequest(request.store), options);
    return decodeResponse(response, (b) => ListSourcesResponse.decode(b).sources, "ListSources");
  }

  /**
   * A typed view of the store `name`: keys and data are values of `types`,
   * packed into `Any`s on the way out.
   *
   * @example
   * ```ts
   * // valueType: google.protobuf.Value, from the tracee-ds entry point
   * const hosts = client.store("known_hosts", { key: valueType, data: valueType });
   * await hosts.write("inventory", { key: "web-1", data: { team: "payments" } });
   * ```
   */
  store<K, D>(name: string, types: { readonly key: MessageType<K>; readonly data: MessageType<D> }): RemoteDataStore<K, D> {
    const keyType = types.key;
    const dataType = types.data;
    const encodeEntry = (entry: StoreEntry<K, D>): Buffer => {
      let key: AnyMessage;
      try {
        key = packAny(keyType, entry.key);
      } catch (err) {
        throw new Error(`key: ${err instanceof Error ? err.message : String(err)}`, { cause: err });
      }
      let data: AnyMessage;
      try {
        data = packAny(dataType, entry.data);
      } catch (err) {
        throw new Error(`data: ${err instanceof Error ? err.message : String(err)}`, { cause: err });
      }
      return encodeDataEntry(key, data);
    };
    const caller = this.#caller;
    return Object.freeze({
      name,
      keyType,
      dataType,
      write: async (source: string, entry: StoreEntry<K, D>, options?: DataStoreCallOptions): Promise<void> => {
        let bytes: Buffer;
        try {
          bytes = encodeEntry(entry);
        } catch (err) {
          throw encodeFailure(err, "");
        }
        await caller.call(DATA_STORE_PATHS.writeData, writeDataRequest(name, source, bytes), options);
      },
      writeBatch: (source: string, entries: Iterable<StoreEntry<K, D>>, options?: DataStoreCallOptions) =>
        this.#writeBatch(name, source, entries, encodeEntry, options),
      delete: async (source: string, key: K, options?: DataStoreCallOptions): Promise<void> => {
        let packed: AnyMessage;
        try {
          packed = packAny(keyType, key);
        } catch (err) {
          throw encodeFailure(err, "key: ");
        }
        await caller.call(DATA_STORE_PATHS.deleteData, deleteDataRequest(name, source, packed), options);
      },
      clear: (source: string, options?: DataStoreCallOptions) => this.clearSource({ store: name, source }, options),
      listSources: (options?: DataStoreCallOptions) => this.listSources({ store: name }, options),
      writeAll: (source: string, entries: Entries<StoreEntry<K, D>>, options?: WriteAllOptions) =>
        writeAll(new BatchHeader(name, source), entries, encodeEntry, (request, callOptions) => this.#sendBatch(request, callOptions), options),
    });
  }

  /**
   * Tracee's `ip_reputation` store (or another of the same types, by `name`):
   * keys are IP addresses, data {@link IPReputation} verdicts.
   */
  ipReputation(name = "ip_reputation"): RemoteDataStore<string, IPReputation> {
    return this.store(name, { key: ipAddressKeyType, data: ipReputationType });
  }

  /**
   * Waits until the client is connected, trying again as the server may be
   * starting (a `tracee-ds run --serve` just launched), or rejects with
   * `UNAVAILABLE` after `timeoutMs` (default 5000). As `DataSourceClient`'s.
   */
  waitForReady(timeoutMs = 5000): Promise<void> {
    return this.#caller.waitForReady(timeoutMs);
  }

  /**
   * Closes the connection. Calls in flight reject with `CANCELLED` (whether
   * the server applied them is unknown), and so do later calls.
   */
  close(): void {
    this.#caller.close();
  }

  async #writeBatch<T>(
    store: string,
    source: string,
    entries: Iterable<T>,
    encode: (entry: T) => Buffer,
    options: DataStoreCallOptions | undefined,
  ): Promise<number> {
    const encoded: Buffer[] = [];
    let size = 0;
    let index = 0;
    for (const entry of entries) {
      let bytes: Buffer;
      try {
        bytes = encode(entry);
      } catch (err) {
        throw encodeFailure(err, `entry ${index}: `);
      }
      encoded.push(bytes);
      size += fieldSize(bytes.length);
      index++;
    }
    // Nothing to write: no call (a server refuses an empty batch), as writeStream of no entries sends nothing.
    if (encoded.length === 0) return 0;
    return this.#sendBatch(new BatchHeader(store, source).frame(encoded, size), options);
  }

  async #sendBatch(request: Buffer, options: DataStoreCallOptions | undefined): Promise<number> {
    const response = await this.#caller.call(DATA_STORE_PATHS.writeBatchData, request, options);
    return decodeResponse(response, (b) => WriteBatchDataResponse.decode(b).writtenCount, "WriteBatchData");
  }
}
