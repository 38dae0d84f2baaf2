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
    return result();
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

type AllocUnsafe = (size: number) => Uint8Array;
const allocUnsafe = (globalThis as { Buffer?: { allocUnsafe?: AllocUnsafe } }).Buffer?.allocUnsafe;

/**
 * Copies the encoded bytes out of the scratch. A Uint8Array of 64 bytes or
 * less lives on V8's heap and `slice` is cheapest; a larger one needs its own
 * zero-filled ArrayBuffer, which costs more than encoding an IOC record. On
 * Node, `Buffer.allocUnsafe` instead carves it from a shared 8 KiB pool (or
 * skips the zero fill when larger); a Buffer is a Uint8Array.
 */
function result(): Uint8Array {
  if (pos <= 64 || allocUnsafe === undefined) return out.slice(0, pos);
  const bytes = allocUnsafe(pos);
  bytes.set(out.subarray(0, pos));
  return bytes;
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
        const hint = (depth << 2) & HINT_MASK;
        const reserved = lengthHints[hint]!;
        const lengthAt = pos;
        pos += reserved;
        writeList(value, depth + 1);
        lengthHints[hint] = finishLength(lengthAt, reserved);
        return;
      }
      checkPlainObject(value);
      out[pos++] = 0x2a;
      {
        const hint = ((depth << 2) | 1) & HINT_MASK;
        const reserved = lengthHints[hint]!;
        const lengthAt = pos;
        pos += reserved;
        writeStruct(value as Record<string, unknown>, depth + 1);
        lengthHints[hint] = finishLength(lengthAt, reserved);
      }
      return;
    default:
      throw new Failure(`expected a JSON value, got ${describe(value)}`);
  }
}

function writeList(list: readonly unknown[], depth: number): void {
  const hint = ((depth << 2) | 2) & HINT_MASK;
  for (let i = 0; i < list.length; i++) {
    const item = list[i];
    ensure(6);
    out[pos++] = 0x0a;
    const reserved = lengthHints[hint]!;
    const lengthAt = pos;
    pos += reserved;
    try {
      if (item === undefined) throw new Failure("expected a JSON value, got undefined");
      writeValue(item, depth);
    } catch (error) {
      throw addSegment(error, i);
    }
    lengthHints[hint] = finishLength(lengthAt, reserved);
  }
}

function writeStruct(object: Record<string, unknown>, depth: number): void {
  const keys = sortedKeys(Object.keys(object));
  // Set by sortedKeys: the encoded key fields of this shape, when it has them.
  const heads = keyHeads;
  const ends = keyHeadEnds;
  const entryHint = ((depth << 2) | 3) & HINT_MASK;
  for (let i = 0; i < keys.length; i++) {
    const key = keys[i]!;
    const item = object[key];
    if (item === undefined) continue;
    ensure(7);
    out[pos++] = 0x0a;
    // An entry's length is its value's plus a few bytes: the same varint
    // size, but for values just under a power of 128.
    const reserved = lengthHints[entryHint]!;
    const entryAt = pos;
    pos += reserved;
    try {
      if (heads !== null) {
        // The key's tag, length and bytes, encoded once per shape: a byte
        // copy instead of reading the key's characters again.
        const from = i === 0 ? 0 : ends[i - 1]!;
        const to = ends[i]!;
        ensure(to - from);
        const o = out;
        let p = pos;
        let j = from;
        // Four bytes per step while they last, as in writeString.
        for (; j + 4 <= to; j += 4) {
          o[p] = heads[j]!;
          o[p + 1] = heads[j + 1]!;
          o[p + 2] = heads[j + 2]!;
          o[p + 3] = heads[j + 3]!;
          p += 4;
        }
        for (; j < to; j++) o[p++] = heads[j]!;
        pos = p;
      } else {
        out[pos++] = 0x0a;
        writeString(key);
      }
      ensure(6);
      out[pos++] = 0x12;
      const valueAt = pos;
      pos += reserved;
      writeValue(item, depth);
      finishLength(valueAt, reserved);
    } catch (error) {
      throw addSegment(error, key);
    }
    lengthHints[entryHint] = finishLength(entryAt, reserved);
  }
}

