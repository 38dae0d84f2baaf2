/**
 * The DataSourceService implementation: Tracee's semantics where they are
 * sound (the table in docs/grpc.md), over grpc-js with a service definition
 * whose request deserializer is the wire decoder in request-codec.ts.
 * `WriteStream` calls are handled in stream-call.ts.
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
import { type DataSource, isWritable, type WritableDataSource, type WriteKey } from "../detect/data-source.js";
import { ErrFailedToUnmarshal, ErrKeyNotSupported, errorIs } from "../detect/errors.js";
import { silentLogger } from "../detect/registry.js";
import type { Logger } from "../detect/signature.js";
import { isThenable } from "../internal/promise.js";
import { Budget, type ServiceStats } from "./budget.js";
import { CallStatus, firstLine, reply, target } from "./call-status.js";
import { methodDefinition } from "./definition.js";
import { type Limits, type ResolvedLimits, resolveLimits } from "./limits.js";
import { runExclusive } from "../internal/exclusive.js";
import { decodeRequest } from "./request-codec.js";
import type { DataStoreMethod } from "./datastore-codec.js";
import { type SizedFrame, type StreamCall, StreamWrite } from "./stream-call.js";

/** The fully qualified gRPC service name, as Tracee defines it. */
export const SERVICE_NAME = "tracee.v1beta1.DataSourceService";
/** The HTTP/2 path of the unary `Write` method. */
export const WRITE_PATH = `/${SERVICE_NAME}/Write`;
/** The HTTP/2 path of the client-streaming `WriteStream` method. */
export const WRITE_STREAM_PATH = `/${SERVICE_NAME}/WriteStream`;

/**
 * What the {@link DataSourceServiceOptions.authorize} hook is asked about:
 * a DataSourceService call (`method` `"Write"`/`"WriteStream"`, with
 * `namespace` and `id`) or a DataStoreService call (one of the five
 * {@link DataStoreMethod} names, with `store` and `source`, and `namespace`
 * and `id` empty, so a hook that allows by data source refuses it).
 */
export interface AuthorizeRequest {
  /** The data source the call writes to; `""` for a DataStoreService call. */
  readonly namespace: string;
  readonly id: string;
  /** The datastore a DataStoreService call names; absent for a DataSourceService call. */
  readonly store?: string;
  /**
   * The source a DataStoreService call writes, deletes or clears as (`""` for
   * `ListSources`); absent for a DataSourceService call.
   */
  readonly source?: string;
  /** The call's request metadata (headers), e.g. a bearer token. */
  readonly metadata: Metadata;
  /** The peer address grpc-js reports (`"127.0.0.1:53412"`, or the socket path for unix). */
  readonly peer: string;
  /** Which method: a stream is authorized once, at its first entry. */
  readonly method: "Write" | "WriteStream" | DataStoreMethod;
}

/**
 * Decides whether a call may write. Return (or resolve to) `true` to allow;
 * anything else, a throw or a rejection refuses the call with
 * `PERMISSION_DENIED` and nothing is written.
 */
export type Authorize = (request: AuthorizeRequest) => boolean | PromiseLike<boolean>;

/** Looks a data source up by namespace and id; a {@link DataSourceRegistry} is one. */
export interface DataSourceLookup {
  get(namespace: string, id: string): DataSource | undefined;
}

/** Options of {@link dataSourceService} (and of {@link serveDataSources}). */
export interface DataSourceServiceOptions extends Limits {
  /**
   * Called before a call writes (once per unary call, once per stream, at its
   * first entry); sync or async. Runs before the data source is looked up, so
   * a refused client cannot probe which data sources exist.
   */
  readonly authorize?: Authorize;
  /** Receives failed writes and authorize hook errors. Defaults to silence. */
  readonly logger?: Logger;
  /**
   * Whether an `INTERNAL` status carries the data source error's message (its
   * first line; never a stack). Default `false`: clients see a generic message
   * and the full error goes to `logger.error`.
   */
  readonly exposeInternalErrors?: boolean;
}

/**
 * A DataSourceService to add to a `grpc.Server` you run yourself.
 *
 * `definition` carries this SDK's own request decoder, so pass both parts to
 * `server.addService(service.definition, service.implementation)`.
 */
