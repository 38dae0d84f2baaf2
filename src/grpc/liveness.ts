/**
 * Whether a client-streaming call is still alive once its client half-closed.
 *
 * A grpc-js client's `cancel()` (Node's `Http2Stream.close()`) sends
 * END_STREAM and, a moment later in another write, RST_STREAM. The server
 * sees a finished stream first and learns of the cancel up to milliseconds
 * later, so a stream committed on END_STREAM alone may be one its client
 * cancelled. Before committing, the server therefore sends an HTTP/2 PING on
 * the call's connection and waits for the acknowledgement: the client had
 * queued its RST_STREAM before it could read our PING, and HTTP/2 frames on
 * one connection arrive in order, so by the time the acknowledgement has been
 * handled (one more turn of the event loop, for frames that came in the same
 * read) the reset has been seen too.
 *
 * grpc-js does not expose the HTTP/2 stream of a call; it is found on the
 * call's internal objects, which this module looks for defensively. Where it
 * cannot be found the check degrades to one turn of the event loop, and the
 * service logs that once (stream-call.ts); test/grpc/liveness.test.ts fails
 * if the grpc-js in use is one where it cannot be found.
 *
 * @internal
 * @module
 */
import type { Http2Session, ServerHttp2Stream } from "node:http2";

const MAX_CHAIN = 16;

/**
 * The HTTP/2 stream under a grpc-js server call (`ServerReadableStream`,
 * `ServerUnaryCall`), or `undefined` when grpc-js's internals differ from
 * what this module knows.
 *
 * @internal
 */
export function http2StreamOf(call: object): ServerHttp2Stream | undefined {
  // grpc-js: ServerReadableStreamImpl.call → (ServerInterceptingCall.nextCall)* → BaseServerInterceptingCall.stream
  let link: unknown = (call as { call?: unknown }).call;
  for (let i = 0; i < MAX_CHAIN && typeof link === "object" && link !== null; i++) {
    const stream = (link as { stream?: unknown }).stream;
    if (isHttp2Stream(stream)) return stream;
    link = (link as { nextCall?: unknown }).nextCall;
  }
  return undefined;
}

function isHttp2Stream(value: unknown): value is ServerHttp2Stream {
  if (typeof value !== "object" || value === null) return false;
  const session = (value as { session?: unknown }).session;
  return (
    typeof (value as { destroyed?: unknown }).destroyed === "boolean" &&
    (session === undefined || (typeof session === "object" && session !== null))
  );
}

const nextTurn = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

/** How long to wait before asking again when Node refuses a PING (too many outstanding). */
const PING_RETRY_MS = 5;

/**
 * The PINGs of one session: at most one in flight from this module; callers
 * that arrive while one is in flight wait for the next one, which is sent
 * after theirs arrived (a PING sent before a caller's END_STREAM was read
 * proves nothing about the frames that followed it).
 */
class PingRound {
  #inFlight = false;
  #waiting: ((alive: boolean) => void)[] = [];

  constructor(readonly session: Http2Session) {}

  /** Resolves `true` once a PING sent after this call is acknowledged; `false` if the session ended first. */
  roundTrip(): Promise<boolean> {
    return new Promise((resolve) => {
      this.#waiting.push(resolve);
      if (!this.#inFlight) this.#send();
    });
  }

  #send(): void {
    const batch = this.#waiting;
    this.#waiting = [];
    if (batch.length === 0) return;
    const settle = (alive: boolean) => {
      this.#inFlight = false;
      for (const resolve of batch) resolve(alive);
      if (this.#waiting.length > 0) this.#send();
    };
    if (this.session.destroyed || this.session.closed) return settle(false);
    this.#inFlight = true;
    let sent: boolean;
    try {
      sent = this.session.ping((err) => settle(err === null));
    } catch {
      return settle(false); // destroyed between the check and the call
    }
    if (!sent) {
      // Node keeps at most `maxOutstandingPings` unanswered: ask again shortly.
      this.#inFlight = false;
      this.#waiting = batch.concat(this.#waiting);
      setTimeout(() => {
        if (!this.#inFlight) this.#send();
      }, PING_RETRY_MS).unref();
    }
  }
}

const rounds = new WeakMap<Http2Session, PingRound>();

/**
 * Resolves once every frame the client sent before it could have seen a
 * fresh PING has been handled, i.e. a reset that was already on its way has
 * been seen: `true` when that round trip completed and the stream is still
 * open, `false` when the stream or its connection ended (the call is dead).
 * Without the stream, resolves `true` after one turn of the event loop; a
 * stream without a session (Node drops it when the stream is destroyed) is
 * judged by itself after that turn.
 *
 * @internal
 */
export async function settleInFlightFrames(stream: ServerHttp2Stream | undefined): Promise<boolean> {
  const isOpen = () => stream === undefined || (!stream.destroyed && !stream.aborted);
  const session = stream?.session;
  if (session === undefined || stream === undefined) {
    await nextTurn();
    return isOpen();
  }
  let round = rounds.get(session);
  if (round === undefined) {
    round = new PingRound(session);
    rounds.set(session, round);
  }
  const alive = await round.roundTrip();
  // Frames read together with the acknowledgement are handled in this same
  // turn; their effects (grpc-js's 'cancelled') land by the next.
  await nextTurn();
  return alive && isOpen();
}
