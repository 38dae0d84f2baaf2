/**
 * A client's HTTP/2 connection (RFC 9113), written for gRPC's needs: streams
 * opened with a prepared header block, request bytes sent within both flow
 * control windows, everything written in one socket write per turn of the
 * event loop, and the server's frames parsed straight from the socket.
 *
 * What it leaves out, since a gRPC client does not use it: server push
 * (disabled in SETTINGS), priorities (ignored), a dynamic HPACK table of its
 * own (see hpack.ts), and CONNECT. Protocol errors by the server end the
 * connection with GOAWAY, as the spec asks; every stream on it then fails.
 *
 * @internal
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

/** The receive window each stream advertises: how far a server may run ahead of a paused reader. */
export const STREAM_WINDOW = 1024 * 1024;
/** The receive window of the whole connection. */
const CONNECTION_WINDOW = 16 * 1024 * 1024;
/** SETTINGS_MAX_HEADER_LIST_SIZE: the largest response headers or trailers taken. */
export const MAX_HEADER_LIST_BYTES = 256 * 1024;
/** The largest encoded header block (HEADERS and its CONTINUATIONs) read before giving up. */
const MAX_HEADER_BLOCK_BYTES = 2 * MAX_HEADER_LIST_BYTES;
const HEADER_TABLE_SIZE = 4096;
/** Bytes handed to the socket and not yet sent, past which DATA waits in the streams. */
const SOCKET_HIGH_WATER = 1024 * 1024;
/** Bytes waiting to go out past which a server's requests for answers are refused (see #backlogged). */
const CONTROL_BACKLOG_BYTES = 4 * SOCKET_HIGH_WATER;
/** Below this a turn's frames are joined into one buffer; above, handed over as a vectored write. */
const JOIN_BYTES = 64 * 1024;
const LAST_STREAM_ID = 0x7fffffff;

/** What a stream's owner hears from the connection. All calls are synchronous, in frame order. @internal */
export interface StreamHandler {
  /** Response headers or trailers, decoded. `oversized`: past {@link MAX_HEADER_LIST_BYTES} (fields cut short). */
  onHeaders(fields: [string, string][], endStream: boolean, oversized: boolean): void;
  /** Response bytes; call {@link H2Stream.consumed} once they are processed. */
  onData(bytes: Buffer, endStream: boolean): void;
  /** The server reset the stream (RST_STREAM) with `code`. */
  onReset(code: number): void;
  /** The stream never reached the server's processing (GOAWAY below it, or never sent): safe to send again. */
  onRefused(): void;
  /** The connection ended under the stream. */
  onLost(reason: string): void;
  /** Queued request bytes went out; the owner may write more. */
  onWritable(): void;
}

/** One request stream. @internal */
export class H2Stream {
  /** 0 until the HEADERS frame is sent (the server's stream limit may hold it back). */
  id = 0;
  readonly handler: StreamHandler;
  readonly block: Buffer;
  readonly #session: H2Session;
  /** Request bytes not yet framed. */
  queue: Buffer[] = [];
  queuedBytes = 0;
  /** END_STREAM asked for; sent with the last queued byte. */
  ending = false;
  localClosed = false;
  remoteClosed = false;
  reset = false;
  sendWindow: number;
  /** Response bytes the server may still send before a WINDOW_UPDATE. */
  receiveWindow = STREAM_WINDOW;
  /** Response bytes processed and not yet given back to the window. */
  unacknowledged = 0;

  constructor(session: H2Session, block: Buffer, handler: StreamHandler, sendWindow: number) {
    this.#session = session;
    this.block = block;
    this.handler = handler;
    this.sendWindow = sendWindow;
  }

  /** Queues request bytes. Ignored once ending, closed or reset. */
  write(bytes: Buffer): void {
    if (this.ending || this.reset || bytes.length === 0) return;
    this.queue.push(bytes);
    this.queuedBytes += bytes.length;
    this.#session.pump(this);
  }

  /** Half-closes after what is queued (and `bytes`, if given). */
  end(bytes?: Buffer): void {
    if (this.ending || this.reset) return;
    if (bytes !== undefined && bytes.length > 0) {
      this.queue.push(bytes);
      this.queuedBytes += bytes.length;
    }
    this.ending = true;
    this.#session.pump(this);
  }

