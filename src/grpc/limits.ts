// The server's limits, and their defaults.
import { DEFAULT_MAX_DEPTH } from "../codec/wire/options.js";

/**
 * Default deepest nesting of lists and objects in a `google.protobuf.Value`:
 * the codec's `DEFAULT_MAX_DEPTH` (`tracee-ds/codec`), the same constant.
 */
export { DEFAULT_MAX_DEPTH };

/** Default largest request message, in bytes: 4 MiB, gRPC's usual default. */
export const DEFAULT_MAX_MESSAGE_BYTES = 4 * 1024 * 1024;
/** Default most entries one `WriteStream` call may carry. */
export const DEFAULT_MAX_STREAM_ENTRIES = 1_000_000;
/** Default most request bytes one unfinished `WriteStream` may hold: 128 MiB. */
export const DEFAULT_MAX_STREAM_BYTES = 128 * 1024 * 1024;
/** Default most request bytes all unfinished `WriteStream` calls together may hold: 256 MiB. */
export const DEFAULT_MAX_SERVER_BUFFERED_BYTES = 256 * 1024 * 1024;
/** Default longest wait for a stream's next message (or its end): 30 s. */
export const DEFAULT_STREAM_IDLE_TIMEOUT_MS = 30_000;
/** Default most `WriteStream` calls open at once, over all connections. */
export const DEFAULT_MAX_CONCURRENT_STREAMS = 1000;
/** Default most `WriteStream` calls open at once on one client connection. */
export const DEFAULT_MAX_STREAMS_PER_CONNECTION = 100;

/**
 * Limits the server enforces on what clients send; none of their refusals
 * writes anything. A refusal by one of the stream limits (every limit named
 * by {@link LimitName}) is counted in {@link ServiceStats.limitsExceeded} and
 * logged at warn; `maxMessageBytes` and `maxDepth` are not limit names there
 * (see each).
 */
export interface Limits {
  /**
   * Largest request message in bytes (default 4 MiB). Larger messages are
   * refused with `RESOURCE_EXHAUSTED`; in a stream, nothing of it is written.
   * `serveDataSources` hands it to grpc-js (`grpc.max_receive_message_length`),
   * which refuses such a message before the service sees it: not counted in
   * `limitsExceeded`; a stream ended so counts in `failedStreams`.
   */
  readonly maxMessageBytes?: number;
  /**
   * Deepest nesting of lists and objects in a key or value (default 64; a
   * scalar has depth 0, `[]` and `{}` depth 1).
   * Deeper values are refused with `INVALID_ARGUMENT`, as a bad entry: not
   * counted in `limitsExceeded`; in a stream, counted in `failedStreams`.
   */
  readonly maxDepth?: number;
  /**
   * Most entries in one `WriteStream` call (default 1,000,000; `Infinity` for
   * none). A longer stream is refused with `RESOURCE_EXHAUSTED` and nothing of
   * it is written.
   */
  readonly maxStreamEntries?: number;
  /**
   * Most request bytes (as received on the wire) one `WriteStream` may hold
   * before it ends (default 128 MiB; `Infinity` for none). A stream that
   * grows past it is refused with `RESOURCE_EXHAUSTED`, and what it held is
   * released at once. At the default, a stream of `maxStreamEntries`
   * (1,000,000) entries fits only if its messages average at most ~134 bytes.
   */
  readonly maxStreamBytes?: number;
  /**
   * Most request bytes all unfinished `WriteStream` calls together may hold
   * (default 256 MiB; `Infinity` for none). While the server holds this much,
   * a new stream is refused with `RESOURCE_EXHAUSTED`, and so is a stream
   * whose next message would go past it; unary `Write` calls are still served.
   */
  readonly maxServerBufferedBytes?: number;
  /**
   * Longest wait, in milliseconds, for a stream's next message or its end
   * (default 30,000; `Infinity` for none). A stream idle that long is ended
   * with `DEADLINE_EXCEEDED`; nothing of it is written and what it held is released.
   */
  readonly streamIdleTimeoutMs?: number;
  /**
   * Most `WriteStream` calls open at once, over all connections (default
   * 1000; `Infinity` for none). One more is refused with `RESOURCE_EXHAUSTED`.
   */
  readonly maxConcurrentStreams?: number;
  /**
   * Most `WriteStream` calls open at once on one client connection (default
   * 100; `Infinity` for none). One more is refused with `RESOURCE_EXHAUSTED`.
   * A `DataSourceClient` is one connection, and keeps at most 100 calls in
   * flight on it by default.
   */
  readonly maxStreamsPerConnection?: number;
}

