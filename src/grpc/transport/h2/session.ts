/**
 * A client's HTTP/2 connection, written for gRPC's needs: streams opened
 * with a prepared header block (held back while the server's stream limit is
 * reached), request bytes sent within both flow-control windows, refused
 * streams handed back for a retry. What it shares with the server side —
 * framing, HPACK, flow control, one socket write per turn — is in
 * connection.ts.
 *
 * What it leaves out, since a gRPC client does not use it: server push
 * (disabled in SETTINGS), priorities (ignored), a dynamic HPACK table of its
 * own (see hpack.ts), and CONNECT.
 *
 * @internal
 * @module
 */
import type { Socket } from "node:net";
import { type DataHandler, H2Connection, H2StreamBase, STREAM_WINDOW } from "./connection.js";
import { ErrorCode, Flag, frameHeader, FrameType, Setting, wordFrame } from "./frames.js";


/** SETTINGS_MAX_HEADER_LIST_SIZE: the largest response headers or trailers taken. */
export const MAX_HEADER_LIST_BYTES = 256 * 1024;
const LAST_STREAM_ID = 0x7fffffff;

/** What a stream's owner hears from the connection. All calls are synchronous, in frame order. @internal */
export interface StreamHandler extends DataHandler {
  /** Response headers or trailers, decoded. `oversized`: past {@link MAX_HEADER_LIST_BYTES} (fields cut short). */
  onHeaders(fields: [string, string][], endStream: boolean, oversized: boolean): void;
  /** The server reset the stream (RST_STREAM) with `code`. */
  onReset(code: number): void;
  /** The stream never reached the server's processing (GOAWAY below it, or never sent): safe to send again. */
  onRefused(): void;
  /** The connection ended under the stream. */
  onLost(reason: string): void;
}

/** One request stream. @internal */
export class H2Stream extends H2StreamBase {
  /** END_STREAM asked for; sent with the last queued byte. */
  ending = false;

  constructor(
    readonly session: H2Session,
    readonly block: Buffer,
    readonly handler: StreamHandler,
    sendWindow: number,
  ) {
    super(session, sendWindow);
  }

  /** Queues request bytes. Ignored once ending, closed or reset. */
  write(bytes: Buffer): void {
    if (this.ending || this.reset || bytes.length === 0) return;
    this.queue.push(bytes);
    this.queuedBytes += bytes.length;
    this.session.pump(this);
  }

  /** Half-closes after what is queued (and `bytes`, if given). */
  end(bytes?: Buffer): void {
    if (this.ending || this.reset) return;
    if (bytes !== undefined && bytes.length > 0) {
      this.queue.push(bytes);
      this.queuedBytes += bytes.length;
    }
    this.ending = true;
    this.session.pump(this);
  }