  /** Resets the stream (RST_STREAM with `code`), dropping what is queued. */
  cancel(code: number = ErrorCode.CANCEL): void {
    this.#session.resetStream(this, code);
  }

  /** Gives `bytes` processed response bytes back to the stream's receive window. */
  consumed(bytes: number): void {
    this.#session.consumed(this, bytes);
  }
}

/** How the owner of a session hears that it can take no more streams. @internal */
export interface SessionEvents {
  /** The connection is gone; `reason` says why. */
  onClose(session: H2Session, reason: string): void;
  /** The server said GOAWAY: streams in flight may finish, new ones need another connection. */
  onGoaway(session: H2Session): void;
}

/** @internal */
export class H2Session {
  readonly #socket: Socket;
  readonly #events: SessionEvents;
  readonly #decoder = new HpackDecoder(HEADER_TABLE_SIZE, MAX_HEADER_LIST_BYTES);
  readonly #streams = new Map<number, H2Stream>();
  /** Streams waiting for the server's concurrency limit. */
  readonly #waitingToOpen: H2Stream[] = [];
  /** Streams with bytes queued that wait for a window or the socket. */
  readonly #blocked = new Set<H2Stream>();
  #nextId = 1;
  #settingsSeen = false;
  #goingAway = false;
  #closedReason: string | undefined;
  #peerMaxConcurrent = Number.POSITIVE_INFINITY;
  #peerInitialWindow = DEFAULT_WINDOW;
  #peerMaxFrame = DEFAULT_MAX_FRAME_SIZE;
  #sendWindow = DEFAULT_WINDOW;
  #receiveWindow = DEFAULT_WINDOW;
  #connectionUnacknowledged = 0;
  #input: Buffer | undefined;
  /** A header block being gathered from HEADERS and CONTINUATION frames. */
  #block: { streamId: number; endStream: boolean; parts: Buffer[]; bytes: number } | undefined;
  #out: Buffer[] = [];
  #outBytes = 0;
  #flushScheduled = false;
  readonly #flush = () => this.#flushNow();
  #resolveReady!: () => void;
  #rejectReady!: (err: Error) => void;
  /** Resolves when the server's first SETTINGS arrived: it speaks HTTP/2. Rejects if the connection ends first. */
  readonly ready: Promise<void>;

