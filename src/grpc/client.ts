import { type ChannelCredentials, type ChannelOptions, type Metadata, status as Status } from "@grpc/grpc-js";
import type { JsonValue } from "type-fest";
import type { WriteKey } from "../detect/data-source.js";
import { TRACEE_DEFAULT_ADDRESS } from "./address.js";
import { aborted, CallChannel, statusError } from "./call-start.js";
import { DataSourceClientError } from "./errors.js";
import { DEFAULT_MAX_DEPTH } from "./limits.js";
import { EncodeError, RequestEncoder } from "./request-codec.js";
import { WRITE_PATH, WRITE_STREAM_PATH } from "./service.js";
import { StopLatch, STOPPED } from "../internal/stop-latch.js";
import type { Call } from "./transport/call.js";
import { FrameChunker, frameMessage } from "./transport/framing.js";

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
   * Default deadline of every call, in milliseconds from its start, at most
   * 2^31-1 (about 24.8 days). Default: none. A call past it rejects with
   * `DEADLINE_EXCEEDED`; what was written
   * then is as for a cancel (see {@link WriteOptions.signal}).
   */
  readonly deadlineMs?: number;
  /**
   * How long connecting may take, up to a working HTTP/2 session, before calls
   * fail with `UNAVAILABLE` (default 20,000 ms).
   */
  readonly connectTimeoutMs?: number;
  /**
   * Calls in flight at once on the client's connection (default 100); more
   * wait their turn, so a burst of a hundred thousand writes neither floods
   * the server nor trips its per-connection stream limit.
   */
  readonly maxConcurrentCalls?: number;
  /** Metadata (headers) sent with every call, e.g. an authorization token. */
  readonly metadata?: Metadata;
  /**
   * Deepest nesting of lists and objects the client encodes (default 64, the
   * server's default limit; Tracee's Go server accepts up to 100). A deeper
   * value fails locally with `INVALID_ARGUMENT`.
   */
  readonly maxDepth?: number;
  /**
   * grpc-js channel options that shape the connection's TLS, such as
   * `grpc.ssl_target_name_override` (the name the server's certificate must
   * carry). The client carries its calls over an HTTP/2 client of its own, so options
   * of grpc-js's own channel (keepalive, retries, load balancing) do not apply.
   */
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

