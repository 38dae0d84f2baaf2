import { Metadata } from "@grpc/grpc-js";
import { type StatusName, statusName } from "./status-names.js";

export { type StatusName, statusName };

const BRAND: unique symbol = Symbol.for("tracee-ds.DataSourceClientError");

/**
 * A failed call from {@link DataSourceClient}: the server's gRPC status, or a
 * local failure expressed as one.
 *
 * `code` is the numeric gRPC status (compare with `Status.NOT_FOUND`),
 * `codeName` its name (`"NOT_FOUND"`), `details` the server's message. Local
 * failures use the code that fits: `INVALID_ARGUMENT` for an entry that
 * cannot be encoded (before anything is sent for it), `CANCELLED` for an
 * aborted call (`cause` is the signal's reason). Test for it with
 * {@link isDataSourceClientError}, which also works across the ESM and CJS
 * copies of the package.
 *
 * @example
 * ```ts
 * try {
 *   await client.write({ namespace: "my_namespace", id: "threshold_datasource", key: "threshold", value: "ten" });
 * } catch (err) {
 *   if (isDataSourceClientError(err) && err.codeName === "INVALID_ARGUMENT") console.error(err.details);
 *   else throw err;
 * }
 * ```
 */
export class DataSourceClientError extends Error {
  /** The gRPC status code (`Status.NOT_FOUND` = 5). */
  readonly code: number;
  /** The status code's name, `"NOT_FOUND"`. */
  readonly codeName: StatusName;
  /** The status message the server sent (or the local reason). */
  readonly details: string;
  /** Trailing metadata the server sent with the status, if any. */
  readonly metadata: Metadata;
  /** @internal */
  readonly [BRAND] = true;

  constructor(code: number, details: string, options?: { cause?: unknown; metadata?: Metadata }) {
    super(`${statusName(code)}: ${details}`, options?.cause === undefined ? undefined : { cause: options.cause });
    this.name = "DataSourceClientError";
    this.code = code;
    this.codeName = statusName(code);
    this.details = details;
    this.metadata = options?.metadata ?? new Metadata();
  }
}

/** Whether `value` is a {@link DataSourceClientError} from any copy of this package. */
export function isDataSourceClientError(value: unknown): value is DataSourceClientError {
  return typeof value === "object" && value !== null && (value as { [BRAND]?: unknown })[BRAND] === true;
}
