/**
 * The threshold data source from Tracee's "Writable Data Sources" page,
 * ported line by line from Go.
 *
 * The docs' Go version has three mistakes, fixed here and marked FIX:
 *  1. It declares `thresholdDataSource` but puts every method on another
 *     type (`*e2eWritable`), so the type it declares implements nothing.
 *  2. `Values()` reports `"string"`, but the value written is an integer.
 *  3. Its client (see write-threshold.ts) swaps `Id` and `Namespace`.
 *
 * Note how `write` has to unpack the number by hand: values arrive as
 * `google.protobuf.Value`, whose only number kind is a float64. The typed
 * version next to this file (threshold-typed.ts) lets the codec do that.
 */
import { ErrFailedToUnmarshal, ErrKeyNotSupported, type WritableDataSource, type WriteData } from "tracee-ds";

export const THRESHOLD_NAMESPACE = "my_namespace";
export const THRESHOLD_ID = "threshold_datasource";

// FIX 1: the methods live on the type that holds the state.
export class ThresholdDataSource implements WritableDataSource<unknown, { threshold: number }> {
  // Go's zero value for `threshold int`.
  private threshold = 0;

  get(key: unknown): { threshold: number } {
    if (typeof key !== "string") {
      throw ErrKeyNotSupported;
    }
    if (key !== "threshold") {
      throw ErrKeyNotSupported;
    }
    return { threshold: this.threshold };
  }

  version(): number {
    return 1;
  }

  keys(): string[] {
    return ['string:"threshold"'];
  }

  schema(): string {
    return JSON.stringify({ threshold: "int" });
  }

  namespace(): string {
    return THRESHOLD_NAMESPACE;
  }

  id(): string {
    return THRESHOLD_ID;
  }

  write(data: WriteData): void {
    const threshold = data.get("threshold");
    if (threshold === undefined) {
      throw ErrFailedToUnmarshal;
    }
    // Currently we pass the gRPC values directly, so numbers are sent as float64.
    // Go's int(float64) truncates; it is undefined for NaN and ±Inf, so those
    // are refused here instead.
    if (typeof threshold !== "number" || !Number.isFinite(threshold)) {
      throw ErrFailedToUnmarshal;
    }
    this.threshold = Math.trunc(threshold);
  }

  values(): string[] {
    // FIX 2: the docs say "string"; the value is an integer.
    return ["int"];
  }
}
