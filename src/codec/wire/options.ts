/**
 * Options shared by every `google.protobuf.Value` conversion in this folder.
 */

/** Options for converting between `google.protobuf.Value` and JSON values. */
export interface ValueCodecOptions {
  /**
   * How many lists and objects may nest inside each other. A scalar has depth
   * 0, `[]` and `{}` depth 1, `[{ "a": [] }]` depth 3. A value nested deeper
   * is a {@link CodecError} naming the path of the first list or object past
   * the limit. Default 64; `Infinity` turns the check off (a value too deep
   * for the call stack is still a CodecError, never a crash).
   */
  readonly maxDepth?: number;
  /**
   * Whether `NaN`, `Infinity` and `-Infinity` pass. The binary form carries
   * them, JSON cannot, and the Value spec forbids them, so by default they are
   * a {@link CodecError} naming the path. Default `false`.
   */
  readonly allowNonFinite?: boolean;
}

/** The default nesting limit for lists and objects. */
export const DEFAULT_MAX_DEPTH = 64;

/** @internal Options with defaults applied. */
export interface ResolvedOptions {
  readonly maxDepth: number;
  readonly allowNonFinite: boolean;
}

const DEFAULTS: ResolvedOptions = Object.freeze({ maxDepth: DEFAULT_MAX_DEPTH, allowNonFinite: false });

/**
 * @internal Applies defaults and checks types; a bad option is a programming
 * error, so it throws a TypeError or RangeError rather than a CodecError.
 */
export function resolveOptions(options: ValueCodecOptions | undefined): ResolvedOptions {
  if (options === undefined) return DEFAULTS;
  const maxDepth = options.maxDepth ?? DEFAULT_MAX_DEPTH;
  const allowNonFinite = options.allowNonFinite ?? false;
  if (typeof maxDepth !== "number" || Number.isNaN(maxDepth) || maxDepth < 0) {
    throw new RangeError(`maxDepth must be a non-negative number, got ${String(maxDepth)}`);
  }
  if (typeof allowNonFinite !== "boolean") {
    throw new TypeError(`allowNonFinite must be a boolean, got ${typeof allowNonFinite}`);
  }
  if (maxDepth === DEFAULT_MAX_DEPTH && !allowNonFinite) return DEFAULTS;
  return { maxDepth, allowNonFinite };
}

/** @internal Whether `error` is V8's "Maximum call stack size exceeded". */
export function isStackOverflow(error: unknown): boolean {
  return error instanceof RangeError && /call stack/i.test(error.message);
}
