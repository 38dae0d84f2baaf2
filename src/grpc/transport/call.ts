/**
 * One gRPC call on one HTTP/2 stream of our own transport (h2/session.ts):
 * the caller writes framed request bytes and half-closes; the call reads the
 * response headers and trailers into a status. A cancel resets the stream
 * with RST_STREAM (CANCEL) and never half-closes it, so a server can never
 * take a cancelled stream for a finished one.
 *
 * @internal
 * @module
 */
import { status as Status } from "@grpc/grpc-js";
import { FramingError, MessageReader } from "./framing.js";
import { ErrorCode } from "./h2/frames.js";
import { type H2Stream, MAX_HEADER_LIST_BYTES, type StreamHandler } from "./h2/session.js";
import { type CallStatus, headersOf, statusFromHttp, statusFromReset, statusFromTrailers } from "./status.js";

/** Largest response message a call reads, when it reads them. */
const MAX_RESPONSE_MESSAGE_BYTES = 64 * 1024 * 1024;

/**
 * How many request bytes may wait for the transport before the writer waits
 * for them to drain: enough for several chunks in flight, small enough that a
 * stalled server stops the source being read.
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
export class ClientCall implements Call, StreamHandler {
  #stream: H2Stream | undefined;
  readonly #onSettled: (call: ClientCall) => void;
  readonly #onMessage: ((message: Buffer) => void) | undefined;
  #reader: MessageReader | undefined;
  #status: CallStatus | undefined;
  #responded = false;
  #headersSeen = false;
  #halfClosed = false;
  #waiters: (() => void)[] = [];
  #deadlineTimer: NodeJS.Timeout | undefined;
  #paused = false;
  /** Response bytes that came while reading was paused. */
  #held: Buffer[] = [];
  /** The body ended (END_STREAM) after the bytes held. */
  #bodyEnded = false;
  /** The server's status, held until the body is read (server streaming). */
  #serverStatus: CallStatus | undefined;
  #resolve!: (status: CallStatus) => void;
  /** The call's status; never rejects. */
  readonly status: Promise<CallStatus>;

  /**
   * @param onMessage - receives each response message (server streaming);
   *   without it the response body is read and dropped.
   */
  constructor(deadline: number | undefined, onSettled: (call: ClientCall) => void, onMessage?: (message: Buffer) => void) {
    this.#onSettled = onSettled;
    this.#onMessage = onMessage;
    if (onMessage !== undefined) this.#reader = new MessageReader(MAX_RESPONSE_MESSAGE_BYTES);
    this.status = new Promise((resolve) => (this.#resolve = resolve));
    if (deadline !== undefined) {
      this.#deadlineTimer = setTimeout(
        () => this.cancel({ code: Status.DEADLINE_EXCEEDED, details: "Deadline exceeded" }),
        Math.max(0, deadline - Date.now()),
      );
    }
  }

  /** Binds the call to the stream carrying it (once, right after the stream opened). */
  attach(stream: H2Stream): void {
    this.#stream = stream;
    if (this.#status !== undefined) stream.cancel();
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
    return (this.#stream?.queuedBytes ?? 0) > MAX_BUFFERED_BYTES;
  }

  /** Stops reading responses until {@link resumeReading}: HTTP/2 flow control then holds the server back. */
  pauseReading(): void {
    this.#paused = true;
  }

  /** Reads responses again after {@link pauseReading}, starting with those that came meanwhile. */
  resumeReading(): void {
    if (!this.#paused) return;
    this.#paused = false;
    while (!this.#paused && this.#held.length > 0 && this.#status === undefined) this.#read(this.#held.shift()!);
    if (this.#held.length === 0 && this.#bodyEnded) this.#onBodyEnd();
  }

  /** Sends request bytes (framed messages). Ignored once the call is settled. */
  write(bytes: Buffer): void {
    if (this.#status !== undefined || this.#halfClosed) return;
    this.#stream?.write(bytes);
  }

  /** Resolves once the queued bytes drained or the call settled. */
  drained(): Promise<void> {
    if (!this.full || this.#status !== undefined) return Promise.resolve();
    return new Promise((resolve) => this.#waiters.push(resolve));
  }

  /** Sends the last bytes, if any, and half-closes: the request is complete. */
  end(bytes?: Buffer): void {
    if (this.#status !== undefined || this.#halfClosed) return;
    this.#halfClosed = true;
    this.#stream?.end(bytes);
  }

  /**
   * Ends the call with `status` now (the caller's reason: a cancel, a
   * deadline, a bad entry) and resets the stream. Nothing more is sent; what
   * was not yet handed to the transport is dropped.
   */
  cancel(status: CallStatus): void {
    this.#settle(status);
  }

  // ---- what the stream hears (StreamHandler)

  onHeaders(fields: [string, string][], endStream: boolean, oversized: boolean): void {
    if (this.#status !== undefined) return;
    if (oversized) {
      this.#settle({ code: Status.INTERNAL, details: `the server's headers exceed ${MAX_HEADER_LIST_BYTES} bytes` });
      return;
    }
    const headers = headersOf(fields);
    if (this.#headersSeen) {
      if (!endStream) {
        // Trailers end the stream (RFC 9113 §8.1); headers after headers that do not are malformed.
        this.#settle({ code: Status.INTERNAL, details: "the server sent a second header block without ending the stream" });
        return;
      }
      this.#bodyEnded = true;
      this.#onStatus(statusFromTrailers(headers) ?? noStatus("trailers"));
      return;
    }
    this.#headersSeen = true;
    const httpStatus = Number(headers[":status"]);
    const trailersOnly = statusFromTrailers(headers);
    if (trailersOnly !== undefined && (endStream || httpStatus !== 200)) {
      this.#onStatus(trailersOnly);
    } else if (httpStatus !== 200) {
      this.#settle(statusFromHttp(httpStatus));
    } else {
      const type = String(headers["content-type"] ?? "");
      if (!type.startsWith("application/grpc")) {
        this.#settle({ code: Status.UNKNOWN, details: `server answered with content-type ${JSON.stringify(type)}, not gRPC` });
      } else if (endStream) {
        this.#settle(noStatus("response headers"));
      } else {
        this.#responded = true;
      }
    }
  }

  onData(bytes: Buffer, endStream: boolean): void {
    if (this.#status !== undefined) return;
    if (this.#reader === undefined) {
      this.#stream?.consumed(bytes.length); // the response body (an empty message) is not needed
    } else if (this.#paused || this.#held.length > 0) {
      this.#held.push(bytes);
    } else {
      this.#read(bytes);
    }
    if (endStream) {
      this.#bodyEnded = true;
      if (this.#held.length === 0) this.#onBodyEnd();
    }
  }

  onReset(code: number): void {
    if (this.#serverStatus !== undefined) this.#settleServer(this.#serverStatus);
    else if (code === ErrorCode.NO_ERROR) this.#settle(noStatus("stream"));
    else this.#settle(statusFromReset(code));
  }

  onRefused(): void {
    this.#settle(statusFromReset(ErrorCode.REFUSED_STREAM));
  }

  onLost(reason: string): void {
    if (this.#serverStatus !== undefined) this.#settleServer(this.#serverStatus);
    else this.#settle({ code: Status.UNAVAILABLE, details: `the connection to the server was lost (${reason})` });
  }

  onWritable(): void {
    if (!this.full) this.#wake();
  }

  // ----

  /** Reads response bytes into messages until the bytes end, reading is paused, or the call settles. */
  #read(bytes: Buffer): void {
    let taken: number;
    try {
      taken = this.#reader!.push(bytes, this.#onMessage!, this.#stopReading);
    } catch (err) {
      if (!(err instanceof FramingError)) throw err;
      this.cancel({ code: Status.INTERNAL, details: err.message });
      return;
    }
    this.#stream?.consumed(taken);
    // Paused by a message: the rest of these bytes waits its turn.
    if (taken < bytes.length && this.#status === undefined) this.#held.unshift(bytes.subarray(taken));
  }

  readonly #stopReading = () => this.#paused || this.#status !== undefined;

  /** The response body ended (END_STREAM on DATA, every byte read): the status, if it came, or none. */
  #onBodyEnd(): void {
    this.#settleServer(this.#serverStatus ?? noStatus("stream"));
  }

  /** The server's own status: at once, or after the body when messages are read and some wait. */
  #onStatus(status: CallStatus): void {
    if (this.#held.length === 0) this.#settleServer(status);
    else this.#serverStatus ??= status;
  }

  /** Settles with the server's status, unless an OK response ended inside a message: the message was cut short. */
  #settleServer(status: CallStatus): void {
    if (status.code === Status.OK && this.#reader?.pending === true) {
      this.#settle({ code: Status.INTERNAL, details: "the server ended the response inside a message" });
    } else {
      this.#settle(status);
    }
  }

  #settle(status: CallStatus): void {
    if (this.#status !== undefined) return;
    this.#status = status;
    clearTimeout(this.#deadlineTimer);
    this.#held = [];
    // Whatever the status, a stream still open either way is reset, never
    // ended: a server must not see a cancelled or failed request as complete,
    // and a stream the server finished early must not hold its slot.
    this.#stream?.cancel(ErrorCode.CANCEL);
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