const noop = (): void => {};

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
 * what Tracee's Go client sends. Calls travel over one HTTP/2 connection per
 * client (reconnected when the server restarts), with the messages of a
 * stream gathered into large writes. Every failure rejects with a
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
  readonly #channel: CallChannel;
  readonly #encoder: RequestEncoder;

  /**
   * @param address - `unix:///path` or `host:port` (also grpc-js's
   *   `dns:///host:port`); defaults to Tracee's `unix:///var/run/tracee.sock`.
   */
  constructor(address: string = TRACEE_DEFAULT_ADDRESS, options: DataSourceClientOptions = {}) {
    this.#channel = new CallChannel(address, options);
    this.address = this.#channel.address;
    this.#encoder = new RequestEncoder(options.maxDepth ?? DEFAULT_MAX_DEPTH);
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
   * A stream that fails on this side (a bad entry, a cancel, a deadline, the
   * entries throwing, `close()`) is reset, never completed: no server, Tracee
   * included, writes any of it. Once the last entry is sent, the outcome of a
   * cancel or deadline is unknown (it may have been written), though the
   * promise rejects with `CANCELLED` or `DEADLINE_EXCEEDED`.
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
   * Waits until the client is connected, trying again as the server may be
   * starting, or rejects with `UNAVAILABLE` after `timeoutMs` (default 5000).
   */
  waitForReady(timeoutMs = 5000): Promise<void> {
    return this.#channel.waitForReady(timeoutMs);
  }

  /**
   * Closes the connection. Calls in flight reject with `CANCELLED` (streams
   * not yet complete are reset, so none of them is written); later calls
   * reject with `CANCELLED` too.
   */
  close(): void {
    this.#channel.close();
  }

  async #unary(bytes: Buffer, options: WriteOptions | undefined): Promise<void> {
    const signal = options?.signal;
    if (signal?.aborted) throw aborted(signal);
    // One listener from start to finish: an abort while the call starts is not missed.
    let call: Call | undefined;
    const onAbort = () => call?.cancel({ code: Status.CANCELLED, details: "aborted" });
    signal?.addEventListener("abort", onAbort, { once: true });
    try {
      call = await this.#channel.start(WRITE_PATH, this.#channel.deadline(options), options);
      if (signal?.aborted) call.cancel({ code: Status.CANCELLED, details: "aborted" });
      call.end(frameMessage(bytes));
      const status = await call.status;
      if (status.code === Status.OK) return;
      throw signal?.aborted ? aborted(signal) : statusError(status);
    } finally {
      signal?.removeEventListener("abort", onAbort);
    }
  }

  async #stream<T>(source: Entries<T>, encode: (entry: T) => Buffer, options: WriteOptions | undefined): Promise<void> {
    const signal = options?.signal;
    if (signal?.aborted) throw aborted(signal);
    const deadline = this.#channel.deadline(options);

    let call: Call | undefined;
    /** Why this side gave up on the stream, once it did. */
    let failure: DataSourceClientError | undefined;
    // Ends a wait for the next entry when the stream stops; a latch, as racing
    // one long-lived promise per entry would hold every entry until the end.
    const stopped = new StopLatch();
    const chunker = new FrameChunker();
    let flushScheduled = false;

    /** Gives up on the stream: nothing more is sent, and a started call is reset. */
    const stop = (error: DataSourceClientError) => {
      if (failure !== undefined) return;
      failure = error;
      chunker.discard();
      call?.cancel({ code: error.code, details: error.details });
      stopped.stop();
    };
    const onAbort = () => stop(aborted(signal as AbortSignal));
    signal?.addEventListener("abort", onAbort, { once: true });
    const deadlineTimer =
      deadline === undefined
        ? undefined
        : setTimeout(
            () => stop(new DataSourceClientError(Status.DEADLINE_EXCEEDED, "Deadline exceeded")),
            Math.max(0, deadline - Date.now()),
          );
    /** Whether the stream can go on: not given up here, not ended by the server. */
    const going = () => failure === undefined && call?.settled !== true;

    const flush = () => {
      flushScheduled = false;
      const chunk = chunker.take();
      if (chunk !== undefined && going()) call?.write(chunk);
    };

    let index = 0;
    /** Sends one entry; resolves when the stream may take the next. */
    const send = async (entry: T): Promise<void> => {
      let bytes: Buffer;
      try {
        bytes = encode(entry);
      } catch (err) {
        stop(encodeFailure(err, index));
        return;
      }
      index++;
      if (call === undefined) {
        try {
          call = await this.#channel.start(WRITE_STREAM_PATH, deadline, options);
        } catch (err) {
          stop(err as DataSourceClientError);
          return;
        }
        if (failure !== undefined) {
          call.cancel({ code: failure.code, details: failure.details });
          return;
        }
        // A call ended from elsewhere (the server's status, close()) stops the loop too.
        void call.status.then(() => stopped.stop());
      }
      const full = chunker.add(bytes);
      if (full !== undefined) call.write(full);
      if (call.full) {
        flush();
        await call.drained();
      } else if (!flushScheduled && chunker.pending) {
        // Messages that arrive in this turn of the event loop go out together.
        flushScheduled = true;
        setImmediate(flush);
      }
    };

    try {
      if (isAsyncIterable(source)) {
        const iterator = source[Symbol.asyncIterator]();
        for (;;) {
          const next = await stopped.until(iterator.next());
          if (next === STOPPED || !going()) {
            void Promise.resolve(iterator.return?.()).catch(noop);
            break;
          }
          if (next.done === true) break;
          await send(next.value);
        }
      } else {
        for (const entry of source) {
          await send(entry);
          if (!going()) break;
        }
      }
    } catch (err) {
      // The entries threw: make sure nothing of this stream is written.
      stop(new DataSourceClientError(Status.CANCELLED, "the entries iterable threw", { cause: err }));
      throw err;
    } finally {
      clearTimeout(deadlineTimer);
      signal?.removeEventListener("abort", onAbort);
    }
    if (failure !== undefined) throw failure;
    if (call === undefined) return; // an empty stream: nothing to write, nothing sent
    if (!call.settled) {
      // Everything is sent: from here a cancel or deadline has an unknown outcome.
      const onLateAbort = () => call?.cancel({ code: Status.CANCELLED, details: "aborted" });
      signal?.addEventListener("abort", onLateAbort, { once: true });
      call.end(chunker.take());
      const status = await call.status;
      signal?.removeEventListener("abort", onLateAbort);
      if (status.code === Status.OK) return;
      throw signal?.aborted ? aborted(signal) : statusError(status);
    }
    const early = await call.status;
    if (early.code === Status.OK) {
      // The server said OK before the client had sent everything: what it wrote is not this stream.
      throw new DataSourceClientError(
        Status.INTERNAL,
        "the server ended the call with OK before all entries were sent; the stream may be partly written",
      );
    }
    throw statusError(early);
  }
}
