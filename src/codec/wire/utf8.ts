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
const CACHE_SIZE = 4096;

/**
 * Recently decoded short strings, by a hash of their bytes. Object keys repeat
 * from record to record; returning the same string saves building it and lets
 * V8 find the property key it already interned. A slot holds one string and
 * is checked byte by byte, so a collision only costs a miss.
 */
const cache: string[] = new Array<string>(CACHE_SIZE).fill("");
/** The bytes of each cached string, CACHE_MAX per slot: comparing bytes to bytes is cheaper than charCodeAt. */
const cacheBytes = new Uint8Array(CACHE_SIZE * CACHE_MAX);

type Latin1Slice = (this: Uint8Array, start: number, end: number) => string;
const latin1Slice = (globalThis as { Buffer?: { prototype: { latin1Slice?: Latin1Slice } } }).Buffer?.prototype
  .latin1Slice;

/**
 * @internal Decodes `bytes[start, end)` as UTF-8, or returns undefined if the
 * bytes are not valid UTF-8. The fast path: one JavaScript pass over a short
 * string checks for ASCII and hashes it; ASCII strings come from the cache or
 * are built in chunks; long strings go to the platform's fatal decoder.
 */
export function decodeString(bytes: Uint8Array, start: number, end: number): string | undefined {
  const n = end - start;
  if (n <= CACHE_MAX) {
    if (n === 0) return "";
    // The cache holds ASCII strings only, so a hit proves the bytes are ASCII:
    // the common case (a repeated key) reads each byte once.
    const slot = (Math.imul(n ^ (bytes[start]! << 8) ^ (bytes[end - 1]! << 16) ^ (bytes[start + (n >> 1)]! << 4), 0x9e3779b1) >>> 20) & (CACHE_SIZE - 1);
    const hit = cache[slot]!;
    const at = slot * CACHE_MAX;
    if (hit.length === n) {
      let i = 0;
      while (i < n && cacheBytes[at + i] === bytes[start + i]) i++;
      if (i === n) return hit;
    }
    if (!isAscii(bytes, start, end)) return decodeUtf8Short(bytes, start, end);
    // Past 12 characters V8 builds concatenations as rope strings; one native copy is cheaper.
    const s = n > 12 && latin1Slice !== undefined ? latin1Slice.call(bytes, start, end) : asciiChunks(bytes, start, end);
    cache[slot] = s;
    for (let i = 0; i < n; i++) cacheBytes[at + i] = bytes[start + i]!;
    return s;
  }
  if (n > SHORT_MAX) return decodeUtf8Long(bytes, start, end);
  if (!isAscii(bytes, start, end)) return n <= 64 ? decodeUtf8Short(bytes, start, end) : decodeUtf8Long(bytes, start, end);
  return latin1Slice === undefined ? asciiChunks(bytes, start, end) : latin1Slice.call(bytes, start, end);
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
