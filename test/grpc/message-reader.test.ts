/**
 * The client's reader of gRPC response messages (src/grpc/transport/framing.ts):
 * any chunking of any messages gives them back whole and in order; it stops
 * where told and takes up again; what is left when a body ends is reported.
 */
import fc from "fast-check";
import { describe, expect, it, vi } from "vitest";
import { FramingError, MessageReader } from "../../src/grpc/transport/framing.js";

const realConcat = Buffer.concat.bind(Buffer);

const framed = (message: Uint8Array) => {
  const out = Buffer.alloc(5 + message.length);
  out.writeUInt32BE(message.length, 1);
  out.set(message, 5);
  return out;
};

/** `bytes` cut at `cuts` (positions, any order, duplicates allowed). */
const chunked = (bytes: Buffer, cuts: number[]) => {
  const at = [...new Set(cuts.map((c) => c % (bytes.length + 1)))].sort((a, b) => a - b);
  const chunks: Buffer[] = [];
  let from = 0;
  for (const to of [...at, bytes.length]) {
    chunks.push(bytes.subarray(from, to));
    from = to;
  }
  return chunks;
};

describe("MessageReader", () => {
  it("any chunking, with stops anywhere: every message whole, in order, nothing pending after", () => {
    fc.assert(
      fc.property(
        fc.array(fc.uint8Array({ maxLength: 40_000 }), { maxLength: 6 }),
        fc.array(fc.nat(), { maxLength: 20 }),
        fc.array(fc.boolean(), { maxLength: 20 }),
        (messages, cuts, stops) => {
          const reader = new MessageReader(1 << 20);
          const got: Buffer[] = [];
          let stopIndex = 0;
          const stop = () => stops[stopIndex++ % Math.max(1, stops.length)] === true;
          for (const chunk of chunked(Buffer.concat(messages.map(framed)), cuts)) {
            let rest = chunk;
            // Stopped: the untaken bytes are fed again, as a paused call does on resume.
            for (let guard = 0; ; guard++) {
              const taken = reader.push(rest, (m) => got.push(Buffer.from(m)), stop);
              expect(taken).toBeGreaterThanOrEqual(0);
              if (taken === rest.length) break;
              rest = rest.subarray(taken);
              expect(guard).toBeLessThan(100);
            }
          }
          expect(got.map((b) => [...b])).toEqual(messages.map((m) => [...m]));
          expect(reader.pending).toBe(false);
        },
      ),
      { numRuns: 300 },
    );
  });

  it("a body that ends inside a message leaves it pending; inside the prefix too", () => {
    const whole = framed(Buffer.from("hello"));
    for (const cut of [1, 4, 5, 7]) {
      const reader = new MessageReader(100);
      const got: Buffer[] = [];
      expect(reader.push(whole.subarray(0, cut), (m) => got.push(m))).toBe(cut);
      expect(got).toEqual([]);
      expect(reader.pending).toBe(true);
      reader.push(whole.subarray(cut), (m) => got.push(m));
      expect(got.map(String)).toEqual(["hello"]);
      expect(reader.pending).toBe(false);
    }
  });

  it("refuses a compressed message and one over the limit, also when their prefix is split", () => {
    const big = Buffer.from([0, 0, 0, 0, 101]);
    const compressed = Buffer.from([1, 0, 0, 0, 1, 0x61]);
    for (const bytes of [big, compressed]) {
      const reader = new MessageReader(100);
      reader.push(bytes.subarray(0, 2), () => undefined);
      expect(() => reader.push(bytes.subarray(2), () => undefined)).toThrow(FramingError);
      expect(() => new MessageReader(100).push(bytes, () => undefined)).toThrow(FramingError);
    }
  });

  it("a large message in many chunks is joined once: the bytes copied stay near its size, not its size times its chunks", () => {
    const body = Buffer.alloc(8 * 1024 * 1024, 7);
    const reader = new MessageReader(16 * 1024 * 1024);
    const got: Buffer[] = [];
    let copied = 0;
    const concat = vi.spyOn(Buffer, "concat").mockImplementation((list, total) => {
      const out = realConcat(list, total);
      copied += out.length;
      return out;
    });
    try {
      for (const chunk of chunked(framed(body), Array.from({ length: 512 }, (_, i) => 5 + i * 16_384))) {
        reader.push(chunk, (m) => got.push(m));
      }
    } finally {
      concat.mockRestore();
    }
    expect(got).toHaveLength(1);
    expect(got[0]!.equals(body)).toBe(true);
    // Re-joining at every chunk would copy ~2 GiB here.
    expect(copied).toBeLessThan(2 * body.length);
  });
});
