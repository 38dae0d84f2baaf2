/**
 * The wire half of tracee-ds/codec: `google.protobuf.Value` ⇄ JSON values, in
 * each form a user meets: wire bytes, the ts-proto message, a google-protobuf
 * instance, a protobuf-es message, and protobuf JSON.
 *
 * @packageDocumentation
 */
export { type ValueCodecOptions, DEFAULT_MAX_DEPTH } from "./options.js";
export { fromValueBinary } from "./decode-binary.js";
export { toValueBinary } from "./encode-binary.js";
export { fromValue, toValue, type AnyValueForm, type TsProtoValue } from "./ts-proto.js";
export type { EsValueLike, EsStructLike, EsListValueLike } from "./protobuf-es.js";
export {
  fromGoogleValue,
  toGoogleValue,
  type GoogleValueLike,
  type GoogleStructLike,
  type GoogleListValueLike,
  type GoogleValueClass,
} from "./google.js";
export { fromValueJson, toValueJson } from "./json.js";
