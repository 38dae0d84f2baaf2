/**
 * Unary calls that return a response message, on the client transport: what
 * {@link DataStoreClient} sends each RPC through. One connection per client;
 * every failure becomes a {@link DataSourceClientError} with the gRPC status.
 *
 * @module
 */
import { type Metadata, status as Status } from "@grpc/grpc-js";
import { aborted, CallChannel, type CallChannelOptions, statusError } from "./call-start.js";
import { DataSourceClientError } from "./errors.js";
import type { Call } from "./transport/call.js";
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

/** Sends unary calls on one channel and returns their response message. @internal */
export class UnaryCaller {
  readonly #channel: CallChannel;

  /** Throws as {@link CallChannel}'s constructor does: TypeError or RangeError. */
  constructor(address: string, options: CallChannelOptions) {
    this.#channel = new CallChannel(address, options);
  }

  /** The address dialled (unix addresses in `unix:///abs` form). */
  get address(): string {
    return this.#channel.address;
  }

  /** Waits until connected, or rejects with `UNAVAILABLE` after `timeoutMs`. */
  waitForReady(timeoutMs: number): Promise<void> {
    return this.#channel.waitForReady(timeoutMs);
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
    const deadlineMs = this.#channel.deadlineMs(options);
    const deadline = deadlineMs === undefined ? undefined : Date.now() + deadlineMs;
    const messages: Buffer[] = [];
    const onMessage = (message: Buffer) => {
      messages.push(message);
      // A unary call has one response message: a second is an error at once, not a buffer to fill.
      if (messages.length > 1) {
        call?.cancel({ code: Status.INTERNAL, details: "the server sent more than one response message to a unary call" });
      }
    };
    // One listener from start to finish: an abort while the call starts is not missed.
    let call: Call | undefined;
    const onAbort = () => call?.cancel({ code: Status.CANCELLED, details: "aborted" });
    signal?.addEventListener("abort", onAbort, { once: true });
    try {
      call = await this.#channel.start(path, deadline, options, onMessage);
      if (signal?.aborted) call.cancel({ code: Status.CANCELLED, details: "aborted" });
      call.end(request);
      const status = await call.status;
      if (status.code !== Status.OK) throw signal?.aborted ? aborted(signal) : statusError(withServiceHint(status));
      return messages[0];
    } finally {
      signal?.removeEventListener("abort", onAbort);
    }
  }
}

/**
 * A server that has no `DataStoreService` at all (grpc-go: "unknown service
 * …", grpc-js: "The server does not implement the method …") — as Tracee
 * releases, which serve only `DataSourceService` — gets a message saying so.
 */
function withServiceHint(status: CallStatus): CallStatus {
  if (status.code !== Status.UNIMPLEMENTED || !/unknown service|does not implement the method/i.test(status.details)) return status;
  return {
    ...status,
    details: `${status.details} (this server does not serve DataStoreService: Tracee releases serve only DataSourceService; datastores need a Tracee build with a datastore runtime, or tracee-ds run --serve)`,
  };
}
