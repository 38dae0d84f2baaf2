import type { JsonObject, JsonValue } from "type-fest";

type JsonArray = JsonValue[];
import { Failure, addSegment, toPublicError } from "./fail.js";
import { resolveOptions, type ValueCodecOptions } from "./options.js";
import { VIEW_MIN, decodeString, releaseView, useView } from "./utf8.js";

// One decode runs at a time (nothing in it calls out to user code), so the
// reader is a handful of module variables: the bytes, a DataView over them,
// the index, and the options. fromValueBinary sets them and clears them after.
const EMPTY = new Uint8Array(0);
let buf: Uint8Array = EMPTY;
// Doubles are read by copying their 8 bytes into a Float64Array's buffer.
const f64 = new Float64Array(1);
const f64Bytes = new Uint8Array(f64.buffer);
const LITTLE_ENDIAN = new Uint8Array(Uint16Array.of(1).buffer)[0] === 1;
let pos = 0;
let maxDepth = 64;
let allowNonFinite = false;
/** The oneof case the last readValue ended with; 0 when no kind was set. */
let valueKind = 0;

// The field numbers of Value's `kind` oneof, which are also google-protobuf's
// Value.KindCase values (google.ts reads instances with them).
export const KIND_NULL = 1;
export const KIND_NUMBER = 2;
export const KIND_STRING = 3;
export const KIND_BOOL = 4;
export const KIND_STRUCT = 5;
export const KIND_LIST = 6;

const VALUE_FIELDS = ["", "null_value", "number_value", "string_value", "bool_value", "struct_value", "list_value"];
/** Wire type each Value field must have, by field number. */
const VALUE_WIRE_TYPES = [-1, 0, 1, 2, 0, 2, 2];
const WIRE_TYPE_NAMES = ["varint", "fixed64", "length-delimited", "start-group", "end-group", "fixed32", "6", "7"];

/**
 * Decodes the protobuf wire bytes of one `google.protobuf.Value` straight into
 * a JSON value, without building message objects.
 *
 * Numbers come back as JavaScript numbers (the wire carries float64), `-0`
 * included. Objects are ordinary objects whose own properties are exactly the
 * wire's map keys, in wire order: a key such as `__proto__` becomes an own
 * property and never changes a prototype. A repeated map key keeps the last
 * value; a map entry without a key has key `""`. Unknown fields are skipped;
 * a field that occurs twice follows protobuf's merge rules (the last scalar
 * wins, objects merge, lists concatenate).
 *
 * Throws a {@link CodecError} (`errorIs(err, ErrFailedToUnmarshal)` holds)
 * whose message names the path, for: truncated bytes, a length past the end,
 * a varint over 10 bytes, a known field with the wrong wire type, an invalid
 * wire type or field number, a Value with no kind set (also a map entry
 * without a value), a string that is not valid UTF-8, NaN or ±Infinity unless
 * `allowNonFinite`, and nesting deeper than `maxDepth` (default 64).
 *
 * @example
 * ```ts
 * fromValueBinary(Uint8Array.of(0x11, 0, 0, 0, 0, 0, 0, 0x24, 0x40)); // 10
 * fromValueBinary(toValueBinary({ threshold: 10 })); // { threshold: 10 }
 * ```
 */
export function fromValueBinary(bytes: Uint8Array, options?: ValueCodecOptions): JsonValue {
  if (!(bytes instanceof Uint8Array)) throw new TypeError("fromValueBinary expects a Uint8Array");
  const resolved = resolveOptions(options);
  // Nothing in a decode calls user code, but if something ever re-enters,
  // the outer decode gets its reader back.
  const outerBuf = buf;
  const outerPos = pos;
  const outerMaxDepth = maxDepth;
  const outerAllowNonFinite = allowNonFinite;
  buf = bytes;
  pos = 0;
  // Only a large buffer gets a DataView (see utf8.ts): a small decode skips both calls.
  const viewed = bytes.length >= VIEW_MIN;
  if (viewed) useView(bytes);
  maxDepth = resolved.maxDepth;
  allowNonFinite = resolved.allowNonFinite;
  try {
    const value = readValue(bytes.length, 0, 0, null);
    if (valueKind === 0) throw new Failure("value has no kind set");
    return value;
  } catch (error) {
    throw toPublicError(error);
  } finally {
    buf = outerBuf;
    pos = outerPos;
    maxDepth = outerMaxDepth;
    allowNonFinite = outerAllowNonFinite;
    if (viewed) releaseView();
  }
}

