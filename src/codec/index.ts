/**
 * tracee-ds/codec: `google.protobuf.Value` ⇄ JSON values, and typed schemas
 * that decode written data without the float64 quirk.
 *
 * @packageDocumentation
 */
export { CodecError, isCodecError, formatPath, type PathSegment } from "./errors.js";
export * from "./wire/index.js";
export * from "./schema/index.js";
