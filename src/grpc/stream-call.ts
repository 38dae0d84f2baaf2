/**
 * One `WriteStream` call on the server: collects its entries within the
 * limits, then writes them in one `write` once the client has half-closed
 * and the call is confirmed alive; however it ends, what it held is released.
 *
 * @internal
 * @module
 */
import type { ServerHttp2Stream } from "node:http2";
import type { Metadata, sendUnaryData, ServerReadableStream } from "@grpc/grpc-js";
import { status as Status } from "@grpc/grpc-js";
import type { JsonValue } from "type-fest";
import type { WritableDataSource, WriteKey } from "../detect/data-source.js";
import type { Logger } from "../detect/signature.js";
import type { Budget, ConnectionKey, StreamEnd } from "./budget.js";
import { CallStatus, reply, target } from "./call-status.js";
import type { LimitName, ResolvedLimits } from "./limits.js";
import { http2StreamOf, settleInFlightFrames } from "./liveness.js";
import type { RequestFrame } from "./request-codec.js";
import { statusName } from "./status-names.js";

/** A decoded request message and its size on the wire. @internal */
export interface SizedFrame {
  readonly frame: RequestFrame;
  readonly size: number;
}

/** The call object the stream reads: grpc-js's `ServerReadableStream`. @internal */
export type StreamCall = ServerReadableStream<SizedFrame, Buffer>;

/** What a stream needs from its service. @internal */
export interface StreamHost {
  readonly limits: ResolvedLimits;
  readonly budget: Budget;
  readonly logger: Logger;
  /** The authorize hook's verdict: synchronous when it answered so, else a promise that never rejects. */
  ask(call: { metadata: Metadata; getPeer(): string }, namespace: string, id: string): boolean | Promise<boolean>;
  denied(namespace: string, id: string): CallStatus;
  resolveTarget(namespace: string, id: string): WritableDataSource | CallStatus;
  /** Writes `data` in `ds`'s turn unless the call died meanwhile; reports through `done`. */
  write(
    ds: WritableDataSource,
    data: Map<WriteKey, JsonValue>,
    call: StreamCall,
    namespace: string,
    id: string,
    done: (status: CallStatus | null) => void,
  ): void;
}

const MiB = 1024 * 1024;

/** Services (by their stream host) that already logged the liveness fallback. */
const fellBack = new WeakSet<StreamHost>();

/** Logs, once per service, that grpc-js's internals were not recognised (see liveness.ts). */
function warnFallback(host: StreamHost): void {
  if (fellBack.has(host)) return;
  fellBack.add(host);
  host.logger.warn(
    "the HTTP/2 stream of a grpc-js call was not found (grpc-js internals changed?): a cancel sent right behind a half-close is awaited for one event-loop turn instead of a PING round trip, so such a stream may be written; maxStreamsPerConnection counts streams per peer address",
  );
}

const WENT_AWAY: ReadonlySet<Status> = new Set([Status.CANCELLED, Status.DEADLINE_EXCEEDED]);

/**
 * The status sent on `stream` other than by this service's own reply: grpc-js
 * answers a call itself when it refuses a message (larger than
 * `grpc.max_receive_message_length`) or the call's deadline passes.
 */
function statusSentOn(stream: ServerHttp2Stream | undefined): CallStatus | undefined {
  if (stream === undefined) return undefined;
  const headers = stream.sentTrailers ?? stream.sentHeaders;
  const code = Number(headers?.["grpc-status"]);
  if (!Number.isInteger(code)) return undefined;
  const message = headers?.["grpc-message"];
  let details = typeof message === "string" ? message : "";
  try {
    details = decodeURIComponent(details);
  } catch {
    // keep it percent-encoded
  }
  return new CallStatus(code, details);
}