/**
 * Reads the Value message in [pos, end). `kind` and `prior` carry a value an
 * earlier occurrence of the same message set (protobuf merges repeated
 * message fields); a fresh read passes 0 and null. Sets valueKind.
 */
function readValue(end: number, depth: number, kind: number, prior: JsonValue): JsonValue {
  let result = prior;
  while (pos < end) {
    let tag = buf[pos++]!;
    if (tag >= 0x80) tag = readTagSlow(tag, end);
    switch (tag) {
      case 0x11: {
        if (end - pos < 8) throw truncated("number_value");
        const n = readDouble();
        if (n - n !== 0 && !allowNonFinite) throw new Failure(`number ${String(n)} is not finite (allowNonFinite is off)`);
        result = n;
        kind = KIND_NUMBER;
        break;
      }
      case 0x1a: {
        const len = readLength(end);
        result = readString(pos, pos + len, "string is not valid UTF-8");
        pos += len;
        kind = KIND_STRING;
        break;
      }
      case 0x08:
        skipVarint(end);
        result = null;
        kind = KIND_NULL;
        break;
      case 0x20:
        result = readBool(end);
        kind = KIND_BOOL;
        break;
      case 0x2a: {
        const len = readLength(end);
        if (depth >= maxDepth) throw tooDeep();
        result = readStruct(pos + len, depth + 1, kind === KIND_STRUCT ? (result as JsonObject) : {});
        kind = KIND_STRUCT;
        break;
      }
      case 0x32: {
        const len = readLength(end);
        if (depth >= maxDepth) throw tooDeep();
        result = readList(pos + len, depth + 1, kind === KIND_LIST ? (result as JsonArray) : []);
        kind = KIND_LIST;
        break;
      }
      default: {
        const field = tag >>> 3;
        if (field >= 1 && field <= 6) {
          const expected = VALUE_WIRE_TYPES[field]!;
          throw new Failure(
            `field ${VALUE_FIELDS[field]!} has wire type ${WIRE_TYPE_NAMES[tag & 7]!}, expected ${WIRE_TYPE_NAMES[expected]!}`,
          );
        }
        skipField(tag, end);
      }
    }
  }
  valueKind = kind;
  return result;
}

/** Reads Struct fields in [pos, end) into `target`. */
function readStruct(end: number, depth: number, target: JsonObject): JsonObject {
  while (pos < end) {
    let tag = buf[pos++]!;
    if (tag >= 0x80) tag = readTagSlow(tag, end);
    if (tag === 0x0a) {
      const len = readLength(end);
      readEntry(pos + len, depth, target);
    } else {
      if (tag >>> 3 === 1) throw wrongWireType("Struct.fields", tag);
      skipField(tag, end);
    }
  }
  return target;
}

/**
 * Reads one map entry in [pos, end) and stores it in `target`. The fast path
 * takes the layout every encoder writes, key then value; anything else goes
 * to readEntryFields.
 */
function readEntry(end: number, depth: number, target: JsonObject): void {
  const start = pos;
  if (buf[pos] === 0x0a) {
    pos++;
    const keyLength = readLength(end);
    const key = readString(pos, pos + keyLength, "map key is not valid UTF-8");
    pos += keyLength;
    if (pos < end && buf[pos] === 0x12) {
      pos++;
      const valueLength = readLength(end);
      if (pos + valueLength === end) {
        let value: JsonValue;
        try {
          value = readValue(end, depth, 0, null);
          if (valueKind === 0) throw new Failure("value has no kind set");
        } catch (error) {
          throw addSegment(error, key);
        }
        store(target, key, value);
        return;
      }
    }
    pos = start;
  }
  readEntryFields(end, depth, target);
}

