/**
 * The DataStoreService implementation: Tracee's `tracee.v1beta1.datastores`
 * service over a registry of writable stores, with Tracee's status codes
 * where they are sound (docs/grpc.md, "Serving datastores") and without its defects:
 * client mistakes are `INVALID_ARGUMENT` (never `INTERNAL`), batches are all
 * or nothing, counts are the store's real counts, and no request crashes the
 * server.
 *
 * @module
 */
import {
  type Metadata,
  type sendUnaryData,
  type ServerUnaryCall,
  type ServiceDefinition,
  status as Status,
  type UntypedServiceImplementation,
} from "@grpc/grpc-js";
import type { JsonValue } from "type-fest";
import { type AnyMessage, type MessageType, unpackAny } from "../datastores/any.js";
import { ErrInvalidArgument, ErrNotImplemented, ErrStoreNotFound, ErrStoreUnhealthy } from "../datastores/errors.js";
import { checkSource, type DataStore, isWritableStore, type StoreEntry, type WritableStore } from "../datastores/store.js";
import { valueType } from "../datastores/types.js";
import { fromValueBinary } from "../codec/wire/decode-binary.js";
import { errorIs } from "../detect/errors.js";
import { silentLogger } from "../detect/registry.js";
import type { Logger } from "../detect/signature.js";
import { runExclusive } from "../internal/exclusive.js";
import { isThenable } from "../internal/promise.js";
import { CallStatus, firstLine } from "./call-status.js";
import {
  countResponse,
  type DataStoreMethod,
  type DataStoreRequest,
  type DecodedRequest,
  decodeDataStoreRequest,
  EMPTY_RESPONSE,
  type RawEntry,
  sourcesResponse,
} from "./datastore-codec.js";
import { type DataStoreLimits, type ResolvedDataStoreLimits, resolveDataStoreLimits } from "./datastore-limits.js";
import { methodDefinition } from "./definition.js";
import { type Authorize, type AuthorizeRequest, deadlinePassed } from "./service.js";
import { type StatusName, statusName } from "./status-names.js";

export type { DataStoreMethod };

/** The fully qualified gRPC service name, as Tracee defines it. */
export const DATASTORE_SERVICE_NAME = "tracee.v1beta1.datastores.DataStoreService";

/** The five methods, in the order of the proto. */
export const DATASTORE_METHODS: readonly DataStoreMethod[] = Object.freeze([
  "WriteData",
  "WriteBatchData",
  "DeleteData",
  "ClearSource",
  "ListSources",
]);

/** Looks a store up by name; a {@link DataStoreRegistry} is one. */
export interface DataStoreLookup {
  get(name: string): DataStore | undefined;
}

/** Options of {@link dataStoreService} (and of {@link serveDataStores}). */
export interface DataStoreServiceOptions extends DataStoreLimits {
  /**
   * Called before every call reaches a store, with `method`, `store` and
   * `source` (`""` for `ListSources`); sync or async. Runs before the store
   * is looked up, so a refused client cannot probe which stores exist. The
   * same hook as the DataSourceService's: on a server that serves both, it
   * sees both services' calls (their `method` names differ).
   */
  readonly authorize?: Authorize;
  /** Receives failed store operations, refusals by limits and authorize hook errors. Defaults to silence. */
  readonly logger?: Logger;
  /**
   * Whether an `INTERNAL` status carries the store error's message (its first
   * line; never a stack). Default `false`: clients see a generic message and
   * the full error goes to `logger.error`.
   */
  readonly exposeInternalErrors?: boolean;
}

