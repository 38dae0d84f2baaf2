/**
 * What every output of the engine is: a place findings (and events) go.
 *
 * @module
 */
import type { TraceeEvent } from "../../events/model.js";

/** What an output counted so far. */
export interface OutputStats {
  /** Events delivered: handed to the stream (its write completed), or a webhook post answered 2xx. */
  readonly written: number;
  /** Events that could not be delivered: a stream error, or a post that failed on its last attempt. */
  readonly failed: number;
  /** Webhook only: extra attempts made (a post tried three times counts 2). */
  readonly retried?: number;
  /** Webhook only: events never attempted, pushed out of a full queue (drop policies) or still queued when `close()` gave up. */
  readonly dropped?: number;
}

/**
 * Called when an output fails to deliver: a stream output calls it once,
 * with the first error of its stream (later failures are only counted); the
 * webhook output once per event given up on, with that event.
 */
export type OutputErrorHandler = (error: Error, event: TraceeEvent | undefined) => void;

/**
 * Where events go: `jsonOutput`, `webhookOutput`, `tableOutput`, or your
 * own.
 *
 * - `write(event)` takes the event (it is encoded at once, so changing the
 *   object afterwards changes nothing) and returns `undefined` when the
 *   caller may go on, or a promise when the output is behind: await it
 *   before writing the next event. The event is accepted either way. It
 *   throws after `close()`.
 * - `flush()` resolves once everything written so far is delivered (or
 *   failed).
 * - `close()` flushes, then releases what the output opened (a file, the
 *   webhook's connections); it never rejects, and calling it again returns
 *   the same promise.
 * - `stats()` counts; a failure is counted, never thrown.
 */
export interface EventOutput {
  write(event: TraceeEvent): void | Promise<void>;
  flush?(): Promise<void>;
  close(): Promise<void>;
  stats(): OutputStats;
}
