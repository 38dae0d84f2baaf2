/**
 * One gRPC call with a unary response, on one HTTP/2 stream: the caller
 * writes framed request bytes and half-closes; the call reads the response
 * headers and trailers into a status. A cancel resets the stream with
 * RST_STREAM (CANCEL) and never half-closes it, so a server can never take a
 * cancelled stream for a finished one.
 *
 * @internal
 * @module
 */
import { type ClientHttp2Stream, constants, type IncomingHttpHeaders } from "node:http2";
import { status as Status } from "@grpc/grpc-js";
import { FramingError, MessageReader } from "./framing.js";
import { resetStream } from "./reset.js";
import { type CallStatus, statusFromHttp, statusFromReset, statusFromTrailers } from "./status.js";

/** Largest response message a call reads, when it reads them. */
const MAX_RESPONSE_MESSAGE_BYTES = 64 * 1024 * 1024;

/**
 * How many request bytes may wait in the stream's buffer before the writer
 * waits for them to drain: enough for several chunks in flight, small enough
 * that a stalled server stops the source being read.
 */
const MAX_BUFFERED_BYTES = 1024 * 1024;

/** What a caller does with a call, whichever transport object carries it. @internal */
export interface Call {
  /** The call's status; never rejects. */
  readonly status: Promise<CallStatus>;
  readonly settled: boolean;
  readonly halfClosed: boolean;
  readonly full: boolean;
  readonly responded: boolean;
  write(bytes: Buffer): void;
  drained(): Promise<void>;
  end(bytes?: Buffer): void;
  cancel(status: CallStatus): void;
  pauseReading(): void;
  resumeReading(): void;
}

/** @internal */
export class ClientCall implements Call {
  readonly #stream: ClientHttp2Stream;
  /** The connection, kept: Node unsets `stream.session` before the stream's 'close'. */
  readonly #session: ClientHttp2Stream["session"];
  /** The stream's `signal`, when Node's AbortError could not be found (see reset.ts). */
  readonly #abort: AbortController | undefined;
  readonly #onSettled: (call: ClientCall) => void;
  #status: CallStatus | undefined;
  #httpStatus = 0;
  #responded = false;
  #halfClosed = false;
  #waiters: (() => void)[] = [];
  #deadlineTimer: NodeJS.Timeout | undefined;
  /** Whether response messages are read (server streaming). */
  #streaming = false;
  /** The server's status, held until the body is read (server streaming). */
  #serverStatus: CallStatus | undefined;
  #resolve!: (status: CallStatus) => void;
  /** The call's status; never rejects. */
  readonly status: Promise<CallStatus>;

