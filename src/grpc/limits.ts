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

/** Limits the server enforces on what clients send. */
export interface Limits {
  /**
   * Largest request message in bytes (default 4 MiB). Larger messages are
   * refused with `RESOURCE_EXHAUSTED`; in a stream, nothing of it is written.
   */
  readonly maxMessageBytes?: number;
  /**
   * Deepest nesting of lists and objects in a key or value (default 64; a
   * scalar has depth 0, `[]` and `{}` depth 1).
   * Deeper values are refused with `INVALID_ARGUMENT`.
   */
  readonly maxDepth?: number;
  /**
   * Most entries in one `WriteStream` call (default 1,000,000; `Infinity` for
   * none). A longer stream is refused with `RESOURCE_EXHAUSTED` and nothing of
   * it is written. The whole stream is held in memory until its single write,
   * so this also bounds memory.
   */
  readonly maxStreamEntries?: number;
}

/** @internal */
export interface ResolvedLimits {
  readonly maxMessageBytes: number;
  readonly maxDepth: number;
  readonly maxStreamEntries: number;
}

function integer(name: string, value: number | undefined, fallback: number, min: number, allowInfinity: boolean): number {
  if (value === undefined) return fallback;
  if (allowInfinity && value === Number.POSITIVE_INFINITY) return value;
  if (!Number.isSafeInteger(value) || value < min) {
    throw new RangeError(`${name} must be an integer >= ${min}${allowInfinity ? " or Infinity" : ""}, got ${value}`);
  }
  return value;
}

/** @internal Validates limits and fills in defaults; throws RangeError. */
export function resolveLimits(limits: Limits): ResolvedLimits {
  return {
    maxMessageBytes: integer("maxMessageBytes", limits.maxMessageBytes, DEFAULT_MAX_MESSAGE_BYTES, 1, false),
    maxDepth: integer("maxDepth", limits.maxDepth, DEFAULT_MAX_DEPTH, 0, false),
    maxStreamEntries: integer("maxStreamEntries", limits.maxStreamEntries, DEFAULT_MAX_STREAM_ENTRIES, 1, true),
  };
}
