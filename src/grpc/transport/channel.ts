/**
 * A client's connection to one gRPC server over our own HTTP/2 transport
 * (h2/): connected on first use, shared by every call, replaced after the
 * server closes it or goes away, and closed with the client. Calls start
 * here, at most `maxConcurrentCalls` at a time (the rest wait their turn),
 * and a call the server refused unprocessed is sent again once (see
 * retry.ts).
 *
 * grpc-js is used for what it shares with this transport (credentials,
 * metadata, status codes), not to carry bytes: it hands HTTP/2 one write per
 * message. `node:http2` is not used either: its per-request work (stream
 * objects, header copies, async-resource bookkeeping) cost half the speed of
 * Go's client on small unary calls; h2/ writes each turn's frames at once
 * and keeps a call to a handful of objects.
 *
 * @internal
 * @module
 */
import { CallCredentials, type ChannelCredentials, type ChannelOptions, Metadata, status as Status } from "@grpc/grpc-js";
import { ClientCall } from "./call.js";
import { type DialTarget, dial } from "./dial.js";
import { encodeLiterals } from "./h2/hpack.js";
import { H2Session, type SessionEvents } from "./h2/session.js";
import { RetryingCall } from "./retry.js";
import { type CallStatus, grpcTimeout } from "./status.js";

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

/** The regular headers of every call, after the pseudo-headers; metadata cannot replace them. */
const FIXED_HEADERS: readonly (readonly [string, string])[] = [
  ["content-type", "application/grpc"],
  ["te", "trailers"],
  ["user-agent", USER_AGENT],
  ["grpc-accept-encoding", "identity"],
];
const FIXED_NAMES = new Set(FIXED_HEADERS.map(([name]) => name));

const closedError = () => new ChannelError(Status.CANCELLED, "the client is closed");

/** @internal */
export class Channel {
  readonly #target: DialTarget;
  readonly #credentials: ChannelCredentials;
  readonly #options: ChannelOptions;
  readonly #settings: ChannelSettings;
  #session: H2Session | undefined;
  #connecting: Promise<H2Session> | undefined;
  /** Aborted by close(): stops a connection attempt in progress. */
  readonly #closing = new AbortController();
  readonly #calls = new Set<ClientCall>();
  #inFlight = 0;
  #waiting: { resolve: () => void; reject: (err: Error) => void }[] = [];
  #scheme = "http";
  #callCredentials: Awaited<ReturnType<typeof dial>>["callCredentials"] | undefined;
  /** A session that closed or went away is no longer the one calls start on. */
  readonly #sessionEvents: SessionEvents = {
    onClose: (session) => this.#forget(session),
    onGoaway: (session) => this.#forget(session),
  };
  readonly #onCallSettled = (call: ClientCall) => {
    this.#calls.delete(call);
    this.#updateRef();
  };

  constructor(target: DialTarget, credentials: ChannelCredentials, options: ChannelOptions, settings: ChannelSettings) {
    this.#target = target;
    this.#credentials = credentials;
    this.#options = options;
    this.#settings = settings;
  }

  get #closed(): boolean {
    return this.#closing.signal.aborted;
  }

  #forget(session: H2Session): void {
    if (this.#session === session) this.#session = undefined;
  }

  /** The session to start calls on: the current one, or a new connection. */
  connect(): Promise<H2Session> {
    if (this.#closed) return Promise.reject(closedError());
    const session = this.#session;
    if (session !== undefined && session.usable) return Promise.resolve(session);
    this.#connecting ??= this.#open().finally(() => (this.#connecting = undefined));
    return this.#connecting;
  }

  async #open(): Promise<H2Session> {
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
    const session = new H2Session(socket, this.#sessionEvents);
    // A peer that accepted the connection but never speaks HTTP/2.
    const timer = setTimeout(() => session.destroy("the server did not answer in time"), this.#settings.connectTimeoutMs);
    const onAbort = () => session.destroy("the client was closed");
    signal.addEventListener("abort", onAbort, { once: true });
    try {
      // Connected once the server's SETTINGS arrived: it speaks HTTP/2.
      await session.ready;
    } catch (err) {
      if (this.#closed) throw closedError();
      throw new ChannelError(Status.UNAVAILABLE, `HTTP/2 with ${this.#target.text} failed: ${(err as Error).message}`, { cause: err });
    } finally {
      clearTimeout(timer);
      signal.removeEventListener("abort", onAbort);
    }
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
    if (this.#callCredentials === undefined && session !== undefined && session.usable && !this.#closed) {
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
  #request(session: H2Session, metadata: Metadata, options: StartOptions): ClientCall {
    if (options.deadline !== undefined && options.deadline <= Date.now()) {
      throw new ChannelError(Status.DEADLINE_EXCEEDED, "Deadline exceeded");
    }
    const block = this.#headerBlock(metadata, options);
    const call = new ClientCall(options.deadline, this.#onCallSettled, options.onMessage);
    try {
      call.attach(session.open(block, call));
    } catch (err) {
      throw new ChannelError(Status.UNAVAILABLE, `cannot start a call on ${this.#target.text}: ${(err as Error).message}`, {
        cause: err,
      });
    }
    this.#calls.add(call);
    this.#updateRef();
    return call;
  }

  /** The encoded headers every call to a path sends, made once per path. */
  readonly #fixedBlocks = new Map<string, Buffer>();

  /** A call's request headers, HPACK-encoded: the fixed ones, then its deadline and metadata. */
  #headerBlock(metadata: Metadata, options: StartOptions): Buffer {
    let fixed = this.#fixedBlocks.get(options.path);
    if (fixed === undefined) {
      fixed = encodeLiterals([
        [":method", "POST"],
        [":scheme", this.#scheme],
        [":path", options.path],
        [":authority", this.#target.authority],
        ...FIXED_HEADERS,
      ]);
      this.#fixedBlocks.set(options.path, fixed);
    }
    const extra: [string, string][] = [];
    if (options.deadline !== undefined) extra.push(["grpc-timeout", grpcTimeout(options.deadline - Date.now())]);
    const headers = metadata.toHttp2Headers();
    for (const name in headers) {
      if (FIXED_NAMES.has(name) || name.startsWith(":") || (name === "grpc-timeout" && options.deadline !== undefined)) continue;
      const value = headers[name];
      if (Array.isArray(value)) for (const one of value) extra.push([name, String(one)]);
      else if (value !== undefined) extra.push([name, String(value)]);
    }
    return extra.length === 0 ? fixed : Buffer.concat([fixed, encodeLiterals(extra)]);
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
    if (session === undefined || session.closed) return;
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
    // The resets just queued and a GOAWAY go out before the connection closes.
    session?.close();
  }
}
