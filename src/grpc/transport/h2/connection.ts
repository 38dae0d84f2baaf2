/**
 * What both ends of our HTTP/2 (RFC 9113) share: reading frames from the
 * socket, gathering header blocks and decoding them (HPACK), flow control
 * both ways, SETTINGS, PING and WINDOW_UPDATE, and writing every frame of one
 * turn of the event loop in one socket write. The client (session.ts) and
 * the server (server-session.ts) add how streams start and end.
 *
 * Protocol errors by the peer end the connection with GOAWAY naming the
 * error (RFC 9113 §5.4.1).
 *
 * @module
 */
import type { Socket } from "node:net";
import {
  DEFAULT_MAX_FRAME_SIZE,
  DEFAULT_WINDOW,
  ErrorCode,
  errorName,
  Flag,
  FRAME_HEADER_BYTES,
  frameHeader,
  FrameType,
  MAX_WINDOW,
  PREFACE,
  Setting,
  settingsFrame,
  wordFrame,
} from "./frames.js";
import { HpackDecoder, HpackError } from "./hpack.js";

/** The receive window each stream advertises: how far a peer may run ahead of a paused reader. */
export const STREAM_WINDOW = 1024 * 1024;
/** The receive window of the whole connection. */
const CONNECTION_WINDOW = 16 * 1024 * 1024;
const HEADER_TABLE_SIZE = 4096;
/** Bytes handed to the socket and not yet sent, past which DATA waits in the streams. */
const SOCKET_HIGH_WATER = 1024 * 1024;
/** Bytes waiting to go out past which a peer's requests for answers are refused (see {@link H2Connection.backlogged}). */
const CONTROL_BACKLOG_BYTES = 4 * SOCKET_HIGH_WATER;
/** Below this a turn's frames are joined into one buffer; above, handed over as a vectored write. */
const JOIN_BYTES = 64 * 1024;

/** What a stream's owner hears of its data and its writability. */
export interface DataHandler {
  /** Bytes of the peer's message(s); call {@link H2StreamBase.consumed} once they are processed. */
  onData(bytes: Buffer, endStream: boolean): void;
  /** Queued bytes went out; the owner may write more. */
  onWritable(): void;
}

/** One stream's state, as the connection keeps it. */
export class H2StreamBase {
  /** 0 until the stream has an id (a client's stream waiting for the server's stream limit). */
  id = 0;
  /** Bytes to send, not yet framed. */
  queue: Buffer[] = [];
  queuedBytes = 0;
  localClosed = false;
  remoteClosed = false;
  reset = false;
  sendWindow: number;
  /** Bytes the peer may still send before a WINDOW_UPDATE. */
  receiveWindow = STREAM_WINDOW;
  /** Bytes processed and not yet given back to the window. */
  unacknowledged = 0;

  constructor(
    readonly connection: H2Connection<H2StreamBase>,
    sendWindow: number,
  ) {
    this.sendWindow = sendWindow;
  }

  /** Gives `bytes` processed bytes back to the stream's receive window. */
  consumed(bytes: number): void {
    this.connection.consumed(this, bytes);
  }
}

/** How a connection is set up. */
export interface ConnectionOptions {
  /** This side's SETTINGS, sent first (after the client preface, on a client). */
  readonly settings: readonly (readonly [number, number])[];
  /** SETTINGS_MAX_HEADER_LIST_SIZE this side advertises and enforces. */
  readonly maxHeaderListBytes: number;
  /** Whether this side is the client: it sends the preface; a server reads it first. */
  readonly client: boolean;
}

export abstract class H2Connection<S extends H2StreamBase> {
  protected readonly socket: Socket;
  protected readonly streams = new Map<number, S>();
  /** Streams with bytes queued that wait for a window or the socket. */
  protected readonly blocked = new Set<S>();
  protected peerInitialWindow = DEFAULT_WINDOW;
  protected peerMaxFrame = DEFAULT_MAX_FRAME_SIZE;
  /** Why the connection ended; `undefined` while it is open. */
  protected closedReason: string | undefined;
  protected settingsSeen = false;
  readonly #decoder: HpackDecoder;
  readonly #maxHeaderBlockBytes: number;
  #prefaceSeen: boolean;
  #sendWindow = DEFAULT_WINDOW;
  #receiveWindow = CONNECTION_WINDOW;
  #connectionUnacknowledged = 0;
  #input: Buffer | undefined;
  /** A header block being gathered from HEADERS and CONTINUATION frames. */
  #block: { streamId: number; endStream: boolean; parts: Buffer[]; bytes: number } | undefined;
  #out: Buffer[] = [];
  #outBytes = 0;
  #flushScheduled = false;
  readonly #flush = () => this.flushNow();