// Objects of one shape list their keys in the same order, so the sorted order
// is memoised per key list: a direct-mapped cache checked key by key (`===`
// on interned keys is a pointer comparison) instead of sorting every object.
// The cache is bounded by its slot count; a slot's entry is replaced by the
// next shape that hashes there.
const SORT_CACHE_SIZE = 64;
/** Shapes with more keys than this get no encoded key fields. */
const HEADS_MAX_KEYS = 64;
interface SortEntry {
  readonly input: readonly string[];
  readonly sorted: readonly string[];
  /**
   * Each sorted key's map-entry key field (tag 0x0a, length, UTF-8), end to
   * end; made on the shape's second use, so a one-off shape costs no
   * encoding. null when a key has a lone surrogate (writeString must throw)
   * or the shape is too large.
   */
  heads: Uint8Array | null | undefined;
  ends: Uint32Array;
}
const sortCache: Array<SortEntry | undefined> = new Array<SortEntry | undefined>(SORT_CACHE_SIZE);
const NO_ENDS = new Uint32Array(0);
/** The encoded key fields for the keys the last sortedKeys call returned, or null. */
let keyHeads: Uint8Array | null = null;
let keyHeadEnds: Uint32Array = NO_ENDS;

/** The keys in UTF-16 code unit order, as jspb.Map serializes them; sets keyHeads. */
function sortedKeys(keys: string[]): readonly string[] {
  keyHeads = null;
  const n = keys.length;
  if (n < 2) return keys;
  // The cache is checked before isSorted: `===` on property keys is a pointer
  // comparison, `>` on strings compares characters.
  const first = keys[0]!;
  const slot = (n * 31 + first.length * 7 + first.charCodeAt(0) + keys[n - 1]!.charCodeAt(0)) & (SORT_CACHE_SIZE - 1);
  const cached = sortCache[slot];
  if (cached !== undefined && cached.input.length === n) {
    const input = cached.input;
    let i = 0;
    while (i < n && input[i] === keys[i]) i++;
    if (i === n) {
      if (cached.heads === undefined) encodeHeads(cached);
      keyHeads = cached.heads!;
      keyHeadEnds = cached.ends;
      return cached.sorted;
    }
  }
  const sorted = isSorted(keys) ? keys : keys.slice().sort();
  sortCache[slot] = { input: keys, sorted, heads: n > HEADS_MAX_KEYS ? null : undefined, ends: NO_ENDS };
  return sorted;
}

/** Fills in entry.heads and entry.ends (see SortEntry). */
function encodeHeads(entry: SortEntry): void {
  const keys = entry.sorted;
  const parts: Uint8Array[] = [];
  const ends = new Uint32Array(keys.length);
  let size = 0;
  for (let i = 0; i < keys.length; i++) {
    const key = keys[i]!;
    if (!isWellFormed(key)) {
      entry.heads = null;
      return;
    }
    const bytes = encoder.encode(key);
    const part = new Uint8Array(1 + varintSize(bytes.length) + bytes.length);
    part[0] = 0x0a;
    let at = 1;
    let len = bytes.length;
    for (; len >= 0x80; len >>>= 7) part[at++] = (len & 0x7f) | 0x80;
    part[at++] = len;
    part.set(bytes, at);
    parts.push(part);
    size += part.length;
    ends[i] = size;
  }
  const heads = new Uint8Array(size);
  for (let i = 0; i < parts.length; i++) heads.set(parts[i]!, i === 0 ? 0 : ends[i - 1]!);
  entry.heads = heads;
  entry.ends = ends;
}

function isSorted(keys: readonly string[]): boolean {
  for (let i = 1; i < keys.length; i++) {
    if (keys[i - 1]! > keys[i]!) return false;
  }
  return true;
}

