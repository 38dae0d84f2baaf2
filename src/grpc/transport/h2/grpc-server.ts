/**
 * A gRPC server on our own HTTP/2 (server-session.ts) that runs grpc-js
 * service implementations as they are: each call is an object shaped as the
 * grpc-js server calls the services use (`request`, `metadata`, `getPeer`,
 * `getDeadline`, `cancelled`, `data` / `end` / `cancelled` / `error`
 * events, the unary callback), and under it, where grpc-js keeps the
 * `node:http2` stream, a stream and session that answer what liveness.ts and
 * stream-call.ts ask of them (`destroyed`, `aborted`, `ping`, the status sent).
 *
 * Why: grpc-js's server costs more per call than the whole work of a data
 * source write; on this transport `Write` and `WriteStream` run well above a
 * grpc-js server that does no work at all (bench/grpc.bench.ts).
 *
 * @module
 */
import { EventEmitter } from "node:events";
import { createServer as createNetServer, type Server as NetServer, type Socket } from "node:net";
import { createServer as createTlsServer } from "node:tls";
import {
  Metadata,
  type MethodDefinition,
  type ServerCredentials,
  type ServiceDefinition,
  status as Status,
  type UntypedServiceImplementation,
} from "@grpc/grpc-js";
import { parseAddress } from "../../address.js";
import { MAX_TIMER_MS } from "../../limits.js";
import { FramingError, frameMessage, MessageReader } from "../framing.js";
import { deadlineFromGrpcTimeout, encodeGrpcMessage, headersOf } from "../status.js";
import { encodeLiterals } from "./hpack.js";
import { ServerSession, type ServerStream, type ServerStreamHandler } from "./server-session.js";

type Handler = (call: GrpcServerCall, callback: (err: unknown, value?: unknown) => void) => void;

interface Route {
  readonly definition: MethodDefinition<unknown, unknown>;
  readonly handler: Handler;
}

const RESPONSE_HEADERS = encodeLiterals([
  [":status", "200"],
  ["content-type", "application/grpc"],
  ["grpc-accept-encoding", "identity"],
]);
const OK_TRAILERS = encodeLiterals([["grpc-status", "0"]]);

/** The header block of an answer that is a status alone (gRPC's trailers-only response). */
function trailersOnly(status: { code: number; details: string; metadata?: Metadata }): Buffer {
  const fields: [string, string][] = [
    [":status", "200"],
    ["content-type", "application/grpc"],
    ["grpc-status", String(status.code)],
  ];
  if (status.details !== "") fields.push(["grpc-message", encodeGrpcMessage(status.details)]);
  if (status.metadata !== undefined) {
    const headers = status.metadata.toHttp2Headers();
    for (const name in headers) {
      const value = headers[name];
      for (const one of Array.isArray(value) ? value : [value]) if (one !== undefined) fields.push([name, String(one)]);
    }
  }
  return encodeLiterals(fields);
}

/** Headers that are HTTP/2's or gRPC's, not the caller's metadata. */
const NOT_METADATA = new Set(["content-type", "te", "grpc-timeout", "grpc-encoding", "grpc-accept-encoding", "user-agent"]);

/** The connection under a call, as liveness.ts asks it: closed yet, and a PING round trip. */
class SessionView {
  constructor(readonly session: ServerSession) {}
  get destroyed(): boolean {
    return this.session.closed;
  }
  get closed(): boolean {
    return this.session.closed;
  }
  ping(callback: (err: Error | null) => void): boolean {
    void this.session.ping().then((alive) => callback(alive ? null : new Error("the connection ended")));
    return true;
  }
}

/** The stream under a call, as liveness.ts and stream-call.ts ask it. */
class StreamView {
  sentHeaders: Record<string, string> | undefined;
  sentTrailers: Record<string, string> | undefined;
  constructor(
    readonly call: GrpcServerCall,
    readonly session: SessionView,
  ) {}
  get destroyed(): boolean {
    return this.call.gone;
  }
  get aborted(): boolean {
    return this.call.gone;
  }
}

/** One call, shaped as a grpc-js `ServerUnaryCall` / `ServerReadableStream`. */
export class GrpcServerCall extends EventEmitter implements ServerStreamHandler {
  request: unknown;
  cancelled = false;
  /** The client reset the stream, or the connection ended. */
  gone = false;
  /** Where grpc-js keeps its `node:http2` stream (liveness.ts looks here). */
  readonly call: { stream: StreamView };
  readonly #stream: ServerStream;
  readonly #route: Route;
  readonly #deadline: number;
  readonly #peer: string;
  readonly #reader: MessageReader;
  readonly #messages: unknown[] = [];
  #finished = false;
  #deadlineTimer: NodeJS.Timeout | undefined;
  readonly #onFinished: (call: GrpcServerCall) => void;