  constructor(socket: Socket, options: ConnectionOptions) {
    this.socket = socket;
    this.#decoder = new HpackDecoder(HEADER_TABLE_SIZE, options.maxHeaderListBytes);
    this.#maxHeaderBlockBytes = 2 * options.maxHeaderListBytes;
    this.#prefaceSeen = options.client; // a client reads no preface
    socket.on("data", (chunk: Buffer) => this.#onBytes(chunk));
    socket.on("drain", () => this.pumpBlocked());
    socket.on("error", (err: Error) => this.destroy(err.message));
    socket.on("end", () => this.destroy(this.hangUpReason()));
    socket.on("close", () => this.destroy(this.hangUpReason()));
    if (options.client) this.send(PREFACE);
    this.send(settingsFrame([...options.settings, [Setting.MAX_HEADER_LIST_SIZE, options.maxHeaderListBytes]]));
    this.send(wordFrame(FrameType.WINDOW_UPDATE, 0, CONNECTION_WINDOW - DEFAULT_WINDOW));
  }

  get closed(): boolean {
    return this.closedReason !== undefined;
  }

  ref(): void {
    this.socket.ref();
  }

  unref(): void {
    this.socket.unref();
  }

  /** Ends the connection now; every stream on it is lost. */
  abstract destroy(reason: string, graceful?: boolean): void;

  /** Why the connection ended when the peer hung up. */
  protected abstract hangUpReason(): string;

  /** What the peer is, for messages: "server" or "client". */
  protected abstract readonly peerName: string;

  /** A complete header block on `streamId`. */
  protected abstract onHeaderBlock(streamId: number, fields: [string, string][], endStream: boolean, oversized: boolean): void;

  /** The peer reset `stream` with `code` (it is already forgotten). */
  protected abstract onPeerReset(stream: S, code: number): void;

  /** The peer said GOAWAY with `lastStreamId`. */
  protected abstract onGoaway(lastStreamId: number): void;

  /** A PING acknowledgement arrived. */
  protected onPingAck(): void {}

  /** A SETTINGS setting this class does not apply itself (MAX_CONCURRENT_STREAMS, ENABLE_PUSH). Returns a reason to fail, if any. */
  protected onSetting(_id: number, _value: number): string | undefined {
    return undefined;
  }

  /** SETTINGS were applied and acknowledged. */
  protected onSettingsApplied(): void {}

  /** The peer may not send DATA on a stream above this id: it never opened it. */
  protected abstract highestOpenedId(): number;

  /** Whether `stream`'s queue ends its side of the stream (END_STREAM on the last DATA). */
  protected abstract endsWithQueue(stream: S): boolean;

  /** `stream`'s queue was sent whole (and END_STREAM with it, if {@link endsWithQueue}). */
  protected abstract onQueueSent(stream: S): void;

  /** `stream` was removed from the open streams. */
  protected onForgotten(_stream: S): void {}

  // ---- writing

  /** Queues frames for this turn's write. */
  protected send(a: Buffer, b?: Buffer): void {
    if (this.closedReason !== undefined) return;
    this.#out.push(a);
    this.#outBytes += a.length;
    if (b !== undefined) {
      this.#out.push(b);
      this.#outBytes += b.length;
    }
    if (!this.#flushScheduled) {
      this.#flushScheduled = true;
      setImmediate(this.#flush);
    }
  }

  /** Sends a header block on `streamId`, split into CONTINUATIONs past the peer's frame size. */
  protected sendHeaderBlock(streamId: number, block: Buffer, endStream: boolean): void {
    const max = this.peerMaxFrame;
    const end = endStream ? Flag.END_STREAM : 0;
    if (block.length <= max) {
      this.send(frameHeader(block.length, FrameType.HEADERS, Flag.END_HEADERS | end, streamId), block);
      return;
    }
    for (let at = 0; at < block.length; at += max) {
      const part = block.subarray(at, at + max);
      const last = at + max >= block.length;
      const type = at === 0 ? FrameType.HEADERS : FrameType.CONTINUATION;
      this.send(frameHeader(part.length, type, (last ? Flag.END_HEADERS : 0) | (at === 0 ? end : 0), streamId), part);
    }
  }

  /**
   * Whether bytes waiting to go out are far past what DATA may queue: the
   * peer asks for answers (PING, SETTINGS acknowledgements) faster than it
   * reads them, and answering more would only grow this side's memory.
   */
  protected backlogged(): boolean {
    return this.#outBytes + this.socket.writableLength > CONTROL_BACKLOG_BYTES;
  }

  protected flushNow(): void {
    this.#flushScheduled = false;
    const out = this.#out;
    if (out.length === 0 || this.socket.destroyed) return;
    const bytes = this.#outBytes;
    this.#out = [];
    this.#outBytes = 0;
    if (out.length === 1) this.socket.write(out[0]!);
    else if (bytes <= JOIN_BYTES) this.socket.write(Buffer.concat(out, bytes));
    else {
      this.socket.cork();
      for (const part of out) this.socket.write(part);
      this.socket.uncork();
    }
    if (this.blocked.size > 0 && this.socket.writableLength <= SOCKET_HIGH_WATER) this.pumpBlocked();
  }

  /** Frames what `stream` has queued, as far as the windows and the socket allow. */
  pump(stream: S): void {
    if (stream.id === 0 || stream.reset || stream.localClosed || this.closedReason !== undefined) return;
    const max = this.peerMaxFrame;
    while (stream.queue.length > 0) {
      const window = Math.min(stream.sendWindow, this.#sendWindow, max);
      if (window <= 0 || this.#outBytes + this.socket.writableLength > SOCKET_HIGH_WATER) {
        this.blocked.add(stream);
        return;
      }
      const head = stream.queue[0]!;
      let part: Buffer;
      if (head.length <= window) {
        part = head;
        stream.queue.shift();
      } else {
        part = head.subarray(0, window);
        stream.queue[0] = head.subarray(window);
      }
      stream.queuedBytes -= part.length;
      stream.sendWindow -= part.length;
      this.#sendWindow -= part.length;
      const last = stream.queue.length === 0 && this.endsWithQueue(stream);
      this.send(frameHeader(part.length, FrameType.DATA, last ? Flag.END_STREAM : 0, stream.id), part);
      if (last) this.closeLocal(stream);
    }
    this.blocked.delete(stream);
    this.onQueueSent(stream);
  }

  protected pumpBlocked(): void {
    for (const stream of [...this.blocked]) {
      this.blocked.delete(stream);
      this.pump(stream);
    }
  }

  /** This side ended `stream` (sent END_STREAM). */
  protected closeLocal(stream: S): void {
    stream.localClosed = true;
    if (stream.remoteClosed) this.forget(stream);
  }

  protected closeRemote(stream: S): void {
    stream.remoteClosed = true;
    if (stream.localClosed) this.forget(stream);
  }

  /** Marks `stream` reset and drops what it has queued. */
  #dropQueue(stream: S): void {
    stream.reset = true;
    stream.queue = [];
    stream.queuedBytes = 0;
    this.blocked.delete(stream);
  }

  /** Resets `stream` (RST_STREAM with `code`), dropping what is queued. */
  resetStream(stream: S, code: number): void {
    if (stream.reset) return;
    this.#dropQueue(stream);
    const open = stream.id !== 0 && this.streams.get(stream.id) === stream;
    if (open && this.closedReason === undefined) this.send(wordFrame(FrameType.RST_STREAM, stream.id, code));
    if (open) this.forget(stream);
    else this.onForgotten(stream);
  }

  /** @internal see {@link H2StreamBase.consumed} */
  consumed(stream: H2StreamBase, bytes: number): void {
    if (this.closedReason !== undefined || stream.reset || stream.remoteClosed) return;
    stream.unacknowledged += bytes;
    if (stream.unacknowledged >= STREAM_WINDOW / 2) {
      stream.receiveWindow += stream.unacknowledged;
      this.send(wordFrame(FrameType.WINDOW_UPDATE, stream.id, stream.unacknowledged));
      stream.unacknowledged = 0;
    }
  }

  protected forget(stream: S): void {
    if (this.streams.get(stream.id) !== stream) return;
    this.streams.delete(stream.id);
    this.blocked.delete(stream);
    this.onForgotten(stream);
  }

  /**
   * Marks the connection ended for `reason`, ends the socket (now, or after
   * this turn's frames went out when `graceful`), and hands back the streams
   * that were open, for the caller to tell.
   */
  protected takeDown(reason: string, graceful: boolean): S[] {
    this.closedReason = reason;
    if (graceful) setImmediate(() => this.socket.destroy());
    else this.socket.destroy();
    const streams = [...this.streams.values()];
    this.streams.clear();
    this.blocked.clear();
    return streams;
  }

  /** A connection error (RFC 9113 §5.4.1): GOAWAY with `code`, then the end. */
  protected fail(code: number, reason: string, lastStreamId = 0): void {
    if (this.closedReason !== undefined) return;
    this.send(wordFrame(FrameType.GOAWAY, 0, lastStreamId, code));
    this.flushNow();
    this.destroy(`HTTP/2 ${errorName(code)}: ${reason}`, true);
  }

  // ---- reading

  #onBytes(chunk: Buffer): void {
    let buf = chunk;
    if (this.#input !== undefined) {
      buf = Buffer.concat([this.#input, chunk]);
      this.#input = undefined;
    }
    let pos = 0;
    if (!this.#prefaceSeen) {
      const seen = buf.subarray(0, PREFACE.length);
      if (!PREFACE.subarray(0, seen.length).equals(seen)) return this.fail(ErrorCode.PROTOCOL_ERROR, "not an HTTP/2 client preface");
      if (buf.length < PREFACE.length) {
        this.#input = buf;
        return;
      }
      this.#prefaceSeen = true;
      pos = PREFACE.length;
    }
    while (buf.length - pos >= FRAME_HEADER_BYTES && this.closedReason === undefined) {
      const length = (buf[pos]! << 16) | (buf[pos + 1]! << 8) | buf[pos + 2]!;
      const type = buf[pos + 3]!;
      if (!this.settingsSeen && type !== FrameType.SETTINGS) {
        const peer = this.peerName;
        return this.fail(ErrorCode.PROTOCOL_ERROR, `the ${peer} did not begin with HTTP/2 SETTINGS (is it a gRPC ${peer}?)`);
      }
      if (length > DEFAULT_MAX_FRAME_SIZE) {
        return this.fail(ErrorCode.FRAME_SIZE_ERROR, `a ${length}-byte frame, above the ${DEFAULT_MAX_FRAME_SIZE} allowed`);
      }
      if (buf.length - pos - FRAME_HEADER_BYTES < length) break;
      const flags = buf[pos + 4]!;
      const streamId = buf.readUInt32BE(pos + 5) & 0x7fffffff;
      const payload = buf.subarray(pos + FRAME_HEADER_BYTES, pos + FRAME_HEADER_BYTES + length);
      pos += FRAME_HEADER_BYTES + length;
      this.#onFrame(type, flags, streamId, payload);
    }
    if (pos < buf.length && this.closedReason === undefined) this.#input = buf.subarray(pos);
  }

  #onFrame(type: number, flags: number, streamId: number, payload: Buffer): void {
    if (this.#block !== undefined && type !== FrameType.CONTINUATION) {
      return this.fail(ErrorCode.PROTOCOL_ERROR, "a frame came between HEADERS and its CONTINUATION");
    }
    switch (type) {
      case FrameType.DATA:
        return this.#onDataFrame(flags, streamId, payload);
      case FrameType.HEADERS:
        return this.#onHeadersFrame(flags, streamId, payload);
      case FrameType.CONTINUATION:
        if (this.#block === undefined || this.#block.streamId !== streamId) {
          return this.fail(ErrorCode.PROTOCOL_ERROR, "CONTINUATION without the HEADERS before it");
        }
        return this.#addFragment(flags, payload);
      case FrameType.RST_STREAM:
        return this.#onReset(streamId, payload);
      case FrameType.SETTINGS:
        return this.#onSettings(flags, streamId, payload);
      case FrameType.PING:
        return this.#onPing(flags, streamId, payload);
      case FrameType.GOAWAY:
        if (streamId !== 0) return this.fail(ErrorCode.PROTOCOL_ERROR, "GOAWAY on a stream");
        if (payload.length < 8) return this.fail(ErrorCode.FRAME_SIZE_ERROR, "a GOAWAY frame shorter than 8 bytes");
        return this.onGoaway(payload.readUInt32BE(0) & 0x7fffffff);
      case FrameType.WINDOW_UPDATE:
        return this.#onWindowUpdate(streamId, payload);
      case FrameType.PUSH_PROMISE:
        return this.fail(ErrorCode.PROTOCOL_ERROR, "PUSH_PROMISE, though push is disabled");
      case FrameType.PRIORITY:
        if (payload.length !== 5) this.fail(ErrorCode.FRAME_SIZE_ERROR, "a PRIORITY frame not 5 bytes long");
        return;
      default:
        return; // unknown frame types are ignored (RFC 9113 §4.1)
    }
  }

  /** The payload without its padding, or `undefined` after failing the connection. */
  #unpad(flags: number, payload: Buffer, what: string): Buffer | undefined {
    if ((flags & Flag.PADDED) === 0) return payload;
    const padding = payload[0];
    if (padding === undefined || padding >= payload.length) {
      this.fail(ErrorCode.PROTOCOL_ERROR, `${what} padding longer than the frame`);
      return undefined;
    }
    return payload.subarray(1, payload.length - padding);
  }

  #onDataFrame(flags: number, streamId: number, payload: Buffer): void {
    if (streamId === 0) return this.fail(ErrorCode.PROTOCOL_ERROR, "DATA on stream 0");
    this.#receiveWindow -= payload.length;
    if (this.#receiveWindow < 0) return this.fail(ErrorCode.FLOW_CONTROL_ERROR, "DATA past the connection's window");
    this.#connectionUnacknowledged += payload.length;
    if (this.#connectionUnacknowledged >= CONNECTION_WINDOW / 2) {
      this.#receiveWindow += this.#connectionUnacknowledged;
      this.send(wordFrame(FrameType.WINDOW_UPDATE, 0, this.#connectionUnacknowledged));
      this.#connectionUnacknowledged = 0;
    }
    const data = this.#unpad(flags, payload, "DATA");
    if (data === undefined) return;
    const stream = this.streams.get(streamId);
    if (stream === undefined || stream.remoteClosed) {
      if (streamId > this.highestOpenedId()) this.fail(ErrorCode.PROTOCOL_ERROR, `DATA on stream ${streamId}, never opened`);
      return; // a stream this side reset: its frames in flight are dropped
    }
    stream.receiveWindow -= payload.length;
    if (stream.receiveWindow < 0) {
      this.resetStream(stream, ErrorCode.FLOW_CONTROL_ERROR);
      this.onPeerReset(stream, ErrorCode.FLOW_CONTROL_ERROR);
      return;
    }
    // Padding counts against the window but is never handed out: given back at once.
    if (data.length < payload.length) stream.unacknowledged += payload.length - data.length;
    const end = (flags & Flag.END_STREAM) !== 0;
    if (end) this.closeRemote(stream);
    this.dataHandler(stream)?.onData(data, end);
  }

  /** Who hears `stream`'s data. */
  protected abstract dataHandler(stream: S): DataHandler | undefined;

  #onHeadersFrame(flags: number, streamId: number, payload: Buffer): void {
    if (streamId === 0 || streamId % 2 === 0) return this.fail(ErrorCode.PROTOCOL_ERROR, `HEADERS on stream ${streamId}`);
    let fragment = this.#unpad(flags, payload, "HEADERS");
    if (fragment === undefined) return;
    if (flags & Flag.PRIORITY) {
      if (fragment.length < 5) return this.fail(ErrorCode.FRAME_SIZE_ERROR, "HEADERS too short for its priority");
      fragment = fragment.subarray(5);
    }
    this.#block = { streamId, endStream: (flags & Flag.END_STREAM) !== 0, parts: [], bytes: 0 };
    this.#addFragment(flags, fragment);
  }

  #addFragment(flags: number, fragment: Buffer): void {
    const block = this.#block!;
    if (fragment.length > 0) block.parts.push(fragment);
    // Frame headers count too: a flood of empty CONTINUATIONs is a block that never ends.
    block.bytes += FRAME_HEADER_BYTES + fragment.length;
    if (block.bytes > this.#maxHeaderBlockBytes) {
      return this.fail(ErrorCode.ENHANCE_YOUR_CALM, `a header block over ${this.#maxHeaderBlockBytes} bytes`);
    }
    if ((flags & Flag.END_HEADERS) === 0) return;
    this.#block = undefined;
    let decoded;
    try {
      decoded = this.#decoder.decode(block.parts.length === 1 ? block.parts[0]! : Buffer.concat(block.parts));
    } catch (err) {
      if (err instanceof HpackError) return this.fail(ErrorCode.COMPRESSION_ERROR, err.message);
      throw err;
    }
    this.onHeaderBlock(block.streamId, decoded.fields, block.endStream, decoded.oversized);
  }

  #onReset(streamId: number, payload: Buffer): void {
    if (payload.length !== 4) return this.fail(ErrorCode.FRAME_SIZE_ERROR, "an RST_STREAM frame not 4 bytes long");
    if (streamId === 0) return this.fail(ErrorCode.PROTOCOL_ERROR, "RST_STREAM on stream 0");
    const stream = this.streams.get(streamId);
    if (stream === undefined) return;
    this.#dropQueue(stream);
    this.forget(stream);
    this.onPeerReset(stream, payload.readUInt32BE(0));
  }

