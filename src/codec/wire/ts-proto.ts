import type { JsonObject, JsonValue } from "type-fest";
import { Failure, describe, toPublicError } from "./fail.js";
import { isGoogleValueLike, readGoogle, type GoogleValueLike } from "./google.js";
import { checkNumber, copyJson, isPlainObject } from "./json.js";
import { resolveOptions, type ResolvedOptions, type ValueCodecOptions } from "./options.js";
import { isEsValueLike, readEs, type EsValueLike } from "./protobuf-es.js";
import { isWellFormed } from "./utf8.js";

/**
 * A `google.protobuf.Value` as ts-proto generates it (this package's
 * `src/gen`): one optional property per kind. ts-proto unwraps nested Structs
 * and ListValues, so `structValue` and `listValue` already hold plain JSON.
 * The generated `Value` type is assignable to and from this one.
 */
export interface TsProtoValue {
  nullValue?: number | undefined;
  numberValue?: number | undefined;
  stringValue?: string | undefined;
  boolValue?: boolean | undefined;
  structValue?: { [key: string]: JsonValue | undefined } | undefined;
  listValue?: JsonValue[] | undefined;
}

const KINDS = ["nullValue", "numberValue", "stringValue", "boolValue", "structValue", "listValue"] as const;
const KIND_NAMES: ReadonlySet<string> = new Set(KINDS);

/**
 * Every form {@link fromValue} reads: a `google.protobuf.Value` message from
 * ts-proto, google-protobuf or protobuf-es, or a plain JSON value.
 */
export type AnyValueForm = TsProtoValue | GoogleValueLike | EsValueLike | JsonValue;

/**
 * Reads a `google.protobuf.Value` in any form into a JSON value: a ts-proto
 * message, a google-protobuf `struct_pb.Value` instance, a protobuf-es
 * message, or plain JSON.
 *
 * The form is recognised by its shape, in this order:
 * - a google-protobuf instance has the getters (`getKindCase()` …); it is read
 *   as {@link fromGoogleValue} reads it;
 * - a protobuf-es message has `kind: { case, value }` (and, as a plain
 *   object, nothing else but `$typeName` and `$unknown`);
 * - an object whose keys are all kind properties (`numberValue`,
 *   `structValue` …) is a ts-proto message: exactly one kind must be set
 *   (ts-proto decodes a message whose oneof repeats into several properties,
 *   where protobuf would keep the last), and `structValue` and `listValue`
 *   hold plain JSON, as ts-proto unwraps them;
 * - anything else is plain JSON, checked as {@link fromValueJson} checks it:
 *   a scalar, a list, or an object without kind properties.
 *
 * Two shapes are ambiguous and throw a CodecError that points to
 * {@link fromValueJson}: an empty object (a ts-proto message with no kind
 * set, or the JSON object `{}`), and an object that mixes kind properties
 * with other keys. JSON data that may hold such keys (`{ numberValue: 1 }`
 * is read as the message for 1) should be read with `fromValueJson`.
 *
 * The result is a fresh copy: objects are rebuilt as ordinary objects in
 * which a key such as `__proto__` is an own property. (ts-proto's
 * `Struct.decode` assigns wire keys into plain objects, so a `__proto__` key
 * from the wire may already have changed a prototype there: for untrusted
 * bytes use {@link fromValueBinary}.)
 *
 * Throws a {@link CodecError} naming the path for: no kind set (also
 * `undefined` nested inside), more than one kind set, NaN or ±Infinity
 * unless `allowNonFinite`, a string with a lone surrogate, anything that is
 * not a JSON value, and nesting deeper than `maxDepth`.
 *
 * @example
 * ```ts
 * import { Value } from "./gen/google/protobuf/struct.js";
 * fromValue(Value.decode(bytes)); // e.g. 10
 * fromValue({ structValue: { threshold: 10 } }); // ts-proto: { threshold: 10 }
 * fromValue(struct_pb.Value.fromJavaScript([1, "a"])); // google-protobuf: [1, "a"]
 * fromValue(create(ValueSchema, { kind: { case: "boolValue", value: true } })); // protobuf-es: true
 * fromValue({ threshold: 10 }); // plain JSON: { threshold: 10 }
 * ```
 */
