/**
 * Unary calls that return a response message, on the client transport: what
 * {@link DataStoreClient} sends each RPC through. One connection per client;
 * every failure becomes a {@link DataSourceClientError} with the gRPC status.
 *
 * @module
 */
import { type ChannelCredentials, type ChannelOptions, Metadata, status as Status } from "@grpc/grpc-js";
import { DataSourceClientError } from "./errors.js";
import type { Call } from "./transport/call.js";
import { Channel, ChannelError } from "./transport/channel.js";
import type { DialTarget } from "./transport/dial.js";
import type { CallStatus } from "./transport/status.js";

/** Per-call options of every {@link DataStoreClient} method. */
export interface DataStoreCallOptions {
  /**
   * This call's deadline in milliseconds, instead of the client's
   * `deadlineMs`. A call past it rejects with `DEADLINE_EXCEEDED`; whether
   * the server applied it is then unknown (see `signal`).
   */
  readonly deadlineMs?: number;
  /**
   * Cancels the call: the promise rejects with a `CANCELLED`
   * {@link DataSourceClientError} whose `cause` is the signal's reason. The
   * request goes out at once, so a call cancelled after it was sent may
   * still have been applied; every write of this service can be sent again
   * safely (a write replaces the source's entry, a delete or clear of what is
   * gone changes nothing).
   */
  readonly signal?: AbortSignal;
  /** Metadata for this call, added to the client's. */
  readonly metadata?: Metadata;
}

/** @internal */
export function aborted(signal: AbortSignal): DataSourceClientError {
  return new DataSourceClientError(Status.CANCELLED, "the call was aborted by its AbortSignal", { cause: signal.reason });
}

function trailingMetadata(trailers: NonNullable<CallStatus["trailers"]>): Metadata {
  const metadata = Metadata.fromHttp2Headers(trailers);
  metadata.remove("grpc-status");
  metadata.remove("grpc-message");
  return metadata;
}

/** The error for a call that ended with `status`. */
function statusError(status: CallStatus): DataSourceClientError {
  const metadata = status.trailers === undefined ? undefined : trailingMetadata(status.trailers);
  return new DataSourceClientError(status.code, status.details, metadata === undefined ? undefined : { metadata });
}

function channelFailure(err: unknown): DataSourceClientError {
  if (err instanceof ChannelError) return new DataSourceClientError(err.code, err.details, { cause: err.cause ?? err });
  return new DataSourceClientError(Status.UNAVAILABLE, err instanceof Error ? err.message : String(err), { cause: err });
}

const noop = (): void => {};

/** Settings of a {@link UnaryCaller}. @internal */
export interface UnaryCallerSettings {
  readonly credentials: ChannelCredentials;
  readonly channelOptions: ChannelOptions;
  readonly connectTimeoutMs: number;
  readonly maxConcurrentCalls: number;
  readonly deadlineMs: number | undefined;
  readonly metadata: Metadata | undefined;
}

/** Sends unary calls on one channel and returns their response message. @internal */
export class UnaryCaller {
  readonly #channel: Channel;
  readonly #deadlineMs: number | undefined;
  readonly #metadata: Metadata | undefined;

  constructor(target: DialTarget, settings: UnaryCallerSettings) {
    this.#deadlineMs = settings.deadlineMs;
    this.#metadata = settings.metadata;
    this.#channel = new Channel(target, settings.credentials, settings.channelOptions, {
      connectTimeoutMs: settings.connectTimeoutMs,
      maxConcurrentCalls: settings.maxConcurrentCalls,
    });
  }

  /** Ends every call in flight with `CANCELLED` and closes the connection. */
  close(): void {
    this.#channel.close();
  }

  /**
   * Sends `request` (one framed message) to `path`; resolves with the
   * response message (`undefined` when the server sent none with OK), or
   * rejects with a {@link DataSourceClientError}.
   */
  async call(path: string, request: Buffer, options: DataStoreCallOptions | undefined): Promise<Buffer | undefined> {
    const signal = options?.signal;
    if (signal?.aborted) throw aborted(signal);
    const deadlineMs = options?.deadlineMs ?? this.#deadlineMs;
    if (deadlineMs !== undefined && !(deadlineMs > 0)) {
      throw new RangeError(`deadlineMs must be a positive number of milliseconds, got ${deadlineMs}`);
    }
    const deadline = deadlineMs === undefined ? undefined : Date.now() + deadlineMs;
    const messages: Buffer[] = [];
    // One listener from start to finish: an abort while the call starts is not missed.
    let call: Call | undefined;
    const onAbort = () => call?.cancel({ code: Status.CANCELLED, details: "aborted" });
    signal?.addEventListener("abort", onAbort, { once: true });
    try {
      call = await this.#start(path, deadline, options, (message) => messages.push(message));
      if (signal?.aborted) call.cancel({ code: Status.CANCELLED, details: "aborted" });
      call.end(request);
      const status = await call.status;
      if (status.code !== Status.OK) throw signal?.aborted ? aborted(signal) : statusError(status);
      if (messages.length > 1) {
        throw new DataSourceClientError(Status.INTERNAL, `the server sent ${messages.length} response messages to a unary call`);
      }
      return messages[0];
    } finally {
      signal?.removeEventListener("abort", onAbort);
    }
  }

  #metadataFor(options: DataStoreCallOptions | undefined): Metadata {
    if (this.#metadata === undefined) return options?.metadata?.clone() ?? new Metadata();
    const metadata = this.#metadata.clone();
    if (options?.metadata !== undefined) metadata.merge(options.metadata);
    return metadata;
  }

  /**
   * Starts a call, or rejects with the reason it could not start: no server,
   * the deadline passing while connecting, the signal aborting meanwhile.
   */
  async #start(
    path: string,
    deadline: number | undefined,
    options: DataStoreCallOptions | undefined,
    onMessage: (message: Buffer) => void,
  ): Promise<Call> {
    const signal = options?.signal;
    const starting = this.#channel.start({ path, metadata: this.#metadataFor(options), deadline, onMessage });
    if (signal === undefined && deadline === undefined) {
      return starting.catch((err: unknown) => Promise.reject(channelFailure(err)));
    }
    let giveUp: ((err: DataSourceClientError) => void) | undefined;
    const gaveUp = new Promise<never>((_, reject) => (giveUp = reject));
    const onAbort = () => giveUp?.(aborted(signal as AbortSignal));
    signal?.addEventListener("abort", onAbort, { once: true });
    const timer =
      deadline === undefined
        ? undefined
        : setTimeout(
            () => giveUp?.(new DataSourceClientError(Status.DEADLINE_EXCEEDED, "Deadline exceeded")),
            Math.max(0, deadline - Date.now()),
          );
    try {
      return await Promise.race([starting.catch((err: unknown) => Promise.reject(channelFailure(err))), gaveUp]);
    } catch (err) {
      // A call that starts after we gave up on it is reset at once.
      void starting.then((late) => late.cancel({ code: Status.CANCELLED, details: "abandoned" }), noop);
      throw err;
    } finally {
      clearTimeout(timer);
      signal?.removeEventListener("abort", onAbort);
    }
  }
}
