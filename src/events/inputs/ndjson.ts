/**
 * Tracee events from NDJSON, one event per line: a file Tracee wrote with
 * `--output json`, a capture for `tracee analyze`, stdin or any stream, in
 * Tracee's JSON or the legacy `trace.Event` JSON.
 *
 * @module
 */
import { createReadStream } from "node:fs";
import type { Readable } from "node:stream";
import type { TraceeEvent } from "../model.js";
import { EventQueue } from "../queue.js";
import { createInput, type EventInput, type InputOptions } from "./input.js";
import { checkFormat, decodeLine, type EventFormat, type EventLineError, isBlank, LineSplitter } from "./lines.js";

export { EventLineError, isEventLineError, type EventFormat, type EventLineFormat } from "./lines.js";

/**
 * What {@link readEvents} does with a line that is not an event:
 *
 * - `"skip"` (default): count it (`stats().malformed`) and go on.
 * - `"throw"`: stop reading; the iteration yields the events before the line,
 *   then rejects with its {@link EventLineError}.
 * - a function: called with each line's {@link EventLineError}, then the line
 *   is skipped and counted. If the function throws, reading stops and the
 *   iteration rejects with what it threw.
 */
export type MalformedPolicy = "skip" | "throw" | ((error: EventLineError) => void);

/** Where {@link readEvents} reads from: a file path (`"-"` for stdin), a stream, or any async iterable of text or bytes. */
export type ReadEventsSource = string | NodeJS.ReadableStream | Readable | AsyncIterable<string | Uint8Array>;

/** Options for {@link readEvents}. */
export interface ReadEventsOptions extends InputOptions {
  /** Which JSON the lines are in (default `"auto"`: decided per line). */
  readonly format?: EventFormat;
  /** What to do with a line that is not an event (default `"skip"`). */
  readonly onMalformed?: MalformedPolicy;
}

/** A stream we can listen to, pause and resume: a `Readable` or an old-style stream. */
type StreamLike = NodeJS.ReadableStream & {
  readonly destroyed?: boolean;
  readonly readableEnded?: boolean;
  readonly closed?: boolean;
  destroy?: (error?: Error) => void;
};

const isStreamLike = (v: unknown): v is StreamLike =>
  typeof v === "object" &&
  v !== null &&
  typeof (v as StreamLike).on === "function" &&
  typeof (v as StreamLike).pause === "function" &&
  typeof (v as StreamLike).resume === "function";

const isAsyncIterable = (v: unknown): v is AsyncIterable<unknown> =>
  typeof v === "object" && v !== null && typeof (v as AsyncIterable<unknown>)[Symbol.asyncIterator] === "function";

const noop = (): void => {};

/** What a file system error means, in words. */
const FS_REASONS: Readonly<Record<string, string>> = {
  ENOENT: "no such file or directory",
  EACCES: "permission denied",
  EPERM: "operation not permitted",
  EISDIR: "is a directory",
  ENOTDIR: "a part of the path is not a directory",
};

/** The error for a file that cannot be read: names the path, keeps the errno `code` and the original as `cause`. */
function fileError(path: string, err: unknown): Error {
  const code = (err as NodeJS.ErrnoException | undefined)?.code;
  const reason = (code !== undefined ? FS_REASONS[code] : undefined) ?? (err instanceof Error ? err.message : String(err));
  const error = new Error(`cannot read events from ${path}: ${reason}`, { cause: err }) as NodeJS.ErrnoException;
  if (code !== undefined) error.code = code;
  error.path = path;
  return error;
}

function chunkError(chunk: unknown): TypeError {
  const what = chunk === null ? "null" : Array.isArray(chunk) ? "an array" : typeof chunk;
  return new TypeError(`readEvents: the source gave ${what}, expected strings or bytes`);
}

/**
 * Turns chunks into events in the queue. `feed` and `finish` return a
 * promise when the queue is full and the policy is `"block"`: read nothing
 * more until it resolves (the chunk's remaining lines are queued by then).
 */
class LineFeeder {
  readonly #splitter = new LineSplitter();
  #lineNo = 0;
  #failed = false;

  constructor(
    private readonly queue: EventQueue<TraceeEvent>,
    private readonly format: EventFormat,
    private readonly onMalformed: MalformedPolicy,
    /** Stops reading and ends the queue with `error`. */
    private readonly fail: (error: unknown) => void,
  ) {}

