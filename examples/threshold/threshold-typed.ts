/**
 * The threshold data source again, defined with `defineWritableDataSource`
 * instead of ported line by line (compare threshold-datasource.ts).
 *
 * The port unpacks the written value by hand: it checks for a float64 and
 * truncates it, so 9.9 becomes 9 and -3 is accepted, and every refusal is a
 * bare `ErrFailedToUnmarshal`. Here the schemas say what a key and a value
 * are, once; `keys()`, `values()` and `schema()` come from them, and a bad
 * write is refused whole with a message naming the key: 5.5 →
 * `threshold: expected an integer, got 5.5`. A write naming another key
 * is refused with `ErrKeyNotSupported` (the port says `ErrFailedToUnmarshal`).
 *
 * One difference in behaviour, on purpose: before the first write the port
 * answers Go's zero value, `{ threshold: 0 }` (every process is "above" it);
 * this one answers `ErrDataNotFound` unless given a starting threshold.
 */
import { dataSourceRef, defineWritableDataSource, t } from "tracee-ds";
import { THRESHOLD_ID, THRESHOLD_NAMESPACE } from "./threshold-datasource.js";

/** A threshold: how many file opens a process may make; a positive integer. */
export const Threshold = t.int({ min: 1 });

/** Creates the threshold data source, optionally holding a threshold already. */
export function createThresholdDataSource(initial?: number) {
  return defineWritableDataSource({
    namespace: THRESHOLD_NAMESPACE,
    id: THRESHOLD_ID,
    version: 1,
    key: t.literal("threshold"),
    value: Threshold,
    data: initial === undefined ? [] : [["threshold", initial]],
  });
}

/** The typed threshold data source. */
export type TypedThresholdDataSource = ReturnType<typeof createThresholdDataSource>;

/** Signatures look it up with this: `ctx.getDataSource(ThresholdRef)` is a `TypedThresholdDataSource | undefined`. */
export const ThresholdRef = dataSourceRef<TypedThresholdDataSource>(THRESHOLD_NAMESPACE, THRESHOLD_ID);
