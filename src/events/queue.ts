/**
 * The bounded queue between an event input and its consumer, with a policy
 * for when the consumer falls behind, and the counters every input reports.
 *
 * @module
 */

/**
 * What an input does when its queue is full:
 *
 * - `"block"`: stop reading until the consumer catches up (backpressure).
 *   For Tracee's gRPC stream this blocks Tracee itself: its stream channel
 *   fills and its whole output stage waits, for every consumer.
 * - `"drop-newest"`: drop the event that does not fit (the queue keeps the older ones).
 * - `"drop-oldest"`: drop the oldest queued event to make room for the new one.
 */
export type OverflowPolicy = "block" | "drop-newest" | "drop-oldest";

/** The queue between an input and its consumer. */
export interface QueueOptions {
  /** How many events may wait for the consumer (default 1024). */
  readonly capacity?: number;
  /** What happens when it is full (default `"block"`). */
  readonly overflow?: OverflowPolicy;
}

/** What an input counted so far. */
export interface InputStats {
  /** Events read from the source (queued or dropped). */
  readonly received: number;
  /** Events dropped because the queue was full. */
  readonly dropped: number;
  /** Lines or bodies that were not events, skipped. */
  readonly malformed: number;
  /** Events waiting for the consumer now. */
  readonly queued: number;
}

/** Default queue capacity. */
export const DEFAULT_QUEUE_CAPACITY = 1024;

/**
 * A bounded single-consumer queue. Producers `push`; with `"block"` a push
 * into a full queue returns a promise that resolves when there is room (the
 * producer should stop reading until then). `end` finishes it: the consumer
 * drains what is queued, then sees the end (or the error). Used by the
 * inputs; not exported from the package.
 */
export class EventQueue<T> {
  readonly capacity: number;
  readonly overflow: OverflowPolicy;
  #items: T[] = [];
  #head = 0;
  #received = 0;
  #dropped = 0;
  #malformed = 0;
  #ended = false;
  #error: unknown;
  #consumer: ((result: IteratorResult<T>) => void) | undefined;
  #consumerError: ((err: unknown) => void) | undefined;
  #room: (() => void)[] = [];
  #iterating = false;
  /** Called once when the consumer stops early (`break`, `return()`), so the source can stop. */
  onConsumerDone: (() => void) | undefined;

  constructor(options: QueueOptions = {}) {
    const capacity = options.capacity ?? DEFAULT_QUEUE_CAPACITY;
    if (!Number.isSafeInteger(capacity) || capacity < 1) {
      throw new RangeError(`queue capacity must be a whole number >= 1, got ${capacity}`);
    }
    const overflow = options.overflow ?? "block";
    if (overflow !== "block" && overflow !== "drop-newest" && overflow !== "drop-oldest") {
      throw new RangeError(`overflow must be "block", "drop-newest" or "drop-oldest", got ${JSON.stringify(overflow)}`);
    }
    this.capacity = capacity;
    this.overflow = overflow;
  }

  get size(): number {
    return this.#items.length - this.#head;
  }

  get ended(): boolean {
    return this.#ended;
  }

  stats(): InputStats {
    return { received: this.#received, dropped: this.#dropped, malformed: this.#malformed, queued: this.size };
  }

  /** Counts something the source read that was not an event. */
  countMalformed(): void {
    this.#malformed++;
  }

  /**
   * Offers `item`. Returns `undefined` when it was queued (or dropped by the
   * policy), or a promise that resolves once there is room again (`"block"`
   * with a full queue: the item is queued, but read no more until then).
   */
  push(item: T): Promise<void> | undefined {
    if (this.#ended) return undefined;
    this.#received++;
    const consumer = this.#consumer;
    if (consumer !== undefined) {
      // The consumer is waiting: hand the item straight over.
      this.#consumer = undefined;
      this.#consumerError = undefined;
      consumer({ value: item, done: false });
      return undefined;
    }
    if (this.size >= this.capacity) {
      if (this.overflow === "drop-newest") {
        this.#dropped++;
        return undefined;
      }
      if (this.overflow === "drop-oldest") {
        this.#dropped++;
        this.#head++;
      }
    }
    this.#items.push(item);
    if (this.overflow === "block" && this.size >= this.capacity) {
      return new Promise((resolve) => this.#room.push(resolve));
    }
    return undefined;
  }

  /** Finishes the queue; the consumer drains it, then gets the end, or `error` thrown. */
  end(error?: unknown): void {
    if (this.#ended) return;
    this.#ended = true;
    this.#error = error;
    this.#wakeProducers();
    if (this.size === 0) this.#settleConsumer();
  }

  #settleConsumer(): void {
    const consumer = this.#consumer;
    const fail = this.#consumerError;
    this.#consumer = undefined;
    this.#consumerError = undefined;
    if (consumer === undefined) return;
    if (this.#error !== undefined) fail?.(this.#error);
    else consumer({ value: undefined, done: true });
  }

  #wakeProducers(): void {
    const waiting = this.#room;
    this.#room = [];
    for (const resolve of waiting) resolve();
  }

  #take(): T {
    const item = this.#items[this.#head] as T;
    this.#items[this.#head] = undefined as T; // let it go
    this.#head++;
    if (this.#head > 1024 && this.#head * 2 > this.#items.length) {
      this.#items = this.#items.slice(this.#head);
      this.#head = 0;
    }
    if (this.#room.length > 0 && this.size < this.capacity) this.#wakeProducers();
    return item;
  }

  /** The consumer's side: an async iterator that can be taken once. */
  [Symbol.asyncIterator](): AsyncIterator<T> {
    if (this.#iterating) throw new TypeError("an event input can be iterated only once");
    this.#iterating = true;
    const next = (): Promise<IteratorResult<T>> => {
      if (this.size > 0) return Promise.resolve({ value: this.#take(), done: false });
      if (this.#ended) {
        return this.#error === undefined ? Promise.resolve({ value: undefined, done: true }) : Promise.reject(this.#error);
      }
      return new Promise((resolve, reject) => {
        this.#consumer = resolve;
        this.#consumerError = reject;
      });
    };
    const stop = (): Promise<IteratorResult<T>> => {
      const done = this.onConsumerDone;
      this.onConsumerDone = undefined;
      this.#items = [];
      this.#head = 0;
      this.end();
      done?.();
      return Promise.resolve({ value: undefined, done: true });
    };
    return { next, return: stop };
  }
}
