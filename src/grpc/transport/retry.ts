/**
 * A call that is sent again, once, when the server refused it before
 * processing any of it (RST_STREAM REFUSED_STREAM, or a stream opened past a
 * GOAWAY's last stream id, as when a server shuts down gracefully): what was
 * written is kept, up to a limit, and replayed on a new connection. A call
 * that wrote more than the limit fails with the refusal instead (nothing of
 * it was written, so it is safe to send again), as grpc-js's transparent
 * retry does.
 *
 * @internal
 * @module
 */
import { status as Status } from "@grpc/grpc-js";
import type { Call, ClientCall } from "./call.js";
import type { CallStatus } from "./status.js";

/** Request bytes kept for a replay; past this a refused call fails instead. */
export const REPLAY_LIMIT_BYTES = 1024 * 1024;

/** @internal */
export class RetryingCall implements Call {
  /** The call carrying the request now; `undefined` while a replacement starts. */
  #current: ClientCall | undefined;
  readonly #restart: () => Promise<ClientCall>;
  readonly #onSettled: (status: CallStatus) => void;
  #kept: Buffer[] = [];
  #keptBytes = 0;
  #replayable = true;
  #retried = false;
  #ended = false;
  #cancelled: CallStatus | undefined;
  #final: CallStatus | undefined;
  #waiters: (() => void)[] = [];
  #paused = false;
  #resolve!: (status: CallStatus) => void;
  readonly status: Promise<CallStatus>;

  /**
   * @param restart - starts a fresh call with the same options on a new stream.
   * @param onSettled - told the final status, once.
   */
  constructor(first: ClientCall, restart: () => Promise<ClientCall>, onSettled: (status: CallStatus) => void) {
    this.#restart = restart;
    this.#onSettled = onSettled;
    this.status = new Promise((resolve) => (this.#resolve = resolve));
    this.#attach(first);
  }

  get settled(): boolean {
    return this.#final !== undefined;
  }

  get halfClosed(): boolean {
    return this.#ended;
  }

  get responded(): boolean {
    return this.#current?.responded ?? false;
  }

  get full(): boolean {
    return this.#current === undefined ? this.#keptBytes > REPLAY_LIMIT_BYTES : this.#current.full;
  }

  write(bytes: Buffer): void {
    if (this.#final !== undefined || this.#ended) return;
    this.#keep(bytes);
    this.#current?.write(bytes);
  }

  end(bytes?: Buffer): void {
    if (this.#final !== undefined || this.#ended) return;
    this.#ended = true;
    if (bytes !== undefined) this.#keep(bytes);
    this.#current?.end(bytes);
  }

  drained(): Promise<void> {
    if (this.#final !== undefined) return Promise.resolve();
    if (this.#current !== undefined) return this.#current.drained();
    return new Promise((resolve) => this.#waiters.push(resolve));
  }

  cancel(status: CallStatus): void {
    if (this.#final !== undefined) return;
    this.#cancelled ??= status;
    if (this.#current !== undefined) this.#current.cancel(status);
    else this.#settle(status);
  }

  pauseReading(): void {
    this.#paused = true;
    this.#current?.pauseReading();
  }

  resumeReading(): void {
    this.#paused = false;
    this.#current?.resumeReading();
  }

  /** Keeps `bytes` for a replay while under the limit (always while a replacement starts). */
  #keep(bytes: Buffer): void {
    if (this.#current === undefined || (this.#replayable && this.#keptBytes + bytes.length <= REPLAY_LIMIT_BYTES)) {
      this.#kept.push(bytes);
      this.#keptBytes += bytes.length;
    } else if (this.#replayable) {
      this.#replayable = false;
      this.#kept = [];
      this.#keptBytes = 0;
    }
  }

  #attach(call: ClientCall): void {
    this.#current = call;
    if (this.#paused) call.pauseReading();
    void call.status.then((status) => this.#onStatus(call, status));
  }

  #onStatus(call: ClientCall, status: CallStatus): void {
    if (call !== this.#current || this.#final !== undefined) return;
    if (status.refused !== true || this.#retried || !this.#replayable || this.#cancelled !== undefined) {
      this.#settle(status);
      return;
    }
    this.#retried = true;
    this.#current = undefined;
    this.#restart().then(
      (next) => {
        if (this.#cancelled !== undefined) {
          next.cancel(this.#cancelled);
          this.#settle(this.#cancelled);
          return;
        }
        this.#attach(next);
        for (const bytes of this.#kept) next.write(bytes);
        if (this.#ended) next.end();
        const waiters = this.#waiters;
        this.#waiters = [];
        for (const wake of waiters) wake();
      },
      (err: unknown) =>
        this.#settle({
          code: (err as { code?: number }).code ?? Status.UNAVAILABLE,
          details: `the server refused the call, and sending it again failed: ${(err as Error).message}`,
        }),
    );
  }

  #settle(status: CallStatus): void {
    if (this.#final !== undefined) return;
    this.#final = status;
    this.#kept = [];
    this.#keptBytes = 0;
    const waiters = this.#waiters;
    this.#waiters = [];
    for (const wake of waiters) wake();
    this.#resolve(status);
    this.#onSettled(status);
  }
}
