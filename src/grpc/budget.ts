/**
 * What unfinished streams may hold: bytes per stream and in total, streams
 * per connection and in total; and the counters that report it.
 *
 * @internal
 * @module
 */
import type { LimitName, ResolvedLimits } from "./limits.js";

/** A snapshot of a DataSourceService's streams and of the limits it enforced. */
export interface ServiceStats {
  /** `WriteStream` calls open now. */
  readonly openStreams: number;
  /** Request bytes (as received on the wire) held by unfinished streams now. */
  readonly bufferedBytes: number;
  /**
   * Streams written to their data source. A stream whose write had started
   * counts here once the write succeeded, even if its client cancelled meanwhile.
   */
  readonly committedStreams: number;
  /**
   * Streams that ended with an error status: a bad entry, a limit, the data
   * source's write failing (also after a cancel that came while it ran), or
   * grpc-js refusing a message itself (larger than `maxMessageBytes`).
   */
  readonly failedStreams: number;
  /**
   * Streams whose client went away (cancel, reset, deadline, lost connection)
   * before their write started; nothing of them was written.
   */
  readonly droppedStreams: number;
  /**
   * How many streams each limit refused; each of these refusals is also
   * logged at `warn`. `maxMessageBytes` and `maxDepth` are not counted here.
   */
  readonly limitsExceeded: Readonly<Record<LimitName, number>>;
}

/** How a stream ended, for {@link ServiceStats}. */
export type StreamEnd = "committed" | "failed" | "dropped";

/** One connection's identity: its HTTP/2 session, or the peer address where that is unknown. */
export type ConnectionKey = object | string;

/** @internal */
export class Budget {
  #open = 0;
  #bytes = 0;
  readonly #perConnection = new Map<ConnectionKey, number>();
  readonly #ends: Record<StreamEnd, number> = { committed: 0, failed: 0, dropped: 0 };
  readonly #exceeded: Record<LimitName, number> = {
    maxStreamEntries: 0,
    maxStreamBytes: 0,
    maxServerBufferedBytes: 0,
    streamIdleTimeoutMs: 0,
    maxConcurrentStreams: 0,
    maxStreamsPerConnection: 0,
  };

  constructor(readonly limits: ResolvedLimits) {}

  /**
   * Admits a new stream on `connection`, or names the limit that refuses it
   * (the caller counts the refusal with {@link exceeded}). An admitted stream
   * must {@link leave} once.
   */
  admit(connection: ConnectionKey): LimitName | undefined {
    const onConnection = this.#perConnection.get(connection) ?? 0;
    const refused =
      this.#open >= this.limits.maxConcurrentStreams
        ? "maxConcurrentStreams"
        : onConnection >= this.limits.maxStreamsPerConnection
          ? "maxStreamsPerConnection"
          : this.#bytes >= this.limits.maxServerBufferedBytes
            ? "maxServerBufferedBytes"
            : undefined;
    if (refused !== undefined) return refused;
    this.#open++;
    this.#perConnection.set(connection, onConnection + 1);
    return undefined;
  }

  /**
   * Takes `bytes` more for a stream that already holds `held`, or names the
   * limit that refuses them (the caller counts the refusal with
   * {@link exceeded}); nothing is taken then.
   */
  take(held: number, bytes: number): LimitName | undefined {
    if (held + bytes > this.limits.maxStreamBytes) return "maxStreamBytes";
    if (this.#bytes + bytes > this.limits.maxServerBufferedBytes) return "maxServerBufferedBytes";
    this.#bytes += bytes;
    return undefined;
  }

  /** Gives back `bytes` a stream had taken. */
  give(bytes: number): void {
    this.#bytes -= bytes;
  }

  /** A stream admitted on `connection` ended; counts how. */
  leave(connection: ConnectionKey, how: StreamEnd): void {
    this.#open--;
    this.#ends[how]++;
    const left = (this.#perConnection.get(connection) ?? 1) - 1;
    if (left <= 0) this.#perConnection.delete(connection);
    else this.#perConnection.set(connection, left);
  }

  /** Counts a refusal by `limit`. The stream that calls it also logs it (stream-call.ts). */
  exceeded(limit: LimitName): void {
    this.#exceeded[limit]++;
  }

  stats(): ServiceStats {
    return {
      openStreams: this.#open,
      bufferedBytes: this.#bytes,
      committedStreams: this.#ends.committed,
      failedStreams: this.#ends.failed,
      droppedStreams: this.#ends.dropped,
      limitsExceeded: { ...this.#exceeded },
    };
  }
}
