/**
 * HPACK's Huffman code (RFC 7541, Appendix B), decoding only: the client
 * sends its header strings raw, and reads whatever a server chose.
 *
 * The code is canonical: codes of one length are consecutive, in symbol
 * order, and each length's first code follows the last of the one before.
 * So the 257 code lengths below (symbols 0–255 and EOS, one letter each,
 * `A` = 5 bits … `Z` = 30 bits) are the whole table.
 *
 * @internal
 * @module
 */

const LENGTHS =
  "ISXXXXXXXTZXXZXXXXXXXXZXXXXXXXXXBFFHIBDGFFDGDBBBAAABBBBBBBCDKBHFIBCCCCCCCCCCCCCCCCCCCCCCDCDIOIJBKABABABBBACCBBBABCBAABCCCCCKGJIXPRPPRRRSRSSSSSTSTTRSTSSSSQRSRSSTRQPRRSSQSRRTQRSSQQRQSRSSPRRRSRRSVVPORSRUVVVWWVTUOQVWWVWTQQVVXWWWPTPQRQQSRRUUTTVSVWVVWWWWWXWWWWWVZ";

const EOS = 256;
const MAX_BITS = 30;

/** Per length: the first code of that length, how many codes, and where they start in `SYMBOLS`. */
const FIRST = new Int32Array(MAX_BITS + 2);
const COUNT = new Int32Array(MAX_BITS + 2);
const OFFSET = new Int32Array(MAX_BITS + 2);
/** Symbols ordered by (length, symbol): canonical order. */
const SYMBOLS = new Uint16Array(EOS + 1);

{
  const lengthOf = (symbol: number) => LENGTHS.charCodeAt(symbol) - 65 + 5;
  for (let s = 0; s <= EOS; s++) COUNT[lengthOf(s)]!++;
  let code = 0;
  let offset = 0;
  for (let len = 1; len <= MAX_BITS; len++) {
    FIRST[len] = code;
    OFFSET[len] = offset;
    offset += COUNT[len]!;
    code = (code + COUNT[len]!) << 1;
  }
  const next = OFFSET.slice();
  for (let s = 0; s <= EOS; s++) SYMBOLS[next[lengthOf(s)]!++] = s;
}

/** A Huffman string HPACK forbids: EOS inside it, or padding that is long or not all ones. @internal */
export class HuffmanError extends Error {
  override readonly name = "HuffmanError";
}

/** Decodes Huffman-coded `bytes[start, end)` to a string of bytes (latin1). */
export function huffmanDecode(bytes: Uint8Array, start: number, end: number): string {
  let out = "";
  let code = 0;
  let len = 0;
  /** Whether every bit since the last symbol was a one (a prefix of EOS: valid padding). */
  let ones = true;
  for (let i = start; i < end; i++) {
    const byte = bytes[i]!;
    for (let bit = 7; bit >= 0; bit--) {
      const b = (byte >> bit) & 1;
      code = (code << 1) | b;
      len++;
      ones &&= b === 1;
      const index = code - FIRST[len]!;
      if (index >= 0 && index < COUNT[len]!) {
        const symbol = SYMBOLS[OFFSET[len]! + index]!;
        if (symbol === EOS) throw new HuffmanError("Huffman string contains EOS");
        out += String.fromCharCode(symbol);
        code = 0;
        len = 0;
        ones = true;
      } else if (len >= MAX_BITS) {
        throw new HuffmanError("Huffman string holds an invalid code");
      }
    }
  }
  if (len > 7 || !ones) throw new HuffmanError("Huffman string ends with invalid padding");
  return out;
}
