import type { JsonValue } from "type-fest";
import { Failure, addSegment, describe, toPublicError } from "./fail.js";
import { resolveOptions, type ValueCodecOptions } from "./options.js";
import { checkPlainObject } from "./json.js";
import { isWellFormed } from "./utf8.js";

// One encode runs at a time (it calls no user code: it reads own data
// properties only), so the writer is module state: a scratch buffer that grows
// and is reused across calls, the index, and the options. Each call copies
// its bytes out of the scratch into one exact-size result.
const INITIAL_SCRATCH = 64 * 1024;
/** A scratch that grew past this is dropped after the call instead of kept. */
const KEEP_SCRATCH = 1024 * 1024;

let out = new Uint8Array(INITIAL_SCRATCH);
let outView = new DataView(out.buffer);
let pos = 0;
let maxDepth = 64;
let allowNonFinite = false;
/** Set while an encode runs: a getter or Proxy trap may call toValueBinary again. */
let busy = false;

const encoder = new TextEncoder();

/**
 * Encodes a JSON value as the protobuf wire bytes of a `google.protobuf.Value`,
 * in one pass into one buffer.
 *
 * The bytes are identical to google-protobuf's
 * `Value.fromJavaScript(value).serializeBinary()`: fields in field-number
 * order, object keys sorted by UTF-16 code units (as jspb.Map sorts them),
 * every map entry with both its key and value written. `-0` stays `-0`.
 * Properties whose value is `undefined` are left out, as `JSON.stringify`
 * does; own enumerable string keys only, so `__proto__` as an own key is kept.
 *
 * Throws a {@link CodecError} naming the path for: NaN or ±Infinity unless
 * `allowNonFinite` (then NaN is written as google-protobuf writes it), a
 * string with a lone surrogate (it has no UTF-8 form; google-protobuf would
 * write invalid UTF-8 that Go rejects), anything that is not a JSON value
 * (`undefined` in a list or at the root, a bigint, a function, a class
 * instance such as a Date or Map), and nesting deeper than `maxDepth` (so a
 * cycle is an error too).
 *
 * @example
 * ```ts
 * toValueBinary(10); // Uint8Array [0x11, 0, 0, 0, 0, 0, 0, 0x24, 0x40]
 * fromValueBinary(toValueBinary({ threshold: 10 })); // { threshold: 10 }
 * ```
 */
export function toValueBinary(value: JsonValue, options?: ValueCodecOptions): Uint8Array {
  const resolved = resolveOptions(options);
  if (busy) return encodeReentrant(value, resolved);
  busy = true;
  maxDepth = resolved.maxDepth;
  allowNonFinite = resolved.allowNonFinite;
  pos = 0;
  try {
    if (value === undefined) throw new Failure("expected a JSON value, got undefined");
    writeValue(value, 0);
    return out.slice(0, pos);
  } catch (error) {
    throw toPublicError(error);
  } finally {
    busy = false;
    if (out.length > KEEP_SCRATCH) {
      out = new Uint8Array(INITIAL_SCRATCH);
      outView = new DataView(out.buffer);
    }
  }
}

/** An encode started while another runs (from a getter): it gets its own scratch. */
function encodeReentrant(value: JsonValue, options: ValueCodecOptions): Uint8Array {
  const outer = { out, outView, pos, maxDepth, allowNonFinite };
  out = new Uint8Array(256);
  outView = new DataView(out.buffer);
  busy = false;
  try {
    return toValueBinary(value, options);
  } finally {
    busy = true;
    ({ out, outView, pos, maxDepth, allowNonFinite } = outer);
  }
}

/** Makes room for `n` more bytes. */
function ensure(n: number): void {
  if (pos + n <= out.length) return;
  let size = out.length * 2;
  while (size < pos + n) size *= 2;
  const grown = new Uint8Array(size);
  grown.set(out.subarray(0, pos));
  out = grown;
  outView = new DataView(grown.buffer);
}

/** Writes one Value message's fields (without its own tag or length). */
function writeValue(value: unknown, depth: number): void {
  ensure(16);
  switch (typeof value) {
    case "string":
      out[pos++] = 0x1a;
      writeString(value);
      return;
    case "number":
      out[pos++] = 0x11;
      if (value - value !== 0) {
        if (!allowNonFinite) throw new Failure(`number ${String(value)} is not finite (allowNonFinite is off)`);
        if (value !== value) {
          // google-protobuf writes NaN as 0x7fffffffffffffff; match it byte for byte.
          outView.setUint32(pos, 0xffffffff, true);
          outView.setUint32(pos + 4, 0x7fffffff, true);
          pos += 8;
          return;
        }
      }
      outView.setFloat64(pos, value, true);
      pos += 8;
      return;
    case "boolean":
      out[pos++] = 0x20;
      out[pos++] = value ? 1 : 0;
      return;
    case "object":
      if (value === null) {
        out[pos++] = 0x08;
        out[pos++] = 0;
        return;
      }
      if (depth >= maxDepth) throw new Failure(`value nests deeper than maxDepth ${maxDepth}`);
      if (Array.isArray(value)) {
        out[pos++] = 0x32;
        const lengthAt = pos++;
        writeList(value, depth + 1);
        finishLength(lengthAt);
        return;
      }
      checkPlainObject(value);
      out[pos++] = 0x2a;
      {
        const lengthAt = pos++;
        writeStruct(value as Record<string, unknown>, depth + 1);
        finishLength(lengthAt);
      }
      return;
    default:
      throw new Failure(`expected a JSON value, got ${describe(value)}`);
  }
}

