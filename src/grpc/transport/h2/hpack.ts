/**
 * HPACK (RFC 7541) for a gRPC client: a full decoder (static and dynamic
 * tables, Huffman strings, table size updates) for what servers send, and an
 * encoder that writes every field as a literal without indexing — the
 * client's headers are few and mostly fixed, so it builds their bytes once
 * per channel and keeps no dynamic table the server would have to track.
 *
 * @internal
 * @module
 */
import { HuffmanError, huffmanDecode } from "./huffman.js";

/** RFC 7541 Appendix A: index 1 … 61. */
const STATIC_TABLE: readonly (readonly [string, string])[] = [
  [":authority", ""],
  [":method", "GET"],
  [":method", "POST"],
  [":path", "/"],
  [":path", "/index.html"],
  [":scheme", "http"],
  [":scheme", "https"],
  [":status", "200"],
  [":status", "204"],
  [":status", "206"],
  [":status", "304"],
  [":status", "400"],
  [":status", "404"],
  [":status", "500"],
  ["accept-charset", ""],
  ["accept-encoding", "gzip, deflate"],
  ["accept-language", ""],
  ["accept-ranges", ""],
  ["accept", ""],
  ["access-control-allow-origin", ""],
  ["age", ""],
  ["allow", ""],
  ["authorization", ""],
  ["cache-control", ""],
  ["content-disposition", ""],
  ["content-encoding", ""],
  ["content-language", ""],
  ["content-length", ""],
  ["content-location", ""],
  ["content-range", ""],
  ["content-type", ""],
  ["cookie", ""],
  ["date", ""],
  ["etag", ""],
  ["expect", ""],
  ["expires", ""],
  ["from", ""],
  ["host", ""],
  ["if-match", ""],
  ["if-modified-since", ""],
  ["if-none-match", ""],
  ["if-range", ""],
  ["if-unmodified-since", ""],
  ["last-modified", ""],
  ["link", ""],
  ["location", ""],
  ["max-forwards", ""],
  ["proxy-authenticate", ""],
  ["proxy-authorization", ""],
  ["range", ""],
  ["referer", ""],
  ["refresh", ""],
  ["retry-after", ""],
  ["server", ""],
  ["set-cookie", ""],
  ["strict-transport-security", ""],
  ["transfer-encoding", ""],
  ["user-agent", ""],
  ["vary", ""],
  ["via", ""],
  ["www-authenticate", ""],
];

/** A header block HPACK cannot decode: a COMPRESSION_ERROR for the whole connection. @internal */
export class HpackError extends Error {
  override readonly name = "HpackError";
}

/** Per RFC 7541 §4.1: an entry's size is its name and value lengths plus 32. */
const ENTRY_OVERHEAD = 32;

/** A decoded header block: fields in order, and whether it went past the size limit (then `fields` is cut short). @internal */
export interface DecodedBlock {
  readonly fields: [name: string, value: string][];
  readonly oversized: boolean;
}

/** @internal */
export class HpackDecoder {
  /** Newest first. */
  #table: (readonly [string, string])[] = [];
  #tableSize = 0;
  /** What the last size update allowed (at most `#settingsMax`). */
  #maxSize: number;
  /** The table size this side advertised (SETTINGS_HEADER_TABLE_SIZE). */
  readonly #settingsMax: number;
  /** Largest header list handed out, counted as RFC 7540's SETTINGS_MAX_HEADER_LIST_SIZE does. */
  readonly #maxListSize: number;

  constructor(tableSize: number, maxListSize: number) {
    this.#maxSize = tableSize;
    this.#settingsMax = tableSize;
    this.#maxListSize = maxListSize;
  }