  #onSettings(flags: number, streamId: number, payload: Buffer): void {
    if (streamId !== 0) return this.fail(ErrorCode.PROTOCOL_ERROR, "SETTINGS on a stream");
    if (flags & Flag.ACK) {
      if (payload.length !== 0) this.fail(ErrorCode.FRAME_SIZE_ERROR, "a SETTINGS acknowledgement with a payload");
      return;
    }
    if (payload.length % 6 !== 0) return this.fail(ErrorCode.FRAME_SIZE_ERROR, "a SETTINGS frame not a multiple of 6 bytes");
    for (let at = 0; at < payload.length; at += 6) {
      const id = payload.readUInt16BE(at);
      const value = payload.readUInt32BE(at + 2);
      if (id === Setting.INITIAL_WINDOW_SIZE) {
        if (value > MAX_WINDOW) return this.fail(ErrorCode.FLOW_CONTROL_ERROR, `initial window ${value} above 2^31-1`);
        const delta = value - this.peerInitialWindow;
        this.peerInitialWindow = value;
        for (const stream of this.streams.values()) stream.sendWindow += delta;
        this.onInitialWindowChange(delta);
      } else if (id === Setting.MAX_FRAME_SIZE) {
        if (value < DEFAULT_MAX_FRAME_SIZE || value > 0xffffff) return this.fail(ErrorCode.PROTOCOL_ERROR, `max frame size ${value}`);
        this.peerMaxFrame = value;
      } else {
        // HEADER_TABLE_SIZE: this side's encoder keeps no table. MAX_HEADER_LIST_SIZE: advisory.
        const refused = this.onSetting(id, value);
        if (refused !== undefined) return this.fail(ErrorCode.PROTOCOL_ERROR, refused);
      }
    }
    if (this.backlogged()) return this.fail(ErrorCode.ENHANCE_YOUR_CALM, `SETTINGS keep coming while the ${this.peerName} reads nothing`);
    this.send(frameHeader(0, FrameType.SETTINGS, Flag.ACK, 0));
    this.settingsSeen = true;
    this.onSettingsApplied();
    this.pumpBlocked();
  }

  /** The peer's initial window changed by `delta`: streams not in {@link streams} adjust here. */
  protected onInitialWindowChange(_delta: number): void {}

  #onPing(flags: number, streamId: number, payload: Buffer): void {
    if (streamId !== 0) return this.fail(ErrorCode.PROTOCOL_ERROR, "PING on a stream");
    if (payload.length !== 8) return this.fail(ErrorCode.FRAME_SIZE_ERROR, "a PING frame not 8 bytes long");
    if (flags & Flag.ACK) return this.onPingAck();
    if (this.backlogged()) return this.fail(ErrorCode.ENHANCE_YOUR_CALM, `PINGs keep coming while the ${this.peerName} reads nothing`);
    this.send(frameHeader(8, FrameType.PING, Flag.ACK, 0), Buffer.from(payload));
  }

  #onWindowUpdate(streamId: number, payload: Buffer): void {
    if (payload.length !== 4) return this.fail(ErrorCode.FRAME_SIZE_ERROR, "a WINDOW_UPDATE frame not 4 bytes long");
    const increment = payload.readUInt32BE(0) & 0x7fffffff;
    if (streamId === 0) {
      if (increment === 0) return this.fail(ErrorCode.PROTOCOL_ERROR, "a connection WINDOW_UPDATE of 0");
      this.#sendWindow += increment;
      if (this.#sendWindow > MAX_WINDOW) return this.fail(ErrorCode.FLOW_CONTROL_ERROR, "the connection's window above 2^31-1");
      this.pumpBlocked();
      return;
    }
    const stream = this.streams.get(streamId);
    if (stream === undefined) return;
    if (increment === 0 || stream.sendWindow + increment > MAX_WINDOW) {
      const code = increment === 0 ? ErrorCode.PROTOCOL_ERROR : ErrorCode.FLOW_CONTROL_ERROR;
      this.resetStream(stream, code);
      this.onPeerReset(stream, code);
      return;
    }
    stream.sendWindow += increment;
    this.pump(stream);
  }
}
