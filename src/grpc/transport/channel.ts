/**
 * A client's connection to one gRPC server over `node:http2`: connected on
 * first use, shared by every call, replaced after the server closes it or goes
 * away, and closed with the client. Calls start here, at most
 * `maxConcurrentCalls` at a time (the rest wait their turn), and a call the
 * server refused unprocessed is sent again once (see retry.ts).
 *
 * grpc-js is used for what it shares with this transport (credentials,
 * metadata, status codes), not to carry bytes: it hands HTTP/2 one write per
 * message, and its cancel half-closes a stream before resetting it.
 *
 * @internal
 * @module
 */
import { type ClientHttp2Session, connect as http2Connect, constants } from "node:http2";
import { CallCredentials, type ChannelCredentials, type ChannelOptions, Metadata, status as Status } from "@grpc/grpc-js";
import { ClientCall } from "./call.js";
import { type DialTarget, dial } from "./dial.js";
import { resetsWithoutSignal } from "./reset.js";
import { RetryingCall } from "./retry.js";
import { type CallStatus, grpcTimeout } from "./status.js";

/** The same options for every request: node:http2 validates a given priority faster than a missing one. */
const REQUEST_OPTIONS = Object.freeze({ endStream: false, weight: 16, parent: 0, exclusive: false, silent: false });

const NO_CALL_CREDENTIALS = CallCredentials.createEmpty();

/** A failure before a call could start, carried as a gRPC status. @internal */
export class ChannelError extends Error {
  override readonly name = "ChannelError";
  constructor(
    readonly code: Status,
    readonly details: string,
    options?: ErrorOptions,
  ) {
    super(details, options);
  }
}

/** How a call starts. @internal */
export interface StartOptions {
  /** `/package.Service/Method`. */
  readonly path: string;
  readonly metadata: Metadata;
  /** Absolute time (ms since the epoch) after which the call ends with DEADLINE_EXCEEDED. */
  readonly deadline: number | undefined;
  /** Receives each response message, for a server-streaming call. */
  readonly onMessage?: (message: Buffer) => void;
}

/** How a channel connects and how many calls it runs at once. @internal */
export interface ChannelSettings {
  readonly connectTimeoutMs: number;
  /** Calls in flight at once; more wait for a slot. */
  readonly maxConcurrentCalls: number;
}

const USER_AGENT = "tracee-ds-grpc";

const closedError = () => new ChannelError(Status.CANCELLED, "the client is closed");

/** @internal */
export class Channel {
  readonly #target: DialTarget;
  readonly #credentials: ChannelCredentials;
  readonly #options: ChannelOptions;
  readonly #settings: ChannelSettings;
  #session: ClientHttp2Session | undefined;
  #connecting: Promise<ClientHttp2Session> | undefined;
  /** Aborted by close(): stops a connection attempt in progress. */
  readonly #closing = new AbortController();
  readonly #calls = new Set<ClientCall>();
  #inFlight = 0;
  #waiting: { resolve: () => void; reject: (err: Error) => void }[] = [];
  #scheme = "http";
  #callCredentials: Awaited<ReturnType<typeof dial>>["callCredentials"] | undefined;

  constructor(target: DialTarget, credentials: ChannelCredentials, options: ChannelOptions, settings: ChannelSettings) {
    this.#target = target;
    this.#credentials = credentials;
    this.#options = options;
    this.#settings = settings;
  }

