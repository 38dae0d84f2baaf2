/**
 * Typed schemas: the `t` builder, decode/safeDecode, and typed data sources.
 */
export { t } from "./t.js";
export type {
  Schema,
  SchemaKind,
  SchemaLike,
  OptionalSchema,
  Infer,
  Issue,
  Literal,
  TraceeType,
} from "./types.js";
export type { IntOptions, IntSchema, StringOptions, LiteralSchema, EnumSchema } from "./scalars.js";
export type {
  ListOptions,
  ListSchema,
  Shape,
  InferShape,
  UnknownFields,
  RecordOptions,
  RecordSchema,
  MapSchema,
  NullableSchema,
} from "./composite.js";
export type { JsonOptions } from "./json.js";
export { decode, safeDecode, is, type DecodeResult } from "./decode.js";
export { traceeTypeOf as traceeType, isStandardSchema } from "./standard.js";
export {
  defineDataSource,
  defineWritableDataSource,
  type CommonOptions,
  type DataSourceOptions,
  type NamedShape,
  type FunctionShape,
  type WritableDataSourceOptions,
  type TypedDataSource,
  type TypedWritableDataSource,
  type ResultShape,
  type ResultOf,
  type ResultObject,
  type Entry,
  type DeepReadonly,
} from "./data-source.js";
