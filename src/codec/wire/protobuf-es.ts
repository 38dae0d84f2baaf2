import type { JsonObject, JsonValue } from "type-fest";
import { Failure, addSegment, describe } from "./fail.js";
import { checkNumber, isPlainObject, setOwn } from "./json.js";
import type { ResolvedOptions } from "./options.js";
import { isWellFormed } from "./utf8.js";

/**
 * The parts of a protobuf-es (`@bufbuild/protobuf`) `google.protobuf.Value`
 * this codec reads: the `kind` oneof as `{ case, value }`. protobuf-es's own
 * `Value` type (v1 and v2) is assignable to it; this package never needs
 * protobuf-es to read one.
 */
export interface EsValueLike {
  readonly kind:
    | { readonly case: "nullValue"; readonly value: number }
    | { readonly case: "numberValue"; readonly value: number }
    | { readonly case: "stringValue"; readonly value: string }
    | { readonly case: "boolValue"; readonly value: boolean }
    | { readonly case: "structValue"; readonly value: EsStructLike }
    | { readonly case: "listValue"; readonly value: EsListValueLike }
    | { readonly case: undefined; readonly value?: undefined };
}

/** The parts of a protobuf-es `google.protobuf.Struct` this codec reads. */
export interface EsStructLike {
  readonly fields: { readonly [key: string]: EsValueLike };
}

/** The parts of a protobuf-es `google.protobuf.ListValue` this codec reads. */
export interface EsListValueLike {
  readonly values: readonly EsValueLike[];
}

const KIND_CASES: ReadonlySet<unknown> = new Set([
  "nullValue",
  "numberValue",
  "stringValue",
  "boolValue",
  "structValue",
  "listValue",
  undefined,
]);
const MESSAGE_KEYS: ReadonlySet<string> = new Set(["kind", "$typeName", "$unknown"]);
const ONEOF_KEYS: ReadonlySet<string> = new Set(["case", "value"]);

/**
 * @internal Whether `value` is a protobuf-es Value message: its `kind` is a
 * `{ case, value }` oneof naming a Value kind (or no kind). A plain object
 * counts only when it has nothing else (`$typeName` "google.protobuf.Value"
 * and `$unknown` aside), so JSON data such as `{ kind: "file" }` or
 * `{ kind: { case: 1 }, size: 2 }` is not taken for a message.
 */
export function isEsValueLike(value: object): value is EsValueLike {
  const kind: unknown = (value as { kind?: unknown }).kind;
  if (typeof kind !== "object" || kind === null || !Object.hasOwn(kind, "case")) return false;
  if (!KIND_CASES.has((kind as { case?: unknown }).case)) return false;
  if (!isPlainObject(value)) return true; // a protobuf-es v1 message is a class instance
  const typeName: unknown = (value as { $typeName?: unknown }).$typeName;
  if (typeName !== undefined && typeName !== "google.protobuf.Value") return false;
  return (
    Object.keys(value).every((key) => MESSAGE_KEYS.has(key)) && Object.keys(kind).every((key) => ONEOF_KEYS.has(key))
  );
}

/**
 * @internal Reads a protobuf-es Value at `depth` (how many lists and objects
 * enclose it); throws Failures with paths relative to `message`.
 */
export function readEs(message: unknown, depth: number, options: ResolvedOptions): JsonValue {
  const kind: unknown = typeof message === "object" && message !== null ? (message as { kind?: unknown }).kind : undefined;
  if (typeof kind !== "object" || kind === null) {
    throw new Failure(`expected a protobuf-es google.protobuf.Value, got ${describe(message)}`);
  }
  const { case: kindCase, value } = kind as { case?: unknown; value?: unknown };
  switch (kindCase) {
    case undefined:
      throw new Failure("value has no kind set");
    case "nullValue":
      return null;
    case "numberValue":
      if (typeof value !== "number") throw new Failure(`numberValue is ${describe(value)}, expected a number`);
      checkNumber(value, options);
      return value;
    case "stringValue":
      if (typeof value !== "string") throw new Failure(`stringValue is ${describe(value)}, expected a string`);
      if (!isWellFormed(value)) throw new Failure("string has a lone surrogate, so it has no UTF-8 form");
      return value;
    case "boolValue":
      if (typeof value !== "boolean") throw new Failure(`boolValue is ${describe(value)}, expected a boolean`);
      return value;
    case "structValue": {
      if (depth >= options.maxDepth) throw new Failure(`value nests deeper than maxDepth ${options.maxDepth}`);
      const fields: unknown = typeof value === "object" && value !== null ? (value as { fields?: unknown }).fields : undefined;
      if (typeof fields !== "object" || fields === null || Array.isArray(fields)) {
        throw new Failure(`structValue is ${describe(value)}, expected a google.protobuf.Struct with fields`);
      }
      const object: JsonObject = {};
      for (const key of Object.keys(fields)) {
        let item: JsonValue;
        try {
          item = readEs((fields as Record<string, unknown>)[key], depth + 1, options);
        } catch (error) {
          throw addSegment(error, key);
        }
        setOwn(object, key, item);
      }
      return object;
    }
    case "listValue": {
      if (depth >= options.maxDepth) throw new Failure(`value nests deeper than maxDepth ${options.maxDepth}`);
      const values: unknown = typeof value === "object" && value !== null ? (value as { values?: unknown }).values : undefined;
      if (!Array.isArray(values)) {
        throw new Failure(`listValue is ${describe(value)}, expected a google.protobuf.ListValue with values`);
      }
      const list: JsonValue[] = new Array<JsonValue>(values.length);
      for (let i = 0; i < values.length; i++) {
        try {
          list[i] = readEs(values[i], depth + 1, options);
        } catch (error) {
          throw addSegment(error, i);
        }
      }
      return list;
    }
    default:
      throw new Failure(`unknown kind case ${typeof kindCase === "string" ? JSON.stringify(kindCase) : describe(kindCase)}`);
  }
}
