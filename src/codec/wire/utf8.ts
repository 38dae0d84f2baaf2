/**
 * UTF-8 helpers for the binary codec: a validating decoder for short strings,
 * the platform decoder for long ones, and a well-formedness check for encode.
 *
 * @internal
 */

const fatalDecoder = new TextDecoder("utf-8", { fatal: true, ignoreBOM: true });

/** Strings up to this many bytes are looked up in the string cache. */
const CACHE_MAX = 24;
/** Strings up to this many bytes are checked and built in JavaScript. */
const SHORT_MAX = 256;
const CACHE_BITS = 12;
const CACHE_SIZE = 1 << CACHE_BITS;
/** 32-bit words kept per slot: CACHE_MAX / 4 = 6, rounded up to a power of two. */
const SLOT_WORDS = 8;

/**
 * Recently decoded short strings, by a hash of their bytes. Object keys repeat
 * from record to record; returning the same string saves building it and lets
 * V8 find the property key it already interned. A slot holds one string and
 * is checked against all its bytes, so a collision only costs a miss.
 */
const cache: string[] = new Array<string>(CACHE_SIZE).fill("");
/**
 * The bytes of each cached string as little-endian 32-bit words: the words at
 * 0, 4, 8… that lie wholly before the last four bytes, then the last four
 * bytes (overlapping the one before). A hit is then checked with one integer
 * comparison per four bytes instead of one per byte; the check on a hit was
 * the decoder's hottest loop. Strings under four bytes keep their bytes in
 * the first word.
 */
const cacheWords = new Int32Array(CACHE_SIZE * SLOT_WORDS);

type Latin1Slice = (this: Uint8Array, start: number, end: number) => string;
const latin1Slice = (globalThis as { Buffer?: { prototype: { latin1Slice?: Latin1Slice } } }).Buffer?.prototype
  .latin1Slice;

/** The little-endian 32-bit word at `bytes[i, i + 4)`. */
function word(bytes: Uint8Array, i: number): number {
  return bytes[i]! | (bytes[i + 1]! << 8) | (bytes[i + 2]! << 16) | (bytes[i + 3]! << 24);
}

// A word can be one unaligned load through a DataView instead of four byte
// loads and three shifts: about a tenth of decode time on a list of records.
// Making the view costs about as much as decoding a small message, so
// fromValueBinary makes one only for a large buffer (useView) and drops it
// when done (releaseView), so the module never keeps the caller's bytes alive.
/** Buffers at least this long are read through a DataView. */
export const VIEW_MIN = 1024;
const NO_VIEW: DataView = new DataView(new ArrayBuffer(0) as ArrayBufferLike);
let viewOf: Uint8Array | undefined;
let view = NO_VIEW;

/** @internal Reads words of `bytes` through a DataView until releaseView. */
export function useView(bytes: Uint8Array): void {
  view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  viewOf = bytes;
}

/** @internal Forgets the view made by useView. */
export function releaseView(): void {
  viewOf = undefined;
  view = NO_VIEW;
}

/** The little-endian 32-bit word at `bytes[i, i + 4)`, through the view when there is one. */
function wordAt(bytes: Uint8Array, i: number): number {
  return bytes === viewOf ? view.getInt32(i, true) : word(bytes, i);
}

/**
 * @internal Decodes `bytes[start, end)` as UTF-8, or returns undefined if the
 * bytes are not valid UTF-8. Short strings come from the cache when their
 * bytes were seen lately (the cache holds ASCII strings only, so a hit also
 * proves the bytes are ASCII); other ASCII strings are built in JavaScript or
 * with one native copy; anything else is validated, and long strings go to
 * the platform's fatal decoder.
 */
export function decodeString(bytes: Uint8Array, start: number, end: number): string | undefined {
  const n = end - start;
  if (n <= CACHE_MAX) {
    if (n < 4) {
      if (n === 0) return "";
      // One word holds the whole string: its bytes and, through the hash, its length.
      let w = bytes[start]!;
      if (n > 1) w |= bytes[start + 1]! << 8;
      if (n > 2) w |= bytes[start + 2]! << 16;
      const slot = (Math.imul(w ^ (n << 24), 0x9e3779b1) >>> (32 - CACHE_BITS));
      const at = slot * SLOT_WORDS;
      const hit = cache[slot]!;
      if (hit.length === n && cacheWords[at] === w) return hit;
      return cacheMiss(bytes, start, end, slot);
    }
    // Hash every byte, four at a time: values such as domains and addresses
    // differ from one another in a digit or two anywhere in the string.
    const first = wordAt(bytes, start);
    const last = wordAt(bytes, end - 4);
    const full = (n - 1) >> 2;
    let h = Math.imul(last ^ n, 0x85ebca6b);
    for (let k = 0; k < full; k++) h = Math.imul(h ^ wordAt(bytes, start + 4 * k), 0x9e3779b1) ^ (h >>> 15);
    const slot = Math.imul(h ^ (h >>> 13), 0xc2b2ae35) >>> (32 - CACHE_BITS);
    const at = slot * SLOT_WORDS;
    const hit = cache[slot]!;
    if (hit.length === n && cacheWords[at] === first) {
      let k = 1;
      while (k < full && cacheWords[at + k] === wordAt(bytes, start + 4 * k)) k++;
      if (k >= full && cacheWords[at + full] === last) return hit;
    }
    return cacheMiss(bytes, start, end, slot);
  }
  if (n > SHORT_MAX) return decodeUtf8Long(bytes, start, end);
  if (!isAscii(bytes, start, end)) return n <= 64 ? decodeUtf8Short(bytes, start, end) : decodeUtf8Long(bytes, start, end);
  return latin1Slice === undefined ? asciiChunks(bytes, start, end) : latin1Slice.call(bytes, start, end);
}