/** The status carried by an error grpc-js emits on a call, if it carries one. */
function statusOfError(err: unknown): CallStatus | undefined {
  const { code, details } = (typeof err === "object" && err !== null ? err : {}) as { code?: unknown; details?: unknown };
  if (typeof code !== "number") return undefined;
  return new CallStatus(code, typeof details === "string" ? details : err instanceof Error ? err.message : "");
}

function bytes(n: number): string {
  return n >= MiB && n % MiB === 0 ? `${n / MiB} MiB` : `${n} bytes`;
}

/** The status a refusal by `limit` is answered with. @internal */
export function limitStatus(limit: LimitName, limits: ResolvedLimits): CallStatus {
  const exhausted = (details: string) => new CallStatus(Status.RESOURCE_EXHAUSTED, details);
  switch (limit) {
    case "maxStreamEntries":
      return exhausted(`stream has more than ${limits.maxStreamEntries} entries, the limit (maxStreamEntries)`);
    case "maxStreamBytes":
      return exhausted(`stream holds more than ${bytes(limits.maxStreamBytes)}, the limit (maxStreamBytes)`);
    case "maxServerBufferedBytes":
      return exhausted(
        `the server holds ${bytes(limits.maxServerBufferedBytes)} of unfinished streams, its limit (maxServerBufferedBytes); try again later`,
      );
    case "maxConcurrentStreams":
      return exhausted(
        `the server has ${limits.maxConcurrentStreams} streams open, its limit (maxConcurrentStreams); try again later`,
      );
    case "maxStreamsPerConnection":
      return exhausted(
        `this connection has ${limits.maxStreamsPerConnection} streams open, the limit (maxStreamsPerConnection); try again later`,
      );
    case "streamIdleTimeoutMs":
      return new CallStatus(
        Status.DEADLINE_EXCEEDED,
        `no message for ${limits.streamIdleTimeoutMs} ms, the limit (streamIdleTimeoutMs); nothing of the stream was written`,
      );
  }
}

/**
 * One `WriteStream` call. Nothing reaches the data source unless the client
 * half-closed, every entry was good, and the call was still alive after a
 * round trip with the client (see liveness.ts).
 *
 * @internal
 */
export class StreamWrite {
  #entries = new Map<WriteKey, JsonValue>();
  #count = 0;
  /** Bytes this stream holds in the budget. */
  #held = 0;
  /** The data source the first entry named; `#named` once it did. */
  #namespace = "";
  #id = "";
  #named = false;
  #ds: WritableDataSource | undefined;
  /** Set while the authorize hook is answering. */
  #authorizing = false;
  /** The first failure seen; reported once authorization is settled. */
  #failure: CallStatus | undefined;
  /** The client half-closed. */
  #ended = false;
  /** A status was sent, or the call went away. */
  #finished = false;
  /** Admitted into the budget, and not yet left it. */
  #admitted = false;
  /**
   * Handed to the data source's write queue: from then on the write's result
   * (written, failed, or skipped because the client had gone) counts, whatever
   * a cancel says meanwhile.
   */
  #writing = false;
  readonly #peer: string;
  readonly #connection: ConnectionKey;
  readonly #http2: ServerHttp2Stream | undefined;
  #idleTimer: NodeJS.Timeout | undefined;
  #lastMessageAt = Date.now();