function writeList(list: readonly unknown[], depth: number): void {
  for (let i = 0; i < list.length; i++) {
    const item = list[i];
    ensure(2);
    out[pos++] = 0x0a;
    const lengthAt = pos++;
    try {
      if (item === undefined) throw new Failure("expected a JSON value, got undefined");
      writeValue(item, depth);
    } catch (error) {
      throw addSegment(error, i);
    }
    finishLength(lengthAt);
  }
}

function writeStruct(object: Record<string, unknown>, depth: number): void {
  const keys = sortedKeys(Object.keys(object));
  for (let i = 0; i < keys.length; i++) {
    const key = keys[i]!;
    const item = object[key];
    if (item === undefined) continue;
    ensure(3);
    out[pos++] = 0x0a;
    const entryAt = pos++;
    out[pos++] = 0x0a;
    try {
      writeString(key);
      ensure(2);
      out[pos++] = 0x12;
      const valueAt = pos++;
      writeValue(item, depth);
      finishLength(valueAt);
    } catch (error) {
      throw addSegment(error, key);
    }
    finishLength(entryAt);
  }
}

// Objects of one shape list their keys in the same order, so the sorted order
// is memoised per key list: a direct-mapped cache checked key by key (`===`
// on interned keys is a pointer comparison) instead of sorting every object.
const SORT_CACHE_SIZE = 64;
const sortInputs: Array<readonly string[] | undefined> = new Array<readonly string[] | undefined>(SORT_CACHE_SIZE);
const sortOutputs: Array<readonly string[] | undefined> = new Array<readonly string[] | undefined>(SORT_CACHE_SIZE);

/** The keys in UTF-16 code unit order, as jspb.Map serializes them. */
function sortedKeys(keys: string[]): readonly string[] {
  const n = keys.length;
  if (n < 2 || isSorted(keys)) return keys;
  const first = keys[0]!;
  const slot = (n * 31 + first.length * 7 + first.charCodeAt(0) + keys[n - 1]!.charCodeAt(0)) & (SORT_CACHE_SIZE - 1);
  const cached = sortInputs[slot];
  if (cached !== undefined && cached.length === n) {
    let i = 0;
    while (i < n && cached[i] === keys[i]) i++;
    if (i === n) return sortOutputs[slot]!;
  }
  const sorted = keys.slice().sort();
  sortInputs[slot] = keys;
  sortOutputs[slot] = sorted;
  return sorted;
}

function isSorted(keys: readonly string[]): boolean {
  for (let i = 1; i < keys.length; i++) {
    if (keys[i - 1]! > keys[i]!) return false;
  }
  return true;
}

/**
 * Fills in the one-byte length reserved at `lengthAt` for what was written
 * after it; a length of 128 or more needs more bytes, so the content moves up.
 */
function finishLength(lengthAt: number): void {
  const len = pos - lengthAt - 1;
  if (len < 0x80) {
    out[lengthAt] = len;
    return;
  }
  const extra = varintSize(len) - 1;
  ensure(extra);
  out.copyWithin(lengthAt + 1 + extra, lengthAt + 1, pos);
  pos += extra;
  writeVarintAt(lengthAt, len);
}

function varintSize(n: number): number {
  return n < 0x80 ? 1 : n < 0x4000 ? 2 : n < 0x200000 ? 3 : n < 0x10000000 ? 4 : 5;
}

function writeVarintAt(at: number, n: number): void {
  while (n >= 0x80) {
    out[at++] = (n & 0x7f) | 0x80;
    n >>>= 7;
  }
  out[at] = n;
}

/** Strings up to this many UTF-16 units are tried as ASCII in JavaScript first. */
const ASCII_TRY_MAX = 1024;

/** Writes a length-prefixed UTF-8 string; a Failure if it has a lone surrogate. */
function writeString(s: string): void {
  const n = s.length;
  if (n > ASCII_TRY_MAX) {
    writeStringSlow(s);
    return;
  }
  // Optimistically ASCII: then the byte length is n and known up front.
  const head = n < 0x80 ? 1 : 2;
  ensure(head + n);
  const o = out;
  let p = pos + head;
  for (let i = 0; i < n; i++) {
    const c = s.charCodeAt(i);
    if (c >= 0x80) {
      writeStringSlow(s);
      return;
    }
    o[p++] = c;
  }
  if (head === 1) o[pos] = n;
  else writeVarintAt(pos, n);
  pos = p;
}

/** Writes any string with the platform's encoder: reserve room for 3 bytes per unit, then fix the length. */
function writeStringSlow(s: string): void {
  if (!isWellFormed(s)) throw new Failure("string has a lone surrogate, so it has no UTF-8 form");
  const n = s.length;
  const reserve = varintSize(3 * n);
  ensure(reserve + 3 * n);
  const start = pos + reserve;
  const { written } = encoder.encodeInto(s, out.subarray(start));
  const size = varintSize(written);
  if (size < reserve) out.copyWithin(pos + size, start, start + written);
  writeVarintAt(pos, written);
  pos += size + written;
}