  feed(chunk: unknown): Promise<void> | undefined {
    if (this.#failed) return undefined;
    if (typeof chunk !== "string" && !(chunk instanceof Uint8Array)) {
      this.#stop(chunkError(chunk));
      return undefined;
    }
    return this.#run(this.#splitter.push(chunk), 0);
  }

  /** The last line, if the text did not end with a line end. */
  finish(): Promise<void> | undefined {
    if (this.#failed) return undefined;
    const last = this.#splitter.end();
    return last === undefined ? undefined : this.#line(last);
  }

  #run(lines: readonly string[], from: number): Promise<void> | undefined {
    for (let i = from; i < lines.length; i++) {
      if (this.#failed || this.queue.ended) return undefined;
      const wait = this.#line(lines[i] as string);
      if (wait !== undefined) {
        return i + 1 < lines.length ? wait.then(() => this.#run(lines, i + 1)) : wait;
      }
    }
    return undefined;
  }

  #line(text: string): Promise<void> | undefined {
    const lineNo = ++this.#lineNo;
    if (isBlank(text)) return undefined;
    let event: TraceeEvent;
    try {
      event = decodeLine(text, this.format, lineNo);
    } catch (err) {
      this.#malformed(err as EventLineError);
      return undefined;
    }
    return this.queue.push(event);
  }

  #malformed(error: EventLineError): void {
    this.queue.countMalformed();
    const policy = this.onMalformed;
    if (policy === "skip") return;
    if (policy === "throw") {
      this.#stop(error);
      return;
    }
    try {
      policy(error);
    } catch (err) {
      this.#stop(err);
    }
  }

  #stop(error: unknown): void {
    this.#failed = true;
    this.fail(error);
  }

  /** Queues nothing more, not even the rest of a chunk waiting for room. */
  stop(): void {
    this.#failed = true;
  }
}

/** Reads a stream by its events, pausing it while the queue is full. Returns what stops it. */
function pumpStream(
  stream: StreamLike,
  owned: boolean,
  feeder: LineFeeder,
  done: (error?: unknown) => void,
  wrapError: (err: unknown) => unknown,
): () => Promise<void> {
  let stopped = false;
  let busy = false; // a chunk is waiting for room in the queue
  let ended = false;
  const backlog: unknown[] = []; // chunks a stream that ignores pause() sent meanwhile

  const onData = (chunk: unknown): void => {
    if (stopped) return;
    if (busy) backlog.push(chunk);
    else wait(feeder.feed(chunk));
  };
  const wait = (room: Promise<void> | undefined): void => {
    if (room === undefined) return;
    busy = true;
    stream.pause();
    room.then(drain, onError);
  };
  const drain = (): void => {
    while (!stopped && backlog.length > 0) {
      const room = feeder.feed(backlog.shift());
      if (room !== undefined) {
        room.then(drain, onError);
        return;
      }
    }
    busy = false;
    if (stopped) return;
    if (ended) finish();
    else stream.resume();
  };
  const finish = (): void => {
    if (stopped) return;
    void feeder.finish(); // the item is queued; the consumer drains it after the end
    detach();
    done();
  };
  const onEnd = (): void => {
    ended = true;
    if (!busy) finish();
  };
  const onError = (err: unknown): void => {
    if (stopped) return;
    detach();
    if (owned) stream.destroy?.();
    done(wrapError(err));
  };
  const onClose = (): void => {
    if (ended || stopped) return;
    const err = new Error("the stream closed before its end") as NodeJS.ErrnoException;
    err.code = "ERR_STREAM_PREMATURE_CLOSE";
    onError(err);
  };
  const detach = (): void => {
    stopped = true;
    backlog.length = 0;
    stream.removeListener("data", onData);
    stream.removeListener("end", onEnd);
    stream.removeListener("error", onError);
    stream.removeListener("close", onClose);
    // A stream of ours may still report an error while closing: nobody else listens.
    if (owned) stream.on("error", noop);
  };

  stream.on("error", onError);
  stream.on("end", onEnd);
  stream.on("close", onClose);
  if (stream.readableEnded === true) onEnd();
  else if (stream.destroyed === true) onClose();
  else stream.on("data", onData);

  return async () => {
    if (!stopped) {
      detach();
      stream.pause();
    }
    if (!owned || stream.destroy === undefined) return;
    if (stream.closed !== true) {
      const closed = new Promise<void>((resolve) => stream.once("close", () => resolve()));
      stream.destroy();
      await closed;
    }
  };
}

/** Pulls chunks from an async iterable, one at a time, pulling none while the queue is full. Returns what stops it. */
function pumpIterable(iterable: AsyncIterable<unknown>, feeder: LineFeeder, done: (error?: unknown) => void): () => void {
  let stopped = false;
  let iterator: AsyncIterator<unknown> | undefined;
  void (async () => {
    try {
      iterator = iterable[Symbol.asyncIterator]();
      for (;;) {
        const result = await iterator.next();
        if (stopped) return;
        if (result.done === true) break;
        const room = feeder.feed(result.value);
        if (room !== undefined) await room;
        if (stopped) return;
      }
      void feeder.finish();
      stopped = true;
      done();
    } catch (err) {
      if (stopped) return;
      stopped = true;
      done(err);
    }
  })();
  return () => {
    if (stopped) return;
    stopped = true;
    // Not awaited: an async generator runs return() only after a pending next().
    void Promise.resolve()
      .then(() => iterator?.return?.())
      .catch(noop);
  };
}