// A length prefix is written after its content, into bytes reserved before
// it; when the guess was wrong the content moves (copyWithin), which in a
// list of records bigger than 127 bytes used to happen twice per record. So
// the guess is the size the previous length of the same kind at the same
// depth needed (list item, struct entry, struct or list value): siblings
// tend to be alike. The bytes written are the same either way: minimal
// varints, as google-protobuf writes them.
const HINT_MASK = 255;
const lengthHints = new Uint8Array(HINT_MASK + 1).fill(1);

/**
 * Writes the length of what follows the `reserved` bytes at `lengthAt`, moving
 * the content if its varint needs another size; returns the size it needed.
 */
function finishLength(lengthAt: number, reserved: number): number {
  const len = pos - lengthAt - reserved;
  if (len < 0x80 && reserved === 1) {
    out[lengthAt] = len;
    return 1;
  }
  const size = varintSize(len);
  if (size !== reserved) {
    if (size > reserved) ensure(size - reserved);
    out.copyWithin(lengthAt + size, lengthAt + reserved, pos);
    pos += size - reserved;
  }
  writeVarintAt(lengthAt, len);
  return size;
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
/**
 * Strings this long go to Node's native UTF-8 writer when there is one. Its
 * call costs about 100 ns. Measured with the bench's payloads, in a process
 * that has also encoded scalars and single records (as a server does): 48
 * beats 128 (the 64-character hash goes native; list encode 2.1x → 1.7x
 * JSON.stringify) and 20 (short strings are cheaper in the JavaScript loop).
 */
const NATIVE_MIN = 48;

type Utf8Write = (this: Uint8Array, s: string, offset: number, length: number) => number;
const utf8Write = (globalThis as { Buffer?: { prototype: { utf8Write?: Utf8Write } } }).Buffer?.prototype.utf8Write;

/** Writes a length-prefixed UTF-8 string; a Failure if it has a lone surrogate. */
function writeString(s: string): void {
  const n = s.length;
  if (n >= NATIVE_MIN && utf8Write !== undefined) {
    writeStringNative(s);
    return;
  }
  if (n > ASCII_TRY_MAX) {
    writeStringSlow(s);
    return;
  }
  // Optimistically ASCII: then the byte length is n and known up front.
  const head = n < 0x80 ? 1 : 2;
  ensure(head + n);
  const o = out;
  let p = pos + head;
  let i = 0;
  // Four characters per step, one ASCII check for the four: this loop is
  // where encoding spends most of its time.
  for (; i + 4 <= n; i += 4) {
    const c0 = s.charCodeAt(i);
    const c1 = s.charCodeAt(i + 1);
    const c2 = s.charCodeAt(i + 2);
    const c3 = s.charCodeAt(i + 3);
    if ((c0 | c1 | c2 | c3) >= 0x80) {
      writeStringSlow(s);
      return;
    }
    o[p] = c0;
    o[p + 1] = c1;
    o[p + 2] = c2;
    o[p + 3] = c3;
    p += 4;
  }
  for (; i < n; i++) {
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

/**
 * Writes a string with Node's `utf8Write`, room reserved for the ASCII
 * length. UTF-8 takes more bytes than UTF-16 units for any character past
 * U+007F, so `written === n` proves the string is ASCII; otherwise it may
 * hold a lone surrogate (written as U+FFFD, which must be an error instead)
 * and its length may need a longer varint.
 */
function writeStringNative(s: string): void {
  const n = s.length;
  const head = varintSize(n);
  ensure(5 + 3 * n);
  const written = utf8Write!.call(out, s, pos + head, 3 * n);
  if (written === n) {
    if (head === 1) out[pos] = n;
    else writeVarintAt(pos, n);
    pos += head + n;
    return;
  }
  if (!isWellFormed(s)) throw new Failure("string has a lone surrogate, so it has no UTF-8 form");
  const size = varintSize(written);
  if (size !== head) out.copyWithin(pos + size, pos + head, pos + head + written);
  writeVarintAt(pos, written);
  pos += size + written;
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