export function fromValue(message: AnyValueForm, options?: ValueCodecOptions): JsonValue {
  const resolved = resolveOptions(options);
  try {
    return readAnyForm(message, resolved);
  } catch (error) {
    throw toPublicError(error);
  }
}

function readAnyForm(message: unknown, options: ResolvedOptions): JsonValue {
  // Scalars, null and lists: no message looks like these.
  if (typeof message !== "object" || message === null || Array.isArray(message)) {
    return copyJson(message, 0, options, "strict");
  }
  if (isGoogleValueLike(message)) return readGoogle(message, 0, options);
  if (isEsValueLike(message)) return readEs(message, 0, options);
  if (!isPlainObject(message)) {
    throw new Failure(`expected a google.protobuf.Value message or a JSON value, got ${describe(message)}`);
  }
  const keys = Object.keys(message);
  if (keys.length === 0) {
    throw new Failure("value has no kind set (or, as JSON, the empty object: read JSON with fromValueJson)");
  }
  const kinds = keys.filter((key) => KIND_NAMES.has(key));
  if (kinds.length === keys.length) return readTsProto(message as TsProtoValue, options);
  if (kinds.length > 0) {
    const others = keys.filter((key) => !KIND_NAMES.has(key));
    throw new Failure(
      `object mixes Value kind properties (${kinds.join(", ")}) with other keys (${others.slice(0, 3).join(", ")}${others.length > 3 ? ", …" : ""}), so it is neither a ts-proto Value nor plainly JSON: read JSON data with fromValueJson`,
    );
  }
  return copyJson(message, 0, options, "strict");
}

function readTsProto(message: TsProtoValue, options: ResolvedOptions): JsonValue {
  if (typeof message !== "object" || message === null) {
    throw new Failure(`expected a google.protobuf.Value message, got ${describe(message)}`);
  }
  const set = KINDS.filter((kind) => message[kind] !== undefined);
  if (set.length === 0) throw new Failure("value has no kind set");
  if (set.length > 1) throw new Failure(`value has more than one kind set (${set.join(", ")})`);
  switch (set[0]!) {
    case "nullValue":
      return null;
    case "numberValue": {
      const n = message.numberValue;
      if (typeof n !== "number") throw new Failure(`numberValue is ${describe(n)}, expected a number`);
      checkNumber(n, options);
      return n;
    }
    case "stringValue": {
      const s = message.stringValue;
      if (typeof s !== "string") throw new Failure(`stringValue is ${describe(s)}, expected a string`);
      if (!isWellFormed(s)) throw new Failure("string has a lone surrogate, so it has no UTF-8 form");
      return s;
    }
    case "boolValue": {
      const b = message.boolValue;
      if (typeof b !== "boolean") throw new Failure(`boolValue is ${describe(b)}, expected a boolean`);
      return b;
    }
    case "structValue": {
      const s: unknown = message.structValue;
      if (typeof s !== "object" || s === null || Array.isArray(s)) {
        throw new Failure(`structValue is ${describe(s)}, expected an object`);
      }
      return copyJson(s, 0, options, "strict");
    }
    case "listValue": {
      const l: unknown = message.listValue;
      if (!Array.isArray(l)) throw new Failure(`listValue is ${describe(l)}, expected an array`);
      return copyJson(l, 0, options, "strict");
    }
  }
}

/**
 * Makes a ts-proto `google.protobuf.Value` message from a JSON value, ready
 * for the generated `Value.encode`.
 *
 * Follows the policies of {@link toValueBinary}: the value is checked and
 * copied (object properties that are `undefined` are left out), and a
 * {@link CodecError} naming the path is thrown for anything the binary form
 * could not carry.
 *
 * @example
 * ```ts
 * toValue(10); // { numberValue: 10 }
 * toValue({ threshold: 10 }); // { structValue: { threshold: 10 } }
 * ```
 */
export function toValue(value: JsonValue, options?: ValueCodecOptions): TsProtoValue {
  const resolved = resolveOptions(options);
  try {
    const json = copyJson(value, 0, resolved, "lenient");
    if (json === null) return { nullValue: 0 };
    switch (typeof json) {
      case "number":
        return { numberValue: json };
      case "string":
        return { stringValue: json };
      case "boolean":
        return { boolValue: json };
      default:
        return Array.isArray(json) ? { listValue: json as JsonValue[] } : { structValue: json as JsonObject };
    }
  } catch (error) {
    throw toPublicError(error);
  }
}
