/**
 * The limits the DataStoreService enforces, and their defaults. Message size
 * and Value depth are the DataSourceService's own ({@link Limits}); the batch
 * size is the DataStoreService's.
 *
 * @module
 */
import { type Limits, resolveLimits } from "./limits.js";

/** Default most entries one `WriteBatchData` call may carry. */
export const DEFAULT_SERVER_MAX_BATCH_ENTRIES = 100_000;

/**
 * Limits of the DataStoreService. None of their refusals writes anything.
 */
export interface DataStoreLimits extends Pick<Limits, "maxMessageBytes" | "maxDepth"> {
  /**
   * Most entries in one `WriteBatchData` call (default 100,000; `Infinity`
   * for none). A larger batch is refused with `RESOURCE_EXHAUSTED`, counted in
   * {@link DataStoreStats.limitsExceeded} and logged at warn. Entries past the
   * limit are counted, never decoded.
   */
  readonly maxBatchEntries?: number;
}

/** @internal */
export interface ResolvedDataStoreLimits {
  readonly maxMessageBytes: number;
  readonly maxDepth: number;
  readonly maxBatchEntries: number;
}

/** @internal Validates the limits and fills in defaults; throws RangeError. */
export function resolveDataStoreLimits(limits: DataStoreLimits): ResolvedDataStoreLimits {
  const picked: Pick<Limits, "maxMessageBytes" | "maxDepth"> = {
    ...(limits.maxMessageBytes === undefined ? {} : { maxMessageBytes: limits.maxMessageBytes }),
    ...(limits.maxDepth === undefined ? {} : { maxDepth: limits.maxDepth }),
  };
  const { maxMessageBytes, maxDepth } = resolveLimits(picked);
  const batch = limits.maxBatchEntries ?? DEFAULT_SERVER_MAX_BATCH_ENTRIES;
  if (batch !== Number.POSITIVE_INFINITY && (!Number.isSafeInteger(batch) || batch < 1)) {
    throw new RangeError(`maxBatchEntries must be an integer >= 1 or Infinity, got ${batch}`);
  }
  return { maxMessageBytes, maxDepth, maxBatchEntries: batch };
}