export interface DataSourceServiceHandle {
  /** The grpc-js service definition (paths and (de)serializers). */
  readonly definition: ServiceDefinition;
  /** The method handlers, keyed like `definition`. */
  readonly implementation: UntypedServiceImplementation;
  /**
   * Resolves once no data source write started by this service is running.
   * Call it after `server.forceShutdown()` so a write that had already begun
   * can finish before you tear down the data sources.
   */
  idle(): Promise<void>;
  /** Open streams, bytes they hold, how streams ended, and how often each limit refused a call. */
  stats(): ServiceStats;
}

/**
 * How close to its deadline a call may start its write (or, in the
 * DataStoreService, its store operation). A write started later could not
 * answer the client in time: the client would report DEADLINE_EXCEEDED for
 * data that was written.
 */
const DEADLINE_MARGIN_MS = 20;

/**
 * Whether `call` is within `DEADLINE_MARGIN_MS` of its deadline, or
 * past it: too late to start a write. Shared with datastore-service.ts.
 *
 * @internal
 */
export function deadlinePassed(call: { getDeadline(): Date | number }): boolean {
  const deadline = call.getDeadline();
  const ms = deadline instanceof Date ? deadline.getTime() : deadline;
  return ms - DEADLINE_MARGIN_MS <= Date.now();
}

/**
 * Builds the DataSourceService over `registry`, for a `grpc.Server` you run
 * yourself; {@link serveDataSources} does this for you.
 *
 * The service follows the semantics table of docs/grpc.md: unknown data source → `NOT_FOUND`, not
 * writable → `UNIMPLEMENTED`, a missing key or value, a struct or list key, a
 * malformed or too deeply nested Value, or a data source throwing
 * `ErrKeyNotSupported`/`ErrFailedToUnmarshal` → `INVALID_ARGUMENT`, any other
 * data source error → `INTERNAL` (no stack), authorize refusing →
 * `PERMISSION_DENIED`, limits exceeded → `RESOURCE_EXHAUSTED` (an idle stream
 * → `DEADLINE_EXCEEDED`). A `WriteStream` is all or nothing: its entries go to
 * the data source in one `write` call after the client half-closes and a round
 * trip confirms the call is still alive; a stream that fails, names a second
 * data source, is cancelled, reset, loses its connection or passes its
 * deadline before its write starts writes nothing (a write already running
 * finishes). Within a stream a
 * repeated key keeps its last value. Writes to one data source never overlap.
 * Throws `RangeError` for invalid limits.
 *
 * @example
 * ```ts
 * const server = new grpc.Server({ "grpc.max_receive_message_length": 4 << 20 });
 * const service = dataSourceService(registry, { authorize: ({ metadata }) => metadata.get("token")[0] === token });
 * server.addService(service.definition, service.implementation);
 * ```
 */
export function dataSourceService(
  registry: DataSourceLookup,
  options: DataSourceServiceOptions = {},
): DataSourceServiceHandle {
  return createDataSourceService(registry, options, resolveLimits(options));
}

/**
 * {@link dataSourceService} with limits already resolved (by
 * {@link serveDataSources}, which also needs them); `options`' own limit
 * fields are ignored.
 *
 * @internal
 */