/** Builds a short string that was not in the cache and, if it is ASCII, caches it in `slot`. */
function cacheMiss(bytes: Uint8Array, start: number, end: number, slot: number): string | undefined {
  if (!isAscii(bytes, start, end)) return decodeUtf8Short(bytes, start, end);
  const n = end - start;
  // Past 12 characters V8 builds concatenations as rope strings; one native copy is cheaper.
  const s = n > 12 && latin1Slice !== undefined ? latin1Slice.call(bytes, start, end) : asciiChunks(bytes, start, end);
  const at = slot * SLOT_WORDS;
  cache[slot] = s;
  if (n < 4) {
    let w = bytes[start]!;
    if (n > 1) w |= bytes[start + 1]! << 8;
    if (n > 2) w |= bytes[start + 2]! << 16;
    cacheWords[at] = w;
  } else {
    const full = (n - 1) >> 2;
    for (let k = 0; k < full; k++) cacheWords[at + k] = word(bytes, start + 4 * k);
    cacheWords[at + full] = word(bytes, end - 4);
  }
  return s;
}

function isAscii(bytes: Uint8Array, start: number, end: number): boolean {
  let high = 0;
  let i = start;
  for (; i + 4 <= end; i += 4) high |= bytes[i]! | bytes[i + 1]! | bytes[i + 2]! | bytes[i + 3]!;
  for (; i < end; i++) high |= bytes[i]!;
  return high < 0x80;
}

/** Builds an ASCII string eight characters at a time. */
function asciiChunks(bytes: Uint8Array, start: number, end: number): string {
  let s = "";
  let i = start;
  for (; i + 8 <= end; i += 8) {
    s += String.fromCharCode(
      bytes[i]!,
      bytes[i + 1]!,
      bytes[i + 2]!,
      bytes[i + 3]!,
      bytes[i + 4]!,
      bytes[i + 5]!,
      bytes[i + 6]!,
      bytes[i + 7]!,
    );
  }
  for (; i < end; i++) s += String.fromCharCode(bytes[i]!);
  return s;
}

/**
 * @internal Decodes `bytes[start, end)` as UTF-8, or returns undefined if the
 * bytes are not valid UTF-8 (overlong forms, surrogates, code points past
 * U+10FFFF, truncated sequences). Meant for short strings.
 */
export function decodeUtf8Short(bytes: Uint8Array, start: number, end: number): string | undefined {
  let out = "";
  let i = start;
  while (i < end) {
    const c = bytes[i++]!;
    if (c < 0x80) {
      out += String.fromCharCode(c);
      continue;
    }
    if (c >= 0xc2 && c <= 0xdf) {
      if (i >= end) return undefined;
      const c1 = bytes[i++]!;
      if ((c1 & 0xc0) !== 0x80) return undefined;
      out += String.fromCharCode(((c & 0x1f) << 6) | (c1 & 0x3f));
    } else if (c >= 0xe0 && c <= 0xef) {
      if (i + 1 >= end) return undefined;
      const c1 = bytes[i++]!;
      const c2 = bytes[i++]!;
      if ((c1 & 0xc0) !== 0x80 || (c2 & 0xc0) !== 0x80) return undefined;
      if (c === 0xe0 && c1 < 0xa0) return undefined; // overlong
      if (c === 0xed && c1 > 0x9f) return undefined; // surrogate
      out += String.fromCharCode(((c & 0x0f) << 12) | ((c1 & 0x3f) << 6) | (c2 & 0x3f));
    } else if (c >= 0xf0 && c <= 0xf4) {
      if (i + 2 >= end) return undefined;
      const c1 = bytes[i++]!;
      const c2 = bytes[i++]!;
      const c3 = bytes[i++]!;
      if ((c1 & 0xc0) !== 0x80 || (c2 & 0xc0) !== 0x80 || (c3 & 0xc0) !== 0x80) return undefined;
      if (c === 0xf0 && c1 < 0x90) return undefined; // overlong
      if (c === 0xf4 && c1 > 0x8f) return undefined; // past U+10FFFF
      const cp = (((c & 0x07) << 18) | ((c1 & 0x3f) << 12) | ((c2 & 0x3f) << 6) | (c3 & 0x3f)) - 0x10000;
      out += String.fromCharCode(0xd800 + (cp >> 10), 0xdc00 + (cp & 0x3ff));
    } else {
      return undefined;
    }
  }
  return out;
}

/** @internal Decodes `bytes[start, end)` with the platform's fatal decoder; undefined if invalid. */
export function decodeUtf8Long(bytes: Uint8Array, start: number, end: number): string | undefined {
  try {
    return fatalDecoder.decode(bytes.subarray(start, end));
  } catch {
    return undefined;
  }
}

interface WellFormedString {
  isWellFormed?: () => boolean;
}

const LONE_SURROGATE = /[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/;

/** @internal Whether `s` has no lone surrogates, so it has a UTF-8 form. */
export function isWellFormed(s: string): boolean {
  const native = (s as unknown as WellFormedString).isWellFormed;
  return native === undefined ? !LONE_SURROGATE.test(s) : native.call(s);
}
