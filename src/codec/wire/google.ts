import type { JsonObject, JsonValue } from "type-fest";
import { Failure, addSegment, describe, toPublicError } from "./fail.js";
import { checkNumber, setOwn } from "./json.js";
import { resolveOptions, type ResolvedOptions, type ValueCodecOptions } from "./options.js";
import { KIND_BOOL, KIND_LIST, KIND_NULL, KIND_NUMBER, KIND_STRING, KIND_STRUCT } from "./decode-binary.js";
import { toValueBinary } from "./encode-binary.js";
import { isWellFormed } from "./utf8.js";

/**
 * The parts of a google-protobuf `struct_pb.Value` this codec reads. Any
 * instance of google-protobuf's class matches; this package never imports
 * google-protobuf itself (it writes globals when loaded).
 */
export interface GoogleValueLike {
  getKindCase(): number;
  getNumberValue(): number;
  getStringValue(): string;
  getBoolValue(): boolean;
  getStructValue(): GoogleStructLike | undefined;
  getListValue(): GoogleListValueLike | undefined;
}

/** The parts of a google-protobuf `struct_pb.Struct` this codec reads. */
export interface GoogleStructLike {
  getFieldsMap(): { forEach(callback: (value: GoogleValueLike, key: string) => void): void };
}

/** The parts of a google-protobuf `struct_pb.ListValue` this codec reads. */
export interface GoogleListValueLike {
  getValuesList(): GoogleValueLike[];
}

/** A google-protobuf message class that can read Value bytes, such as `struct_pb.Value`. */
export interface GoogleValueClass<T extends GoogleValueLike> {
  deserializeBinary(bytes: Uint8Array): T;
}


/**
 * Reads a google-protobuf `struct_pb.Value` instance into a JSON value.
 *
 * The instance is read through its getters (duck typing), so any copy of
 * google-protobuf works. The result is made of ordinary objects in which a
 * key such as `__proto__` is an own property. Note that google-protobuf's own
 * map type loses a `__proto__` key while it deserializes, before this
 * function sees it; read untrusted bytes with {@link fromValueBinary}.
 *
 * Throws a {@link CodecError} naming the path for: no kind set, NaN or
 * ±Infinity unless `allowNonFinite`, a string with a lone surrogate
 * (google-protobuf decodes invalid UTF-8 leniently), something that is not a
 * Value, and nesting deeper than `maxDepth`.
 *
 * @example
 * ```ts
 * import { Value } from "google-protobuf/google/protobuf/struct_pb.js";
 * fromGoogleValue(Value.fromJavaScript({ threshold: 10 })); // { threshold: 10 }
 * ```
 */
export function fromGoogleValue(message: GoogleValueLike, options?: ValueCodecOptions): JsonValue {
  const resolved = resolveOptions(options);
  try {
    return readGoogle(message, 0, resolved);
  } catch (error) {
    throw toPublicError(error);
  }
}

const GETTERS = ["getKindCase", "getNumberValue", "getStringValue", "getBoolValue", "getStructValue", "getListValue"] as const;

/**
 * @internal Whether `value` looks like a google-protobuf `struct_pb.Value`:
 * it has the getters this codec reads. Plain JSON never has methods.
 */
export function isGoogleValueLike(value: object): value is GoogleValueLike {
  return GETTERS.every((name) => typeof (value as Record<string, unknown>)[name] === "function");
}

/** @internal Reads a google-protobuf Value at `depth`; throws Failures with relative paths. */
export function readGoogle(message: GoogleValueLike, depth: number, options: ResolvedOptions): JsonValue {
  if (typeof message !== "object" || message === null || typeof message.getKindCase !== "function") {
    throw new Failure(`expected a google-protobuf Value, got ${describe(message)}`);
  }
  const kind = message.getKindCase();
  switch (kind) {
    case KIND_NULL:
      return null;
    case KIND_NUMBER: {
      const n = message.getNumberValue();
      checkNumber(n, options);
      return n;
    }
    case KIND_STRING: {
      const s = message.getStringValue();
      if (!isWellFormed(s)) throw new Failure("string is not valid UTF-8");
      return s;
    }
    case KIND_BOOL:
      return message.getBoolValue();
    case KIND_STRUCT: {
      if (depth >= options.maxDepth) throw new Failure(`value nests deeper than maxDepth ${options.maxDepth}`);
      const struct = message.getStructValue();
      const object: JsonObject = {};
      struct?.getFieldsMap().forEach((value, key) => {
        let item: JsonValue;
        try {
          item = readGoogle(value, depth + 1, options);
        } catch (error) {
          throw addSegment(error, key);
        }
        setOwn(object, key, item);
      });
      return object;
    }
    case KIND_LIST: {
      if (depth >= options.maxDepth) throw new Failure(`value nests deeper than maxDepth ${options.maxDepth}`);
      const values = message.getListValue()?.getValuesList() ?? [];
      const list: JsonValue[] = new Array<JsonValue>(values.length);
      for (let i = 0; i < values.length; i++) {
        try {
          list[i] = readGoogle(values[i]!, depth + 1, options);
        } catch (error) {
          throw addSegment(error, i);
        }
      }
      return list;
    }
    default:
      throw new Failure("value has no kind set");
  }
}

/**
 * Makes an instance of the given google-protobuf Value class from a JSON
 * value.
 *
 * Pass the class (`struct_pb.Value`); this package does not load
 * google-protobuf itself. The value is encoded with {@link toValueBinary}
 * (same checks and errors) and read back with the class's
 * `deserializeBinary`, so the result equals `Value.fromJavaScript(value)` for
 * every value both accept. One more CodecError: a `__proto__` key, which
 * google-protobuf's map type cannot hold (it would be dropped silently).
 *
 * @example
 * ```ts
 * import { Value } from "google-protobuf/google/protobuf/struct_pb.js";
 * const message = toGoogleValue({ threshold: 10 }, Value);
 * message.getStructValue()?.getFieldsMap().get("threshold")?.getNumberValue(); // 10
 * ```
 */
export function toGoogleValue<T extends GoogleValueLike>(
  value: JsonValue,
  ValueClass: GoogleValueClass<T>,
  options?: ValueCodecOptions,
): T {
  if (typeof ValueClass?.deserializeBinary !== "function") {
    throw new TypeError("toGoogleValue expects google-protobuf's Value class (struct_pb.Value) as its second argument");
  }
  const bytes = toValueBinary(value, options);
  try {
    rejectProtoKey(value, resolveOptions(options).maxDepth, 0);
  } catch (error) {
    throw toPublicError(error);
  }
  return ValueClass.deserializeBinary(bytes);
}

/** Throws a Failure at the first `__proto__` key; toValueBinary has checked the rest. */
function rejectProtoKey(value: unknown, maxDepth: number, depth: number): void {
  if (typeof value !== "object" || value === null || depth > maxDepth) return;
  if (Array.isArray(value)) {
    for (let i = 0; i < value.length; i++) {
      try {
        rejectProtoKey(value[i], maxDepth, depth + 1);
      } catch (error) {
        throw addSegment(error, i);
      }
    }
    return;
  }
  for (const key of Object.keys(value)) {
    try {
      if (key === "__proto__") throw new Failure("google-protobuf's Struct cannot hold the key __proto__");
      rejectProtoKey((value as Record<string, unknown>)[key], maxDepth, depth + 1);
    } catch (error) {
      throw addSegment(error, key);
    }
  }
}
