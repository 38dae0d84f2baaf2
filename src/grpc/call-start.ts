/**
 * What `DataSourceClient` and `DataStoreClient` share to start their calls: a
 * {@link CallChannel} (the client's options checked, one connection, the
 * default deadline and metadata) that starts a call under a deadline and an
 * `AbortSignal`, and the errors every failure becomes, each a
 * {@link DataSourceClientError} with the gRPC status.
 *
 * @module
 */
import { credentials as grpcCredentials, Metadata, status as Status } from "@grpc/grpc-js";
import type { DataSourceClientOptions } from "./client.js";
import { DataSourceClientError } from "./errors.js";
import { MAX_TIMER_MS } from "./limits.js";
import type { Call } from "./transport/call.js";
import { Channel, ChannelError } from "./transport/channel.js";
import { DEFAULT_CONNECT_TIMEOUT_MS, dialTarget } from "./transport/dial.js";
import type { CallStatus } from "./transport/status.js";
import { StopLatch, STOPPED } from "../internal/stop-latch.js";

/** The error for a call its `signal` aborted: `CANCELLED`, with the signal's reason as `cause`. @internal */
export function aborted(signal: AbortSignal): DataSourceClientError {
  return new DataSourceClientError(Status.CANCELLED, "the call was aborted by its AbortSignal", { cause: signal.reason });
}

function trailingMetadata(trailers: NonNullable<CallStatus["trailers"]>): Metadata {
  const metadata = Metadata.fromHttp2Headers(trailers);
  metadata.remove("grpc-status");
  metadata.remove("grpc-message");
  return metadata;
}

/** The error for a call that ended with `status`, carrying its trailing metadata. @internal */
export function statusError(status: CallStatus): DataSourceClientError {
  const metadata = status.trailers === undefined ? undefined : trailingMetadata(status.trailers);
  return new DataSourceClientError(status.code, status.details, metadata === undefined ? undefined : { metadata });
}

/** The error for a call that could not start: the channel's status, or `UNAVAILABLE`. @internal */
export function channelFailure(err: unknown): DataSourceClientError {
  if (err instanceof ChannelError) return new DataSourceClientError(err.code, err.details, { cause: err.cause ?? err });
  return new DataSourceClientError(Status.UNAVAILABLE, err instanceof Error ? err.message : String(err), { cause: err });
}

const noop = (): void => {};
/** Default of `maxConcurrentCalls`. */
const DEFAULT_MAX_CONCURRENT_CALLS = 100;

/** Throws a RangeError unless `deadlineMs` is unset or a positive number of milliseconds a timer can hold. @internal */
export function checkDeadlineMs(deadlineMs: number | undefined): void {
  if (deadlineMs === undefined) return;
  if (!(deadlineMs > 0) || deadlineMs > MAX_TIMER_MS) {
    throw new RangeError(
      `deadlineMs must be a positive number of milliseconds up to ${MAX_TIMER_MS} (about 24.8 days; leave it unset for none), got ${deadlineMs}`,
    );
  }
}

/** The client options a {@link CallChannel} takes: those of `DataSourceClient` but `maxDepth`. @internal */
export type CallChannelOptions = Omit<DataSourceClientOptions, "maxDepth">;

/** The per-call options a {@link CallChannel} reads (those of both clients' calls). @internal */
export interface CallStartOptions {
  readonly deadlineMs?: number;
  readonly signal?: AbortSignal;
  readonly metadata?: Metadata;
}

/** One client's connection, with its default deadline and metadata, that starts its calls. @internal */
export class CallChannel {
  /** The address dialled (unix addresses in `unix:///abs` form). */
  readonly address: string;
  readonly #channel: Channel;
  readonly #deadlineMs: number | undefined;
  readonly #metadata: Metadata | undefined;