/**
 * The name of one limit whose refusals are counted in
 * {@link ServiceStats.limitsExceeded} and logged at warn.
 */
export type LimitName =
  | "maxStreamEntries"
  | "maxStreamBytes"
  | "maxServerBufferedBytes"
  | "streamIdleTimeoutMs"
  | "maxConcurrentStreams"
  | "maxStreamsPerConnection";

/** @internal */
export interface ResolvedLimits {
  readonly maxMessageBytes: number;
  readonly maxDepth: number;
  readonly maxStreamEntries: number;
  readonly maxStreamBytes: number;
  readonly maxServerBufferedBytes: number;
  readonly streamIdleTimeoutMs: number;
  readonly maxConcurrentStreams: number;
  readonly maxStreamsPerConnection: number;
}

/** The longest delay a Node.js timer takes (2^31-1 ms, about 24.8 days). @internal */
export const MAX_TIMER_MS = 2 ** 31 - 1;

function integer(
  name: string,
  value: number | undefined,
  fallback: number,
  min: number,
  allowInfinity: boolean,
  max = Number.MAX_SAFE_INTEGER,
): number {
  if (value === undefined) return fallback;
  if (allowInfinity && value === Number.POSITIVE_INFINITY) return value;
  if (!Number.isSafeInteger(value) || value < min) {
    throw new RangeError(`${name} must be an integer >= ${min}${allowInfinity ? " or Infinity" : ""}, got ${value}`);
  }
  if (value > max) throw new RangeError(`${name} must be at most ${max}${allowInfinity ? " (or Infinity)" : ""}, got ${value}`);
  return value;
}

/** @internal Validates limits and fills in defaults; throws RangeError. */
export function resolveLimits(limits: Limits): ResolvedLimits {
  return {
    maxMessageBytes: integer("maxMessageBytes", limits.maxMessageBytes, DEFAULT_MAX_MESSAGE_BYTES, 1, false),
    maxDepth: integer("maxDepth", limits.maxDepth, DEFAULT_MAX_DEPTH, 0, false),
    maxStreamEntries: integer("maxStreamEntries", limits.maxStreamEntries, DEFAULT_MAX_STREAM_ENTRIES, 1, true),
    maxStreamBytes: integer("maxStreamBytes", limits.maxStreamBytes, DEFAULT_MAX_STREAM_BYTES, 1, true),
    maxServerBufferedBytes: integer(
      "maxServerBufferedBytes",
      limits.maxServerBufferedBytes,
      DEFAULT_MAX_SERVER_BUFFERED_BYTES,
      1,
      true,
    ),
    streamIdleTimeoutMs: integer(
      "streamIdleTimeoutMs",
      limits.streamIdleTimeoutMs,
      DEFAULT_STREAM_IDLE_TIMEOUT_MS,
      1,
      true,
      MAX_TIMER_MS,
    ),
    maxConcurrentStreams: integer(
      "maxConcurrentStreams",
      limits.maxConcurrentStreams,
      DEFAULT_MAX_CONCURRENT_STREAMS,
      1,
      true,
    ),
    maxStreamsPerConnection: integer(
      "maxStreamsPerConnection",
      limits.maxStreamsPerConnection,
      DEFAULT_MAX_STREAMS_PER_CONNECTION,
      1,
      true,
    ),
  };
}
