import { DetectError, ErrFailedToUnmarshal } from "../detect/errors.js";

/** One step into a JSON value: an object key or a list index. */
export type PathSegment = string | number;

const CODEC_BRAND: unique symbol = Symbol.for("tracee-ds.CodecError");
const IDENTIFIER = /^[A-Za-z_$][A-Za-z0-9_$]*$/;

/**
 * Renders a path in full: `threshold`, `iocs[3].sha256`,
 * `labels["app.kubernetes.io/name"]`. The empty path renders as `""`.
 *
 * Error messages show paths this way up to 10 segments. A longer one (from a
 * value nested too deep) is shortened there to its first and last three
 * segments and its depth, `[0][0][0]…[0].a.b (depth 65)`; the error's `path`
 * keeps every segment.
 *
 * @example
 * ```ts
 * formatPath(["iocs", 3, "sha256"]); // "iocs[3].sha256"
 * ```
 */
export function formatPath(path: readonly PathSegment[]): string {
  let out = "";
  let first = true;
  for (const segment of path) {
    if (typeof segment === "number") out += `[${segment}]`;
    else if (IDENTIFIER.test(segment)) out += first ? segment : `.${segment}`;
    else out += `[${JSON.stringify(segment)}]`;
    first = false;
  }
  return out;
}

/** How many segments an error message shows in full; longer paths are shortened. */
const MESSAGE_PATH_SEGMENTS = 10;
const SHOWN_AT_EACH_END = 3;

/**
 * @internal The path as an error message shows it: {@link formatPath} up to
 * 10 segments, else the first and last three segments around `…`, and the
 * depth: `a.b.c…[3].x.y (depth 65)`.
 */
export function formatMessagePath(path: readonly PathSegment[]): string {
  if (path.length <= MESSAGE_PATH_SEGMENTS) return formatPath(path);
  const head = formatPath(path.slice(0, SHOWN_AT_EACH_END));
  const tail = formatPath(path.slice(-SHOWN_AT_EACH_END));
  return `${head}…${tail} (depth ${path.length})`;
}

/**
 * A value that could not be decoded: malformed wire bytes, a Value nested too
 * deep, or JSON that does not match a schema.
 *
 * It is a {@link DetectError} with code `FAILED_TO_UNMARSHAL` whose `cause` is
 * {@link ErrFailedToUnmarshal}, so `errorIs(err, ErrFailedToUnmarshal)` holds.
 * The message names the path: `threshold: expected an integer, got 5.5`; a
 * path longer than 10 segments is shortened there (see {@link formatPath}),
 * and `path` holds it whole.
 */
export class CodecError extends DetectError {
  /** Where in the value the problem is; empty for the value itself. */
  readonly path: readonly PathSegment[];
  /** The problem, without the path. */
  readonly reason: string;
  /** @internal */
  readonly [CODEC_BRAND] = true;

  constructor(reason: string, path: readonly PathSegment[] = []) {
    const where = formatMessagePath(path);
    super("FAILED_TO_UNMARSHAL", where === "" ? reason : `${where}: ${reason}`, { cause: ErrFailedToUnmarshal });
    this.name = "CodecError";
    this.path = Object.freeze([...path]);
    this.reason = reason;
  }
}

/** Whether `value` is a {@link CodecError} from any copy of this package (ESM or CJS). */
export function isCodecError(value: unknown): value is CodecError {
  return typeof value === "object" && value !== null && (value as { [CODEC_BRAND]?: unknown })[CODEC_BRAND] === true;
}