  constructor(
    readonly host: StreamHost,
    readonly call: StreamCall,
    readonly callback: sendUnaryData<Buffer>,
  ) {
    this.#http2 = http2StreamOf(call);
    this.#peer = call.getPeer();
    this.#connection = this.#http2?.session ?? this.#peer;
    if (this.#http2 === undefined) warnFallback(host);
  }

  start(): void {
    const refused = this.host.budget.admit(this.#connection);
    if (refused !== undefined) {
      this.#finished = true;
      reply(this.callback, this.#refuse(refused));
      return;
    }
    this.#admitted = true;
    const call = this.call;
    call.on("data", (sized: SizedFrame) => this.#onFrame(sized));
    call.on("end", () => this.#onEnd());
    call.on("cancelled", () => this.#onGone());
    call.on("error", (err: unknown) => this.#onGone(err));
    this.#armIdleTimer(this.host.limits.streamIdleTimeoutMs);
  }

  /** The data source this stream writes to, as log key/value pairs, once an entry named it. */
  #where(): unknown[] {
    return this.#named ? ["namespace", this.#namespace, "id", this.#id] : [];
  }

  /**
   * Counts a refusal by `limit` in the stats and logs it at warn: every
   * refusal counted is logged, and only those are. Returns the status to send.
   */
  #refuse(limit: LimitName): CallStatus {
    this.host.budget.exceeded(limit);
    this.host.logger.warn("stream refused: limit exceeded", "limit", limit, ...this.#where(), "peer", this.#peer);
    return limitStatus(limit, this.host.limits);
  }

  /** Lets go of everything the stream holds, once, and counts how it ended. */
  #release(how: StreamEnd): void {
    this.#entries = new Map();
    clearTimeout(this.#idleTimer);
    if (!this.#admitted) return;
    this.#admitted = false;
    this.host.budget.give(this.#held);
    this.#held = 0;
    this.host.budget.leave(this.#connection, how);
  }

  #finish(status: CallStatus | null, how: StreamEnd = status === null ? "committed" : "failed"): void {
    if (this.#finished) return;
    this.#finished = true;
    this.#release(how);
    reply(this.callback, status);
  }

  #fail(status: CallStatus): void {
    if (this.#failure !== undefined || this.#finished) return;
    this.#failure = status;
    // Nothing of this stream will be written: free it now.
    this.#entries = new Map();
    this.host.budget.give(this.#held);
    this.#held = 0;
    if (!this.#authorizing) this.#finish(status);
  }

  /**
   * The call ended without this service's answer: its client went away
   * (cancel, reset, deadline, lost connection), or grpc-js answered it itself
   * (a message over `grpc.max_receive_message_length`), which is a failure.
   * Once the write started, its result counts instead.
   */
  #onGone(err?: unknown): void {
    if (this.#finished) return;
    if (this.#writing) {
      this.host.logger.debug(
        "stream cancelled once its write was queued; written only if that write had started, and counted by its result",
        ...this.#where(),
        "peer",
        this.#peer,
      );
      return;
    }
    const status = statusSentOn(this.#http2) ?? statusOfError(err);
    const wentAway = status === undefined ? err === undefined : WENT_AWAY.has(status.code);
    if (wentAway) {
      this.#drop();
      return;
    }
    this.#finished = true;
    this.#release("failed");
    this.host.logger.warn(
      "stream ended by grpc-js; nothing of it is written",
      "status",
      status === undefined ? "UNKNOWN" : statusName(status.code),
      "details",
      status?.details ?? (err instanceof Error ? err.message : String(err)),
      ...this.#where(),
      "peer",
      this.#peer,
    );
  }

  /** The client went away (cancel, reset, deadline, lost connection): drop everything. */
  #drop(): void {
    if (this.#finished) return;
    this.#finished = true;
    this.#release("dropped");
    this.host.logger.debug("stream cancelled; nothing of it is written", ...this.#where(), "peer", this.#peer);
  }

  #armIdleTimer(ms: number): void {
    if (!Number.isFinite(ms)) return;
    this.#idleTimer = setTimeout(() => this.#onIdleTimer(), ms);
    this.#idleTimer.unref();
  }

  #onIdleTimer(): void {
    if (this.#finished) return;
    const limit = this.host.limits.streamIdleTimeoutMs;
    const idleFor = Date.now() - this.#lastMessageAt;
    if (idleFor < limit) {
      this.#armIdleTimer(limit - idleFor);
      return;
    }
    // Finish here, not through #fail: a failure may already be queued behind
    // an authorize hook that is still answering, and then #fail would do
    // nothing and the stream would hang. The client hears the queued failure,
    // else the idle limit; a hook answering later finds the stream finished.
    this.#authorizing = false;
    this.#finish(this.#failure ?? this.#refuse("streamIdleTimeoutMs"));
  }

  #onFrame({ frame, size }: SizedFrame): void {
    if (this.#finished || this.#failure !== undefined) return;
    this.#lastMessageAt = Date.now();
    const index = this.#count++;
    const limits = this.host.limits;
    if (index >= limits.maxStreamEntries) {
      this.#fail(this.#refuse("maxStreamEntries"));
      return;
    }
    if (!frame.targetKnown) {
      this.#fail(new CallStatus(frame.code, `entry ${index}: ${frame.details}`));
      return;
    }
    if (index === 0) {
      this.#namespace = frame.namespace;
      this.#id = frame.id;
      this.#named = true;
      this.#authorizeAndResolve();
      if (this.#finished) return;
    } else if (frame.namespace !== this.#namespace || frame.id !== this.#id) {
      this.#fail(
        new CallStatus(
          Status.INVALID_ARGUMENT,
          `entry ${index}: names data source ${target(frame.namespace, frame.id)}, but this stream writes to ${target(this.#namespace, this.#id)}; a stream writes to one data source`,
        ),
      );
      return;
    }
    if (frame.code !== Status.OK) {
      this.#fail(new CallStatus(frame.code, `entry ${index}: ${frame.details}`));
      return;
    }
    const refused = this.host.budget.take(this.#held, size);
    if (refused !== undefined) {
      this.#fail(this.#refuse(refused));
      return;
    }
    this.#held += size;
    this.#entries.set(frame.key, frame.value);
  }

  #authorizeAndResolve(): void {
    const verdict = this.host.ask(this.call, this.#namespace, this.#id);
    if (verdict === true) {
      this.#resolve();
    } else if (verdict === false) {
      this.#finish(this.host.denied(this.#namespace, this.#id));
    } else {
      this.#authorizing = true;
      void verdict.then((ok) => {
        if (!this.#authorizing) return; // the idle timeout ended the stream meanwhile
        this.#authorizing = false;
        if (this.#finished) return;
        if (!ok) return this.#finish(this.host.denied(this.#namespace, this.#id));
        this.#resolve();
        if (this.#finished) return;
        if (this.#failure !== undefined) return this.#finish(this.#failure);
        if (this.#ended) void this.#commit();
      });
    }
  }

  #resolve(): void {
    const ds = this.host.resolveTarget(this.#namespace, this.#id);
    if (ds instanceof CallStatus) this.#finish(ds);
    else this.#ds = ds;
  }

  #onEnd(): void {
    if (this.#finished || this.#failure !== undefined) return;
    this.#ended = true;
    if (!this.#authorizing) void this.#commit();
  }

  async #commit(): Promise<void> {
    if (this.#finished) return;
    const ds = this.#ds;
    if (this.#count === 0 || ds === undefined) {
      // An empty stream: nothing to write, nothing wrong.
      this.#finish(null);
      return;
    }
    // The client half-closed; make sure it did not cancel right behind that
    // (grpc-js sends END_STREAM before RST_STREAM). The idle timer keeps
    // running: a client that never answers is ended by it.
    const alive = await settleInFlightFrames(this.#http2);
    if (this.#finished) return;
    if (!alive) {
      this.#drop();
      return;
    }
    clearTimeout(this.#idleTimer);
    const data = this.#entries;
    this.#entries = new Map();
    this.#writing = true;
    this.host.write(ds, data, this.call, this.#namespace, this.#id, (status) =>
      // Counted by the write's result, whatever a cancel said meanwhile. A
      // write skipped because the call was cancelled or out of time before its
      // turn came: the client went away, nothing was written.
      this.#finish(status, status === null ? "committed" : WENT_AWAY.has(status.code) ? "dropped" : "failed"),
    );
  }
}
