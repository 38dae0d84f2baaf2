/**
 * Tracee's detect error constants, and the `errors.Is` of this SDK.
 *
 * Go's sentinels are values compared by identity through `%w` wrapping. Here
 * each sentinel is a {@link DetectError} with a stable `code`; wrapping builds
 * a new error whose `cause` is the sentinel. {@link errorIs} follows `cause`
 * chains and, for sentinels, also matches by `code`, so a check still holds when
 * the ESM and CJS builds of this package are both loaded (two copies of each
 * sentinel exist then, and `===` alone would miss).
 */

/** The codes of Tracee's detect errors. */
export type DetectErrorCode = "DATA_NOT_FOUND" | "KEY_NOT_SUPPORTED" | "FAILED_TO_UNMARSHAL";

// Symbol.for is shared by every copy of the package in one process; a class
// identity is not. The brand marks our errors; the second marks sentinels.
const BRAND: unique symbol = Symbol.for("tracee-ds.DetectError");
const SENTINEL: unique symbol = Symbol.for("tracee-ds.DetectError.sentinel");

/**
 * An error from a data source: one of Tracee's three detect errors, possibly
 * wrapped with context.
 *
 * `code` names the detect error; `cause` is the error it wraps (the sentinel
 * for errors made by {@link wrapError}). Test for a kind with {@link errorIs},
 * not with `instanceof`.
 */
export class DetectError extends Error {
  /** Which of Tracee's detect errors this is. */
  readonly code: DetectErrorCode;
  /** @internal */
  readonly [BRAND] = true;

  constructor(code: DetectErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = "DetectError";
    this.code = code;
  }
}

/**
 * The kind an error of this SDK carries, under a `Symbol.for` key so every copy
 * of the package reads it: `errorIs` matches a sentinel to any error of its kind.
 *
 * @internal
 */
export const ERROR_KIND: unique symbol = Symbol.for("tracee-ds.error.kind");

/**
 * Marks `err` as a sentinel (compared by kind in {@link errorIs}) and freezes it.
 *
 * @internal
 */
export function markSentinel<E extends Error>(err: E): E {
  Object.defineProperty(err, SENTINEL, { value: true });
  return Object.freeze(err);
}

function sentinel(code: DetectErrorCode, message: string): DetectError {
  return markSentinel(new DetectError(code, message));
}

/** `get` found no data for a supported key. Go: `detect.ErrDataNotFound`. */
export const ErrDataNotFound: DetectError = sentinel("DATA_NOT_FOUND", "requested data was not found");

/** `get` was asked with a key of a kind it does not serve. Go: `detect.ErrKeyNotSupported`. */
export const ErrKeyNotSupported: DetectError = sentinel("KEY_NOT_SUPPORTED", "queried key is not supported");

/** `write` was given a value it cannot read. Go: `detect.ErrFailedToUnmarshal`. */
export const ErrFailedToUnmarshal: DetectError = sentinel(
  "FAILED_TO_UNMARSHAL",
  "given value could not be unmarshaled",
);

/**
 * Whether `value` is a {@link DetectError} from any copy of this package.
 *
 * Works across the ESM and CJS builds, where `instanceof` does not.
 */
export function isDetectError(value: unknown): value is DetectError {
  return (
    typeof value === "object" &&
    value !== null &&
    (value as { [BRAND]?: unknown })[BRAND] === true &&
    typeof (value as { code?: unknown }).code === "string"
  );
}

/** `detect:CODE` for a detect error, the {@link ERROR_KIND} of other errors of this SDK. */
function kindOf(value: unknown): string | undefined {
  if (isDetectError(value)) return `detect:${value.code}`;
  if (typeof value !== "object" || value === null) return undefined;
  const kind = (value as { [ERROR_KIND]?: unknown })[ERROR_KIND];
  return typeof kind === "string" ? kind : undefined;
}

function isSentinel(value: unknown): boolean {
  return typeof value === "object" && value !== null && (value as { [SENTINEL]?: unknown })[SENTINEL] === true;
}

const MAX_CHAIN = 100;

/**
 * Whether `err`, or any error in its `cause` chain, is `target`: the
 * `errors.Is` of this SDK.
 *
 * Follows `cause` (and the `errors` of an `AggregateError`) up to 100 links,
 * guarding against cycles. A sentinel of this SDK as `target` (a detect error
 * constant, or a datastore one such as `ErrInvalidArgument`) also matches any
 * error of the same kind and code, so wrapped errors and errors from another
 * copy of the package are recognised.
 *
 * @example
 * ```ts
 * try {
 *   ds.get(key);
 * } catch (err) {
 *   if (errorIs(err, ErrDataNotFound)) return; // nothing known for this key
 *   throw err;
 * }
 * ```
 */
export function errorIs(err: unknown, target: unknown): boolean {
  const byKind = isSentinel(target) ? kindOf(target) : undefined;
  const seen = new Set<unknown>();
  const queue: unknown[] = [err];
  while (queue.length > 0 && seen.size < MAX_CHAIN) {
    const current = queue.shift();
    if (current === undefined || current === null || seen.has(current)) continue;
    seen.add(current);
    if (current === target) return true;
    if (byKind !== undefined && kindOf(current) === byKind) return true;
    if (typeof current !== "object") continue;
    if (current instanceof AggregateError) queue.push(...(current.errors as unknown[]));
    if ("cause" in current) queue.push(current.cause);
  }
  return false;
}

/**
 * Wraps a detect error with context, the way Go's `fmt.Errorf("%s: %w", …)` does.
 *
 * The result is a new {@link DetectError} with the same `code`, the message
 * `` `${context}: ${target.message}` `` and `cause` set to `target`, so
 * `errorIs(result, target)` holds. Wrapping a wrapped error adds one more
 * level of context.
 *
 * @example
 * ```ts
 * throw wrapError(ErrFailedToUnmarshal, "threshold: expected an integer, got 5.5");
 * // message: "threshold: expected an integer, got 5.5: given value could not be unmarshaled"
 * ```
 */
export function wrapError(target: DetectError, context: string): DetectError {
  return new DetectError(target.code, `${context}: ${target.message}`, { cause: target });
}
