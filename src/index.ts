/**
 * tracee-ds: Tracee's data source contracts for TypeScript signatures.
 *
 * This entry point holds what signature code needs and never loads gRPC:
 * the contracts, the detect errors, the registry and the codec helpers used
 * inside data sources. The server and client live in `tracee-ds/grpc`.
 *
 * @packageDocumentation
 */
export * from "./detect/index.js";
// Typed schemas and typed data sources (no wire code, no gRPC).
export { CodecError, isCodecError } from "./codec/errors.js";
export {
  t,
  decode,
  safeDecode,
  is,
  defineDataSource,
  defineWritableDataSource,
  type Infer,
  type Schema,
  type SchemaLike,
  type Issue,
  type DecodeResult,
  type TypedDataSource,
  type TypedWritableDataSource,
  type DeepReadonly,
} from "./codec/schema/index.js";
// Tracee's writable datastores: contracts, errors, Any packing, shipped stores (no gRPC).
export * from "./datastores/index.js";