/** A snapshot of what a DataStoreService has done. */
export interface DataStoreStats {
  /** Store operations (`write`, `writeBatch`, `delete`, `clear`, `listSources`) queued or running now. */
  readonly pendingOperations: number;
  /**
   * Calls answered, by method and status name (`"OK"`, `"INVALID_ARGUMENT"`,
   * …); a status not sent yet is absent. Calls grpc-js refuses before the
   * service sees them (a message over `maxMessageBytes`) are not counted.
   */
  readonly answers: Readonly<Record<DataStoreMethod, Readonly<Partial<Record<StatusName, number>>>>>;
  /** Entries the stores reported written: 1 per `WriteData`, `written_count` per `WriteBatchData`. */
  readonly entriesWritten: number;
  /** Entries the stores reported removed: 1 per `DeleteData` that found its key, `deleted_count` per `ClearSource`. */
  readonly entriesDeleted: number;
  /** How many calls each limit refused (each refusal is also logged at warn). */
  readonly limitsExceeded: Readonly<{ maxBatchEntries: number }>;
}

/**
 * A DataStoreService to add to a `grpc.Server` you run yourself.
 *
 * `definition` carries this SDK's own request decoder, so pass both parts to
 * `server.addService(service.definition, service.implementation)`.
 */
export interface DataStoreServiceHandle {
  /** The grpc-js service definition (paths and (de)serializers). */
  readonly definition: ServiceDefinition;
  /** The method handlers, keyed like `definition`. */
  readonly implementation: UntypedServiceImplementation;
  /**
   * Resolves once no store operation started by this service is running.
   * Call it after `server.forceShutdown()` so a write that had begun can
   * finish before you tear down the stores.
   */
  idle(): Promise<void>;
  /** What the service has done so far. */
  stats(): DataStoreStats;
}

/** Longest status message sent: it travels in a header. */
const MAX_DETAILS = 1024;

function clip(details: string): string {
  return details.length > MAX_DETAILS ? `${details.slice(0, MAX_DETAILS)}…` : details;
}

/** A store name for a message: quoted, at most 100 characters. */
function quote(name: string): string {
  return JSON.stringify(name.length > 100 ? `${name.slice(0, 100)}…` : name);
}

const KINDS: readonly [unknown, Status][] = [
  [ErrInvalidArgument, Status.INVALID_ARGUMENT],
  [ErrStoreNotFound, Status.NOT_FOUND],
  [ErrStoreUnhealthy, Status.UNAVAILABLE],
  [ErrNotImplemented, Status.UNIMPLEMENTED],
];

const isCount = (n: unknown): n is number => typeof n === "number" && Number.isSafeInteger(n) && n >= 0;

/** One store operation, ready to run, and how its result becomes the response. */
interface Operation {
  run(): unknown;
  /** The response for `result`, or `undefined` when the store returned something it should not. */
  respond(result: unknown): Buffer | undefined;
}

/**
 * Builds the DataStoreService over `stores`, for a `grpc.Server` you run
 * yourself; {@link serveDataStores} does this for you.
 *
 * Semantics (docs/grpc.md, "Serving datastores"): a request that cannot be decoded,
 * an empty `store_name` or source, a missing entry, key or data, an `Any` of
 * the wrong type or with bytes that are not its type, an empty batch, or a
 * store throwing an `INVALID_ARGUMENT` {@link DataStoreError} →
 * `INVALID_ARGUMENT`; a batch with one bad entry writes nothing (`entry N: …`,
 * 0-based); unknown store → `NOT_FOUND`; a read-only store → `UNIMPLEMENTED`;
 * store errors of kind `NOT_FOUND`/`UNAVAILABLE`/`UNIMPLEMENTED` → that
 * status; any other store error → `INTERNAL` (generic message unless
 * `exposeInternalErrors`); authorize refusing → `PERMISSION_DENIED`; a batch
 * over `maxBatchEntries` → `RESOURCE_EXHAUSTED`. Operations on one store never
 * overlap (also with the engine's reads of it); a call cancelled or past its
 * deadline before its operation starts changes nothing. Throws `RangeError`
 * for invalid limits.
 *
 * @example
 * ```ts
 * const server = new grpc.Server();
 * const service = dataStoreService(new DataStoreRegistry().register(myStore));
 * server.addService(service.definition, service.implementation);
 * ```
 */
