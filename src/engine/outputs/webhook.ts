/**
 * `webhookOutput`: Tracee's `--output webhook:URL`, one HTTP POST per
 * event, with bounded retries, a bounded queue and counters.
 *
 * @module
 */
import { Agent as HttpAgent, type IncomingMessage, request as httpRequest } from "node:http";
import { Agent as HttpsAgent, request as httpsRequest } from "node:https";
import { encodeEventJson } from "../../events/json/encode.js";
import type { TraceeEvent } from "../../events/model.js";
import type { OverflowPolicy } from "../../events/queue.js";
import type { EventOutput, OutputErrorHandler, OutputStats } from "./types.js";

/** Default {@link WebhookOutputOptions.timeoutMs}: 10 s, Tracee's. */
export const DEFAULT_WEBHOOK_TIMEOUT_MS = 10_000;
/** Default {@link WebhookOutputOptions.maxAttempts}. */
export const DEFAULT_WEBHOOK_MAX_ATTEMPTS = 3;
/** Default {@link WebhookOutputOptions.queueCapacity}. */
export const DEFAULT_WEBHOOK_QUEUE_CAPACITY = 1024;

/** Options of {@link webhookOutput}. */
export interface WebhookOutputOptions {
  /** How long one attempt may take, from sending to the end of the answer (default 10 s, Tracee's default). */
  readonly timeoutMs?: number;
  /** The `Content-Type` header (default `"application/json"`, Tracee's default). */
  readonly contentType?: string;
  /** More request headers (say `authorization`). */
  readonly headers?: Readonly<Record<string, string>>;
  /**
   * Attempts per event, the first included (default 3; 1: never retry, as
   * Tracee). Retried: network errors, timeouts, `5xx` and `429`; anything
   * else that is not `2xx` fails at once.
   */
  readonly maxAttempts?: number;
  /** The wait before the first retry, doubled for each next one (default 200 ms). A `Retry-After` answer sets the wait instead. */
  readonly retryDelayMs?: number;
  /** The longest wait between attempts, `Retry-After` included (default 5 s). */
  readonly maxRetryDelayMs?: number;
  /**
   * Posts in flight at once (default 1: one at a time, in order, as Tracee
   * posts). Above 1 events may arrive out of order.
   */
  readonly concurrency?: number;
  /** Events that may wait for a free post beyond those in flight (default 1024). */
  readonly queueCapacity?: number;
  /**
   * When more than `queueCapacity` events wait (default `"block"`):
   * `"block"` queues the event and `write` returns a promise, resolved once
   * the queue is back within capacity; `"drop-newest"` drops the new event,
   * `"drop-oldest"` the one waiting longest. Drops count in `stats().dropped`.
   */
  readonly overflow?: OverflowPolicy;
  /**
   * How long `close()` waits for queued and in-flight posts (default 10 s).
   * Then posts in flight are cut off (counted failed) and queued events
   * dropped (counted dropped).
   */
  readonly closeTimeoutMs?: number;
  /** Called for each event given up on, with a {@link WebhookOutputError}. */
  readonly onError?: OutputErrorHandler;
}

const BRAND: unique symbol = Symbol.for("tracee-ds.WebhookOutputError");

/** Why a webhook post failed: a status, a network error, a timeout, or `close()` cutting it off. */
export class WebhookOutputError extends Error {
  /** @internal */
  readonly [BRAND] = true;
  constructor(
    /** `"status"` (a non-2xx answer), `"network"`, `"timeout"` or `"closed"`. */
    readonly code: "status" | "network" | "timeout" | "closed",
    message: string,
    /** The HTTP status of the last answer, when there was one. */
    readonly status: number | undefined,
    /** Attempts made. */
    readonly attempts: number,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = "WebhookOutputError";
  }
}

/** Whether `value` is a {@link WebhookOutputError} from any copy of this package. */
export function isWebhookOutputError(value: unknown): value is WebhookOutputError {
  return typeof value === "object" && value !== null && (value as { [BRAND]?: unknown })[BRAND] === true;
}

/** One attempt's outcome. */
type Attempt =
  | { readonly ok: true }
  | {
      readonly ok: false;
      readonly code: "status" | "network" | "timeout" | "closed";
      readonly retry: boolean;
      readonly status?: number;
      readonly retryAfterMs?: number;
      readonly message: string;
      readonly cause?: unknown;
    };

function positive(name: string, value: number | undefined, fallback: number, integer: boolean, min = 1): number {
  const v = value ?? fallback;
  if (typeof v !== "number" || !Number.isFinite(v) || v < min || (integer && !Number.isSafeInteger(v))) {
    throw new RangeError(`webhookOutput: ${name} must be ${integer ? "a whole number" : "a number"} >= ${min}, got ${String(value)}`);
  }
  return v;
}

/** `Retry-After` in milliseconds: delay-seconds or an HTTP date. */
function retryAfter(res: IncomingMessage): number | undefined {
  const header = res.headers["retry-after"];
  if (header === undefined || header === "") return undefined;
  if (/^\d+$/.test(header.trim())) return Number(header.trim()) * 1000;
  const at = Date.parse(header);
  return Number.isNaN(at) ? undefined : Math.max(0, at - Date.now());
}