  /**
   * @param onMessage - receives each response message (server streaming);
   *   without it the response body is read and dropped.
   */
  constructor(
    stream: ClientHttp2Stream,
    abort: AbortController | undefined,
    deadline: number | undefined,
    onSettled: (call: ClientCall) => void,
    onMessage?: (message: Buffer) => void,
  ) {
    this.#stream = stream;
    this.#session = stream.session;
    this.#abort = abort;
    this.#onSettled = onSettled;
    this.status = new Promise((resolve) => (this.#resolve = resolve));
    stream.on("response", (headers, flags) => this.#onResponse(headers, flags));
    stream.on("trailers", (trailers) => this.#onStatus(statusFromTrailers(trailers) ?? noStatus("trailers")));
    stream.on("drain", () => this.#wake());
    stream.on("error", () => undefined); // the outcome is read at 'close'
    stream.on("close", () => this.#onClose());
    this.#streaming = onMessage !== undefined;
    if (onMessage === undefined) {
      stream.resume(); // the response body (an empty message) is not needed
    } else {
      // The trailers can arrive before the messages ahead of them are read:
      // the status waits for the end of the body.
      stream.on("end", () => {
        if (this.#serverStatus !== undefined) this.#settle(this.#serverStatus);
      });
      const reader = new MessageReader(MAX_RESPONSE_MESSAGE_BYTES);
      stream.on("data", (chunk: Buffer) => {
        if (this.#status !== undefined) return;
        try {
          reader.push(chunk, onMessage);
        } catch (err) {
          if (!(err instanceof FramingError)) throw err;
          this.cancel({ code: Status.INTERNAL, details: err.message });
        }
      });
    }
    if (deadline !== undefined) {
      this.#deadlineTimer = setTimeout(
        () => this.cancel({ code: Status.DEADLINE_EXCEEDED, details: "Deadline exceeded" }),
        Math.max(0, deadline - Date.now()),
      );
    }
  }

  /** Whether the server answered with response headers (not a trailers-only status): the call was accepted. */
  get responded(): boolean {
    return this.#responded;
  }

  /** Whether the call has its status. */
  get settled(): boolean {
    return this.#status !== undefined;
  }

  /** Whether every request byte was handed over and the stream half-closed. */
  get halfClosed(): boolean {
    return this.#halfClosed;
  }

  /** Whether the writer should wait ({@link drained}) before writing more. */
  get full(): boolean {
    return this.#stream.writableLength > MAX_BUFFERED_BYTES;
  }

  /** Stops reading responses until {@link resumeReading}: HTTP/2 flow control then holds the server back. */
  pauseReading(): void {
    this.#stream.pause();
  }

  /** Reads responses again after {@link pauseReading}. */
  resumeReading(): void {
    this.#stream.resume();
  }

  /** Sends request bytes (framed messages). Ignored once the call is settled. */
  write(bytes: Buffer): void {
    if (this.#status !== undefined || this.#halfClosed) return;
    this.#stream.write(bytes);
  }

  /** Resolves once the buffered bytes drained or the call settled. */
  drained(): Promise<void> {
    if (!this.full || this.#status !== undefined) return Promise.resolve();
    return new Promise((resolve) => this.#waiters.push(resolve));
  }

  /** Sends the last bytes, if any, and half-closes: the request is complete. */
  end(bytes?: Buffer): void {
    if (this.#status !== undefined || this.#halfClosed) return;
    this.#halfClosed = true;
    if (bytes === undefined) this.#stream.end();
    else this.#stream.end(bytes);
  }

  /**
   * Ends the call with `status` now (the caller's reason: a cancel, a
   * deadline, a bad entry) and resets the stream. Nothing more is sent; what
   * was not yet handed to the transport is dropped.
   */
  cancel(status: CallStatus): void {
    this.#settle(status);
  }

  /** The server's own status: at once, or after the body when messages are read. */
  #onStatus(status: CallStatus): void {
    if (!this.#streaming || this.#stream.readableEnded) this.#settle(status);
    else this.#serverStatus ??= status;
  }

  #onResponse(headers: IncomingHttpHeaders, flags: number): void {
    this.#httpStatus = Number(headers[":status"]);
    const endOfStream = (flags & constants.NGHTTP2_FLAG_END_STREAM) !== 0;
    const trailersOnly = statusFromTrailers(headers);
    if (trailersOnly !== undefined && (endOfStream || this.#httpStatus !== 200)) {
      this.#onStatus(trailersOnly);
    } else if (this.#httpStatus !== 200) {
      this.#settle(statusFromHttp(this.#httpStatus));
    } else {
      const type = String(headers["content-type"] ?? "");
      if (!type.startsWith("application/grpc")) {
        this.#settle({ code: Status.UNKNOWN, details: `server answered with content-type ${JSON.stringify(type)}, not gRPC` });
      } else if (endOfStream) {
        this.#settle(noStatus("response headers"));
      } else {
        this.#responded = true;
      }
    }
  }

  #onClose(): void {
    if (this.#status !== undefined) return;
    if (this.#serverStatus !== undefined) {
      this.#settle(this.#serverStatus);
      return;
    }
    const rstCode = this.#stream.rstCode;
    if (rstCode === constants.NGHTTP2_REFUSED_STREAM) {
      // Refused (also: opened past a GOAWAY's last stream): never processed, safe to send again.
      this.#settle(statusFromReset(rstCode));
    } else if (this.#session === undefined || this.#session.destroyed) {
      this.#settle({ code: Status.UNAVAILABLE, details: "the connection to the server was lost" });
    } else if (rstCode !== undefined && rstCode !== constants.NGHTTP2_NO_ERROR) {
      this.#settle(statusFromReset(rstCode));
    } else {
      this.#settle(noStatus("stream"));
    }
  }

  #settle(status: CallStatus): void {
    if (this.#status !== undefined) return;
    this.#status = status;
    clearTimeout(this.#deadlineTimer);
    // Whatever the status, a stream not half-closed is reset, never ended:
    // a server must not see a cancelled or failed request as complete.
    if (!this.#halfClosed || status.code !== Status.OK) {
      resetStream(this.#stream, this.#abort);
    }
    this.#wake();
    this.#resolve(status);
    this.#onSettled(this);
  }

  #wake(): void {
    const waiters = this.#waiters;
    if (waiters.length === 0) return;
    this.#waiters = [];
    for (const wake of waiters) wake();
  }
}

function noStatus(where: string): CallStatus {
  return { code: Status.INTERNAL, details: `the server ended the ${where} without a gRPC status` };
}
