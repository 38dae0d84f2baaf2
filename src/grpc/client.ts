import {
  type CallOptions,
  type ChannelCredentials,
  type ChannelOptions,
  Client,
  type ClientWritableStream,
  credentials as grpcCredentials,
  Metadata,
  type ServiceError,
  status as Status,
} from "@grpc/grpc-js";
import type { JsonValue } from "type-fest";
import type { WriteKey } from "../detect/data-source.js";
import { formatAddress, parseAddress, TRACEE_DEFAULT_ADDRESS } from "./address.js";
import { DataSourceClientError, fromServiceError } from "./errors.js";
import { DEFAULT_MAX_DEPTH } from "./limits.js";
import { EncodeError, RequestEncoder } from "./request-codec.js";
import { WRITE_PATH, WRITE_STREAM_PATH } from "./service.js";

/** One write: which data source, and the key and value to write into it. */
export interface WriteRequest {
  readonly namespace: string;
  readonly id: string;
  readonly key: WriteKey;
  readonly value: JsonValue;
}

/** Options of {@link DataSourceClient}. */
export interface DataSourceClientOptions {
  /**
   * Channel credentials: `grpc.credentials.createSsl(ca, key, cert)` for TLS
   * or mTLS. Default: insecure (plaintext), which is what Tracee's unix socket speaks.
   */
  readonly credentials?: ChannelCredentials;
  /**
   * Default deadline of every call, in milliseconds from its start. Default:
   * none. A call past it rejects with `DEADLINE_EXCEEDED`; what was written
   * then is as for a cancel (see {@link WriteOptions.signal}).
   */
  readonly deadlineMs?: number;
  /** Metadata (headers) sent with every call, e.g. an authorization token. */
  readonly metadata?: Metadata;
  /**
   * Deepest nesting of lists and objects the client encodes (default 64, the
   * server's default limit; Tracee's Go server accepts up to 100). A deeper
   * value fails locally with `INVALID_ARGUMENT`.
   */
  readonly maxDepth?: number;
  /** Extra grpc-js channel options (`grpc.ssl_target_name_override`, keepalive, …). */
  readonly channelOptions?: ChannelOptions;
}

/** Per-call options of {@link DataSourceClient.write} and {@link DataSourceClient.writeStream}. */
export interface WriteOptions {
  /**
   * This call's deadline in milliseconds, instead of the client's
   * `deadlineMs`. A call past it rejects with `DEADLINE_EXCEEDED`; what was
   * written then is as for a cancel (see `signal`).
   */
  readonly deadlineMs?: number;
  /**
   * Cancels the call: the promise rejects with a `CANCELLED`
   * {@link DataSourceClientError} whose `cause` is the signal's reason.
   *
   * A stream cancelled before all its entries were sent writes nothing. Once
   * the last entry is sent, the outcome of a cancel or deadline is unknown (it
   * may have been written): the server may already be writing it, and the
   * call still rejects. The same goes for a unary `write`, which is sent at
   * once. Where that matters, read the data back, or send the write again if
   * the data source takes a repeated write as the same (a key → value store does).
   */
  readonly signal?: AbortSignal;
  /** Metadata for this call, added to the client's. */
  readonly metadata?: Metadata;
}

/** Entries of a stream: any iterable or async iterable (a generator, an array, a Node stream in object mode). */
export type Entries<T> = Iterable<T> | AsyncIterable<T>;

/** A {@link DataSourceClient} bound to one data source; see {@link DataSourceClient.dataSource}. */
export interface DataSourceWriter {
  readonly namespace: string;
  readonly id: string;
  /** Writes one key and value (a unary `Write`). */
  write(key: WriteKey, value: JsonValue, options?: WriteOptions): Promise<void>;
  /** Writes all `entries` atomically in one `WriteStream`; a `Map` is a fine source. */
  writeStream(entries: Entries<readonly [WriteKey, JsonValue]>, options?: WriteOptions): Promise<void>;
}

const identity = (b: Buffer): Buffer => b;
const noop = (): void => {};
const STOPPED = Symbol("stopped");
/**
 * A message no protobuf parser accepts (field number 0, wire type 7), sent
 * before cancelling a stream so the server cannot commit it.
 */
const ABORT_MARKER = Buffer.from([0x07]);
/** How long an abort waits for the marker to be sent before cancelling anyway. */
const ABORT_FLUSH_TIMEOUT_MS = 1000;
/** How much later than our own timer grpc-js's stream deadline is set. */
const DEADLINE_SLACK_MS = 250;