export function dataStoreService(stores: DataStoreLookup, options: DataStoreServiceOptions = {}): DataStoreServiceHandle {
  return createDataStoreService(stores, options, resolveDataStoreLimits(options));
}

/**
 * {@link dataStoreService} with limits already resolved; `options`' own limit
 * fields are ignored.
 *
 * @internal
 */
export function createDataStoreService(
  stores: DataStoreLookup,
  options: DataStoreServiceOptions,
  limits: ResolvedDataStoreLimits,
): DataStoreServiceHandle {
  const logger = options.logger ?? silentLogger;
  const authorize = options.authorize;
  const exposeInternalErrors = options.exposeInternalErrors === true;
  const inflight = new Set<Promise<void>>();
  const answers = Object.fromEntries(DATASTORE_METHODS.map((m) => [m, {}])) as Record<
    DataStoreMethod,
    Partial<Record<StatusName, number>>
  >;
  const counters = { pending: 0, written: 0, deleted: 0, maxBatchEntries: 0 };

  // google.protobuf.Value keys and data decode with the service's depth limit.
  const depth = { maxDepth: limits.maxDepth };
  const limitedValueType: MessageType<JsonValue> = { ...valueType, decode: (bytes) => fromValueBinary(bytes, depth) };
  const decoderOf = <T>(type: MessageType<T>): MessageType<T> =>
    (type as unknown) === valueType ? (limitedValueType as unknown as MessageType<T>) : type;

  function answer(method: DataStoreMethod, callback: sendUnaryData<Buffer>, outcome: CallStatus | Buffer): void {
    const code = outcome instanceof CallStatus ? outcome.code : Status.OK;
    const counts = answers[method];
    const name = statusName(code);
    counts[name] = (counts[name] ?? 0) + 1;
    if (outcome instanceof CallStatus) callback({ code, details: clip(outcome.details) });
    else callback(null, outcome);
  }

  function storeFailure(err: unknown, method: DataStoreMethod, storeName: string): CallStatus {
    const where = `datastore ${quote(storeName)}`;
    for (const [kind, code] of KINDS) {
      if (errorIs(err, kind)) return new CallStatus(code, `${where}: ${firstLine(err)}`);
    }
    logger.error("datastore operation failed", "method", method, "store", storeName, "error", err);
    return new CallStatus(Status.INTERNAL, exposeInternalErrors ? `${where}: ${firstLine(err)}` : `${where}: internal error`);
  }

  /** What is wrong with a request before any store is involved, or `undefined`. */
  function check(method: DataStoreMethod, request: DataStoreRequest): CallStatus | undefined {
    if (request.storeName === "") return new CallStatus(Status.INVALID_ARGUMENT, "store_name is empty");
    if (method === "ListSources") return undefined;
    try {
      checkSource(request.source);
    } catch (err) {
      return new CallStatus(Status.INVALID_ARGUMENT, firstLine(err));
    }
    if (method === "WriteData" && request.entries.length === 0) {
      return new CallStatus(Status.INVALID_ARGUMENT, "entry is missing");
    }
    if (method === "WriteBatchData") {
      if (request.entryCount > limits.maxBatchEntries) {
        counters.maxBatchEntries++;
        logger.warn(
          "batch refused: too many entries",
          "store",
          request.storeName,
          "entries",
          request.entryCount,
          "limit",
          limits.maxBatchEntries,
        );
        return new CallStatus(
          Status.RESOURCE_EXHAUSTED,
          `batch of ${request.entryCount} entries is more than the limit of ${limits.maxBatchEntries}`,
        );
      }
      if (request.entryCount === 0) return new CallStatus(Status.INVALID_ARGUMENT, "batch has no entries");
    }
    return undefined;
  }

  /** Asks the authorize hook: `true`/`false` when it answered synchronously, else a promise that never rejects. */
  function ask(
    call: { metadata: Metadata; getPeer(): string },
    method: DataStoreMethod,
    store: string,
    source: string,
  ): boolean | Promise<boolean> {
    if (authorize === undefined) return true;
    const onError = (err: unknown): false => {
      logger.warn("authorize hook threw; refusing the call", "method", method, "store", store, "error", err);
      return false;
    };
    const request: AuthorizeRequest = {
      namespace: "",
      id: "",
      store,
      source,
      metadata: call.metadata,
      peer: call.getPeer(),
      method,
    };
    let verdict: boolean | PromiseLike<boolean>;
    try {
      verdict = authorize(request);
    } catch (err) {
      return onError(err);
    }
    if (isThenable(verdict)) return Promise.resolve(verdict).then((ok) => ok === true, onError);
    return verdict === true;
  }

  function lookup(storeName: string, method: DataStoreMethod): WritableStore | CallStatus {
    let store: DataStore | undefined;
    try {
      store = stores.get(storeName);
    } catch (err) {
      return storeFailure(err, method, storeName);
    }
    if (store === undefined || store === null) {
      return new CallStatus(Status.NOT_FOUND, `datastore ${quote(storeName)} not found`);
    }
    if (!isWritableStore(store)) {
      return new CallStatus(Status.UNIMPLEMENTED, `datastore ${quote(storeName)} is not writable`);
    }
    return store;
  }

  function unpackEntry(store: WritableStore, entry: RawEntry): StoreEntry<unknown, unknown> {
    return {
      key: unpackAny(entry.key, decoderOf(store.keyType), "key"),
      data: unpackAny(entry.data, decoderOf(store.dataType), "data"),
    };
  }

  /** The store operation a request asks for (its Anys unpacked), or why it cannot run. */
  function operation(method: DataStoreMethod, store: WritableStore, request: DataStoreRequest): Operation | CallStatus {
    const { source, storeName } = request;
    const invalid = (err: unknown, prefix: string) =>
      errorIs(err, ErrInvalidArgument)
        ? new CallStatus(Status.INVALID_ARGUMENT, `${prefix}${firstLine(err)}`)
        : storeFailure(err, method, storeName);
    const count = (kind: "written" | "deleted") => (result: unknown) => {
      if (!isCount(result)) return undefined;
      counters[kind] += result;
      return countResponse(result);
    };
    switch (method) {
      case "WriteData": {
        let entry: StoreEntry<unknown, unknown>;
        try {
          entry = unpackEntry(store, request.entries[0]!);
        } catch (err) {
          return invalid(err, "");
        }
        return {
          run: () => store.write(source, entry),
          respond: () => {
            counters.written++;
            return EMPTY_RESPONSE;
          },
        };
      }
      case "WriteBatchData": {
        const entries: StoreEntry<unknown, unknown>[] = new Array(request.entries.length);
        let i = 0;
        try {
          for (; i < request.entries.length; i++) entries[i] = unpackEntry(store, request.entries[i]!);
        } catch (err) {
          return invalid(err, `entry ${i}: `);
        }
        return { run: () => store.writeBatch(source, entries), respond: count("written") };
      }
      case "DeleteData": {
        let key: unknown;
        try {
          key = unpackAny(request.key as AnyMessage | undefined, decoderOf(store.keyType), "key");
        } catch (err) {
          return invalid(err, "");
        }
        return {
          run: () => store.delete(source, key),
          respond: (found) => {
            if (found === true) counters.deleted++;
            return EMPTY_RESPONSE;
          },
        };
      }
      case "ClearSource":
        return { run: () => store.clear(source), respond: count("deleted") };
      case "ListSources":
        return {
          run: () => store.listSources(),
          respond: (list) =>
            Array.isArray(list) && list.every((s) => typeof s === "string") ? sourcesResponse(list) : undefined,
        };
    }
  }

  /**
   * Runs `op` once earlier operations on `store` settled, unless the call is
   * cancelled or past its deadline by then; answers the call.
   */
  function execute(
    method: DataStoreMethod,
    store: WritableStore,
    storeName: string,
    op: Operation,
    call: { readonly cancelled: boolean; getDeadline(): Date | number },
    callback: sendUnaryData<Buffer>,
  ): void {
    let skipped: CallStatus | undefined;
    let result: unknown;
    const task = () => {
      if (deadlinePassed(call)) {
        skipped = new CallStatus(Status.DEADLINE_EXCEEDED, "deadline exceeded before the store operation");
        return undefined;
      }
      if (call.cancelled) {
        skipped = new CallStatus(Status.CANCELLED, "call cancelled before the store operation");
        return undefined;
      }
      const r = op.run();
      if (!isThenable(r)) {
        result = r;
        return undefined;
      }
      return Promise.resolve(r).then((v) => {
        result = v;
      });
    };
    const finish = (err: unknown, failed: boolean) => {
      if (failed) return answer(method, callback, storeFailure(err, method, storeName));
      if (skipped !== undefined) return answer(method, callback, skipped);
      const response = op.respond(result);
      if (response !== undefined) return answer(method, callback, response);
      logger.error("datastore returned an invalid result", "method", method, "store", storeName, "result", result);
      answer(method, callback, new CallStatus(Status.INTERNAL, `datastore ${quote(storeName)} returned an invalid result`));
    };
    counters.pending++;
    let pending: Promise<void> | undefined;
    try {
      pending = runExclusive(store, task);
    } catch (err) {
      counters.pending--;
      finish(err, true);
      return;
    }
    if (pending === undefined) {
      counters.pending--;
      finish(undefined, false);
      return;
    }
    const tracked: Promise<void> = pending
      .then(
        () => finish(undefined, false),
        (err: unknown) => finish(err, true),
      )
      .catch((err: unknown) => logger.error("datastore call failed to answer", "method", method, "error", err))
      .finally(() => {
        counters.pending--;
        inflight.delete(tracked);
      });
    inflight.add(tracked);
  }

  function handler(method: DataStoreMethod) {
    return (call: ServerUnaryCall<DecodedRequest, Buffer>, callback: sendUnaryData<Buffer>): void => {
      const request = call.request;
      if (!request.ok) return answer(method, callback, new CallStatus(request.code, request.details));
      const problem = check(method, request);
      if (problem !== undefined) return answer(method, callback, problem);
      const { storeName, source } = request;
      const proceed = () => {
        const store = lookup(storeName, method);
        if (store instanceof CallStatus) return answer(method, callback, store);
        const op = operation(method, store, request);
        if (op instanceof CallStatus) return answer(method, callback, op);
        execute(method, store, storeName, op, call, callback);
      };
      const denied = () =>
        answer(
          method,
          callback,
          new CallStatus(Status.PERMISSION_DENIED, `not allowed to call ${method} on datastore ${quote(storeName)}`),
        );
      const verdict = ask(call, method, storeName, method === "ListSources" ? "" : source);
      if (verdict === true) proceed();
      else if (verdict === false) denied();
      else void verdict.then((ok) => (ok ? proceed() : denied()));
    };
  }

  const definition: ServiceDefinition = Object.fromEntries(
    DATASTORE_METHODS.map((method) => [
      method,
      methodDefinition(`/${DATASTORE_SERVICE_NAME}/${method}`, false, (bytes: Buffer): DecodedRequest =>
        decodeDataStoreRequest(method, bytes, limits),
      ),
    ]),
  );
  const implementation: UntypedServiceImplementation = Object.fromEntries(
    DATASTORE_METHODS.map((method) => [method, handler(method)]),
  );

  return {
    definition,
    implementation,
    async idle(): Promise<void> {
      while (inflight.size > 0) await Promise.allSettled([...inflight]);
    },
    stats: () => ({
      pendingOperations: counters.pending,
      answers: Object.fromEntries(DATASTORE_METHODS.map((m) => [m, { ...answers[m] }])) as DataStoreStats["answers"],
      entriesWritten: counters.written,
      entriesDeleted: counters.deleted,
      limitsExceeded: { maxBatchEntries: counters.maxBatchEntries },
    }),
  };
}
