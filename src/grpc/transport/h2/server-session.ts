/**
 * The server side of our HTTP/2 (RFC 9113), under grpc-server.ts: streams the
 * client opens (refused past the stream limit or while going away),
 * responses as HEADERS, DATA and trailers, a `ping()` that resolves when
 * acknowledged (the commit check of a stream), and a graceful GOAWAY. What it
 * shares with the client side is in connection.ts.
 *
 * @module
 */
import type { Socket } from "node:net";
import { type DataHandler, H2Connection, H2StreamBase, STREAM_WINDOW } from "./connection.js";
import { ErrorCode, frameHeader, FrameType, Setting, wordFrame } from "./frames.js";

/** SETTINGS_MAX_HEADER_LIST_SIZE: the largest request headers taken. */
const MAX_HEADER_LIST_BYTES = 64 * 1024;

/** What a request stream's owner hears. */
export interface ServerStreamHandler extends DataHandler {
  /** The client reset the stream (a cancel), or the connection ended under it. */
  onGone(reason: string, code: number): void;
}

export interface ServerSessionEvents {
  /** A new request stream with its decoded headers; returns who hears the rest, or undefined after answering it. */
  onStream(stream: ServerStream, fields: [string, string][], endStream: boolean): ServerStreamHandler | undefined;
  onClose(session: ServerSession, reason: string): void;
}

/** One request stream, and its response. */
export class ServerStream extends H2StreamBase {
  handler: ServerStreamHandler | undefined;
  /** Trailers to send once the queue is empty (END_STREAM). */
  trailers: Buffer | undefined;

  constructor(
    readonly session: ServerSession,
    id: number,
    sendWindow: number,
  ) {
    super(session, sendWindow);
    this.id = id;
  }

  /** Response headers (no END_STREAM). */
  respond(block: Buffer): void {
    this.session.sendHeaders(this, block, false);
  }

  /** Response bytes (framed messages). */
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
}

export class ServerSession extends H2Connection<ServerStream> {
  protected readonly peerName = "client";
  readonly #events: ServerSessionEvents;
  readonly #maxConcurrent: number;
  #lastPeerId = 0;
  #goingAway = false;
  #pings: ((alive: boolean) => void)[] = [];

  constructor(socket: Socket, events: ServerSessionEvents, options: { maxConcurrentStreams: number }) {
    super(socket, {
      client: false,
      settings: [
        [Setting.MAX_CONCURRENT_STREAMS, options.maxConcurrentStreams],
        [Setting.INITIAL_WINDOW_SIZE, STREAM_WINDOW],
      ],
      maxHeaderListBytes: MAX_HEADER_LIST_BYTES,
    });
    this.#events = events;
    this.#maxConcurrent = options.maxConcurrentStreams;
  }

  protected hangUpReason(): string {
    return "the client closed the connection";
  }

  /**
   * Sends a PING and resolves `true` once it is acknowledged: every frame the
   * client sent before it has been handled. `false` if the connection ends first.
   */
  ping(): Promise<boolean> {
    if (this.closedReason !== undefined) return Promise.resolve(false);
    this.send(frameHeader(8, FrameType.PING, 0, 0), Buffer.alloc(8));
    return new Promise((resolve) => this.#pings.push(resolve));
  }

  protected override onPingAck(): void {
    this.#pings.shift()?.(true);
  }

  /** Graceful: GOAWAY with the last stream seen; streams in flight finish, then the connection closes. */
  shutdown(): void {
    if (this.closedReason !== undefined || this.#goingAway) return;
    this.#goingAway = true;
    this.send(wordFrame(FrameType.GOAWAY, 0, this.#lastPeerId, ErrorCode.NO_ERROR));
    if (this.streams.size === 0) this.#end();
  }

  #end(): void {
    this.flushNow();
    this.socket.end();
    this.destroy("the server closed the connection", true);
  }

  destroy(reason: string, graceful = false): void {
    if (this.closedReason !== undefined) return;
    const streams = this.takeDown(reason, graceful);
    for (const resolve of this.#pings.splice(0)) resolve(false);
    for (const stream of streams) stream.handler?.onGone(reason, ErrorCode.CANCEL);
    this.#events.onClose(this, reason);
  }

  /** @internal see {@link ServerStream.respond} */
  sendHeaders(stream: ServerStream, block: Buffer, endStream: boolean): void {
    if (stream.reset || stream.localClosed) return;
    this.sendHeaderBlock(stream.id, block, endStream);
    if (endStream) this.closeLocal(stream);
  }

  protected endsWithQueue(): boolean {
    return false;
  }

  protected onQueueSent(stream: ServerStream): void {
    if (stream.trailers !== undefined) this.sendHeaders(stream, stream.trailers, true);
    stream.handler?.onWritable();
  }

  protected override closeLocal(stream: ServerStream): void {
    stream.localClosed = true;
    // The response is complete; a request still open is not needed any more (RFC 9113 §8.1).
    if (!stream.remoteClosed) this.send(wordFrame(FrameType.RST_STREAM, stream.id, ErrorCode.NO_ERROR));
    this.forget(stream);
  }

  protected override onForgotten(): void {
    if (this.#goingAway && this.streams.size === 0) this.#end();
  }

  protected highestOpenedId(): number {
    return this.#lastPeerId;
  }

  protected dataHandler(stream: ServerStream): DataHandler | undefined {
    return stream.handler;
  }

  protected onPeerReset(stream: ServerStream, code: number): void {
    stream.handler?.onGone("the client reset the stream", code);
  }

  protected onGoaway(): void {
    this.#goingAway = true;
  }

  protected onHeaderBlock(streamId: number, fields: [string, string][], endStream: boolean, oversized: boolean): void {
    const existing = this.streams.get(streamId);
    if (existing !== undefined) {
      // Trailers from a client (gRPC clients send none): the end of the request.
      if (endStream && !existing.remoteClosed) {
        this.closeRemote(existing);
        existing.handler?.onData(Buffer.alloc(0), true);
      }
      return;
    }
    if (streamId <= this.#lastPeerId) return; // a stream already closed
    this.#lastPeerId = streamId;
    if (this.#goingAway || this.streams.size >= this.#maxConcurrent || oversized) {
      this.send(wordFrame(FrameType.RST_STREAM, streamId, oversized ? ErrorCode.ENHANCE_YOUR_CALM : ErrorCode.REFUSED_STREAM));
      return;
    }
    const stream = new ServerStream(this, streamId, this.peerInitialWindow);
    this.streams.set(streamId, stream);
    stream.remoteClosed = endStream;
    stream.handler = this.#events.onStream(stream, fields, endStream);
  }
}