  constructor(
    readonly metadata: Metadata,
    stream: ServerStream,
    session: SessionView,
    route: Route,
    deadline: number,
    peer: string,
    maxMessageBytes: number,
    onFinished: (call: GrpcServerCall) => void,
  ) {
    super();
    this.#stream = stream;
    this.#route = route;
    this.#deadline = deadline;
    this.#peer = peer;
    this.#reader = new MessageReader(maxMessageBytes, "client");
    this.#onFinished = onFinished;
    this.call = { stream: new StreamView(this, session) };
    // A deadline further off than a timer can hold (2^31-1 ms, about 24.8 days) is as good as none.
    const left = deadline - Date.now();
    if (left <= MAX_TIMER_MS) this.#deadlineTimer = setTimeout(() => this.#expire(), Math.max(0, left));
    this.on("error", () => undefined); // grpc-js's calls carry their errors as events too; none is fatal
  }

  getPeer(): string {
    return this.#peer;
  }

  getDeadline(): number {
    return this.#deadline;
  }

  /** Starts a client-streaming handler at once; a unary one waits for its message. */
  begin(): void {
    if (this.#route.definition.requestStream) this.#route.handler(this, this.#callback);
  }

  // ---- from the stream

  onData(bytes: Buffer, endStream: boolean): void {
    if (this.#finished) return;
    try {
      this.#reader.push(bytes, this.#onMessage);
    } catch (err) {
      if (!(err instanceof FramingError)) throw err;
      const status = { code: err.kind === "compressed" ? Status.INTERNAL : Status.RESOURCE_EXHAUSTED, details: err.message };
      this.#respondError(status);
      this.emit("error", Object.assign(new Error(status.details), status));
      return;
    }
    this.#stream.consumed(bytes.length);
    if (!endStream || this.#finished) return;
    if (this.#reader.pending) {
      this.#respondError({ code: Status.INTERNAL, details: "the request ended inside a message" });
      return;
    }
    if (this.#route.definition.requestStream) {
      this.emit("end");
      return;
    }
    if (this.#messages.length !== 1) {
      this.#respondError({ code: Status.UNIMPLEMENTED, details: `a unary call needs one request message, got ${this.#messages.length}` });
      return;
    }
    this.request = this.#messages[0];
    this.#route.handler(this, this.#callback);
  }

  onGone(): void {
    if (this.#finished) return;
    this.gone = true;
    this.#cancel();
  }

  onWritable(): void {}

  // ----

  readonly #onMessage = (message: Buffer) => {
    if (this.#finished) return;
    let value: unknown;
    try {
      value = this.#route.definition.requestDeserialize(message);
    } catch (err) {
      this.#respondError({ code: Status.INTERNAL, details: `cannot decode the request: ${(err as Error).message}` });
      return;
    }
    if (this.#route.definition.requestStream) this.emit("data", value);
    else if (this.#messages.push(value) > 1) {
      // As grpc-js: a unary call takes one message; a second is refused at once, not buffered.
      this.#respondError({ code: Status.UNIMPLEMENTED, details: "Received a second request message for server unary call" });
    }
  };

  readonly #callback = (err: unknown, value?: unknown): void => {
    if (this.#finished) return;
    if (err !== null && err !== undefined) {
      const { code, details, metadata } = err as { code?: unknown; details?: unknown; metadata?: unknown };
      this.#respondError({
        code: typeof code === "number" ? code : Status.UNKNOWN,
        details: typeof details === "string" ? details : err instanceof Error ? err.message : String(err),
        ...(metadata instanceof Metadata ? { metadata } : {}),
      });
      return;
    }
    let bytes: Buffer;
    try {
      bytes = this.#route.definition.responseSerialize(value);
    } catch (e) {
      this.#respondError({ code: Status.INTERNAL, details: `cannot encode the response: ${(e as Error).message}` });
      return;
    }
    this.#finish();
    const framed = frameMessage(bytes);
    this.call.stream.sentHeaders = { ":status": "200" };
    this.call.stream.sentTrailers = { "grpc-status": "0" };
    this.#stream.respond(RESPONSE_HEADERS);
    this.#stream.write(framed);
    this.#stream.finish(OK_TRAILERS);
  };

  /** Answers with an error status: trailers only (no response message was sent). */
  #respondError(status: { code: number; details: string; metadata?: Metadata }): void {
    if (this.#finished) return;
    this.#finish();
    this.call.stream.sentTrailers = { "grpc-status": String(status.code), "grpc-message": encodeGrpcMessage(status.details) };
    this.#stream.sendTrailersOnly(trailersOnly(status));
  }

  #expire(): void {
    if (this.#finished) return;
    this.#respondError({ code: Status.DEADLINE_EXCEEDED, details: "Deadline exceeded" });
    this.#cancel();
  }

  #cancel(): void {
    if (this.cancelled) return;
    this.cancelled = true;
    this.#finish();
    this.emit("cancelled");
  }

  #finish(): void {
    if (this.#finished) return;
    this.#finished = true;
    clearTimeout(this.#deadlineTimer);
    this.#onFinished(this);
  }
}

/** The part of grpc-js's `Server` that server.ts uses, on our HTTP/2. */
export class GrpcServer {
  readonly #routes = new Map<string, Route>();
  readonly #maxMessageBytes: number;
  readonly #listeners: NetServer[] = [];
  readonly #sessions = new Set<ServerSession>();
  readonly #calls = new Set<GrpcServerCall>();
  #shuttingDown = false;
  #onIdle: (() => void) | undefined;

  constructor(options: { maxMessageBytes: number }) {
    this.#maxMessageBytes = options.maxMessageBytes;
  }

  addService(definition: ServiceDefinition, implementation: UntypedServiceImplementation): void {
    for (const [name, method] of Object.entries(definition)) {
      const handler = implementation[name] as unknown as Handler | undefined;
      if (handler === undefined) continue;
      this.#routes.set(method.path, { definition: method as MethodDefinition<unknown, unknown>, handler });
    }
  }

  /** Listens on `address` (`host:port` or `unix:///path`); resolves with the port (0 for a unix socket). */
  bind(address: string, credentials: ServerCredentials): Promise<number> {
    const parsed = parseAddress(address);
    const secure = credentials._isSecure();
    const onSocket = (socket: Socket) => this.#accept(socket);
    const listener: NetServer = secure
      ? createTlsServer({ ...credentials._getSecureContextOptions(), ...credentials._getConstructorOptions(), ALPNProtocols: ["h2"] }, onSocket)
      : createNetServer(onSocket);
    this.#listeners.push(listener);
    return new Promise((resolve, reject) => {
      listener.once("error", reject);
      const done = () => {
        listener.off("error", reject);
        const bound = listener.address();
        resolve(typeof bound === "object" && bound !== null ? bound.port : 0);
      };
      if (parsed.kind === "unix") listener.listen(parsed.path, done);
      else listener.listen(parsed.port, parsed.host.replace(/^\[(.*)\]$/, "$1"), done);
    });
  }

  #accept(socket: Socket): void {
    if (this.#shuttingDown) {
      socket.destroy();
      return;
    }
    socket.setNoDelay?.(true);
    const peer =
      socket.remoteAddress === undefined ? "unknown" : socket.remotePort === undefined ? socket.remoteAddress : `${socket.remoteAddress}:${socket.remotePort}`;
    let view: SessionView;
    const session = new ServerSession(
      socket,
      {
        onStream: (stream, fields, endStream) => this.#onStream(stream, fields, endStream, view, peer),
        onClose: (closed) => {
          this.#sessions.delete(closed);
          this.#checkIdle();
        },
      },
      { maxConcurrentStreams: 1 << 30 },
    );
    view = new SessionView(session);
    this.#sessions.add(session);
  }

  #onStream(stream: ServerStream, fields: [string, string][], endStream: boolean, view: SessionView, peer: string): ServerStreamHandler | undefined {
    const headers = headersOf(fields);
    const refuse = (code: number, details: string) => {
      stream.sendTrailersOnly(trailersOnly({ code, details }));
      return undefined;
    };
    const path = String(headers[":path"] ?? "");
    const type = String(headers["content-type"] ?? "");
    if (headers[":method"] !== "POST" || !type.startsWith("application/grpc")) {
      stream.sendTrailersOnly(encodeLiterals([[":status", "415"]]));
      return undefined;
    }
    const route = this.#routes.get(path);
    if (route === undefined) return refuse(Status.UNIMPLEMENTED, `The server does not implement the method ${path}`);
    const encoding = headers["grpc-encoding"];
    if (encoding !== undefined && encoding !== "identity") return refuse(Status.UNIMPLEMENTED, `compression ${String(encoding)} is not supported`);
    const metadataHeaders: Record<string, string | string[]> = {};
    for (const name in headers) if (!name.startsWith(":") && !NOT_METADATA.has(name)) metadataHeaders[name] = headers[name]!;
    const call = new GrpcServerCall(
      Metadata.fromHttp2Headers(metadataHeaders),
      stream,
      view,
      route,
      deadlineFromGrpcTimeout(typeof headers["grpc-timeout"] === "string" ? headers["grpc-timeout"] : undefined),
      peer,
      this.#maxMessageBytes,
      (done) => {
        this.#calls.delete(done);
        this.#checkIdle();
      },
    );
    this.#calls.add(call);
    call.begin();
    if (endStream) queueMicrotask(() => call.onData(Buffer.alloc(0), true));
    return call;
  }

  /** Stops accepting connections and calls; `callback` once every call in flight has ended and connections closed. */
  tryShutdown(callback: () => void): void {
    this.#shuttingDown = true;
    for (const listener of this.#listeners) listener.close();
    for (const session of this.#sessions) session.shutdown();
    this.#onIdle = callback;
    this.#checkIdle();
  }

  /** Ends every call and connection now. */
  forceShutdown(): void {
    this.#shuttingDown = true;
    for (const listener of this.#listeners) listener.close();
    // The connections go, as with grpc-js: their calls end, and clients see the connection lost.
    for (const session of [...this.#sessions]) session.destroy("the server shut down");
    this.#checkIdle();
  }

  #checkIdle(): void {
    if (this.#onIdle === undefined || this.#sessions.size > 0) return;
    const done = this.#onIdle;
    this.#onIdle = undefined;
    done();
  }
}