  /**
   * Checks the address and options; connects lazily, on the first call.
   *
   * @throws TypeError for an unusable address; RangeError for a `deadlineMs`,
   *   `connectTimeoutMs` or `maxConcurrentCalls` out of range.
   */
  constructor(address: string, options: CallChannelOptions) {
    const target = dialTarget(address);
    this.address = target.text;
    checkDeadlineMs(options.deadlineMs);
    const connectTimeoutMs = options.connectTimeoutMs ?? DEFAULT_CONNECT_TIMEOUT_MS;
    if (!Number.isInteger(connectTimeoutMs) || connectTimeoutMs < 1 || connectTimeoutMs > MAX_TIMER_MS) {
      throw new RangeError(`connectTimeoutMs must be a whole number of milliseconds >= 1, got ${connectTimeoutMs}`);
    }
    const maxConcurrentCalls = options.maxConcurrentCalls ?? DEFAULT_MAX_CONCURRENT_CALLS;
    if (!Number.isSafeInteger(maxConcurrentCalls) || maxConcurrentCalls < 1) {
      throw new RangeError(`maxConcurrentCalls must be a whole number >= 1, got ${maxConcurrentCalls}`);
    }
    this.#deadlineMs = options.deadlineMs;
    this.#metadata = options.metadata;
    this.#channel = new Channel(target, options.credentials ?? grpcCredentials.createInsecure(), options.channelOptions ?? {}, {
      connectTimeoutMs,
      maxConcurrentCalls,
    });
  }

  /** Connects, or rejects with the channel's reason it could not. */
  async connect(): Promise<void> {
    await this.#channel.connect();
  }

  /**
   * Waits until connected, trying again as the server may be starting, or
   * rejects with `UNAVAILABLE` after `timeoutMs`.
   */
  async waitForReady(timeoutMs: number): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    let delay = 50;
    // Ends the current wait once timeoutMs has passed (a latch: racing one
    // long-lived promise on every attempt would keep a reaction per attempt).
    const timedOut = new StopLatch();
    const timer = setTimeout(() => timedOut.stop(), timeoutMs);
    let pause: NodeJS.Timeout | undefined;
    const notConnected = (reason: string, cause?: unknown) =>
      new DataSourceClientError(Status.UNAVAILABLE, `not connected to ${this.address}: ${reason}`, { cause });
    try {
      for (;;) {
        let attempt: unknown;
        const outcome = await timedOut.until(
          this.#channel.connect().then(
            () => "connected" as const,
            (err: unknown) => ((attempt = err), "failed" as const),
          ),
        );
        if (outcome === "connected") return;
        if (outcome === STOPPED) throw notConnected(`no connection within ${timeoutMs} ms`);
        const left = deadline - Date.now();
        if (left <= 0 || (attempt instanceof ChannelError && attempt.code === Status.CANCELLED)) {
          throw notConnected(attempt instanceof Error ? attempt.message : String(attempt), attempt);
        }
        const paused = new Promise<void>((resolve) => (pause = setTimeout(resolve, Math.min(delay, left))));
        if ((await timedOut.until(paused)) === STOPPED) {
          throw notConnected(attempt instanceof Error ? attempt.message : String(attempt), attempt);
        }
        delay = Math.min(delay * 2, 1000);
      }
    } finally {
      clearTimeout(timer);
      clearTimeout(pause);
    }
  }

  /** Ends every call in flight with `CANCELLED` and closes the connection. */
  close(): void {
    this.#channel.close();
  }

  /** The call's deadlineMs, else the client's, or `undefined` for none. */
  deadlineMs(options: CallStartOptions | undefined): number | undefined {
    checkDeadlineMs(options?.deadlineMs);
    return options?.deadlineMs ?? this.#deadlineMs;
  }

  /** The absolute deadline (ms since the epoch) of a call starting now, or `undefined` for none. */
  deadline(options: CallStartOptions | undefined): number | undefined {
    const deadlineMs = this.deadlineMs(options);
    return deadlineMs === undefined ? undefined : Date.now() + deadlineMs;
  }

  /**
   * Starts a call to `path`, or rejects with the reason it could not start:
   * no server, the deadline passing while connecting, the signal aborting
   * meanwhile. `onMessage` receives the response messages (unset: the call
   * reads none).
   */
  async start(
    path: string,
    deadline: number | undefined,
    options: CallStartOptions | undefined,
    onMessage?: (message: Buffer) => void,
  ): Promise<Call> {
    const signal = options?.signal;
    const starting = this.#channel.start({
      path,
      metadata: this.#metadataFor(options),
      deadline,
      ...(onMessage === undefined ? {} : { onMessage }),
    });
    if (signal === undefined && deadline === undefined) {
      // Nothing to give up for: the call starts, or fails to.
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
      // Both promises live only as long as this one start: racing them leaves nothing behind.
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

  /** The client's metadata merged with the call's, in a copy of their own. */
  #metadataFor(options: CallStartOptions | undefined): Metadata {
    if (this.#metadata === undefined) return options?.metadata?.clone() ?? new Metadata();
    const metadata = this.#metadata.clone();
    if (options?.metadata !== undefined) metadata.merge(options.metadata);
    return metadata;
  }
}