  /** Resets the stream (RST_STREAM with `code`), dropping what is queued. */
  cancel(code: number = ErrorCode.CANCEL): void {
    this.session.resetStream(this, code);
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
export class H2Session extends H2Connection<H2Stream> {
  protected readonly peerName = "server";
  readonly #events: SessionEvents;
  /** Streams waiting for the server's concurrency limit. */
  readonly #waitingToOpen: H2Stream[] = [];
  #nextId = 1;
  #goingAway = false;
  #peerMaxConcurrent = Number.POSITIVE_INFINITY;
  #resolveReady!: () => void;
  #rejectReady!: (err: Error) => void;
  /** Resolves when the server's first SETTINGS arrived: it speaks HTTP/2. Rejects if the connection ends first. */
  readonly ready: Promise<void>;

  constructor(socket: Socket, events: SessionEvents) {
    super(socket, {
      client: true,
      settings: [
        [Setting.ENABLE_PUSH, 0],
        [Setting.INITIAL_WINDOW_SIZE, STREAM_WINDOW],
      ],
      maxHeaderListBytes: MAX_HEADER_LIST_BYTES,
    });
    this.#events = events;
    this.ready = new Promise((resolve, reject) => {
      this.#resolveReady = resolve;
      this.#rejectReady = reject;
    });
    this.ready.catch(() => undefined);
  }

  protected hangUpReason(): string {
    return this.settingsSeen ? "the server closed the connection" : "the connection closed before the server's SETTINGS";
  }

  /** Whether new streams may start here. */
  get usable(): boolean {
    return this.closedReason === undefined && !this.#goingAway;
  }

  /** Starts a stream with the header block `block` (sent as soon as the server's limit allows). */
  open(block: Buffer, handler: StreamHandler): H2Stream {
    if (!this.usable) throw new Error(this.closedReason ?? "the connection is going away");
    const stream = new H2Stream(this, block, handler, this.peerInitialWindow);
    if (this.streams.size < this.#peerMaxConcurrent && this.#waitingToOpen.length === 0) this.#start(stream);
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
    this.streams.set(stream.id, stream);
    this.sendHeaderBlock(stream.id, stream.block, false);
    this.pump(stream);
  }

  #startWaiting(): void {
    while (this.#waitingToOpen.length > 0 && this.streams.size < this.#peerMaxConcurrent && this.usable) {
      this.#start(this.#waitingToOpen.shift()!);
    }
  }

  protected endsWithQueue(stream: H2Stream): boolean {
    return stream.ending;
  }

  protected onQueueSent(stream: H2Stream): void {
    if (stream.ending && !stream.localClosed) {
      // Ending with nothing queued: an empty DATA frame carries END_STREAM.
      this.send(frameHeader(0, FrameType.DATA, Flag.END_STREAM, stream.id));
      this.closeLocal(stream);
    }
    stream.handler.onWritable();
  }

  protected override onForgotten(stream: H2Stream): void {
    if (stream.id === 0) {
      const at = this.#waitingToOpen.indexOf(stream);
      if (at >= 0) this.#waitingToOpen.splice(at, 1);
      return;
    }
    if (this.#goingAway) {
      // No new streams here: those waiting go elsewhere, and the connection closes once its last one is done.
      for (const waiting of this.#waitingToOpen.splice(0)) {
        waiting.reset = true;
        waiting.handler.onRefused();
      }
      if (this.streams.size === 0) this.close();
      return;
    }
    this.#startWaiting();
  }

  protected highestOpenedId(): number {
    return this.#nextId - 2;
  }

  protected dataHandler(stream: H2Stream): DataHandler {
    return stream.handler;
  }

  protected onHeaderBlock(streamId: number, fields: [string, string][], endStream: boolean, oversized: boolean): void {
    const stream = this.streams.get(streamId);
    if (stream === undefined || stream.remoteClosed) {
      if (streamId >= this.#nextId) this.fail(ErrorCode.PROTOCOL_ERROR, `HEADERS on stream ${streamId}, never opened`);
      return;
    }
    if (endStream) this.closeRemote(stream);
    stream.handler.onHeaders(fields, endStream, oversized);
  }

  protected onPeerReset(stream: H2Stream, code: number): void {
    stream.handler.onReset(code);
  }

  protected override onSetting(id: number, value: number): string | undefined {
    if (id === Setting.MAX_CONCURRENT_STREAMS) this.#peerMaxConcurrent = value;
    else if (id === Setting.ENABLE_PUSH && value > 1) return `ENABLE_PUSH ${value}`;
    return undefined;
  }

  protected override onInitialWindowChange(delta: number): void {
    for (const stream of this.#waitingToOpen) stream.sendWindow += delta;
  }

  protected override onSettingsApplied(): void {
    this.#resolveReady();
    // A higher stream limit lets waiting streams go.
    this.#startWaiting();
  }

  protected onGoaway(lastStreamId: number): void {
    const wasUsable = this.usable;
    this.#goingAway = true;
    // Streams the server never processed, and those not yet sent, may go again elsewhere.
    const refused = [...this.streams.values()].filter((stream) => stream.id > lastStreamId);
    refused.push(...this.#waitingToOpen.splice(0));
    for (const stream of refused) {
      stream.reset = true;
      this.streams.delete(stream.id);
      this.blocked.delete(stream);
    }
    for (const stream of refused) stream.handler.onRefused();
    if (wasUsable) this.#events.onGoaway(this);
    if (this.streams.size === 0) this.close();
  }

  /** Says GOAWAY, sends what is queued, and closes; streams still open are lost. */
  close(): void {
    if (this.closedReason !== undefined) return;
    this.send(wordFrame(FrameType.GOAWAY, 0, 0, ErrorCode.NO_ERROR));
    this.flushNow();
    this.socket.end();
    this.destroy("the client closed the connection", true);
  }

  /** Ends the connection now; every stream on it is lost. */
  destroy(reason: string, graceful = false): void {
    if (this.closedReason !== undefined) return;
    const streams = this.takeDown(reason, graceful);
    this.#rejectReady(new Error(reason));
    const waiting = this.#waitingToOpen.splice(0);
    for (const stream of waiting) stream.handler.onRefused();
    for (const stream of streams) stream.handler.onLost(reason);
    this.#events.onClose(this, reason);
  }
}
