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
    if (this.#chunk === undefined || this.#chunk.length < need) this.#chunk = Buffer.allocUnsafe(Math.max(CHUNK_BYTES, need));
    const chunk = this.#chunk;
    const at = this.#used;
    chunk[at] = 0;
    chunk.writeUInt32BE(message.length, at + 1);
    chunk.set(message, at + PREFIX_BYTES);
    this.#used = at + need;
    return full;
  }

  /**
   * The pending messages as one buffer (or `undefined`). A nearly full chunk
   * is handed over as is and a new one started; a mostly empty one is copied
   * out and reused, so a slow producer that flushes a few bytes at a time
   * does not pin 64 KiB per flush.
   */
  take(): Buffer | undefined {
    const chunk = this.#chunk;
    const used = this.#used;
    if (chunk === undefined || used === 0) return undefined;
    this.#used = 0;
    if (used * 4 < chunk.length) return Buffer.from(chunk.subarray(0, used));
    this.#chunk = undefined;
    return chunk.subarray(0, used);
  }

  /** Drops what is pending. */
  discard(): void {
    this.#chunk = undefined;
    this.#used = 0;
  }
}

/** A response the reader cannot take: a compressed or oversized message. @internal */
export class FramingError extends Error {
  override readonly name = "FramingError";
  constructor(
    message: string,
    /** A compressed message (none was asked for), or one over the size limit. */
    readonly kind: "compressed" | "oversized",
  ) {
    super(message);
  }
}

/**
 * Splits received bytes into gRPC messages, across chunk boundaries. A
 * message split over many chunks is gathered as a list and joined once, so
 * a large one costs one copy, not one per chunk.
 *
 * @internal
 */
export class MessageReader {
  /** The start of a message not yet whole: its chunks, their size, and the size it will have (prefix included; -1 until the prefix is whole). */
  #parts: Buffer[] = [];
  #partBytes = 0;
  #needed = -1;

  /**
   * @param sender - who sends the messages read, as errors name them: the
   *   server (a client reading responses) or the client (a server reading requests).
   */
  constructor(
    readonly maxMessageBytes: number,
    readonly sender: "server" | "client" = "server",
  ) {}

  /** Whether part of a message is waiting for the rest: a body that ends now ends inside a message. */
  get pending(): boolean {
    return this.#partBytes > 0;
  }

  /**
   * Feeds `chunk`; calls `onMessage` with each complete message, in order,
   * until `stop` (asked after each message) says to stop. Returns how many
   * bytes of `chunk` were taken: all of them, unless it stopped. Throws
   * {@link FramingError}.
   */
  push(chunk: Buffer, onMessage: (message: Buffer) => void, stop?: () => boolean): number {
    let pos = 0;
    if (this.#partBytes > 0) {
      pos = this.#gather(chunk);
      if (this.#needed < 0 || this.#partBytes < this.#needed) return chunk.length;
      const whole = this.#parts.length === 1 ? this.#parts[0]! : Buffer.concat(this.#parts, this.#partBytes);
      this.#parts = [];
      this.#partBytes = 0;
      this.#needed = -1;
      onMessage(whole.subarray(PREFIX_BYTES));
      if (stop?.()) return pos;
    }
    while (chunk.length - pos >= PREFIX_BYTES) {
      const length = this.#messageLength(chunk, pos);
      const end = pos + PREFIX_BYTES + length;
      if (end > chunk.length) break;
      onMessage(chunk.subarray(pos + PREFIX_BYTES, end));
      pos = end;
      if (stop?.()) return pos;
    }
    if (pos < chunk.length) this.#gather(chunk.subarray(pos));
    return chunk.length;
  }

  /** Adds the start of `chunk` to the message being gathered, up to its end; returns how many bytes it took. */
  #gather(chunk: Buffer): number {
    let taken = 0;
    if (this.#needed < 0) {
      // The prefix first: copied, since it is a few bytes of a larger chunk.
      const take = Math.min(PREFIX_BYTES - this.#partBytes, chunk.length);
      this.#parts.push(Buffer.from(chunk.subarray(0, take)));
      this.#partBytes += take;
      taken = take;
      if (this.#partBytes < PREFIX_BYTES) return taken;
      const prefix = Buffer.concat(this.#parts, PREFIX_BYTES);
      this.#parts = [prefix];
      this.#needed = PREFIX_BYTES + this.#messageLength(prefix, 0);
    }
    const take = Math.min(this.#needed - this.#partBytes, chunk.length - taken);
    if (take > 0) {
      const part = chunk.subarray(taken, taken + take);
      // Keep a copy only of a small part; a large one is kept as is.
      this.#parts.push(part.length < 4096 ? Buffer.from(part) : part);
      this.#partBytes += take;
    }
    return taken + take;
  }

  /** The length of the message whose prefix is at `pos`; throws {@link FramingError} for one this reader cannot take. */
  #messageLength(buf: Buffer, pos: number): number {
    if (buf[pos] !== 0) {
      const refusal = this.sender === "server" ? "which this client did not ask for" : "which this server does not take";
      throw new FramingError(`the ${this.sender} sent a compressed message, ${refusal}`, "compressed");
    }
    const length = buf.readUInt32BE(pos + 1);
    if (length > this.maxMessageBytes) {
      throw new FramingError(`the ${this.sender} sent a message of ${length} bytes, over the limit of ${this.maxMessageBytes}`, "oversized");
    }
    return length;
  }
}