/** Stores a decoded entry as an own data property, `__proto__` included. */
function store(target: JsonObject, key: string, value: JsonValue): void {
  if (key === "__proto__") {
    Object.defineProperty(target, key, { value, enumerable: true, writable: true, configurable: true });
  } else {
    target[key] = value;
  }
}

/** Reads a map entry whose fields come in any order, repeat, or include unknown ones. */
function readEntryFields(end: number, depth: number, target: JsonObject): void {
  const start = pos;
  let key = "";
  let valueStart = -1;
  let valueEnd = -1;
  let valueCount = 0;
  while (pos < end) {
    let tag = buf[pos++]!;
    if (tag >= 0x80) tag = readTagSlow(tag, end);
    if (tag === 0x0a) {
      const len = readLength(end);
      key = readString(pos, pos + len, "map key is not valid UTF-8");
      pos += len;
    } else if (tag === 0x12) {
      const len = readLength(end);
      valueStart = pos;
      valueEnd = pos + len;
      pos = valueEnd;
      valueCount++;
    } else {
      const field = tag >>> 3;
      if (field === 1 || field === 2) throw wrongWireType(field === 1 ? "map entry key" : "map entry value", tag);
      skipField(tag, end);
    }
  }
  let value: JsonValue = null;
  try {
    if (valueCount === 1) {
      pos = valueStart;
      value = readValue(valueEnd, depth, 0, null);
    } else if (valueCount > 1) {
      value = readRepeatedEntryValue(start, end, depth);
    } else {
      valueKind = 0;
    }
    if (valueKind === 0) throw new Failure("value has no kind set");
  } catch (error) {
    throw addSegment(error, key);
  }
  pos = end;
  store(target, key, value);
}

/** Rare: an entry whose value field occurs more than once; the occurrences merge. */
function readRepeatedEntryValue(start: number, end: number, depth: number): JsonValue {
  pos = start;
  let kind = 0;
  let value: JsonValue = null;
  while (pos < end) {
    let tag = buf[pos++]!;
    if (tag >= 0x80) tag = readTagSlow(tag, end);
    if (tag === 0x12) {
      const len = readLength(end);
      value = readValue(pos + len, depth, kind, value);
      kind = valueKind;
    } else {
      skipField(tag, end);
    }
  }
  valueKind = kind;
  return value;
}

/** Reads ListValue fields in [pos, end), appending to `target`. */
function readList(end: number, depth: number, target: JsonArray): JsonArray {
  while (pos < end) {
    let tag = buf[pos++]!;
    if (tag >= 0x80) tag = readTagSlow(tag, end);
    if (tag === 0x0a) {
      const len = readLength(end);
      const index = target.length;
      try {
        const item = readValue(pos + len, depth, 0, null);
        if (valueKind === 0) throw new Failure("value has no kind set");
        target.push(item);
      } catch (error) {
        throw addSegment(error, index);
      }
    } else {
      if (tag >>> 3 === 1) throw wrongWireType("ListValue.values", tag);
      skipField(tag, end);
    }
  }
  return target;
}

/** Reads `bytes[start, end)` as UTF-8; a Failure with `invalid` if it is not. */
function readString(start: number, end: number, invalid: string): string {
  const s = decodeString(buf, start, end);
  if (s === undefined) throw new Failure(invalid);
  return s;
}

/** Reads a little-endian float64 at pos (bounds already checked). */
function readDouble(): number {
  const b = buf;
  const p = pos;
  if (LITTLE_ENDIAN) {
    f64Bytes[0] = b[p]!;
    f64Bytes[1] = b[p + 1]!;
    f64Bytes[2] = b[p + 2]!;
    f64Bytes[3] = b[p + 3]!;
    f64Bytes[4] = b[p + 4]!;
    f64Bytes[5] = b[p + 5]!;
    f64Bytes[6] = b[p + 6]!;
    f64Bytes[7] = b[p + 7]!;
  } else {
    for (let i = 0; i < 8; i++) f64Bytes[i] = b[p + 7 - i]!;
  }
  pos = p + 8;
  return f64[0]!;
}

