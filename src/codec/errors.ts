import { DetectError, ErrFailedToUnmarshal } from "../detect/errors.js";

/** One step into a JSON value: an object key or a list index. */
export type PathSegment = string | number;

const CODEC_BRAND: unique symbol = Symbol.for("tracee-ds.CodecError");
const IDENTIFIER = /^[A-Za-z_$][A-Za-z0-9_$]*$/;

/**
 * Renders a path the way error messages show it: `threshold`, `iocs[3].sha256`,
 * `labels["app.kubernetes.io/name"]`. The empty path renders as `""`.
 */
export function formatPath(path: readonly PathSegment[]): string {
  let out = "";
  for (const segment of path) {
    if (typeof segment === "number") out += `[${segment}]`;
    else if (IDENTIFIER.test(segment)) out += out === "" ? segment : `.${segment}`;
    else out += `[${JSON.stringify(segment)}]`;
  }
  return out;
}

/**
 * A value that could not be decoded: malformed wire bytes, a Value nested too
 * deep, or JSON that does not match a schema.
 *
 * It is a {@link DetectError} with code `FAILED_TO_UNMARSHAL` whose `cause` is
 * {@link ErrFailedToUnmarshal}, so `errorIs(err, ErrFailedToUnmarshal)` holds.
 * The message names the path: `threshold: expected an integer, got 5.5`.
 */
export class CodecError extends DetectError {
  /** Where in the value the problem is; empty for the value itself. */
  readonly path: readonly PathSegment[];
  /** The problem, without the path. */
  readonly reason: string;
  /** @internal */
  readonly [CODEC_BRAND] = true;

  constructor(reason: string, path: readonly PathSegment[] = []) {
    const where = formatPath(path);
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
