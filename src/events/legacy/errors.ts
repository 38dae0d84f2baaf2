/**
 * The error the legacy `trace.Event` readers and converters throw, and the
 * small checking helpers they share.
 *
 * @module
 */

const BRAND: unique symbol = Symbol.for("tracee-ds.LegacyEventJsonError");

/**
 * A legacy `trace.Event` that is not one: a line that is not JSON, a field of
 * the wrong type, an argument whose value does not fit its type.
 *
 * `path` names the field (`timestamp`, `args[2].value`,
 * `args[4].value.srcPort`, `metadata.Properties`; empty for the whole line),
 * `reason` says what is wrong with it, and the message is `path: reason`.
 * Test for it with {@link isLegacyEventJsonError}, which also recognises one
 * thrown by another copy of this package.
 *
 * @example
 * ```ts
 * try {
 *   decodeLegacyEventJson('{"eventName":"openat","eventId":"257","timestamp":"soon"}');
 * } catch (err) {
 *   if (isLegacyEventJsonError(err)) console.log(err.path, err.reason);
 *   // timestamp expected an integer (nanoseconds since the epoch), got the string "soon"
 * }
 * ```
 */
export class LegacyEventJsonError extends Error {
  /** @internal */
  readonly [BRAND] = true;
  constructor(
    /** Where the problem is: `args[2].value`, or `""` for the whole line. */
    readonly path: string,
    /** What is wrong there. */
    readonly reason: string,
    options?: ErrorOptions,
  ) {
    super(path === "" ? reason : `${path}: ${reason}`, options);
    this.name = "LegacyEventJsonError";
  }
}

/**
 * Whether `value` is a {@link LegacyEventJsonError}, from this or any other
 * copy of this package.
 *
 * @example
 * ```ts
 * if (isLegacyEventJsonError(err)) console.error(`bad line, at ${err.path}: ${err.reason}`);
 * ```
 */
export function isLegacyEventJsonError(value: unknown): value is LegacyEventJsonError {
  return typeof value === "object" && value !== null && (value as { [BRAND]?: unknown })[BRAND] === true;
}

/** `path.key`, or `key` at the root. @internal */
export const at = (path: string, key: string): string => (path === "" ? key : `${path}.${key}`);

/** How a value looks, for messages ("the string \"soon\"", "an object"). @internal */
export function describe(v: unknown): string {
  if (v === null) return "null";
  if (v === undefined) return "nothing";
  if (Array.isArray(v)) return "an array";
  if (typeof v === "string") return `the string ${JSON.stringify(v.length > 40 ? `${v.slice(0, 40)}…` : v)}`;
  if (typeof v === "object") return "an object";
  return `${typeof v === "bigint" ? "number" : typeof v} ${String(v)}`;
}

/** Throws `path: expected <expected>, got <v>`. @internal */
export function fail(path: string, expected: string, v: unknown): never {
  throw new LegacyEventJsonError(path, `expected ${expected}, got ${describe(v)}`);
}
