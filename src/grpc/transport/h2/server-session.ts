/**
 * The server side of our HTTP/2 (RFC 9113), under grpc-server.ts: the
 * client's preface and SETTINGS, streams the client opens (refused past the
 * stream limit or while going away), flow control both ways, responses as
 * HEADERS, DATA and trailers written once per turn of the event loop, a
 * `ping()` that resolves when acknowledged (the commit check of a stream),
 * and a graceful GOAWAY. Frames and HPACK are shared with the client
 * (session.ts).
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

const STREAM_WINDOW = 1024 * 1024;
const CONNECTION_WINDOW = 16 * 1024 * 1024;
const MAX_HEADER_LIST_BYTES = 64 * 1024;
const MAX_HEADER_BLOCK_BYTES = 2 * MAX_HEADER_LIST_BYTES;
const SOCKET_HIGH_WATER = 1024 * 1024;
const CONTROL_BACKLOG_BYTES = 4 * SOCKET_HIGH_WATER;
const JOIN_BYTES = 64 * 1024;

/** What a request stream's owner hears. */
export interface ServerStreamHandler {
  onData(bytes: Buffer, endStream: boolean): void;
  /** The client reset the stream (a cancel), or the connection ended under it. */
  onGone(reason: string, code: number): void;
  onWritable(): void;
}

export interface ServerSessionEvents {
  /** A new request stream with its decoded headers; returns who hears the rest, or undefined after answering it. */
  onStream(stream: ServerStream, fields: [string, string][], endStream: boolean): ServerStreamHandler | undefined;
  onClose(session: ServerSession, reason: string): void;
}

export class ServerStream {
  handler: ServerStreamHandler | undefined;
  queue: Buffer[] = [];
  queuedBytes = 0;
  /** Trailers to send once the queue is empty (END_STREAM). */
  trailers: Buffer | undefined;
  localClosed = false;
  remoteClosed = false;
  reset = false;
  sendWindow: number;
  receiveWindow = STREAM_WINDOW;
  unacknowledged = 0;
  constructor(
    readonly id: number,
    readonly session: ServerSession,
    sendWindow: number,
  ) {
    this.sendWindow = sendWindow;
  }
  /** Response headers (no END_STREAM). */
  respond(block: Buffer): void {
    this.session.sendHeaders(this, block, false);
  }
  write(bytes: Buffer): void {
    if (this.reset || this.localClosed || this.trailers !== undefined || bytes.length === 0) return;
    this.queue.push(bytes);
    this.queuedBytes += bytes.length;
    this.session.pump(this);
  }
  /** Trailers, after what is queued: the end of the response. */
  finish(block: Buffer): void {
    if (this.reset || this.localClosed || this.trailers !== undefined) return;
    this.trailers = block;
    this.session.pump(this);
  }
  /** A response that is headers alone, ending the stream (gRPC's trailers-only answer). */
  sendTrailersOnly(block: Buffer): void {
    this.queue = [];
    this.queuedBytes = 0;
    this.session.sendHeaders(this, block, true);
  }
  cancel(code: number = ErrorCode.CANCEL): void {
    this.session.resetStream(this, code);
  }
  consumed(bytes: number): void {
    this.session.consumed(this, bytes);
  }
}

export class ServerSession {
  readonly #socket: Socket;
  readonly #events: ServerSessionEvents;
  readonly #decoder = new HpackDecoder(4096, MAX_HEADER_LIST_BYTES);
  readonly #streams = new Map<number, ServerStream>();
  readonly #blocked = new Set<ServerStream>();
  readonly #maxConcurrent: number;
  #lastPeerId = 0;
  #prefaceSeen = false;
  #settingsSeen = false;
  #goingAway = false;
  #closedReason: string | undefined;
  #peerInitialWindow = DEFAULT_WINDOW;
  #peerMaxFrame = DEFAULT_MAX_FRAME_SIZE;
  #sendWindow = DEFAULT_WINDOW;
  #receiveWindow = CONNECTION_WINDOW;
  #connectionUnacknowledged = 0;
  #input: Buffer | undefined;
  #block: { streamId: number; endStream: boolean; parts: Buffer[]; bytes: number } | undefined;
  #out: Buffer[] = [];
  #outBytes = 0;
  #flushScheduled = false;
  readonly #flush = () => this.#flushNow();
  #pings: ((alive: boolean) => void)[] = [];

