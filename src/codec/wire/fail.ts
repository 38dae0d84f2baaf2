import { CodecError, type PathSegment } from "../errors.js";
import { isStackOverflow } from "./options.js";

/**
 * @internal A failure inside a conversion, before it has a full path.
 *
 * Converters throw it at the point of failure with an empty path; each list or
 * object level on the way out pushes its segment, so the path is built in
 * reverse and only when something fails (the happy path pays nothing).
 */
export class Failure {
  readonly reason: string;
  /** Segments from the innermost outwards. */
  readonly reversedPath: PathSegment[] = [];
  constructor(reason: string) {
    this.reason = reason;
  }
}

/** @internal Adds `segment` to a Failure on its way out; rethrows anything else unchanged. */
export function addSegment(error: unknown, segment: PathSegment): unknown {
  if (error instanceof Failure) error.reversedPath.push(segment);
  return error;
}

/**
 * @internal Turns what a converter threw into what the public function throws:
 * a Failure becomes a CodecError with its path, a stack overflow a CodecError
 * at the root, anything else passes unchanged.
 */
export function toPublicError(error: unknown): unknown {
  if (error instanceof Failure) return new CodecError(error.reason, error.reversedPath.reverse());
  if (isStackOverflow(error)) return new CodecError("value nests too deep for the call stack");
  return error;
}

/** @internal Describes a JavaScript value for an error message: `undefined`, `bigint`, `Date`. */
export function describe(value: unknown): string {
  if (value === null) return "null";
  if (typeof value === "object") {
    if (Array.isArray(value)) return "array";
    const proto: unknown = Object.getPrototypeOf(value);
    const ctor = proto === null ? undefined : (proto as { constructor?: { name?: unknown } }).constructor;
    return typeof ctor?.name === "string" && ctor.name !== "" ? ctor.name : "object";
  }
  if (typeof value === "number") return String(value);
  return typeof value;
}
