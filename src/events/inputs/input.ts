/**
 * What every event input is and takes: an async iterable of events with
 * counters and `close()`, and one options shape.
 *
 * @module
 */
import type { TraceeEvent } from "../model.js";
import type { EventQueue, InputStats, QueueOptions } from "../queue.js";

/** Options every input takes. */
export interface InputOptions {
  /** Ends the input: iteration finishes after the events already queued. */
  readonly signal?: AbortSignal;
  /** The bounded queue between the input and you (capacity, overflow policy). */
  readonly queue?: QueueOptions;
}

/**
 * A stream of Tracee events: iterate it once with `for await`. Breaking out
 * of the loop stops the input, as does `close()` or the `signal`.
 */
export interface EventInput extends AsyncIterable<TraceeEvent> {
  /** What the input has counted so far: received, dropped, malformed, queued. */
  stats(): InputStats;
  /** Stops reading; the iteration ends after what is already queued. Resolves once the source is released. */
  close(): Promise<void>;
}

/**
 * Builds an {@link EventInput} over `queue`: `stop` releases the source
 * (called once, on close, abort or the consumer breaking out).
 *
 * @internal
 */
export function createInput(
  queue: EventQueue<TraceeEvent>,
  signal: AbortSignal | undefined,
  stop: () => Promise<void> | void,
): EventInput {
  let stopping: Promise<void> | undefined;
  const close = (): Promise<void> => {
    stopping ??= (async () => {
      signal?.removeEventListener("abort", onAbort);
      try {
        await stop();
      } finally {
        queue.end();
      }
    })();
    return stopping;
  };
  const onAbort = () => void close();
  if (signal?.aborted) void close();
  else signal?.addEventListener("abort", onAbort, { once: true });
  queue.onConsumerDone = () => void close();
  return {
    [Symbol.asyncIterator]: () => queue[Symbol.asyncIterator](),
    stats: () => queue.stats(),
    close,
  };
}