  get #closed(): boolean {
    return this.#closing.signal.aborted;
  }

  /** The session to start calls on: the current one, or a new connection. */
  connect(): Promise<ClientHttp2Session> {
    if (this.#closed) return Promise.reject(closedError());
    const session = this.#session;
    if (session !== undefined && !session.closed && !session.destroyed) return Promise.resolve(session);
    this.#connecting ??= this.#open().finally(() => (this.#connecting = undefined));
    return this.#connecting;
  }

  async #open(): Promise<ClientHttp2Session> {
    const signal = this.#closing.signal;
    let dialed;
    try {
      dialed = await dial(this.#target, this.#credentials, this.#options, this.#settings.connectTimeoutMs, signal);
    } catch (err) {
      if (this.#closed) throw closedError();
      throw new ChannelError(Status.UNAVAILABLE, err instanceof Error ? err.message : String(err), { cause: err });
    }
    const { socket } = dialed;
    if (this.#closed) {
      socket.destroy();
      throw closedError();
    }
    this.#scheme = dialed.secure ? "https" : "http";
    // Insecure and plain TLS credentials carry grpc-js's empty call credentials: none to run per call.
    this.#callCredentials = dialed.callCredentials._equals(NO_CALL_CREDENTIALS) ? undefined : dialed.callCredentials;
    const session = http2Connect(`${this.#scheme}://${this.#target.authority}`, {
      createConnection: () => socket,
      // Large messages go out in one write; let the session hold them.
      maxSessionMemory: 64,
      settings: { enablePush: false },
    });
    const forget = () => {
      if (this.#session === session) this.#session = undefined;
    };
    session.on("error", forget);
    session.on("close", forget);
    session.on("goaway", forget); // calls in flight finish; new ones get a new connection
    await new Promise<void>((resolve, reject) => {
      const settle = (err?: ChannelError) => {
        session.off("error", onError);
        session.off("close", onClose);
        session.off("remoteSettings", onSettings);
        signal.removeEventListener("abort", onAbort);
        session.setTimeout(0);
        if (err === undefined) resolve();
        else reject(err);
      };
      const unavailable = (reason: string, cause?: unknown) =>
        new ChannelError(Status.UNAVAILABLE, `HTTP/2 with ${this.#target.text} failed: ${reason}`, { cause });
      const onError = (err: NodeJS.ErrnoException) =>
        settle(unavailable(err.code === "ETIMEDOUT" ? "the server did not answer in time" : err.message, err));
      // A peer that closes the connection before speaking HTTP/2 (a proxy whose backend is down).
      const onClose = () => settle(unavailable("the connection closed before the server's SETTINGS"));
      // Connected once the server's SETTINGS arrived: it speaks HTTP/2.
      const onSettings = () => settle();
      const onAbort = () => {
        session.destroy();
        settle(closedError());
      };
      session.once("error", onError);
      session.once("close", onClose);
      session.once("remoteSettings", onSettings);
      signal.addEventListener("abort", onAbort, { once: true });
      // A peer that accepted the connection but never speaks HTTP/2.
      session.setTimeout(this.#settings.connectTimeoutMs, () =>
        session.destroy(Object.assign(new Error("HTTP/2 handshake timed out"), { code: "ETIMEDOUT" })),
      );
    });
    this.#session = session;
    this.#updateRef();
    return session;
  }

  /** Waits for a free call slot; rejects once the client closes. */
  #acquire(): Promise<void> {
    if (this.#closed) return Promise.reject(closedError());
    if (this.#inFlight < this.#settings.maxConcurrentCalls) {
      this.#inFlight++;
      return Promise.resolve();
    }
    return new Promise((resolve, reject) => this.#waiting.push({ resolve, reject }));
  }

  #release(): void {
    const next = this.#waiting.shift();
    if (next !== undefined) next.resolve(); // the slot passes on
    else this.#inFlight--;
  }

  /**
   * Starts a call once a slot is free: connects if needed, sends the request
   * headers. Rejects with a {@link ChannelError} (`UNAVAILABLE` when the
   * server cannot be reached, `DEADLINE_EXCEEDED`, `CANCELLED` once the
   * client is closed).
   */
  async start(options: StartOptions): Promise<RetryingCall> {
    await this.#acquire();
    let first: ClientCall;
    try {
      first = await this.#startStream(options);
    } catch (err) {
      this.#release();
      throw err;
    }
    return new RetryingCall(first, () => this.#startStream(options), () => this.#release());
  }

  /** Opens one HTTP/2 stream for a call: at once on a live connection without call credentials. */
  #startStream(options: StartOptions): Promise<ClientCall> {
    const session = this.#session;
    if (this.#callCredentials === undefined && session !== undefined && !session.closed && !session.destroyed && !this.#closed) {
      try {
        return Promise.resolve(this.#request(session, options.metadata, options));
      } catch (err) {
        return Promise.reject(err);
      }
    }
    return this.#connectAndRequest(options);
  }

  async #connectAndRequest(options: StartOptions): Promise<ClientCall> {
    const session = await this.connect();
    const metadata = await this.#withCallCredentials(options);
    if (this.#closed) throw closedError();
    return this.#request(session, metadata, options);
  }

  /** Sends a call's request headers on `session`. */
  #request(session: ClientHttp2Session, metadata: Metadata, options: StartOptions): ClientCall {
    if (options.deadline !== undefined && options.deadline <= Date.now()) {
      throw new ChannelError(Status.DEADLINE_EXCEEDED, "Deadline exceeded");
    }
    const headers = Object.assign(metadata.toHttp2Headers(), this.#fixedHeaders(), { [constants.HTTP2_HEADER_PATH]: options.path });
    if (options.deadline !== undefined) headers["grpc-timeout"] = grpcTimeout(options.deadline - Date.now());
    const abort = resetsWithoutSignal ? undefined : new AbortController();
    let stream;
    try {
      stream = session.request(headers, abort === undefined ? REQUEST_OPTIONS : { ...REQUEST_OPTIONS, signal: abort.signal });
    } catch (err) {
      throw new ChannelError(Status.UNAVAILABLE, `cannot start a call on ${this.#target.text}: ${(err as Error).message}`, {
        cause: err,
      });
    }
    const call = new ClientCall(
      stream,
      abort,
      options.deadline,
      (done) => {
        this.#calls.delete(done);
        this.#updateRef();
      },
      options.onMessage,
    );
    this.#calls.add(call);
    this.#updateRef();
    return call;
  }

  #fixed: Readonly<Record<string, string>> | undefined;

  /** The headers every call sends, the same for the channel's life. */
  #fixedHeaders(): Readonly<Record<string, string>> {
    this.#fixed ??= Object.freeze({
      [constants.HTTP2_HEADER_METHOD]: "POST",
      [constants.HTTP2_HEADER_SCHEME]: this.#scheme,
      [constants.HTTP2_HEADER_AUTHORITY]: this.#target.authority,
      [constants.HTTP2_HEADER_CONTENT_TYPE]: "application/grpc",
      [constants.HTTP2_HEADER_TE]: "trailers",
      [constants.HTTP2_HEADER_USER_AGENT]: USER_AGENT,
      "grpc-accept-encoding": "identity",
    });
    return this.#fixed;
  }

  async #withCallCredentials(options: StartOptions): Promise<Metadata> {
    const callCredentials = this.#callCredentials;
    if (callCredentials === undefined) return options.metadata;
    const serviceUrl = `${this.#scheme}://${this.#target.authority}${options.path.slice(0, options.path.lastIndexOf("/"))}`;
    let generated: Metadata;
    try {
      generated = await callCredentials.generateMetadata({
        method_name: options.path.slice(options.path.lastIndexOf("/") + 1),
        service_url: serviceUrl,
      });
    } catch (err) {
      throw new ChannelError(Status.UNAUTHENTICATED, `call credentials failed: ${(err as Error).message}`, { cause: err });
    }
    if (Object.keys(generated.getMap()).length === 0) return options.metadata;
    const merged = options.metadata.clone();
    merged.merge(generated);
    return merged;
  }

  /** Keeps the process alive while calls run, and not after. */
  #updateRef(): void {
    const session = this.#session;
    if (session === undefined || session.destroyed) return;
    if (this.#calls.size > 0) session.ref();
    else session.unref();
  }

  /**
   * Ends every call in flight or waiting with `status`, stops a connection
   * attempt, and closes the connection; later calls fail `CANCELLED`.
   */
  close(status: CallStatus = { code: Status.CANCELLED, details: "the client was closed" }): void {
    if (this.#closed) return;
    this.#closing.abort();
    for (const waiter of this.#waiting.splice(0)) waiter.reject(closedError());
    for (const call of [...this.#calls]) call.cancel(status);
    const session = this.#session;
    this.#session = undefined;
    session?.close();
    // Reset streams go out before the connection closes; then it goes.
    setImmediate(() => session?.destroy());
  }
}