export function createDataSourceService(
  registry: DataSourceLookup,
  options: DataSourceServiceOptions,
  limits: ResolvedLimits,
): DataSourceServiceHandle {
  const logger = options.logger ?? silentLogger;
  const authorize = options.authorize;
  const exposeInternalErrors = options.exposeInternalErrors === true;
  const inflight = new Set<Promise<void>>();
  const budget = new Budget(limits);

  const deserialize = (bytes: Buffer): SizedFrame => ({ frame: decodeRequest(bytes, limits), size: bytes.length });

  function resolveTarget(namespace: string, id: string): WritableDataSource | CallStatus {
    const ds = registry.get(namespace, id);
    if (ds === undefined) {
      return new CallStatus(Status.NOT_FOUND, `requested data source does not exist ${target(namespace, id)}`);
    }
    if (!isWritable(ds)) {
      return new CallStatus(Status.UNIMPLEMENTED, `requested data source is not writable ${target(namespace, id)}`);
    }
    return ds;
  }

  function writeFailure(err: unknown, namespace: string, id: string): CallStatus {
    const where = `failed to write to data source ${target(namespace, id)}`;
    if (errorIs(err, ErrKeyNotSupported) || errorIs(err, ErrFailedToUnmarshal)) {
      return new CallStatus(Status.INVALID_ARGUMENT, `${where}: ${firstLine(err)}`);
    }
    logger.error("data source write failed", "namespace", namespace, "id", id, "error", err);
    return new CallStatus(Status.INTERNAL, exposeInternalErrors ? `${where}: ${firstLine(err)}` : `${where}: internal error`);
  }

  /**
   * Asks the authorize hook. Returns `true`/`false` when it answered
   * synchronously, else a promise that never rejects.
   */
  function ask(
    call: { metadata: Metadata; getPeer(): string },
    method: AuthorizeRequest["method"],
    namespace: string,
    id: string,
  ): boolean | Promise<boolean> {
    if (authorize === undefined) return true;
    const onError = (err: unknown): false => {
      logger.warn("authorize hook threw; refusing the call", "namespace", namespace, "id", id, "error", err);
      return false;
    };
    let verdict: boolean | PromiseLike<boolean>;
    try {
      verdict = authorize({ namespace, id, metadata: call.metadata, peer: call.getPeer(), method });
    } catch (err) {
      return onError(err);
    }
    if (isThenable(verdict)) return Promise.resolve(verdict).then((ok) => ok === true, onError);
    return verdict === true;
  }

  const denied = (namespace: string, id: string) =>
    new CallStatus(Status.PERMISSION_DENIED, `not allowed to write to data source ${target(namespace, id)}`);

  /**
   * Writes `data` once earlier writes to `ds` settled, unless the call is
   * cancelled or past its deadline by then; reports through `done`.
   */
  function write(
    ds: WritableDataSource,
    data: Map<WriteKey, JsonValue>,
    call: { readonly cancelled: boolean; getDeadline(): Date | number },
    namespace: string,
    id: string,
    done: (status: CallStatus | null) => void,
  ): void {
    let skipped: CallStatus | null = null;
    const task = () => {
      if (call.cancelled) {
        skipped = new CallStatus(Status.CANCELLED, "call cancelled before the write");
        return undefined;
      }
      if (deadlinePassed(call)) {
        skipped = new CallStatus(Status.DEADLINE_EXCEEDED, "deadline exceeded before the write");
        return undefined;
      }
      return ds.write(data);
    };
    let pending: Promise<void> | undefined;
    try {
      pending = runExclusive(ds, task);
    } catch (err) {
      done(writeFailure(err, namespace, id));
      return;
    }
    if (pending === undefined) {
      done(skipped);
      return;
    }
    const settled = pending.then(
      () => done(skipped),
      (err: unknown) => done(writeFailure(err, namespace, id)),
    );
    inflight.add(settled);
    void settled.then(() => inflight.delete(settled));
  }

  function Write(call: ServerUnaryCall<SizedFrame, Buffer>, callback: sendUnaryData<Buffer>): void {
    const { frame } = call.request;
    if (!frame.targetKnown) {
      reply(callback, new CallStatus(frame.code, frame.details));
      return;
    }
    const { namespace, id } = frame;
    const proceed = () => {
      const ds = resolveTarget(namespace, id);
      if (ds instanceof CallStatus) return reply(callback, ds);
      if (frame.code !== Status.OK) return reply(callback, new CallStatus(frame.code, frame.details));
      write(ds, new Map([[frame.key, frame.value]]), call, namespace, id, (status) => reply(callback, status));
    };
    const verdict = ask(call, "Write", namespace, id);
    if (verdict === true) proceed();
    else if (verdict === false) reply(callback, denied(namespace, id));
    else void verdict.then((ok) => (ok ? proceed() : reply(callback, denied(namespace, id))));
  }

  const streamHost = {
    limits,
    budget,
    logger,
    ask: (call: StreamCall, namespace: string, id: string) => ask(call, "WriteStream", namespace, id),
    denied,
    resolveTarget,
    write,
  };

  function WriteStream(call: StreamCall, callback: sendUnaryData<Buffer>): void {
    new StreamWrite(streamHost, call, callback).start();
  }

  const definition: ServiceDefinition = {
    Write: methodDefinition(WRITE_PATH, false, deserialize),
    WriteStream: methodDefinition(WRITE_STREAM_PATH, true, deserialize),
  };

  return {
    definition,
    implementation: { Write, WriteStream } as UntypedServiceImplementation,
    async idle(): Promise<void> {
      while (inflight.size > 0) await Promise.allSettled([...inflight]);
    },
    stats: () => budget.stats(),
  };
}
