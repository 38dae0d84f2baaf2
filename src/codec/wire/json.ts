import type { JsonObject, JsonValue } from "type-fest";
import { Failure, addSegment, describe, toPublicError } from "./fail.js";
import { resolveOptions, type ResolvedOptions, type ValueCodecOptions } from "./options.js";
import { isWellFormed } from "./utf8.js";

/**
 * @internal How a copy treats `undefined`: "strict" (reading a Value: it is a
 * Value with no kind set) or "lenient" (writing one: an object property that
 * is undefined is left out, as JSON.stringify does; in a list it is an error).
 */
export type UndefinedPolicy = "strict" | "lenient";

const objectProto = Object.prototype;
const hasOwn = Object.prototype.hasOwnProperty;

/**
 * @internal Checks that `value` is a JSON value under the codec's policies and
 * returns a copy built from ordinary objects and arrays. Throws a Failure
 * whose path is relative to `value`. `depth` is how many lists and objects
 * enclose `value` already.
 */
export function copyJson(value: unknown, depth: number, options: ResolvedOptions, policy: UndefinedPolicy): JsonValue {
  switch (typeof value) {
    case "string":
      if (!isWellFormed(value)) throw new Failure("string has a lone surrogate, so it has no UTF-8 form");
      return value;
    case "number":
      checkNumber(value, options);
      return value;
    case "boolean":
      return value;
    case "object": {
      if (value === null) return null;
      if (depth >= options.maxDepth) throw new Failure(`value nests deeper than maxDepth ${options.maxDepth}`);
      if (Array.isArray(value)) {
        const list = value as readonly unknown[];
        const copy: JsonValue[] = new Array<JsonValue>(list.length);
        for (let i = 0; i < list.length; i++) {
          try {
            const item = list[i];
            if (item === undefined) throw undefinedFailure(policy);
            copy[i] = copyJson(item, depth + 1, options, policy);
          } catch (error) {
            throw addSegment(error, i);
          }
        }
        return copy;
      }
      checkPlainObject(value);
      const object = value as Record<string, unknown>;
      const copy: JsonObject = {};
      for (const key of Object.keys(object)) {
        const item = object[key];
        if (item === undefined && policy === "lenient") continue;
        let itemCopy: JsonValue;
        try {
          if (!isWellFormed(key)) throw new Failure("key has a lone surrogate, so it has no UTF-8 form");
          if (item === undefined) throw undefinedFailure(policy);
          itemCopy = copyJson(item, depth + 1, options, policy);
        } catch (error) {
          throw addSegment(error, key);
        }
        setOwn(copy, key, itemCopy);
      }
      return copy;
    }
    case "undefined":
      throw undefinedFailure(policy);
    default:
      throw new Failure(`expected a JSON value, got ${describe(value)}`);
  }
}

function undefinedFailure(policy: UndefinedPolicy): Failure {
  return new Failure(policy === "strict" ? "value has no kind set" : "expected a JSON value, got undefined");
}

/** @internal Rejects NaN and ±Infinity unless the options allow them. */
export function checkNumber(value: number, options: ResolvedOptions): void {
  if (value - value !== 0 && !options.allowNonFinite) {
    throw new Failure(`number ${String(value)} is not finite (allowNonFinite is off)`);
  }
}

/** @internal Whether `value` is plain data: its prototype is `Object.prototype` (of any realm) or null. */
export function isPlainObject(value: object): boolean {
  const proto: unknown = Object.getPrototypeOf(value);
  if (proto === objectProto || proto === null) return true;
  // A plain object from another realm has a prototype whose prototype is null.
  return Object.getPrototypeOf(proto) === null && hasOwn.call(proto, "hasOwnProperty");
}

/** @internal Rejects objects that are not plain data: class instances, Maps, Dates. */
export function checkPlainObject(value: object): void {
  if (!isPlainObject(value)) throw new Failure(`expected a JSON value, got ${describe(value)}`);
}

/** @internal Sets an own data property; `__proto__` too, without touching the prototype. */
export function setOwn(target: JsonObject, key: string, value: JsonValue): void {
  if (key === "__proto__") {
    Object.defineProperty(target, key, { value, enumerable: true, writable: true, configurable: true });
  } else {
    target[key] = value;
  }
}

/**
 * Checks a `google.protobuf.Value` in its protobuf JSON form and returns it as
 * a JSON value.
 *
 * For `google.protobuf.Value` the protobuf JSON form is the JSON value itself,
 * so this is validation: the result is a fresh copy made of ordinary objects
 * and arrays, in which a key such as `__proto__` is an own property (never a
 * prototype change). Throws a {@link CodecError} naming the path for
 * `undefined` anywhere (a Value with no kind set), anything that is not a
 * JSON value (a bigint, a function, a class instance such as a Date), NaN or
 * ±Infinity unless `allowNonFinite`, a string with a lone surrogate, and
 * nesting deeper than `maxDepth`.
 *
 * @example
 * ```ts
 * fromValueJson(JSON.parse(body)); // a checked JsonValue
 * fromValueJson({ a: [1, 2n] }); // throws CodecError "a[1]: expected a JSON value, got bigint"
 * ```
 */
export function fromValueJson(json: unknown, options?: ValueCodecOptions): JsonValue {
  const resolved = resolveOptions(options);
  try {
    return copyJson(json, 0, resolved, "strict");
  } catch (error) {
    throw toPublicError(error);
  }
}

/**
 * Turns a JSON value into the protobuf JSON form of a `google.protobuf.Value`:
 * the same JSON value, checked and copied.
 *
 * Follows the policies of {@link toValueBinary}, so what this accepts is
 * exactly what the binary form can carry: object properties that are
 * `undefined` are left out, `undefined` in a list is an error. Throws a
 * {@link CodecError} naming the path otherwise.
 *
 * @example
 * ```ts
 * JSON.stringify(toValueJson({ threshold: 10, note: undefined })); // '{"threshold":10}'
 * ```
 */
export function toValueJson(value: JsonValue, options?: ValueCodecOptions): JsonValue {
  const resolved = resolveOptions(options);
  try {
    return copyJson(value, 0, resolved, "lenient");
  } catch (error) {
    throw toPublicError(error);
  }
}
