/**
 * Building event values, for the data a detector outputs: one constructor
 * per common kind (Go: `NewStringValue`, `NewInt32Value`, …) and
 * {@link newValue} for any kind, the inverse of `getData`.
 *
 * @module
 */
import { type EventValue, type EventValueKind, type EventValueKinds, KIND_MEMBERS } from "./model.js";

function integer(name: string, value: number, min: number, max: number, what: string): number {
  if (!Number.isInteger(value) || value < min || value > max) {
    throw new RangeError(`${name}: expected ${what}, got ${value}`);
  }
  return value;
}

function int64(name: string, value: bigint | number, signed: boolean): bigint {
  if (typeof value === "number" && !Number.isSafeInteger(value)) {
    throw new RangeError(`${name}: expected a whole number (a bigint beyond 2^53), got ${value}`);
  }
  const n = BigInt(value);
  if ((signed ? BigInt.asIntN(64, n) : BigInt.asUintN(64, n)) !== n) {
    throw new RangeError(`${name}: out of range for a${signed ? " " : "n unsigned "}64-bit integer: ${n}`);
  }
  return n;
}

/** A `str` value. Go: `NewStringValue`. */
export function newStringValue(name: string, value: string): EventValue {
  return { name, str: value };
}

/** An `int32` value; throws `RangeError` outside the 32-bit range. Go: `NewInt32Value`. */
export function newInt32Value(name: string, value: number): EventValue {
  return { name, int32: integer(name, value, -0x80000000, 0x7fffffff, "a 32-bit integer") };
}

/** An `int64` value; throws `RangeError` outside the 64-bit range. Go: `NewInt64Value`. */
export function newInt64Value(name: string, value: bigint | number): EventValue {
  return { name, int64: int64(name, value, true) };
}

/** A `u_int32` value; throws `RangeError` outside 0 … 2^32−1. Go: `NewUInt32Value`. */
export function newUInt32Value(name: string, value: number): EventValue {
  return { name, uInt32: integer(name, value, 0, 0xffffffff, "an unsigned 32-bit integer") };
}

/** A `u_int64` value; throws `RangeError` outside 0 … 2^64−1. Go: `NewUInt64Value`. */
export function newUInt64Value(name: string, value: bigint | number): EventValue {
  return { name, uInt64: int64(name, value, false) };
}

/** A `bool` value. Go: `NewBoolValue`. */
export function newBoolValue(name: string, value: boolean): EventValue {
  return { name, bool: value };
}

/** A `bytes` value (printed as base64). Go: `NewBytesValue`. */
export function newBytesValue(name: string, value: Uint8Array): EventValue {
  return { name, bytes: Buffer.from(value.buffer, value.byteOffset, value.byteLength) };
}

/**
 * A value of any kind, from what `getData` returns for that kind: arrays as
 * plain arrays, a timespec as its seconds, messages as they are. Go:
 * `NewValue(name, value)`, with the kind said rather than guessed. Throws
 * `RangeError` for an integer out of its kind's range.
 *
 * @example
 * ```ts
 * newValue("argv", "str_array", ["/bin/sh", "-c", "id"]);
 * newValue("remote_addr", "sockaddr", { saFamily: SaFamily.AF_INET, sinAddr: "10.0.0.1", sinPort: 443, sunPath: "", sin6Addr: "", sin6Port: 0, sin6Flowinfo: 0, sin6Scopeid: 0 });
 * ```
 */
export function newValue<K extends EventValueKind>(name: string, kind: K, value: EventValueKinds[K]): EventValue {
  switch (kind) {
    case "int32":
      return newInt32Value(name, value as number);
    case "u_int32":
      return newUInt32Value(name, value as number);
    case "int64":
      return newInt64Value(name, value as bigint);
    case "u_int64":
      return newUInt64Value(name, value as bigint);
    case "pointer":
      return { name, pointer: int64(name, value as bigint, false) };
    case "bytes":
      return newBytesValue(name, value as Uint8Array);
    case "str_array":
      return { name, strArray: { value: [...(value as string[])] } };
    case "int32_array":
      return {
        name,
        int32Array: { value: (value as number[]).map((n) => integer(name, n, -0x80000000, 0x7fffffff, "32-bit integers")) },
      };
    case "u_int64_array":
      return { name, uInt64Array: { value: (value as bigint[]).map((n) => int64(name, n, false)) } };
    case "timespec":
      return { name, timespec: { value: value as number } };
    default:
      return { name, [KIND_MEMBERS[kind]]: value } as EventValue;
  }
}
