/**
 * Events from a running Tracee over its gRPC `TraceeService.StreamEvents`.
 * This module loads nothing of gRPC: the transport is imported when a
 * stream starts.
 *
 * @module
 */
import type { ChannelCredentials, Metadata } from "@grpc/grpc-js";
import { type StatusName, statusName } from "../../grpc/status-names.js";
import { dialTarget } from "../../grpc/transport/dial.js";
import type { TraceeEvent } from "../model.js";
import { EventQueue } from "../queue.js";
import { createInput, type EventInput, type InputOptions } from "./input.js";

/** Tracee's default gRPC address (`tracee --server grpc-address=unix:/var/run/tracee.sock`). */
export const TRACEE_EVENTS_ADDRESS = "unix:///var/run/tracee.sock";

/** How {@link streamEvents} reconnects when Tracee stops or cannot be reached. */
export interface ReconnectOptions {
  /** First wait before trying again (default 250 ms); it doubles on each failure. */
  readonly initialDelayMs?: number;
  /** Longest wait between tries (default 10,000 ms). */
  readonly maxDelayMs?: number;
  /** Tries in a row before giving up (default: no limit). */
  readonly maxAttempts?: number;
}

/** What {@link StreamEventsOptions.onReconnect} is told before each wait. */
export interface ReconnectInfo {
  /** Tries in a row so far (1 for the first retry). */
  readonly attempt: number;
  /** How long the input waits before it tries again. */
  readonly delayMs: number;
  /** Why: the stream ended (`undefined`), or the error that broke it. */
  readonly error: StreamEventsError | undefined;
}

/** Options of {@link streamEvents}. */
export interface StreamEventsOptions extends InputOptions {
  /** Tracee's gRPC address: `unix:///path` or `host:port` (default `unix:///var/run/tracee.sock`). */
  readonly address?: string;
  /** Policies whose events to stream (default: all). An unknown name fails the call. */
  readonly policies?: readonly string[];
  /** Field mask paths, snake_case (`"workload.process.pid"`), to ask Tracee for fewer fields. */
  readonly mask?: readonly string[];
  /**
   * Reconnect with backoff when Tracee stops (the stream ends) or cannot be
   * reached, instead of ending the iteration (default `false`). Errors a
   * retry cannot fix (an unknown policy, no permission on the socket) still
   * end it.
   */
  readonly reconnect?: boolean | ReconnectOptions;
  /** Told before each reconnect wait (for logging). */
  readonly onReconnect?: (info: ReconnectInfo) => void;
  /** TLS credentials (grpc-js `credentials.createSsl(…)`); Tracee itself serves plaintext. */
  readonly credentials?: ChannelCredentials;
  /** Metadata sent with the call. */
  readonly metadata?: Metadata;
  /** How long connecting may take (default 20,000 ms). */
  readonly connectTimeoutMs?: number;
}

const BRAND: unique symbol = Symbol.for("tracee-ds.StreamEventsError");

/**
 * Why {@link streamEvents} stopped: the gRPC status (`code`, `codeName`,
 * `details`) of the failed call, or of the failure to connect (`UNAVAILABLE`,
 * with `errno` such as `"ENOENT"` or `"EACCES"` when the socket is missing or
 * not readable).
 */
export class StreamEventsError extends Error {
  /** @internal */
  readonly [BRAND] = true;
  readonly code: number;
  readonly codeName: StatusName;
  constructor(
    code: number,
    readonly details: string,
    /** The system error behind a connection failure. */
    readonly errno?: string,
    options?: ErrorOptions,
  ) {
    super(`${statusName(code)}: ${details}`, options);
    this.name = "StreamEventsError";
    this.code = code;
    this.codeName = statusName(code);
  }
}

/** Whether `value` is a {@link StreamEventsError} from any copy of this package. */
export function isStreamEventsError(value: unknown): value is StreamEventsError {
  return typeof value === "object" && value !== null && (value as { [BRAND]?: unknown })[BRAND] === true;
}