/** Sleeps `ms`, or less when `signal` aborts. */
function sleep(ms: number, signal: AbortSignal): Promise<void> {
  if (signal.aborted) return Promise.resolve();
  return new Promise((resolve) => {
    const done = () => {
      clearTimeout(timer);
      signal.removeEventListener("abort", done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    signal.addEventListener("abort", done);
  });
}

interface Item {
  readonly event: TraceeEvent;
  readonly body: Buffer;
}

/**
 * Posts each event to `url`, as Tracee's webhook printer does: one `POST`
 * per event, the body Tracee's JSON of the event ({@link encodeEventJson},
 * no newline: what Tracee sends), `Content-Type: application/json`, a 10 s
 * timeout per attempt; user and password in the URL go as Basic auth, and
 * the URL's query string is sent as is (Tracee reads `timeout` and
 * `contentType` from it: `parseOutputSpec` does too).
 *
 * Beyond Tracee, which posts one event at a time, never retries and only
 * logs a failure:
 *
 * - Delivery: a `2xx` answer counts `written`. Network errors, timeouts,
 *   `5xx` and `429` are retried up to `maxAttempts` in all (default 3),
 *   waiting 200 ms then doubling (or what `Retry-After` says), capped at
 *   `maxRetryDelayMs`; each retry counts in `retried`. An event still not
 *   delivered, or answered another status (`3xx` and `4xx`: redirects are
 *   not followed), counts `failed` and goes to `onError`. Retries may
 *   deliver an event twice (the server got it, the answer was lost).
 * - Backpressure: at most `concurrency` posts in flight (default 1, so
 *   events arrive in order); up to `queueCapacity` more wait. Past that,
 *   with `overflow: "block"` (the default) `write` still queues the event
 *   but returns a promise: await it before the next, so a slow receiver
 *   slows the engine instead of growing memory. With `"drop-newest"` /
 *   `"drop-oldest"` `write` never waits and drops count in `dropped`.
 * - `flush()` waits until nothing is queued or in flight. `close()` does,
 *   for at most `closeTimeoutMs`, then cuts off what is in flight (failed)
 *   and drops what is queued (dropped), and closes its connections.
 *
 * Throws a `TypeError` for a URL that is not `http:` or `https:`, a
 * `RangeError` for options it cannot use.
 *
 * @example
 * ```ts
 * const out = webhookOutput("https://siem.example/tracee", { headers: { authorization: `Bearer ${token}` } });
 * await out.write(finding);
 * await out.close();
 * ```
 */
export function webhookOutput(url: string | URL, options: WebhookOutputOptions = {}): EventOutput {
  let target: URL;
  try {
    target = new URL(url);
  } catch {
    throw new TypeError(`webhookOutput: not a URL: ${JSON.stringify(String(url))}`);
  }
  if (target.protocol !== "http:" && target.protocol !== "https:") {
    throw new TypeError(`webhookOutput: the URL must be http: or https:, got ${JSON.stringify(target.protocol)}`);
  }
  const timeoutMs = positive("timeoutMs", options.timeoutMs, DEFAULT_WEBHOOK_TIMEOUT_MS, false);
  const maxAttempts = positive("maxAttempts", options.maxAttempts, DEFAULT_WEBHOOK_MAX_ATTEMPTS, true);
  const retryDelayMs = positive("retryDelayMs", options.retryDelayMs, 200, false, 0);
  const maxRetryDelayMs = positive("maxRetryDelayMs", options.maxRetryDelayMs, 5000, false, 0);
  const concurrency = positive("concurrency", options.concurrency, 1, true);
  const capacity = positive("queueCapacity", options.queueCapacity, DEFAULT_WEBHOOK_QUEUE_CAPACITY, true, 0);
  const closeTimeoutMs = positive("closeTimeoutMs", options.closeTimeoutMs, 10_000, false, 0);
  const overflow: OverflowPolicy = options.overflow ?? "block";
  if (overflow !== "block" && overflow !== "drop-newest" && overflow !== "drop-oldest") {
    throw new RangeError(`webhookOutput: overflow must be "block", "drop-newest" or "drop-oldest", got ${JSON.stringify(overflow)}`);
  }
  const contentType = options.contentType ?? "application/json";
  const extraHeaders = { ...options.headers };
  const https = target.protocol === "https:";
  const agent = https
    ? new HttpsAgent({ keepAlive: true, maxSockets: concurrency })
    : new HttpAgent({ keepAlive: true, maxSockets: concurrency });
  const send = https ? httpsRequest : httpRequest;
  /** Aborted when `close()` gives up: cuts off posts and retry waits. */
  const giveUp = new AbortController();

  let written = 0;
  let failed = 0;
  let retried = 0;
  let dropped = 0;
  const queue: Item[] = [];
  let inFlight = 0;
  let room: { promise: Promise<void>; wake: () => void } | undefined;
  const idle: (() => void)[] = [];
  let closing: Promise<void> | undefined;

  const report = (error: WebhookOutputError, event: TraceeEvent) => {
    try {
      options.onError?.(error, event);
    } catch {
      // A throwing handler must not break the output.
    }
  };

  /** One POST; never rejects. */
  const attempt = (body: Buffer): Promise<Attempt> =>
    new Promise<Attempt>((resolve) => {
      if (giveUp.signal.aborted) return resolve({ ok: false, code: "closed", retry: false, message: "the output closed" });
      let settled = false;
      const finish = (result: Attempt) => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        giveUp.signal.removeEventListener("abort", onAbort);
        resolve(result);
      };
      const req = send(target, {
        method: "POST",
        agent,
        headers: { ...extraHeaders, "content-type": contentType, "content-length": String(body.length) },
      });
      const timer = setTimeout(() => {
        finish({ ok: false, code: "timeout", retry: true, message: `no answer within ${timeoutMs} ms` });
        req.destroy();
      }, timeoutMs);
      const onAbort = () => {
        finish({ ok: false, code: "closed", retry: false, message: "cut off by close()" });
        req.destroy();
      };
      giveUp.signal.addEventListener("abort", onAbort);
      req.on("error", (err) =>
        finish({ ok: false, code: "network", retry: true, message: err.message, cause: err }),
      );
      req.on("response", (res) => {
        const status = res.statusCode ?? 0;
        res.on("error", (err) => finish({ ok: false, code: "network", retry: true, message: err.message, cause: err }));
        res.on("close", () => {
          if (!res.complete) finish({ ok: false, code: "network", retry: true, message: "the connection closed in the middle of the answer" });
        });
        // The answer's body is not needed, but must be read for the connection to be reused.
        res.resume();
        res.on("end", () => {
          if (status >= 200 && status < 300) return finish({ ok: true });
          const after = status === 429 || status >= 500 ? retryAfter(res) : undefined;
          finish({
            ok: false,
            code: "status",
            retry: status === 429 || status >= 500,
            status,
            ...(after === undefined ? {} : { retryAfterMs: after }),
            message: `HTTP ${status}${res.statusMessage ? ` ${res.statusMessage}` : ""}`,
          });
        });
      });
      req.end(body);
    });

  const deliver = async (item: Item): Promise<void> => {
    for (let n = 1; ; n++) {
      const result = await attempt(item.body);
      if (result.ok) {
        written++;
        return;
      }
      if (!result.retry || n >= maxAttempts || giveUp.signal.aborted) {
        failed++;
        const tries = n === 1 ? "" : ` after ${n} attempts`;
        report(
          new WebhookOutputError(result.code, `webhook ${target.origin}: ${result.message}${tries}`, result.status, n, {
            cause: result.cause,
          }),
          item.event,
        );
        return;
      }
      retried++;
      const backoff = retryDelayMs * 2 ** (n - 1);
      await sleep(Math.min(result.retryAfterMs ?? backoff, maxRetryDelayMs), giveUp.signal);
    }
  };

  const checkRoom = () => {
    if (room !== undefined && queue.length <= capacity) {
      const { wake } = room;
      room = undefined;
      wake();
    }
  };

  const pump = () => {
    while (inFlight < concurrency && queue.length > 0) {
      const item = queue.shift() as Item;
      inFlight++;
      void deliver(item).then(() => {
        inFlight--;
        pump();
        if (inFlight === 0 && queue.length === 0) for (const wake of idle.splice(0)) wake();
      });
    }
    checkRoom();
  };

  const flush = (): Promise<void> =>
    inFlight === 0 && queue.length === 0 ? Promise.resolve() : new Promise<void>((resolve) => idle.push(resolve));

  const close = async (): Promise<void> => {
    let timer: NodeJS.Timeout | undefined;
    const expired = new Promise<boolean>((resolve) => {
      timer = setTimeout(() => resolve(true), closeTimeoutMs);
    });
    const gaveUp = await Promise.race([flush().then(() => false), expired]);
    clearTimeout(timer);
    if (gaveUp) {
      dropped += queue.length;
      queue.length = 0;
      giveUp.abort();
      await flush();
    }
    room?.wake();
    room = undefined;
    agent.destroy();
  };

  return {
    write(event: TraceeEvent): void | Promise<void> {
      if (closing !== undefined) throw new Error("webhookOutput: write after close");
      queue.push({ event, body: Buffer.from(encodeEventJson(event), "utf8") });
      pump();
      if (queue.length <= capacity) return undefined;
      if (overflow === "drop-newest") {
        queue.pop();
        dropped++;
        return undefined;
      }
      if (overflow === "drop-oldest") {
        queue.shift();
        dropped++;
        return undefined;
      }
      if (room === undefined) {
        let wake: () => void = () => {};
        const promise = new Promise<void>((resolve) => (wake = resolve));
        room = { promise, wake };
      }
      return room.promise;
    },
    flush,
    close(): Promise<void> {
      closing ??= close();
      return closing;
    },
    stats: (): OutputStats => ({ written, failed, retried, dropped }),
  };
}
