import type { JsonObject, JsonValue } from "type-fest";
import { Failure, describe, toPublicError } from "./fail.js";
import { checkNumber, copyJson } from "./json.js";
import { resolveOptions, type ResolvedOptions, type ValueCodecOptions } from "./options.js";
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

/**
 * Reads a ts-proto `google.protobuf.Value` message into a JSON value.
 *
 * Exactly one kind must be set. The result is a fresh copy: nested objects
 * are rebuilt as ordinary objects in which a key such as `__proto__` is an
 * own property. (ts-proto's own `Value.unwrap` returns its objects as they
 * are, and its `Struct.decode` assigns wire keys into plain objects, so a
 * `__proto__` key from the wire can already have changed a prototype there:
 * for untrusted bytes use {@link fromValueBinary}.)
 *
 * Throws a {@link CodecError} naming the path for: no kind set (also
 * `undefined` nested inside), more than one kind set (ts-proto decodes a
 * message whose oneof repeats into several properties; protobuf would keep
 * the last), NaN or ±Infinity unless `allowNonFinite`, a string with a lone
 * surrogate, anything that is not a JSON value, and nesting deeper than
 * `maxDepth`.
 *
 * @example
 * ```ts
 * import { Value } from "./gen/google/protobuf/struct.js";
 * fromValue(Value.decode(bytes)); // e.g. 10
 * fromValue({ structValue: { threshold: 10 } }); // { threshold: 10 }
 * ```
 */
export function fromValue(message: TsProtoValue, options?: ValueCodecOptions): JsonValue {
  const resolved = resolveOptions(options);
  try {
    return readTsProto(message, resolved);
  } catch (error) {
    throw toPublicError(error);
  }
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