  constructor(socket: Socket, events: SessionEvents) {
    this.#socket = socket;
    this.#events = events;
    this.ready = new Promise((resolve, reject) => {
      this.#resolveReady = resolve;
      this.#rejectReady = reject;
    });
    this.ready.catch(() => undefined);
    socket.on("data", (chunk: Buffer) => this.#onBytes(chunk));
    socket.on("drain", () => this.#pumpBlocked());
    socket.on("error", (err: NodeJS.ErrnoException) => this.destroy(err.message));
    socket.on("end", () => this.destroy(this.#hangUp()));
    socket.on("close", () => this.destroy(this.#hangUp()));
    this.#send(PREFACE);
    this.#send(
      settingsFrame([
        [Setting.ENABLE_PUSH, 0],
        [Setting.INITIAL_WINDOW_SIZE, STREAM_WINDOW],
        [Setting.MAX_HEADER_LIST_SIZE, MAX_HEADER_LIST_BYTES],
      ]),
    );
    this.#send(wordFrame(FrameType.WINDOW_UPDATE, 0, CONNECTION_WINDOW - DEFAULT_WINDOW));
    this.#receiveWindow = CONNECTION_WINDOW;
  }

  #hangUp(): string {
    return this.#settingsSeen ? "the server closed the connection" : "the connection closed before the server's SETTINGS";
  }

  /** Whether new streams may start here. */
  get usable(): boolean {
    return this.#closedReason === undefined && !this.#goingAway;
  }

  get closed(): boolean {
    return this.#closedReason === undefined ? false : true;
  }

  /** Starts a stream with the header block `block` (sent as soon as the server's limit allows). */
  open(block: Buffer, handler: StreamHandler): H2Stream {
    if (!this.usable) throw new Error(this.#closedReason ?? "the connection is going away");
    const stream = new H2Stream(this, block, handler, this.#peerInitialWindow);
    if (this.#streams.size < this.#peerMaxConcurrent && this.#waitingToOpen.length === 0) this.#start(stream);
    else this.#waitingToOpen.push(stream);
    return stream;
  }

  #start(stream: H2Stream): void {
    stream.id = this.#nextId;
    this.#nextId += 2;
    if (this.#nextId > LAST_STREAM_ID && !this.#goingAway) {
      // Stream ids ran out: this connection takes no more.
      this.#goingAway = true;
      queueMicrotask(() => this.#events.onGoaway(this));
    }
    this.#streams.set(stream.id, stream);
    const block = stream.block;
    const max = this.#peerMaxFrame;
    if (block.length <= max) {
      this.#send(frameHeader(block.length, FrameType.HEADERS, Flag.END_HEADERS, stream.id), block);
    } else {
      for (let at = 0; at < block.length; at += max) {
        const part = block.subarray(at, at + max);
        const last = at + max >= block.length;
        const type = at === 0 ? FrameType.HEADERS : FrameType.CONTINUATION;
        this.#send(frameHeader(part.length, type, last ? Flag.END_HEADERS : 0, stream.id), part);
      }
    }
    this.pump(stream);
  }

  /** Frames what `stream` has queued, as far as the windows and the socket allow. */
  pump(stream: H2Stream): void {
    if (stream.id === 0 || stream.reset || stream.localClosed || this.#closedReason !== undefined) return;
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
      const last = stream.ending && stream.queue.length === 0;
      this.#send(frameHeader(part.length, FrameType.DATA, last ? Flag.END_STREAM : 0, stream.id), part);
      if (last) this.#closeLocal(stream);
    }
    this.#blocked.delete(stream);
    if (stream.ending && !stream.localClosed) {
      this.#send(frameHeader(0, FrameType.DATA, Flag.END_STREAM, stream.id));
      this.#closeLocal(stream);
    }
    stream.handler.onWritable();
  }

  #pumpBlocked(): void {
    for (const stream of [...this.#blocked]) {
      this.#blocked.delete(stream);
      this.pump(stream);
    }
  }

  #closeLocal(stream: H2Stream): void {
    stream.localClosed = true;
    if (stream.remoteClosed) this.#forget(stream);
  }

  /** @internal see {@link H2Stream.cancel} */
  resetStream(stream: H2Stream, code: number): void {
    if (stream.reset) return;
    stream.reset = true;
    stream.queue = [];
    stream.queuedBytes = 0;
    this.#blocked.delete(stream);
    if (stream.id === 0) {
      const at = this.#waitingToOpen.indexOf(stream);
      if (at >= 0) this.#waitingToOpen.splice(at, 1);
      return;
    }
    const open = this.#streams.get(stream.id) === stream;
    if (open && this.#closedReason === undefined) this.#send(wordFrame(FrameType.RST_STREAM, stream.id, code));
    if (open) this.#forget(stream);
  }

  /** @internal see {@link H2Stream.consumed} */
  consumed(stream: H2Stream, bytes: number): void {
    if (this.#closedReason !== undefined || stream.reset || stream.remoteClosed) return;
    stream.unacknowledged += bytes;
    if (stream.unacknowledged >= STREAM_WINDOW / 2) {
      stream.receiveWindow += stream.unacknowledged;
      this.#send(wordFrame(FrameType.WINDOW_UPDATE, stream.id, stream.unacknowledged));
      stream.unacknowledged = 0;
    }
  }

  #forget(stream: H2Stream): void {
    if (this.#streams.get(stream.id) !== stream) return;
    this.#streams.delete(stream.id);
    this.#blocked.delete(stream);
    if (this.#goingAway) {
      // No new streams here: those waiting go elsewhere, and the connection closes once its last one is done.
      for (const waiting of this.#waitingToOpen.splice(0)) {
        waiting.reset = true;
        waiting.handler.onRefused();
      }
      if (this.#streams.size === 0) this.close();
      return;
    }
    while (this.#waitingToOpen.length > 0 && this.#streams.size < this.#peerMaxConcurrent && !this.#goingAway) {
      this.#start(this.#waitingToOpen.shift()!);
    }
  }

  ref(): void {
    this.#socket.ref();
  }

  unref(): void {
    this.#socket.unref();
  }

  /** Says GOAWAY, sends what is queued, and closes; streams still open are lost. */
  close(): void {
    if (this.#closedReason !== undefined) return;
    this.#send(wordFrame(FrameType.GOAWAY, 0, 0, ErrorCode.NO_ERROR));
    this.#flushNow();
    this.#socket.end();
    this.destroy("the client closed the connection", true);
  }

  /** Ends the connection now; every stream on it is lost. */
  destroy(reason: string, graceful = false): void {
    if (this.#closedReason !== undefined) return;
    this.#closedReason = reason;
    if (graceful) setImmediate(() => this.#socket.destroy());
    else this.#socket.destroy();
    this.#rejectReady(new Error(reason));
    const waiting = this.#waitingToOpen.splice(0);
    const streams = [...this.#streams.values()];
    this.#streams.clear();
    this.#blocked.clear();
    for (const stream of waiting) stream.handler.onRefused();
    for (const stream of streams) stream.handler.onLost(reason);
    this.#events.onClose(this, reason);
  }

  /** A connection error (RFC 9113 §5.4.1): GOAWAY with `code`, then the end. */
  #fail(code: number, reason: string): void {
    if (this.#closedReason !== undefined) return;
    this.#send(wordFrame(FrameType.GOAWAY, 0, 0, code));
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

  /**
   * Whether bytes waiting to go out are far past what DATA may queue: the
   * server asks for answers (PING, SETTINGS acknowledgements) faster than it
   * reads them, and answering more would only grow this side's memory.
   */
  #backlogged(): boolean {
    return this.#outBytes + this.#socket.writableLength > CONTROL_BACKLOG_BYTES;
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

  // ---- reading

  #onBytes(chunk: Buffer): void {
    let buf = chunk;
    if (this.#input !== undefined) {
      buf = Buffer.concat([this.#input, chunk]);
      this.#input = undefined;
    }
    let pos = 0;
    while (buf.length - pos >= FRAME_HEADER_BYTES && this.#closedReason === undefined) {
      const length = (buf[pos]! << 16) | (buf[pos + 1]! << 8) | buf[pos + 2]!;
      const type = buf[pos + 3]!;
      if (!this.#settingsSeen && type !== FrameType.SETTINGS) {
        this.#fail(ErrorCode.PROTOCOL_ERROR, "the server did not begin with HTTP/2 SETTINGS (is it a gRPC server?)");
        return;
      }
      if (length > DEFAULT_MAX_FRAME_SIZE) {
        this.#fail(ErrorCode.FRAME_SIZE_ERROR, `a ${length}-byte frame, above the ${DEFAULT_MAX_FRAME_SIZE} allowed`);
        return;
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
      this.#fail(ErrorCode.PROTOCOL_ERROR, "a frame came between HEADERS and its CONTINUATION");
      return;
    }
    switch (type) {
      case FrameType.DATA:
        return this.#onDataFrame(flags, streamId, payload);
      case FrameType.HEADERS:
        return this.#onHeadersFrame(flags, streamId, payload);
      case FrameType.CONTINUATION:
        return this.#onContinuation(flags, streamId, payload);
      case FrameType.RST_STREAM:
        return this.#onReset(streamId, payload);
      case FrameType.SETTINGS:
        return this.#onSettings(flags, streamId, payload);
      case FrameType.PING:
        return this.#onPing(flags, streamId, payload);
      case FrameType.GOAWAY:
        return this.#onGoaway(streamId, payload);
      case FrameType.WINDOW_UPDATE:
        return this.#onWindowUpdate(streamId, payload);
      case FrameType.PUSH_PROMISE:
        return this.#fail(ErrorCode.PROTOCOL_ERROR, "PUSH_PROMISE, though push is disabled");
      case FrameType.PRIORITY:
        if (payload.length !== 5) this.#fail(ErrorCode.FRAME_SIZE_ERROR, "a PRIORITY frame not 5 bytes long");
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
      this.#fail(ErrorCode.PROTOCOL_ERROR, `${what} padding longer than the frame`);
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
    const data = this.#unpad(flags, payload, "DATA");
    if (data === undefined) return;
    const stream = this.#streams.get(streamId);
    if (stream === undefined || stream.remoteClosed) {
      if (streamId >= this.#nextId) this.#fail(ErrorCode.PROTOCOL_ERROR, `DATA on stream ${streamId}, never opened`);
      return; // a stream this side reset: its frames in flight are dropped
    }
    stream.receiveWindow -= payload.length;
    if (stream.receiveWindow < 0) {
      this.resetStream(stream, ErrorCode.FLOW_CONTROL_ERROR);
      stream.handler.onReset(ErrorCode.FLOW_CONTROL_ERROR);
      return;
    }
    // Padding counts against the window but is never handed out: given back at once.
    if (data.length < payload.length) stream.unacknowledged += payload.length - data.length;
    const end = (flags & Flag.END_STREAM) !== 0;
    if (end) this.#closeRemote(stream);
    stream.handler.onData(data, end);
  }

  #onHeadersFrame(flags: number, streamId: number, payload: Buffer): void {
    if (streamId === 0 || streamId % 2 === 0) return this.#fail(ErrorCode.PROTOCOL_ERROR, `HEADERS on stream ${streamId}`);
    let fragment = this.#unpad(flags, payload, "HEADERS");
    if (fragment === undefined) return;
    if (flags & Flag.PRIORITY) {
      if (fragment.length < 5) return this.#fail(ErrorCode.FRAME_SIZE_ERROR, "HEADERS too short for its priority");
      fragment = fragment.subarray(5);
    }
    this.#block = { streamId, endStream: (flags & Flag.END_STREAM) !== 0, parts: [], bytes: 0 };
    this.#addFragment(flags, fragment);
  }

  #onContinuation(flags: number, streamId: number, payload: Buffer): void {
    if (this.#block === undefined || this.#block.streamId !== streamId) {
      return this.#fail(ErrorCode.PROTOCOL_ERROR, "CONTINUATION without the HEADERS before it");
    }
    this.#addFragment(flags, payload);
  }

  #addFragment(flags: number, fragment: Buffer): void {
    const block = this.#block!;
    if (fragment.length > 0) block.parts.push(fragment);
    // Frame headers count too: a flood of empty CONTINUATIONs is a block that never ends.
    block.bytes += FRAME_HEADER_BYTES + fragment.length;
    if (block.bytes > MAX_HEADER_BLOCK_BYTES) {
      return this.#fail(ErrorCode.ENHANCE_YOUR_CALM, `a header block over ${MAX_HEADER_BLOCK_BYTES} bytes`);
    }
    if ((flags & Flag.END_HEADERS) === 0) return;
    this.#block = undefined;
    let decoded;
    try {
      decoded = this.#decoder.decode(block.parts.length === 1 ? block.parts[0]! : Buffer.concat(block.parts));
    } catch (err) {
      if (err instanceof HpackError) return this.#fail(ErrorCode.COMPRESSION_ERROR, err.message);
      throw err;
    }
    const stream = this.#streams.get(block.streamId);
    if (stream === undefined || stream.remoteClosed) {
      if (block.streamId >= this.#nextId) this.#fail(ErrorCode.PROTOCOL_ERROR, `HEADERS on stream ${block.streamId}, never opened`);
      return;
    }
    if (block.endStream) this.#closeRemote(stream);
    stream.handler.onHeaders(decoded.fields, block.endStream, decoded.oversized);
  }

  #closeRemote(stream: H2Stream): void {
    stream.remoteClosed = true;
    if (stream.localClosed) this.#forget(stream);
  }

  #onReset(streamId: number, payload: Buffer): void {
    if (payload.length !== 4) return this.#fail(ErrorCode.FRAME_SIZE_ERROR, "an RST_STREAM frame not 4 bytes long");
    if (streamId === 0) return this.#fail(ErrorCode.PROTOCOL_ERROR, "RST_STREAM on stream 0");
    const stream = this.#streams.get(streamId);
    if (stream === undefined) return;
    stream.reset = true;
    stream.queue = [];
    stream.queuedBytes = 0;
    this.#forget(stream);
    stream.handler.onReset(payload.readUInt32BE(0));
  }

  #onSettings(flags: number, streamId: number, payload: Buffer): void {
    if (streamId !== 0) return this.#fail(ErrorCode.PROTOCOL_ERROR, "SETTINGS on a stream");
    if (flags & Flag.ACK) {
      if (payload.length !== 0) this.#fail(ErrorCode.FRAME_SIZE_ERROR, "a SETTINGS acknowledgement with a payload");
      return;
    }
    if (payload.length % 6 !== 0) return this.#fail(ErrorCode.FRAME_SIZE_ERROR, "a SETTINGS frame not a multiple of 6 bytes");
    for (let at = 0; at < payload.length; at += 6) {
      const id = payload.readUInt16BE(at);
      const value = payload.readUInt32BE(at + 2);
      if (id === Setting.MAX_CONCURRENT_STREAMS) this.#peerMaxConcurrent = value;
      else if (id === Setting.INITIAL_WINDOW_SIZE) {
        if (value > MAX_WINDOW) return this.#fail(ErrorCode.FLOW_CONTROL_ERROR, `initial window ${value} above 2^31-1`);
        const delta = value - this.#peerInitialWindow;
        this.#peerInitialWindow = value;
        for (const stream of this.#streams.values()) stream.sendWindow += delta;
        for (const stream of this.#waitingToOpen) stream.sendWindow += delta;
      } else if (id === Setting.MAX_FRAME_SIZE) {
        if (value < DEFAULT_MAX_FRAME_SIZE || value > 0xffffff) return this.#fail(ErrorCode.PROTOCOL_ERROR, `max frame size ${value}`);
        this.#peerMaxFrame = value;
      } else if (id === Setting.ENABLE_PUSH && value > 1) {
        return this.#fail(ErrorCode.PROTOCOL_ERROR, `ENABLE_PUSH ${value}`);
      }
      // HEADER_TABLE_SIZE: this side's encoder keeps no table. MAX_HEADER_LIST_SIZE: advisory.
    }
    if (this.#backlogged()) return this.#fail(ErrorCode.ENHANCE_YOUR_CALM, "SETTINGS keep coming while the server reads nothing");
    this.#send(frameHeader(0, FrameType.SETTINGS, Flag.ACK, 0));
    if (!this.#settingsSeen) {
      this.#settingsSeen = true;
      this.#resolveReady();
    }
    // A larger window or a higher stream limit lets waiting work go.
    while (this.#waitingToOpen.length > 0 && this.#streams.size < this.#peerMaxConcurrent && this.usable) {
      this.#start(this.#waitingToOpen.shift()!);
    }
    this.#pumpBlocked();
  }

  #onPing(flags: number, streamId: number, payload: Buffer): void {
    if (streamId !== 0) return this.#fail(ErrorCode.PROTOCOL_ERROR, "PING on a stream");
    if (payload.length !== 8) return this.#fail(ErrorCode.FRAME_SIZE_ERROR, "a PING frame not 8 bytes long");
    if (flags & Flag.ACK) return;
    if (this.#backlogged()) return this.#fail(ErrorCode.ENHANCE_YOUR_CALM, "PINGs keep coming while the server reads nothing");
    this.#send(frameHeader(8, FrameType.PING, Flag.ACK, 0), Buffer.from(payload));
  }

  #onGoaway(streamId: number, payload: Buffer): void {
    if (streamId !== 0) return this.#fail(ErrorCode.PROTOCOL_ERROR, "GOAWAY on a stream");
    if (payload.length < 8) return this.#fail(ErrorCode.FRAME_SIZE_ERROR, "a GOAWAY frame shorter than 8 bytes");
    const lastStreamId = payload.readUInt32BE(0) & 0x7fffffff;
    const wasUsable = this.usable;
    this.#goingAway = true;
    // Streams the server never processed, and those not yet sent, may go again elsewhere.
    const refused = [...this.#streams.values()].filter((stream) => stream.id > lastStreamId);
    refused.push(...this.#waitingToOpen.splice(0));
    for (const stream of refused) {
      stream.reset = true;
      this.#streams.delete(stream.id);
      this.#blocked.delete(stream);
    }
    for (const stream of refused) stream.handler.onRefused();
    if (wasUsable) this.#events.onGoaway(this);
    if (this.#streams.size === 0) this.close();
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
    if (increment === 0 || stream.sendWindow + increment > MAX_WINDOW) {
      const code = increment === 0 ? ErrorCode.PROTOCOL_ERROR : ErrorCode.FLOW_CONTROL_ERROR;
      this.resetStream(stream, code);
      stream.handler.onReset(code);
      return;
    }
    stream.sendWindow += increment;
    if (stream.queue.length > 0 || (stream.ending && !stream.localClosed)) this.pump(stream);
  }
}
