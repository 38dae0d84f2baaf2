/**
 * gRPC's length-prefixed messages (a flag byte, a 4-byte big-endian length,
 * the bytes), gathered into large chunks so many small messages cost one
 * write to the transport instead of one each.
 *
 * @internal
 * @module
 */

/** Bytes before each message: the compressed flag and the length. */
export const PREFIX_BYTES = 5;

/** The usual size of a chunk; a larger message gets a chunk of its own size. */
export const CHUNK_BYTES = 64 * 1024;

/** One message with its prefix, in a buffer of its own (unary calls). @internal */
export function frameMessage(message: Uint8Array): Buffer {
  const out = Buffer.allocUnsafe(PREFIX_BYTES + message.length);
  out[0] = 0;
  out.writeUInt32BE(message.length, 1);
  out.set(message, PREFIX_BYTES);
  return out;
}

/**
 * Collects framed messages into chunks of about {@link CHUNK_BYTES}.
 * `add` returns a chunk when one is full; `take` returns what is pending.
 * Chunks handed out are never written to again.
 *
 * @internal
 */
export class FrameChunker {
  #chunk: Buffer | undefined;
  #used = 0;

  /** Whether messages are waiting in the current chunk. */
  get pending(): boolean {
    return this.#used > 0;
  }

  /** Adds `message`; returns the full chunk it closed, if any. */
  add(message: Uint8Array): Buffer | undefined {
    const need = PREFIX_BYTES + message.length;
    let full: Buffer | undefined;
    if (this.#chunk !== undefined && this.#used + need > this.#chunk.length) full = this.take();
    if (this.#chunk === undefined) this.#chunk = Buffer.allocUnsafe(Math.max(CHUNK_BYTES, need));
    const chunk = this.#chunk;
    const at = this.#used;
    chunk[at] = 0;
    chunk.writeUInt32BE(message.length, at + 1);
    chunk.set(message, at + PREFIX_BYTES);
    this.#used = at + need;
    return full;
  }

  /** The pending messages as one buffer (or `undefined`); starts a new chunk. */
  take(): Buffer | undefined {
    const chunk = this.#chunk;
    if (chunk === undefined || this.#used === 0) return undefined;
    const out = chunk.subarray(0, this.#used);
    this.#chunk = undefined;
    this.#used = 0;
    return out;
  }

  /** Drops what is pending. */
  discard(): void {
    this.#chunk = undefined;
    this.#used = 0;
  }
}
