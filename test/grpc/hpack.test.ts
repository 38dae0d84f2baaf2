/**
 * The client transport's HPACK decoder and Huffman code (src/grpc/transport/h2/),
 * against independent encodings: RFC 7541 Appendix C's examples, the static
 * table as another implementation (Go's x/net/http2/hpack) decodes indexes
 * 1–61, and every byte value Huffman-coded by that implementation
 * (fixtures/huffman-bytes-255-to-0.hex: bytes 255 down to 0, one string).
 */
import { readFileSync } from "node:fs";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { HpackDecoder, HpackError, encodeLiterals } from "../../src/grpc/transport/h2/hpack.js";
import { HuffmanError, huffmanDecode } from "../../src/grpc/transport/h2/huffman.js";

const hex = (text: string) => Buffer.from(text.replace(/\s+/g, ""), "hex");
const decoder = (tableSize = 4096, maxList = 1 << 20) => new HpackDecoder(tableSize, maxList);

describe("HPACK decoding, RFC 7541 Appendix C", () => {
  it("C.4: three requests with Huffman strings share the dynamic table", () => {
    const d = decoder();
    expect(d.decode(hex("8286 8441 8cf1 e3c2 e5f2 3a6b a0ab 90f4 ff")).fields).toEqual([
      [":method", "GET"],
      [":scheme", "http"],
      [":path", "/"],
      [":authority", "www.example.com"],
    ]);
    expect(d.decode(hex("8286 84be 5886 a8eb 1064 9cbf")).fields).toEqual([
      [":method", "GET"],
      [":scheme", "http"],
      [":path", "/"],
      [":authority", "www.example.com"],
      ["cache-control", "no-cache"],
    ]);
    expect(d.decode(hex("8287 85bf 4088 25a8 49e9 5ba9 7d7f 8925 a849 e95b b8e8 b4bf")).fields).toEqual([
      [":method", "GET"],
      [":scheme", "https"],
      [":path", "/index.html"],
      [":authority", "www.example.com"],
      ["custom-key", "custom-value"],
    ]);
  });

  it("C.6: three responses in a 256-byte table, with evictions", () => {
    const d = decoder(256);
    const date1 = "Mon, 21 Oct 2013 20:13:21 GMT";
    const location = "https://www.example.com";
    expect(
      d.decode(
        hex(
          "4882 6402 5885 aec3 771a 4b61 96d0 7abe 9410 54d4 44a8 2005 9504 0b81 66e0 82a6 2d1b ff6e 919d 29ad 1718 63c7 8f0b 97c8 e9ae 82ae 43d3",
        ),
      ).fields,
    ).toEqual([
      [":status", "302"],
      ["cache-control", "private"],
      ["date", date1],
      ["location", location],
    ]);
    // ":status 307" evicts ":status 302"; the rest are found by index.
    expect(d.decode(hex("4883 640e ffc1 c0bf")).fields).toEqual([
      [":status", "307"],
      ["cache-control", "private"],
      ["date", date1],
      ["location", location],
    ]);
    expect(
      d.decode(
        hex(
          "88c1 6196 d07a be94 1054 d444 a820 0595 040b 8166 e084 a62d 1bff c05a 839b d9ab 77ad 94e7 821d d7f2 e6c7 b335 dfdf cd5b 3960 d5af 2708 7f36 72c1 ab27 0fb5 291f 9587 3160 65c0 03ed 4ee5 b106 3d50 07",
        ),
      ).fields,
    ).toEqual([
      [":status", "200"],
      ["cache-control", "private"],
      ["date", "Mon, 21 Oct 2013 20:13:22 GMT"],
      ["location", location],
      ["content-encoding", "gzip"],
      ["set-cookie", "foo=ASDJKHQKBZXOQWEOPIUAXQWEOIU; max-age=3600; version=1"],
    ]);
    // The first response's entries were all evicted by now: index 65 is past the table.
    expect(() => d.decode(hex("c5"))).toThrow(HpackError);
  });
});