/** Reads a length prefix and checks that it fits in [pos, end). */
function readLength(end: number): number {
  let len = buf[pos]!;
  if (pos < end && len < 0x80) {
    pos++;
  } else {
    len = readVarint32(end, "length");
  }
  if (len > end - pos) throw new Failure(`length ${len} runs past the end of the message (${end - pos} bytes left)`);
  return len;
}

/** Finishes reading a tag whose first byte is `first` (≥ 0x80). */
function readTagSlow(first: number, end: number): number {
  pos--;
  const tag = readVarint32(end, "tag");
  if (tag >>> 3 === 0) throw new Failure("invalid field number 0");
  return tag;
}

/**
 * Reads a varint that must fit in 32 bits (a tag or a length). Bits past 32
 * make it a Failure: no length or tag that large can be valid.
 */
function readVarint32(end: number, what: string): number {
  let result = 0;
  for (let shift = 0; shift < 70; shift += 7) {
    if (pos >= end) throw truncated(what);
    const b = buf[pos++]!;
    if (shift < 28) {
      result |= (b & 0x7f) << shift;
    } else if (shift === 28) {
      if ((b & 0x70) !== 0) throw new Failure(`${what} does not fit in 32 bits`);
      result |= (b & 0x0f) << 28;
    } else if ((b & 0x7f) !== 0) {
      throw new Failure(`${what} does not fit in 32 bits`);
    }
    if (b < 0x80) {
      if (shift === 63 && b > 1) throw new Failure(`${what} varint overflows 64 bits`);
      return result >>> 0;
    }
  }
  throw new Failure(`${what} varint is longer than 10 bytes`);
}

/** Reads a varint of up to 64 bits and returns whether it is non-zero. */
function readBool(end: number): boolean {
  let nonZero = false;
  for (let i = 0; i < 10; i++) {
    if (pos >= end) throw truncated("bool_value");
    const b = buf[pos++]!;
    if ((b & 0x7f) !== 0) nonZero = true;
    if (b < 0x80) {
      if (i === 9 && b > 1) throw new Failure("varint overflows 64 bits");
      return nonZero;
    }
  }
  throw new Failure("varint is longer than 10 bytes");
}

function skipVarint(end: number): void {
  readBool(end);
}

/** Skips an unknown field whose tag has been read, per protobuf's wire rules. */
function skipField(tag: number, end: number): void {
  const field = tag >>> 3;
  if (field === 0) throw new Failure("invalid field number 0");
  switch (tag & 7) {
    case 0:
      skipVarint(end);
      return;
    case 1:
      skipBytes(8, end);
      return;
    case 2: {
      // Not `pos += readLength(end)`: that reads pos before readLength moves it.
      const len = readLength(end);
      pos += len;
      return;
    }
    case 3:
      skipGroup(field, end);
      return;
    case 5:
      skipBytes(4, end);
      return;
    case 4:
      throw new Failure(`unexpected end-group for field ${field}`);
    default:
      throw new Failure(`invalid wire type ${tag & 7} for field ${field}`);
  }
}

function skipBytes(n: number, end: number): void {
  if (end - pos < n) throw truncated(`${n}-byte field`);
  pos += n;
}

/** Skips a group (deprecated wire type 3) up to its matching end-group, iteratively. */
function skipGroup(field: number, end: number): void {
  const open = [field];
  while (open.length > 0) {
    if (pos >= end) throw truncated(`group ${open[open.length - 1]!}`);
    const tag = readVarint32(end, "tag");
    const inner = tag >>> 3;
    if (inner === 0) throw new Failure("invalid field number 0");
    const wireType = tag & 7;
    if (wireType === 4) {
      const expected = open.pop()!;
      if (inner !== expected) throw new Failure(`end-group for field ${inner} closes group ${expected}`);
    } else if (wireType === 3) {
      open.push(inner);
    } else {
      skipField(tag, end);
    }
  }
}

function truncated(what: string): Failure {
  return new Failure(`truncated ${what}: the message ends early`);
}

function tooDeep(): Failure {
  return new Failure(`value nests deeper than maxDepth ${maxDepth}`);
}

function wrongWireType(field: string, tag: number): Failure {
  return new Failure(`${field} has wire type ${WIRE_TYPE_NAMES[tag & 7]!}, expected length-delimited`);
}
