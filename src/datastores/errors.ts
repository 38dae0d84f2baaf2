/**
 * The datastore errors: Go's sentinels from Tracee's `api/v1beta1/datastores`
 * with their messages, and {@link DataStoreError}, which a store throws to say
 * what kind of failure a write was. The gRPC server answers each kind with its
 * status code (the table in docs/datastores.md).
 *
 * @module
 */
import { ERROR_KIND, markSentinel } from "../detect/errors.js";

/**
 * The kinds of datastore failure, named after the gRPC status each one gets:
 * a client mistake, an unknown store, a store that cannot serve now, an
 * operation the store does not support.
 */
export type DataStoreErrorCode = "INVALID_ARGUMENT" | "NOT_FOUND" | "UNAVAILABLE" | "UNIMPLEMENTED";

const BRAND: unique symbol = Symbol.for("tracee-ds.DataStoreError");

/**
 * A datastore failure of a known kind. Throw one from a store (or wrap one in
 * `cause`) to have the server answer with the matching status; test for a
 * kind with `errorIs(err, ErrInvalidArgument)`, not with `instanceof`.
 *
 * @example
 * ```ts
 * throw new DataStoreError("INVALID_ARGUMENT", `severity must be 1-10, got ${severity}`);
 * // or, the short form:
 * throw invalidArgument(`severity must be 1-10, got ${severity}`);
 * ```
 */
export class DataStoreError extends Error {
  readonly code: DataStoreErrorCode;
  /** @internal */
  readonly [BRAND] = true;

  constructor(code: DataStoreErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = "DataStoreError";
    this.code = code;
  }

  /** @internal */
  get [ERROR_KIND](): string {
    return `datastore:${this.code}`;
  }
}

/** Whether `value` is a {@link DataStoreError} from any copy of this package. */
export function isDataStoreError(value: unknown): value is DataStoreError {
  return (
    typeof value === "object" &&
    value !== null &&
    (value as { [BRAND]?: unknown })[BRAND] === true &&
    typeof (value as { code?: unknown }).code === "string"
  );
}

const sentinel = (code: DataStoreErrorCode, message: string) => markSentinel(new DataStoreError(code, message));

/** A request a store cannot accept: a bad key or data, a wrong type. Go: `datastores.ErrInvalidArgument`. */
export const ErrInvalidArgument: DataStoreError = sentinel("INVALID_ARGUMENT", "invalid argument");
/** No store has the name asked for. Go: `datastores.ErrRuntimeStoreNotFound`. */
export const ErrStoreNotFound: DataStoreError = sentinel("NOT_FOUND", "datastore not found");
/** The store cannot serve now. Go: `datastores.ErrStoreUnhealthy`. */
export const ErrStoreUnhealthy: DataStoreError = sentinel("UNAVAILABLE", "datastore is unhealthy");
/** The store does not support the operation. Go: `datastores.ErrNotImplemented`. */
export const ErrNotImplemented: DataStoreError = sentinel("UNIMPLEMENTED", "operation not implemented");

/**
 * An `INVALID_ARGUMENT` error saying what was wrong (Go:
 * `fmt.Errorf("…: %w", ErrInvalidArgument)`); `errorIs(err, ErrInvalidArgument)` holds.
 */
export function invalidArgument(message: string, options?: { cause?: unknown }): DataStoreError {
  return new DataStoreError("INVALID_ARGUMENT", message, options);
}