function target(address: string): string {
  if (typeof address !== "string" || address === "") {
    throw new TypeError(`address must be "unix:///path" or "host:port", got ${JSON.stringify(address)}`);
  }
  // unix:relative and unix:/abs become unix:///abs; other grpc-js targets pass through.
  return address.startsWith("unix:") ? formatAddress(parseAddress(address)) : address;
}

function aborted(signal: AbortSignal): DataSourceClientError {
  return new DataSourceClientError(Status.CANCELLED, "the call was aborted by its AbortSignal", {
    cause: signal.reason,
  });
}

function encodeFailure(err: unknown, index: number | undefined): DataSourceClientError {
  const reason = err instanceof Error ? err.message : String(err);
  const where = index === undefined ? "" : `entry ${index}: `;
  return new DataSourceClientError(Status.INVALID_ARGUMENT, `${where}${reason} (not sent)`, {
    cause: err instanceof EncodeError && err.cause !== undefined ? err.cause : err,
  });
}

function isAsyncIterable<T>(source: Entries<T>): source is AsyncIterable<T> {
  return typeof (source as Partial<AsyncIterable<T>>)[Symbol.asyncIterator] === "function";
}

/**
 * A client of Tracee's gRPC DataSourceService: writes JSON values into
 * writable data sources, of Tracee itself or of {@link serveDataSources}.
 *
 * Keys and values go on the wire as `google.protobuf.Value`, byte for byte
 * what Tracee's Go client sends. Every failure rejects with a
 * {@link DataSourceClientError} carrying the gRPC status. The constructor
 * throws `TypeError` for an unusable address; connecting happens lazily.
 *
 * @example
 * ```ts
 * const client = new DataSourceClient("unix:///var/run/tracee.sock");
 * await client.write({ namespace: "my_namespace", id: "threshold_datasource", key: "threshold", value: 10 });
 * await client.writeStream(iocs.map((ioc) => ({ namespace: "iocs", id: "sha256", key: ioc.sha256, value: ioc })));
 * client.close();
 * ```
 */
export class DataSourceClient {
  /** The address this client dials (unix addresses in `unix:///abs` form). */
  readonly address: string;
  readonly #client: Client;
  readonly #deadlineMs: number | undefined;
  readonly #metadata: Metadata | undefined;
  readonly #encoder: RequestEncoder;