  constructor(socket: Socket, events: ServerSessionEvents, options: { maxConcurrentStreams: number }) {
    this.#socket = socket;
    this.#events = events;
    this.#maxConcurrent = options.maxConcurrentStreams;
    socket.on("data", (chunk: Buffer) => this.#onBytes(chunk));
    socket.on("drain", () => this.#pumpBlocked());
    socket.on("error", (err: Error) => this.destroy(err.message));
    socket.on("end", () => this.destroy("the client closed the connection"));
    socket.on("close", () => this.destroy("the connection closed"));
    this.#send(
      settingsFrame([
        [Setting.MAX_CONCURRENT_STREAMS, options.maxConcurrentStreams],
        [Setting.INITIAL_WINDOW_SIZE, STREAM_WINDOW],
        [Setting.MAX_HEADER_LIST_SIZE, MAX_HEADER_LIST_BYTES],
      ]),
    );
    this.#send(wordFrame(FrameType.WINDOW_UPDATE, 0, CONNECTION_WINDOW - DEFAULT_WINDOW));
  }

  get closed(): boolean {
    return this.#closedReason !== undefined;
  }

  get openStreams(): number {
    return this.#streams.size;
  }

  /**
   * Sends a PING and resolves `true` once it is acknowledged: every frame the
   * client sent before it has been handled. `false` if the connection ends first.
   */
  ping(): Promise<boolean> {
    if (this.#closedReason !== undefined) return Promise.resolve(false);
    this.#send(frameHeader(8, FrameType.PING, 0, 0), Buffer.alloc(8));
    return new Promise((resolve) => this.#pings.push(resolve));
  }

  /** Graceful: GOAWAY with the last stream seen; streams in flight finish, then the connection closes. */
  shutdown(): void {
    if (this.#closedReason !== undefined || this.#goingAway) return;
    this.#goingAway = true;
    this.#send(wordFrame(FrameType.GOAWAY, 0, this.#lastPeerId, ErrorCode.NO_ERROR));
    if (this.#streams.size === 0) this.#end();
  }

  #end(): void {
    this.#flushNow();
    this.#socket.end();
    this.destroy("the server closed the connection", true);
  }

  destroy(reason: string, graceful = false): void {
    if (this.#closedReason !== undefined) return;
    this.#closedReason = reason;
    if (graceful) setImmediate(() => this.#socket.destroy());
    else this.#socket.destroy();
    for (const resolve of this.#pings.splice(0)) resolve(false);
    const streams = [...this.#streams.values()];
    this.#streams.clear();
    this.#blocked.clear();
    for (const stream of streams) stream.handler?.onGone(reason, ErrorCode.CANCEL);
    this.#events.onClose(this, reason);
  }

  sendHeaders(stream: ServerStream, block: Buffer, endStream: boolean): void {
    if (stream.reset || stream.localClosed) return;
    const max = this.#peerMaxFrame;
    const end = endStream ? Flag.END_STREAM : 0;
    if (block.length <= max) {
      this.#send(frameHeader(block.length, FrameType.HEADERS, Flag.END_HEADERS | end, stream.id), block);
    } else {
      for (let at = 0; at < block.length; at += max) {
        const part = block.subarray(at, at + max);
        const last = at + max >= block.length;
        const type = at === 0 ? FrameType.HEADERS : FrameType.CONTINUATION;
        this.#send(frameHeader(part.length, type, (last ? Flag.END_HEADERS : 0) | (at === 0 ? end : 0), stream.id), part);
      }
    }
    if (endStream) this.#closeLocal(stream);
  }

  pump(stream: ServerStream): void {
    if (stream.reset || stream.localClosed || this.#closedReason !== undefined) return;
    const max = this.#peerMaxFrame;
    while (stream.queue.length > 0) {
      const window = Math.min(stream.sendWindow, this.#sendWindow, max);
      if (window <= 0 || this.#outBytes + this.#socket.writableLength > SOCKET_HIGH_WATER) {
        this.#blocked.add(stream);
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
      this.#send(frameHeader(part.length, FrameType.DATA, 0, stream.id), part);
    }
    this.#blocked.delete(stream);
    if (stream.trailers !== undefined) this.sendHeaders(stream, stream.trailers, true);
    stream.handler?.onWritable();
  }

  #pumpBlocked(): void {
    for (const stream of [...this.#blocked]) {
      this.#blocked.delete(stream);
      this.pump(stream);
    }
  }

  #closeLocal(stream: ServerStream): void {
    stream.localClosed = true;
    // The response is complete; a request still open is not needed any more (RFC 9113 §8.1).
    if (!stream.remoteClosed) this.#send(wordFrame(FrameType.RST_STREAM, stream.id, ErrorCode.NO_ERROR));
    this.#forget(stream);
  }

  resetStream(stream: ServerStream, code: number): void {
    if (stream.reset || stream.localClosed) return;
    stream.reset = true;
    stream.queue = [];
    stream.queuedBytes = 0;
    if (this.#streams.get(stream.id) === stream && this.#closedReason === undefined) {
      this.#send(wordFrame(FrameType.RST_STREAM, stream.id, code));
    }
    this.#forget(stream);
  }

  consumed(stream: ServerStream, bytes: number): void {
    if (this.#closedReason !== undefined || stream.reset || stream.remoteClosed) return;
    stream.unacknowledged += bytes;
    if (stream.unacknowledged >= STREAM_WINDOW / 2) {
      stream.receiveWindow += stream.unacknowledged;
      this.#send(wordFrame(FrameType.WINDOW_UPDATE, stream.id, stream.unacknowledged));
      stream.unacknowledged = 0;
    }
  }

  #forget(stream: ServerStream): void {
    if (this.#streams.get(stream.id) !== stream) return;
    this.#streams.delete(stream.id);
    this.#blocked.delete(stream);
    if (this.#goingAway && this.#streams.size === 0) this.#end();
  }

  #fail(code: number, reason: string): void {
    if (this.#closedReason !== undefined) return;
    this.#send(wordFrame(FrameType.GOAWAY, 0, this.#lastPeerId, code));
    this.#flushNow();
    this.destroy(`HTTP/2 ${errorName(code)}: ${reason}`, true);
  }

  #send(a: Buffer, b?: Buffer): void {
    if (this.#closedReason !== undefined) return;
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

  #flushNow(): void {
    this.#flushScheduled = false;
    const out = this.#out;
    if (out.length === 0 || this.#socket.destroyed) return;
    const bytes = this.#outBytes;
    this.#out = [];
    this.#outBytes = 0;
    if (out.length === 1) this.#socket.write(out[0]!);
    else if (bytes <= JOIN_BYTES) this.#socket.write(Buffer.concat(out, bytes));
    else {
      this.#socket.cork();
      for (const part of out) this.#socket.write(part);
      this.#socket.uncork();
    }
    if (this.#blocked.size > 0 && this.#socket.writableLength <= SOCKET_HIGH_WATER) this.#pumpBlocked();
  }

  #backlogged(): boolean {
    return this.#outBytes + this.#socket.writableLength > CONTROL_BACKLOG_BYTES;
  }

  #onBytes(chunk: Buffer): void {
    let buf = chunk;
    if (this.#input !== undefined) {
      buf = Buffer.concat([this.#input, chunk]);
      this.#input = undefined;
    }
    let pos = 0;
    if (!this.#prefaceSeen) {
      if (buf.length < PREFACE.length) {
        if (!PREFACE.subarray(0, buf.length).equals(buf)) return this.#fail(ErrorCode.PROTOCOL_ERROR, "not an HTTP/2 client");
        this.#input = buf;
        return;
      }
      if (!buf.subarray(0, PREFACE.length).equals(PREFACE)) return this.#fail(ErrorCode.PROTOCOL_ERROR, "not an HTTP/2 client");
      this.#prefaceSeen = true;
      pos = PREFACE.length;
    }
    while (buf.length - pos >= FRAME_HEADER_BYTES && this.#closedReason === undefined) {
      const length = (buf[pos]! << 16) | (buf[pos + 1]! << 8) | buf[pos + 2]!;
      const type = buf[pos + 3]!;
      if (!this.#settingsSeen && type !== FrameType.SETTINGS) {
        return this.#fail(ErrorCode.PROTOCOL_ERROR, "the client did not begin with SETTINGS");
      }
      if (length > DEFAULT_MAX_FRAME_SIZE) {
        return this.#fail(ErrorCode.FRAME_SIZE_ERROR, `a ${length}-byte frame, above the ${DEFAULT_MAX_FRAME_SIZE} allowed`);
      }
      if (buf.length - pos - FRAME_HEADER_BYTES < length) break;
      const flags = buf[pos + 4]!;
      const streamId = buf.readUInt32BE(pos + 5) & 0x7fffffff;
      const payload = buf.subarray(pos + FRAME_HEADER_BYTES, pos + FRAME_HEADER_BYTES + length);
      pos += FRAME_HEADER_BYTES + length;
      this.#onFrame(type, flags, streamId, payload);
    }
    if (pos < buf.length && this.#closedReason === undefined) this.#input = buf.subarray(pos);
  }

  #onFrame(type: number, flags: number, streamId: number, payload: Buffer): void {
    if (this.#block !== undefined && type !== FrameType.CONTINUATION) {
      return this.#fail(ErrorCode.PROTOCOL_ERROR, "a frame came between HEADERS and its CONTINUATION");
    }
    switch (type) {
      case FrameType.DATA:
        return this.#onDataFrame(flags, streamId, payload);
      case FrameType.HEADERS:
        return this.#onHeadersFrame(flags, streamId, payload);
      case FrameType.CONTINUATION:
        if (this.#block === undefined || this.#block.streamId !== streamId) {
          return this.#fail(ErrorCode.PROTOCOL_ERROR, "CONTINUATION without the HEADERS before it");
        }
        return this.#addFragment(flags, payload);
      case FrameType.RST_STREAM: {
        if (payload.length !== 4) return this.#fail(ErrorCode.FRAME_SIZE_ERROR, "an RST_STREAM frame not 4 bytes long");
        const stream = this.#streams.get(streamId);
        if (stream === undefined) return;
        stream.reset = true;
        this.#forget(stream);
        stream.handler?.onGone("the client reset the stream", payload.readUInt32BE(0));
        return;
      }
      case FrameType.SETTINGS:
        return this.#onSettings(flags, streamId, payload);
      case FrameType.PING:
        if (streamId !== 0 || payload.length !== 8) return this.#fail(ErrorCode.PROTOCOL_ERROR, "a malformed PING");
        if (flags & Flag.ACK) {
          this.#pings.shift()?.(true);
          return;
        }
        if (this.#backlogged()) return this.#fail(ErrorCode.ENHANCE_YOUR_CALM, "PINGs keep coming while the client reads nothing");
        this.#send(frameHeader(8, FrameType.PING, Flag.ACK, 0), Buffer.from(payload));
        return;
      case FrameType.GOAWAY:
        this.#goingAway = true;
        return;
      case FrameType.WINDOW_UPDATE:
        return this.#onWindowUpdate(streamId, payload);
      case FrameType.PUSH_PROMISE:
        return this.#fail(ErrorCode.PROTOCOL_ERROR, "PUSH_PROMISE from a client");
      default:
        return;
    }
  }

  #unpad(flags: number, payload: Buffer): Buffer | undefined {
    if ((flags & Flag.PADDED) === 0) return payload;
    const padding = payload[0];
    if (padding === undefined || padding >= payload.length) {
      this.#fail(ErrorCode.PROTOCOL_ERROR, "padding longer than the frame");
      return undefined;
    }
    return payload.subarray(1, payload.length - padding);
  }

  #onDataFrame(flags: number, streamId: number, payload: Buffer): void {
    if (streamId === 0) return this.#fail(ErrorCode.PROTOCOL_ERROR, "DATA on stream 0");
    this.#receiveWindow -= payload.length;
    if (this.#receiveWindow < 0) return this.#fail(ErrorCode.FLOW_CONTROL_ERROR, "DATA past the connection's window");
    this.#connectionUnacknowledged += payload.length;
    if (this.#connectionUnacknowledged >= CONNECTION_WINDOW / 2) {
      this.#receiveWindow += this.#connectionUnacknowledged;
      this.#send(wordFrame(FrameType.WINDOW_UPDATE, 0, this.#connectionUnacknowledged));
      this.#connectionUnacknowledged = 0;
    }
    const data = this.#unpad(flags, payload);
    if (data === undefined) return;
    const stream = this.#streams.get(streamId);
    if (stream === undefined || stream.remoteClosed) {
      if (streamId > this.#lastPeerId) this.#fail(ErrorCode.PROTOCOL_ERROR, `DATA on stream ${streamId}, never opened`);
      return;
    }
    stream.receiveWindow -= payload.length;
    if (stream.receiveWindow < 0) {
      this.resetStream(stream, ErrorCode.FLOW_CONTROL_ERROR);
      stream.handler?.onGone("the client sent past the stream's window", ErrorCode.FLOW_CONTROL_ERROR);
      return;
    }
    if (data.length < payload.length) stream.unacknowledged += payload.length - data.length;
    const end = (flags & Flag.END_STREAM) !== 0;
    if (end) stream.remoteClosed = true;
    stream.handler?.onData(data, end);
  }

  #onHeadersFrame(flags: number, streamId: number, payload: Buffer): void {
    if (streamId === 0 || streamId % 2 === 0) return this.#fail(ErrorCode.PROTOCOL_ERROR, `HEADERS on stream ${streamId}`);
    let fragment = this.#unpad(flags, payload);
    if (fragment === undefined) return;
    if (flags & Flag.PRIORITY) {
      if (fragment.length < 5) return this.#fail(ErrorCode.FRAME_SIZE_ERROR, "HEADERS too short for its priority");
      fragment = fragment.subarray(5);
    }
    this.#block = { streamId, endStream: (flags & Flag.END_STREAM) !== 0, parts: [], bytes: 0 };
    this.#addFragment(flags, fragment);
  }

  #addFragment(flags: number, fragment: Buffer): void {
    const block = this.#block!;
    if (fragment.length > 0) block.parts.push(fragment);
    block.bytes += FRAME_HEADER_BYTES + fragment.length;
    if (block.bytes > MAX_HEADER_BLOCK_BYTES) return this.#fail(ErrorCode.ENHANCE_YOUR_CALM, "a header block too large");
    if ((flags & Flag.END_HEADERS) === 0) return;
    this.#block = undefined;
    let decoded;
    try {
      decoded = this.#decoder.decode(block.parts.length === 1 ? block.parts[0]! : Buffer.concat(block.parts));
    } catch (err) {
      if (err instanceof HpackError) return this.#fail(ErrorCode.COMPRESSION_ERROR, err.message);
      throw err;
    }
    const existing = this.#streams.get(block.streamId);
    if (existing !== undefined) {
      // Trailers from a client: gRPC clients send none; the end of the request.
      existing.remoteClosed ||= block.endStream;
      if (block.endStream) existing.handler?.onData(Buffer.alloc(0), true);
      return;
    }
    if (block.streamId <= this.#lastPeerId) return; // a stream already closed
    this.#lastPeerId = block.streamId;
    const stream = new ServerStream(block.streamId, this, this.#peerInitialWindow);
    if (this.#goingAway || this.#streams.size >= this.#maxConcurrent || decoded.oversized) {
      this.#send(wordFrame(FrameType.RST_STREAM, stream.id, decoded.oversized ? ErrorCode.ENHANCE_YOUR_CALM : ErrorCode.REFUSED_STREAM));
      return;
    }
    this.#streams.set(stream.id, stream);
    stream.remoteClosed = block.endStream;
    stream.handler = this.#events.onStream(stream, decoded.fields, block.endStream);
  }

  #onSettings(flags: number, streamId: number, payload: Buffer): void {
    if (streamId !== 0) return this.#fail(ErrorCode.PROTOCOL_ERROR, "SETTINGS on a stream");
    if (flags & Flag.ACK) return;
    if (payload.length % 6 !== 0) return this.#fail(ErrorCode.FRAME_SIZE_ERROR, "a SETTINGS frame not a multiple of 6 bytes");
    for (let at = 0; at < payload.length; at += 6) {
      const id = payload.readUInt16BE(at);
      const value = payload.readUInt32BE(at + 2);
      if (id === Setting.INITIAL_WINDOW_SIZE) {
        if (value > MAX_WINDOW) return this.#fail(ErrorCode.FLOW_CONTROL_ERROR, `initial window ${value} above 2^31-1`);
        const delta = value - this.#peerInitialWindow;
        this.#peerInitialWindow = value;
        for (const stream of this.#streams.values()) stream.sendWindow += delta;
      } else if (id === Setting.MAX_FRAME_SIZE) {
        if (value < DEFAULT_MAX_FRAME_SIZE || value > 0xffffff) return this.#fail(ErrorCode.PROTOCOL_ERROR, `max frame size ${value}`);
        this.#peerMaxFrame = value;
      }
    }
    if (this.#backlogged()) return this.#fail(ErrorCode.ENHANCE_YOUR_CALM, "SETTINGS keep coming while the client reads nothing");
    this.#send(frameHeader(0, FrameType.SETTINGS, Flag.ACK, 0));
    this.#settingsSeen = true;
    this.#pumpBlocked();
  }

  #onWindowUpdate(streamId: number, payload: Buffer): void {
    if (payload.length !== 4) return this.#fail(ErrorCode.FRAME_SIZE_ERROR, "a WINDOW_UPDATE frame not 4 bytes long");
    const increment = payload.readUInt32BE(0) & 0x7fffffff;
    if (streamId === 0) {
      if (increment === 0) return this.#fail(ErrorCode.PROTOCOL_ERROR, "a connection WINDOW_UPDATE of 0");
      this.#sendWindow += increment;
      if (this.#sendWindow > MAX_WINDOW) return this.#fail(ErrorCode.FLOW_CONTROL_ERROR, "the connection's window above 2^31-1");
      this.#pumpBlocked();
      return;
    }
    const stream = this.#streams.get(streamId);
    if (stream === undefined) return;
    stream.sendWindow += increment;
    this.pump(stream);
  }
}