/**
 * Reads Tracee events from NDJSON, one event per line, from a file, stdin or
 * a stream.
 *
 * `source` is a file path (`"-"` for stdin), a `Readable` (or any stream
 * with `on`/`pause`/`resume`), or an async iterable of strings or bytes.
 * Reading starts at once, into a bounded queue (`options.queue`); iterate
 * the result once with `for await`.
 *
 * Lines are in Tracee's JSON (`tracee --output json`) or the legacy
 * `trace.Event` JSON `tracee analyze` reads (converted with
 * `legacyToEvent`); `format: "auto"` (the default) tells them apart per line,
 * by a string or numeric `timestamp`, or a `name` or `eventName` key. Bytes
 * are UTF-8 (characters split across chunks are put together, a BOM is
 * dropped); `\n` and `\r\n` end lines; blank lines are skipped; a last line
 * without a line end is read; lines may be any length.
 *
 * A line that is not an event is handled by `onMalformed` (see
 * {@link MalformedPolicy}): by default counted in `stats().malformed` and
 * skipped; with `"throw"`, the iteration rejects with an
 * {@link EventLineError} carrying the 1-based `line`, the field `path` and
 * the `reason`.
 *
 * When the consumer falls behind, the queue's overflow policy applies: with
 * `"block"` (the default) nothing more is read from the source until there
 * is room (a stream is paused, an iterable not pulled); `"drop-newest"` and
 * `"drop-oldest"` keep reading and count `stats().dropped`.
 *
 * `close()`, the `signal` or breaking out of the loop stop reading. A file
 * this function opened is closed (`close()` resolves once it is); a stream or
 * iterable you passed is not destroyed: a stream is paused and let go of (you
 * may still read the rest, or destroy it), an iterable gets `return()`.
 * Stdin is paused, not destroyed.
 *
 * Errors: a file that cannot be read makes the iteration reject with an
 * error naming the path, whose `code` is the system's (`"ENOENT"`), after
 * any events read before; a stream's own error is passed on as is. Throws
 * at once (`TypeError`, `RangeError`) for a source or option it cannot use.
 *
 * @example
 * ```ts
 * import { getData, readEvents } from "tracee-ds/events";
 *
 * const input = readEvents("events.ndjson", { queue: { capacity: 4096 } });
 * for await (const event of input) {
 *   if (event.name === "security_file_open") console.log(getData(event, "pathname", "str"));
 * }
 * console.log(input.stats()); // { received, dropped, malformed, queued }
 * ```
 */
export function readEvents(source: ReadEventsSource, options: ReadEventsOptions = {}): EventInput {
  const format = checkFormat(options.format, "readEvents");
  const onMalformed = options.onMalformed ?? "skip";
  if (onMalformed !== "skip" && onMalformed !== "throw" && typeof onMalformed !== "function") {
    throw new TypeError(`readEvents: onMalformed must be "skip", "throw" or a function, got ${JSON.stringify(onMalformed)}`);
  }
  let stream: StreamLike | undefined;
  let owned = false;
  let path: string | undefined;
  if (typeof source === "string") {
    if (source === "") throw new TypeError("readEvents: the file path is empty");
    if (source === "-") stream = process.stdin;
    else {
      path = source;
      owned = true;
    }
  } else if (isStreamLike(source)) stream = source;
  else if (!isAsyncIterable(source)) {
    throw new TypeError("readEvents: source must be a file path, a readable stream or an async iterable of strings or bytes");
  }

  const queue = new EventQueue<TraceeEvent>(options.queue);
  let stopSource: () => Promise<void> | void = noop;
  let finished = false;
  const done = (error?: unknown): void => {
    if (finished) return;
    finished = true;
    queue.end(error);
  };
  const fail = (error: unknown): void => {
    void Promise.resolve(stopSource()).catch(noop);
    done(error);
  };
  const feeder = new LineFeeder(queue, format, onMalformed, fail);

  if (path !== undefined) {
    const file = path;
    stream = createReadStream(file);
    stopSource = pumpStream(stream, owned, feeder, done, (err) => fileError(file, err));
  } else if (stream !== undefined) {
    stopSource = pumpStream(stream, false, feeder, done, (err) => err);
  } else {
    stopSource = pumpIterable(source as AsyncIterable<unknown>, feeder, done);
  }

  return createInput(queue, options.signal, () => {
    finished = true;
    feeder.stop();
    return stopSource();
  });
}