  /**
   * @param address - `unix:///path`, `host:port`, or any grpc-js target;
   *   defaults to Tracee's `unix:///var/run/tracee.sock`.
   */
  constructor(address: string = TRACEE_DEFAULT_ADDRESS, options: DataSourceClientOptions = {}) {
    this.address = target(address);
    if (options.deadlineMs !== undefined && !(options.deadlineMs > 0)) {
      throw new RangeError(`deadlineMs must be a positive number of milliseconds, got ${options.deadlineMs}`);
    }
    this.#deadlineMs = options.deadlineMs;
    this.#encoder = new RequestEncoder(options.maxDepth ?? DEFAULT_MAX_DEPTH);
    this.#metadata = options.metadata;
    this.#client = new Client(
      this.address,
      options.credentials ?? grpcCredentials.createInsecure(),
      options.channelOptions ?? {},
    );
  }

  /**
   * Writes one key and value into a data source (a unary `Write`).
   *
   * Resolves once the data source has stored it. Rejects with a
   * {@link DataSourceClientError}: `NOT_FOUND`, `UNIMPLEMENTED`,
   * `INVALID_ARGUMENT` (also for a key or value that cannot be encoded, before
   * sending), `PERMISSION_DENIED`, `UNAVAILABLE` (no server), `CANCELLED`,
   * `DEADLINE_EXCEEDED`, … After `CANCELLED` or `DEADLINE_EXCEEDED` the
   * outcome is unknown: the server may have written the value before the call
   * ended.
   */
  write(request: WriteRequest, options?: WriteOptions): Promise<void> {
    let bytes: Buffer;
    try {
      bytes = this.#encoder.encode(request.namespace, request.id, request.key, request.value);
    } catch (err) {
      return Promise.reject(encodeFailure(err, undefined));
    }
    return this.#unary(bytes, options);
  }

  /**
   * Writes every entry in one `WriteStream` call: all or nothing.
   *
   * `entries` may be any iterable or async iterable; it is read as the
   * transport accepts data (backpressure), so a large or endless source is
   * not buffered in memory. All entries must name the same data source (the
   * server refuses a second one). Resolves when the server has written the
   * whole stream; an empty source sends nothing at all (Tracee's own server
   * crashes on an empty stream). Rejects with a {@link DataSourceClientError}; an entry that
   * cannot be encoded cancels the stream (`INVALID_ARGUMENT`, naming its
   * index) so nothing is written. If `entries` itself throws, the stream is
   * cancelled and that error is rethrown as is.
   *
   * A cancel (`signal`) or deadline before all entries were sent writes
   * nothing. Once the last entry is sent, the outcome of a cancel or deadline
   * is unknown (it may have been written), though the promise rejects with
   * `CANCELLED` or `DEADLINE_EXCEEDED`.
   */
  writeStream(entries: Entries<WriteRequest>, options?: WriteOptions): Promise<void> {
    const encoder = this.#encoder;
    return this.#stream(entries, (e) => encoder.encode(e.namespace, e.id, e.key, e.value), options);
  }

  /**
   * A writer bound to one data source, so entries need only key and value.
   *
   * @example
   * ```ts
   * const iocs = client.dataSource("iocs", "sha256");
   * await iocs.write("e3b0c442…", { family: "xmrig" });
   * await iocs.writeStream(new Map([["a…", { family: "x" }], ["b…", { family: "y" }]]));
   * ```
   */
  dataSource(namespace: string, id: string): DataSourceWriter {
    const encoder = this.#encoder;
    return Object.freeze({
      namespace,
      id,
      write: (key: WriteKey, value: JsonValue, options?: WriteOptions) =>
        this.write({ namespace, id, key, value }, options),
      writeStream: (entries: Entries<readonly [WriteKey, JsonValue]>, options?: WriteOptions) =>
        this.#stream(entries, (e) => encoder.encode(namespace, id, e[0], e[1]), options),
    });
  }

  /**
   * Waits until the channel is connected, or rejects with `UNAVAILABLE` after
   * `timeoutMs` (default 5000).
   */
  waitForReady(timeoutMs = 5000): Promise<void> {
    return new Promise((resolve, reject) => {
      this.#client.waitForReady(Date.now() + timeoutMs, (err) => {
        if (err) {
          reject(new DataSourceClientError(Status.UNAVAILABLE, `not connected to ${this.address}: ${err.message}`));
        } else resolve();
      });
    });
  }

  /** Closes the channel. Calls in flight are cancelled. */
  close(): void {
    this.#client.close();
  }

  #callOptions(options: WriteOptions | undefined): { metadata: Metadata; callOptions: CallOptions } {
    const deadlineMs = options?.deadlineMs ?? this.#deadlineMs;
    const callOptions: CallOptions = deadlineMs === undefined ? {} : { deadline: Date.now() + deadlineMs };
    let metadata: Metadata;
    if (this.#metadata === undefined) metadata = options?.metadata ?? new Metadata();
    else {
      metadata = this.#metadata.clone();
      if (options?.metadata !== undefined) metadata.merge(options.metadata);
    }
    return { metadata, callOptions };
  }

  #unary(bytes: Buffer, options: WriteOptions | undefined): Promise<void> {
    const signal = options?.signal;
    if (signal?.aborted) return Promise.reject(aborted(signal));
    const { metadata, callOptions } = this.#callOptions(options);
    return new Promise((resolve, reject) => {
      const onAbort = () => call.cancel();
      const call = this.#client.makeUnaryRequest(
        WRITE_PATH,
        identity,
        identity,
        bytes,
        metadata,
        callOptions,
        (err: ServiceError | null) => {
          signal?.removeEventListener("abort", onAbort);
          if (err === null) resolve();
          else reject(signal?.aborted ? aborted(signal) : fromServiceError(err));
        },
      );
      signal?.addEventListener("abort", onAbort, { once: true });
    });
  }

  async #stream<T>(source: Entries<T>, encode: (entry: T) => Buffer, options: WriteOptions | undefined): Promise<void> {
    const signal = options?.signal;
    if (signal?.aborted) throw aborted(signal);
    const deadlineMs = options?.deadlineMs ?? this.#deadlineMs;
    // The stream's deadline is enforced by our own timer, so that a stream
    // not fully sent is aborted with the marker (see abort below); grpc-js
    // gets a slightly later one, so the server still learns it.
    const { metadata } = this.#callOptions(options);
    const callOptions: CallOptions =
      deadlineMs === undefined ? {} : { deadline: Date.now() + deadlineMs + DEADLINE_SLACK_MS };

    let call: ClientWritableStream<Buffer> | undefined;
    let finished = false;
    let halfClosed = false;
    let abortError: DataSourceClientError | undefined;
    let wake: (() => void) | undefined;
    let markStopped!: (value: typeof STOPPED) => void;
    const stopped = new Promise<typeof STOPPED>((resolve) => (markStopped = resolve));
    let settle!: (err: DataSourceClientError | null) => void;
    const result = new Promise<void>((resolve, reject) => {
      settle = (err) => (err === null ? resolve() : reject(err));
    });
    result.catch(noop); // observed by the caller once the entries are sent

    const finish = (err: DataSourceClientError | null) => {
      if (finished) return;
      finished = true;
      clearTimeout(deadlineTimer);
      signal?.removeEventListener("abort", onAbort);
      settle(err);
      markStopped(STOPPED);
      wake?.();
    };

    /** Starts the call, at the first entry: an empty stream sends nothing. */
    const open = (): ClientWritableStream<Buffer> => {
      const opened = this.#client.makeClientStreamRequest(
        WRITE_STREAM_PATH,
        identity,
        identity,
        metadata,
        callOptions,
        // OK means the server wrote the stream (it had half-closed): report that.
        (err: ServiceError | null) => finish(err === null ? null : (abortError ?? fromServiceError(err))),
      );
      opened.on("drain", () => wake?.());
      return opened;
    };

    /**
     * Ends the stream without letting the server commit it. grpc-js's cancel
     * (Node's Http2Stream.close) half-closes the HTTP/2 stream before
     * resetting it, which a server cannot tell from a finished stream; so
     * first send a message every protobuf parser rejects, and cancel once it
     * is on the wire: the server fails the stream on it, or sees the reset.
     */
    const abort = (error: DataSourceClientError) => {
      if (finished || abortError !== undefined) return;
      abortError = error;
      markStopped(STOPPED);
      wake?.();
      const current = call;
      if (current === undefined) {
        finish(error); // nothing was sent
        return;
      }
      if (halfClosed) {
        // Every entry was sent: the server may already be writing them, which
        // cancelling cannot undo. The caller is told CANCELLED or
        // DEADLINE_EXCEEDED, and the outcome is unknown (see WriteOptions.signal).
        current.cancel();
        return;
      }
      let cancelled = false;
      const cancel = () => {
        if (cancelled) return;
        cancelled = true;
        clearTimeout(fallback);
        current.cancel();
      };
      const fallback = setTimeout(cancel, ABORT_FLUSH_TIMEOUT_MS);
      current.write(ABORT_MARKER, cancel);
    };

    const onAbort = () => abort(aborted(signal as AbortSignal));
    signal?.addEventListener("abort", onAbort, { once: true });
    const deadlineTimer =
      deadlineMs === undefined
        ? undefined
        : setTimeout(
            () => abort(new DataSourceClientError(Status.DEADLINE_EXCEEDED, "Deadline exceeded")),
            deadlineMs,
          );
    const drained = () =>
      new Promise<void>((resolve) => {
        wake = () => {
          wake = undefined;
          resolve();
        };
      });
    const done = () => finished || abortError !== undefined;

    let index = 0;
    /** Sends one entry; false when the caller should wait for 'drain'. */
    const send = (entry: T): boolean => {
      let bytes: Buffer;
      try {
        bytes = encode(entry);
      } catch (err) {
        abort(encodeFailure(err, index));
        return true;
      }
      index++;
      call ??= open();
      return call.write(bytes);
    };

    try {
      if (isAsyncIterable(source)) {
        const iterator = source[Symbol.asyncIterator]();
        for (;;) {
          const next = await Promise.race([iterator.next(), stopped]);
          if (next === STOPPED || done()) {
            void Promise.resolve(iterator.return?.()).catch(noop);
            break;
          }
          if (next.done === true) break;
          if (!send(next.value) && !done()) await drained();
        }
      } else {
        for (const entry of source) {
          if (!send(entry) && !done()) await drained();
          if (done()) break;
        }
      }
    } catch (err) {
      // The entries threw: make sure nothing of this stream is written.
      abort(new DataSourceClientError(Status.CANCELLED, "the entries iterable threw", { cause: err }));
      throw err;
    }
    if (!done()) {
      if (call === undefined) {
        finish(null); // an empty stream: nothing to write, nothing sent
      } else {
        halfClosed = true;
        call.end();
      }
    }
    return result;
  }
}