describe("HPACK static table", () => {
  it("indexes 1–61 decode to the fields Go's implementation decodes them to", () => {
    const block = Buffer.from(Array.from({ length: 61 }, (_, i) => 0x81 + i));
    // As golang.org/x/net/http2/hpack decodes the same 61 bytes.
    const expected = JSON.parse(
      '[[":authority",""],[":method","GET"],[":method","POST"],[":path","/"],[":path","/index.html"],[":scheme","http"],[":scheme","https"],[":status","200"],[":status","204"],[":status","206"],[":status","304"],[":status","400"],[":status","404"],[":status","500"],["accept-charset",""],["accept-encoding","gzip, deflate"],["accept-language",""],["accept-ranges",""],["accept",""],["access-control-allow-origin",""],["age",""],["allow",""],["authorization",""],["cache-control",""],["content-disposition",""],["content-encoding",""],["content-language",""],["content-length",""],["content-location",""],["content-range",""],["content-type",""],["cookie",""],["date",""],["etag",""],["expect",""],["expires",""],["from",""],["host",""],["if-match",""],["if-modified-since",""],["if-none-match",""],["if-range",""],["if-unmodified-since",""],["last-modified",""],["link",""],["location",""],["max-forwards",""],["proxy-authenticate",""],["proxy-authorization",""],["range",""],["referer",""],["refresh",""],["retry-after",""],["server",""],["set-cookie",""],["strict-transport-security",""],["transfer-encoding",""],["user-agent",""],["vary",""],["via",""],["www-authenticate",""]]',
    );
    expect(decoder().decode(block).fields).toEqual(expected);
    expect(() => decoder().decode(hex("be"))).toThrow(/index 62 is past the table/);
    expect(() => decoder().decode(hex("80"))).toThrow(/index 0/);
  });
});

describe("Huffman", () => {
  it("decodes every byte value as another implementation coded them", () => {
    const coded = hex(readFileSync(new URL("./fixtures/huffman-bytes-255-to-0.hex", import.meta.url), "utf8"));
    const decoded = huffmanDecode(coded, 0, coded.length);
    expect([...Buffer.from(decoded, "latin1")]).toEqual(Array.from({ length: 256 }, (_, i) => 255 - i));
  });

  it("refuses EOS in a string, padding over 7 bits, and padding that is not all ones", () => {
    // EOS is 30 ones; 32 ones hold it whole.
    expect(() => huffmanDecode(hex("ffffffff"), 0, 4)).toThrow(HuffmanError);
    // "0" is 00000 (5 bits): 3 bits of one-padding are fine, a whole byte of it is not.
    expect(huffmanDecode(hex("07"), 0, 1)).toBe("0");
    expect(() => huffmanDecode(hex("07ff"), 0, 2)).toThrow(/padding/);
    // Padding with a zero in it.
    expect(() => huffmanDecode(hex("06"), 0, 1)).toThrow(/padding/);
  });
});

describe("HPACK hostile blocks", () => {
  it.each([
    ["an integer that never ends", "ff ff ff"],
    ["an integer over 2^31", "ff ff ff ff ff 7f"],
    ["a string past the block", "00 05 61"],
    ["a string length with no string", "40"],
    ["a table size update above the setting", "3f e1 ff 03"],
    ["a table size update after a field", "88 20"],
    ["bad Huffman in a value", "00 01 61 81 ff"],
  ])("%s: HpackError, never another exception", (_, bytes) => {
    expect(() => decoder().decode(hex(bytes))).toThrow(HpackError);
  });

  it("random bytes either decode or throw HpackError", () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 64 }), (bytes) => {
        try {
          decoder().decode(bytes);
        } catch (err) {
          expect(err).toBeInstanceOf(HpackError);
        }
      }),
      { numRuns: 2000 },
    );
  });

  it("a block that expands past the list limit is cut short and marked, and the table stays in step", () => {
    const d = decoder(4096, 1000);
    // One 400-byte value added to the table, then referenced five times.
    const value = "v".repeat(400);
    const first = Buffer.concat([hex("40 01 78 7f 91 02"), Buffer.from(value)]);
    const block = Buffer.concat([first, hex("be be be be be")]);
    const out = d.decode(block);
    expect(out.oversized).toBe(true);
    expect(out.fields.length).toBe(2); // 433 bytes each: the third would pass 1000
    // The next block still finds the entry.
    expect(d.decode(hex("be")).fields).toEqual([["x", value]]);
  });
});

describe("HPACK encoding (literals without indexing)", () => {
  it("round-trips through the decoder, long values and static names included", () => {
    fc.assert(
      fc.property(
        fc.array(
          fc.tuple(
            fc.constantFrom(":path", ":authority", "content-type", "user-agent", "x-custom", "grpc-timeout"),
            fc.string({ unit: fc.integer({ min: 0x20, max: 0x7e }).map((c) => String.fromCharCode(c)), maxLength: 300 }),
          ),
          { maxLength: 8 },
        ),
        (fields) => {
          expect(decoder().decode(encodeLiterals(fields)).fields).toEqual(fields);
        },
      ),
    );
  });
});