  /**
   * Decodes one complete header block. The dynamic table is updated even past
   * the size limit, so later blocks still decode. Throws {@link HpackError}.
   */
  decode(block: Uint8Array): DecodedBlock {
    const fields: [string, string][] = [];
    let listSize = 0;
    let oversized = false;
    let pos = 0;
    let fieldSeen = false;
    const end = block.length;
    const integer = (prefixBits: number): number => {
      const mask = (1 << prefixBits) - 1;
      let value = block[pos++]! & mask;
      if (value < mask) return value;
      let shift = 0;
      for (;;) {
        if (pos >= end) throw new HpackError("header block ends inside an integer");
        const byte = block[pos++]!;
        value += (byte & 0x7f) * 2 ** shift;
        shift += 7;
        if ((byte & 0x80) === 0) break;
        if (shift > 28) throw new HpackError("integer too large in header block");
      }
      if (value > 0x7fffffff) throw new HpackError("integer too large in header block");
      return value;
    };
    const string = (): string => {
      if (pos >= end) throw new HpackError("header block ends before a string");
      const huffman = (block[pos]! & 0x80) !== 0;
      const length = integer(7);
      if (length > end - pos) throw new HpackError("string runs past the end of the header block");
      const start = pos;
      pos += length;
      if (!huffman) return latin1(block, start, pos);
      try {
        return huffmanDecode(block, start, pos);
      } catch (err) {
        if (err instanceof HuffmanError) throw new HpackError(err.message);
        throw err;
      }
    };
    const emit = (name: string, value: string) => {
      fieldSeen = true;
      listSize += name.length + value.length + ENTRY_OVERHEAD;
      if (listSize > this.#maxListSize) oversized = true;
      else fields.push([name, value]);
    };
    while (pos < end) {
      const byte = block[pos]!;
      if (byte & 0x80) {
        const [name, value] = this.#entry(integer(7));
        emit(name, value);
      } else if (byte & 0x40) {
        const index = integer(6);
        const name = index === 0 ? string() : this.#entry(index)[0];
        const value = string();
        this.#add(name, value);
        emit(name, value);
      } else if (byte & 0x20) {
        // A size update must come first in a block (RFC 7541 §4.2).
        if (fieldSeen) throw new HpackError("dynamic table size update after a header field");
        const size = integer(5);
        if (size > this.#settingsMax) throw new HpackError(`dynamic table size update to ${size}, above the ${this.#settingsMax} allowed`);
        this.#maxSize = size;
        this.#evict(0);
      } else {
        // Literal without indexing (0000) or never indexed (0001): same shape.
        const index = integer(4);
        const name = index === 0 ? string() : this.#entry(index)[0];
        emit(name, string());
      }
    }
    return { fields, oversized };
  }

  #entry(index: number): readonly [string, string] {
    if (index === 0) throw new HpackError("header field index 0");
    if (index <= STATIC_TABLE.length) return STATIC_TABLE[index - 1]!;
    const entry = this.#table[index - STATIC_TABLE.length - 1];
    if (entry === undefined) throw new HpackError(`header field index ${index} is past the table`);
    return entry;
  }

  #add(name: string, value: string): void {
    const size = name.length + value.length + ENTRY_OVERHEAD;
    this.#evict(size);
    // An entry larger than the whole table empties it and is not added (RFC 7541 §4.4).
    if (size > this.#maxSize) return;
    this.#table.unshift([name, value]);
    this.#tableSize += size;
  }

  /** Evicts oldest entries until `incoming` more bytes fit. */
  #evict(incoming: number): void {
    while (this.#table.length > 0 && this.#tableSize + incoming > this.#maxSize) {
      const [name, value] = this.#table.pop()!;
      this.#tableSize -= name.length + value.length + ENTRY_OVERHEAD;
    }
  }
}

function latin1(bytes: Uint8Array, start: number, end: number): string {
  // Short strings: a loop beats a Buffer view for the handful of bytes in most header fields.
  if (end - start < 32) {
    let out = "";
    for (let i = start; i < end; i++) out += String.fromCharCode(bytes[i]!);
    return out;
  }
  return Buffer.from(bytes.buffer, bytes.byteOffset + start, end - start).toString("latin1");
}

/** Writes an HPACK integer with an `prefixBits`-bit prefix whose high bits are `flags`. */
function pushInteger(out: number[], value: number, prefixBits: number, flags: number): void {
  const max = (1 << prefixBits) - 1;
  if (value < max) {
    out.push(flags | value);
    return;
  }
  out.push(flags | max);
  let rest = value - max;
  while (rest >= 0x80) {
    out.push((rest % 0x80) | 0x80);
    rest = Math.floor(rest / 0x80);
  }
  out.push(rest);
}

function pushString(out: number[], text: string): void {
  const bytes = Buffer.from(text, "latin1");
  pushInteger(out, bytes.length, 7, 0);
  for (const b of bytes) out.push(b);
}

/** Static table indexes of the names the client sends. */
const NAME_INDEX: Readonly<Record<string, number>> = {
  ":authority": 1,
  ":method": 2,
  ":path": 4,
  ":scheme": 6,
  "content-type": 31,
  "user-agent": 58,
};

/**
 * The bytes of `fields` as literals without indexing (RFC 7541 §6.2.2),
 * names from the static table where it has them. Names must be lowercase;
 * values are sent as their latin1 bytes.
 */
export function encodeLiterals(fields: Iterable<readonly [string, string]>): Buffer {
  const out: number[] = [];
  for (const [name, value] of fields) {
    const index = NAME_INDEX[name];
    if (index === undefined) {
      out.push(0);
      pushString(out, name);
    } else {
      pushInteger(out, index, 4, 0);
    }
    pushString(out, value);
  }
  return Buffer.from(out);
}