/** What {@link streamEvents} needs from the transport module it loads. @internal */
export interface EventStreamSession {
  /** Runs one StreamEvents call to its end: resolves with its error, or `undefined` when it ended OK. */
  run(onEvent: (event: TraceeEvent) => Promise<void> | undefined, onStarted: () => void): Promise<StreamEventsError | undefined>;
  /** Cancels the call in flight and closes the connection. */
  close(): void;
}

const DEFAULTS = { initialDelayMs: 250, maxDelayMs: 10_000, maxAttempts: Number.POSITIVE_INFINITY };

/** Connection failures a retry cannot fix. */
const FINAL_ERRNO = new Set(["EACCES", "EPERM"]);

/**
 * Whether to reconnect after a call: when Tracee stopped the stream, could
 * not be reached, or broke a stream that had delivered events. A call
 * refused outright (an unknown policy is UNKNOWN "policy [x] not found",
 * a permission error) would be refused again.
 */
function retryable(error: StreamEventsError | undefined, started: boolean): boolean {
  if (error === undefined) return true; // Tracee stopped: wait for it
  if (error.errno !== undefined && FINAL_ERRNO.has(error.errno)) return false;
  return error.codeName === "UNAVAILABLE" || started;
}

/**
 * Streams events from a running Tracee over gRPC (`TraceeService.StreamEvents`).
 *
 * Tracee serves gRPC only when started with `--server
 * grpc-address=unix:/var/run/tracee.sock` (or `tcp:host:port`), and streams
 * only the events its policies select for output. The iteration ends when
 * Tracee stops the stream, or rejects with a {@link StreamEventsError}
 * (`UNAVAILABLE` naming the cause when the socket is missing, `ENOENT`, or
 * not readable, `EACCES`: Tracee creates it with mode 0600). With
 * `reconnect`, it reconnects with backoff instead while Tracee restarts.
 * With the default `"block"` overflow, a slow consumer holds Tracee back:
 * Tracee's stream blocks its whole output stage; pick a drop policy to
 * protect Tracee instead.
 *
 * @example
 * ```ts
 * for await (const event of streamEvents({ policies: ["default"], reconnect: true })) {
 *   if (event.name === "security_file_open") console.log(getData(event, "pathname", "str"));
 * }
 * ```
 */
export function streamEvents(options: StreamEventsOptions = {}): EventInput {
  dialTarget(options.address ?? TRACEE_EVENTS_ADDRESS); // a bad address throws here, not later
  const queue = new EventQueue<TraceeEvent>(options.queue);
  const reconnect =
    options.reconnect === true ? DEFAULTS : options.reconnect === false || options.reconnect === undefined ? undefined : { ...DEFAULTS, ...options.reconnect };
  let session: EventStreamSession | undefined;
  let stopped = false;
  let wake: (() => void) | undefined;

  const sleep = (ms: number) =>
    new Promise<void>((resolve) => {
      const timer = setTimeout(resolve, ms);
      wake = () => {
        clearTimeout(timer);
        resolve();
      };
    });

  const loop = async (): Promise<void> => {
    const { openEventStream } = await import("./grpc-session.js");
    let attempt = 0;
    for (;;) {
      if (stopped) return;
      session = openEventStream(options);
      let started = false;
      const error = await session.run(
        (event) => queue.push(event),
        () => {
          started = true;
          attempt = 0;
        },
      );
      session.close();
      if (stopped) return;
      if (reconnect === undefined || !retryable(error, started) || attempt >= reconnect.maxAttempts) {
        queue.end(error);
        return;
      }
      attempt++;
      const delayMs = Math.min(reconnect.maxDelayMs, reconnect.initialDelayMs * 2 ** (attempt - 1));
      options.onReconnect?.({ attempt, delayMs, error });
      await sleep(delayMs);
    }
  };

  const input = createInput(queue, options.signal, () => {
    stopped = true;
    wake?.();
    session?.close();
  });
  loop().catch((err: unknown) => queue.end(err));
  return input;
}
