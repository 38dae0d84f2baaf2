/**
 * `writeAll`: any number of entries, from an array, a generator or an async
 * source, written in `WriteBatchData` calls that each stay under a size and
 * an entry count. Entries are read as batches are sent, so at most
 * `concurrency` batches in flight and one being filled are in memory.
 *
 * @module
 */
import { setMaxListeners } from "node:events";
import { status as Status } from "@grpc/grpc-js";
import { StopLatch, STOPPED } from "../internal/stop-latch.js";
import type { Entries } from "./client.js";
import type { DataStoreCallOptions } from "./datastore-call.js";
import { checkDeadlineMs } from "./call-start.js";
import { type BatchHeader, fieldSize } from "./datastore-wire.js";
import { DataSourceClientError, isDataSourceClientError } from "./errors.js";
import { PREFIX_BYTES } from "./transport/framing.js";

/** Default of {@link WriteAllOptions.maxBatchBytes}: 1 MiB, a quarter of gRPC's usual 4 MiB message limit. */
export const DEFAULT_MAX_BATCH_BYTES = 1024 * 1024;
/** Default of {@link WriteAllOptions.maxBatchEntries}. */
export const DEFAULT_MAX_BATCH_ENTRIES = 10_000;

/** Where a `writeAll` stands: counts of what the server has acknowledged. */
export interface WriteAllProgress {
  /** Entries of the input in batches the server acknowledged. */
  readonly written: number;
  /**
   * The server's own count (`written_count`, summed): how many it stored.
   * Fewer than `written` when a batch repeats a key (the later entry wins),
   * or when the server counts that way.
   */
  readonly stored: number;
  /** Batches the server acknowledged. */
  readonly batches: number;
  /** Request bytes of those batches. */
  readonly bytes: number;
}

/** What a completed `writeAll` wrote. */
export type WriteAllResult = WriteAllProgress;

/**
 * Options of `writeAll`. `deadlineMs` and `metadata` apply to each batch's
 * call; `signal` to the whole run.
 */
export interface WriteAllOptions extends DataStoreCallOptions {
  /**
   * Largest request message of one batch, in bytes (default 1 MiB). Keep it
   * under the server's receive limit (4 MiB by default for grpc-js and Go
   * servers). An entry too big for a batch of its own fails the run.
   */
  readonly maxBatchBytes?: number;
  /** Most entries in one batch (default 10,000). */
  readonly maxBatchEntries?: number;
  /**
   * Batches in flight at once (default 1). With 1, batches are applied in
   * input order, so when a key repeats, its last entry wins, and when a batch
   * fails everything before it is written and nothing after. With more, the
   * server may apply batches out of order: use it when keys do not repeat
   * across the input.
   */
  readonly concurrency?: number;
  /** Called after each acknowledged batch with the running totals; the counts only grow. */
  readonly onProgress?: (progress: WriteAllProgress) => void;
}

/** The batch that failed, in a {@link WriteAllError}. */
export interface FailedBatch {
  /** 1 for the first batch sent. */
  readonly number: number;
  /** Index in the input of the batch's first entry. */
  readonly firstEntry: number;
  /** How many entries the batch held. */
  readonly entries: number;
}

const BRAND: unique symbol = Symbol.for("tracee-ds.WriteAllError");

/**
 * A `writeAll` that stopped: a batch the server refused (its status is this
 * error's `code`, its message in `details`), an entry that could not be sent
 * (`INVALID_ARGUMENT`, naming its index), the input throwing (`CANCELLED`,
 * with the input's error as `cause`), or the signal (`CANCELLED`).
 *
 * Batches are all or nothing on the server, so the counts are exact: the
 * entries before `resumeAt` are written; send the rest again from there
 * (an entry written twice is simply replaced).
 */
export class WriteAllError extends DataSourceClientError {
  /** Entries in batches the server acknowledged (with `concurrency` > 1 some may come after `resumeAt`). */
  readonly written: number;
  /** The server's `written_count` of those batches, summed. */
  readonly stored: number;
  /** Batches the server acknowledged. */
  readonly batches: number;
  /** Index of the first entry not known to be written: every entry before it is. */
  readonly resumeAt: number;
  /** The batch the server refused, when one was. */
  readonly failedBatch: FailedBatch | undefined;
  /** The entry that could not be encoded, or was too large, or where the input threw. */
  readonly entryIndex: number | undefined;
  /** @internal */
  readonly [BRAND] = true;

  /** @internal */
  constructor(
    code: number,
    details: string,
    progress: WriteAllProgress & { resumeAt: number; failedBatch?: FailedBatch; entryIndex?: number },
    cause: unknown,
  ) {
    super(code, details, cause === undefined ? undefined : { cause });
    this.name = "WriteAllError";
    this.written = progress.written;
    this.stored = progress.stored;
    this.batches = progress.batches;
    this.resumeAt = progress.resumeAt;
    this.failedBatch = progress.failedBatch;
    this.entryIndex = progress.entryIndex;
  }
}

/** Whether `value` is a {@link WriteAllError} from any copy of this package. */
export function isWriteAllError(value: unknown): value is WriteAllError {
  return isDataSourceClientError(value) && (value as { [BRAND]?: unknown })[BRAND] === true;
}

/** How a run sends one batch: the framed request in, the server's `written_count` out. @internal */
export type SendBatch = (request: Buffer, options: DataStoreCallOptions) => Promise<number>;


function positiveWhole(name: string, value: number | undefined, fallback: number): number {
  const n = value ?? fallback;
  if (!Number.isSafeInteger(n) || n < 1) throw new RangeError(`${name} must be a whole number >= 1, got ${value}`);
  return n;
}

function isAsyncIterable<T>(source: Entries<T>): source is AsyncIterable<T> {
  return typeof (source as Partial<AsyncIterable<T>>)[Symbol.asyncIterator] === "function";
}

const plural = (n: number, one: string, many = `${one}s`) => `${n} ${n === 1 ? one : many}`;
const reasonOf = (err: unknown) => (err instanceof Error ? err.message : String(err));

/**
 * Writes `entries` in batches through `send`. `encode` turns an entry into
 * `DataEntry` bytes, or throws. @internal
 */
export async function writeAll<T>(
  header: BatchHeader,
  entries: Entries<T>,
  encode: (entry: T) => Buffer,
  send: SendBatch,
  options: WriteAllOptions = {},
): Promise<WriteAllResult> {
  const maxBatchBytes = positiveWhole("maxBatchBytes", options.maxBatchBytes, DEFAULT_MAX_BATCH_BYTES);
  const maxBatchEntries = positiveWhole("maxBatchEntries", options.maxBatchEntries, DEFAULT_MAX_BATCH_ENTRIES);
  const concurrency = positiveWhole("concurrency", options.concurrency, 1);
  checkDeadlineMs(options.deadlineMs);
  const signal = options.signal;
  if (signal?.aborted) {
    throw new WriteAllError(Status.CANCELLED, "the run was aborted by its AbortSignal before it started", {
      written: 0, stored: 0, batches: 0, bytes: 0, resumeAt: 0,
    }, signal.reason);
  }
  const entriesBudget = maxBatchBytes - header.size;

  // What the server acknowledged.
  let written = 0;
  let stored = 0;
  let acked = 0;
  let bytes = 0;
  // The batch being filled.
  let pending: Buffer[] = [];
  let pendingSize = 0;
  let pendingFirst = 0;
  /** Entries read so far: the index of the next one. */
  let index = 0;
  let sent = 0;
  /** First entry of the earliest batch sent but not acknowledged. */
  let unwrittenFrom = Number.POSITIVE_INFINITY;
  /** The earliest failed batch, and why. */
  let refused: { batch: FailedBatch; error: DataSourceClientError } | undefined;
  /** Why the run stopped on this side (bad entry, input error, abort). */
  let local: { code: number; details: string; cause: unknown; entryIndex?: number } | undefined;

  // Every batch call is cancelled by an abort of the run's signal.
  const cancel = new AbortController();
  // Each batch in flight listens on it (its call and its start): with `concurrency` above 5 that
  // passes Node's default of 10 listeners, a warning about a leak that is not one.
  setMaxListeners(0, cancel.signal);
  // Ends a wait for the next entry when the run stops (see stop-latch.ts for why not a Promise.race).
  const latch = new StopLatch();
  const markStopped = () => latch.stop();
  const onAbort = () => {
    local ??= { code: Status.CANCELLED, details: "the run was aborted by its AbortSignal", cause: signal?.reason };
    cancel.abort(signal?.reason);
    markStopped();
  };
  signal?.addEventListener("abort", onAbort, { once: true });
  const callOptions: DataStoreCallOptions = {
    signal: cancel.signal,
    ...(options.deadlineMs === undefined ? {} : { deadlineMs: options.deadlineMs }),
    ...(options.metadata === undefined ? {} : { metadata: options.metadata }),
  };

  const inFlight = new Set<Promise<void>>();
  const going = () => refused === undefined && local === undefined;

  const dispatch = async (): Promise<void> => {
    while (inFlight.size >= concurrency) await Promise.race(inFlight);
    if (!going()) return;
    const request = header.frame(pending, pendingSize);
    const batch: FailedBatch = { number: ++sent, firstEntry: pendingFirst, entries: pending.length };
    pending = [];
    pendingSize = 0;
    pendingFirst = index;
    const messageBytes = request.length - PREFIX_BYTES;
    const call = send(request, callOptions).then(
      (count) => {
        written += batch.entries;
        stored += count;
        acked++;
        bytes += messageBytes;
        try {
          options.onProgress?.({ written, stored, batches: acked, bytes });
        } catch (err) {
          local ??= { code: Status.CANCELLED, details: `onProgress threw: ${reasonOf(err)}`, cause: err };
          markStopped();
        }
      },
      (err: unknown) => {
        unwrittenFrom = Math.min(unwrittenFrom, batch.firstEntry);
        if (local !== undefined) return; // cancelled by an abort: the abort is the reason
        const error = isDataSourceClientError(err)
          ? err
          : new DataSourceClientError(Status.INTERNAL, reasonOf(err), { cause: err });
        if (refused === undefined || batch.number < refused.batch.number) refused = { batch, error };
        markStopped();
      },
    );
    const tracked: Promise<void> = call.finally(() => inFlight.delete(tracked));
    inFlight.add(tracked);
  };

  /** Adds one entry; resolves when the next may be read. */
  const add = async (entry: T): Promise<void> => {
    let encoded: Buffer;
    try {
      encoded = encode(entry);
    } catch (err) {
      local = { code: Status.INVALID_ARGUMENT, details: `entry ${index}: ${reasonOf(err)} (not sent)`, cause: err, entryIndex: index };
      return;
    }
    const size = fieldSize(encoded.length);
    if (size > entriesBudget) {
      local = {
        code: Status.INVALID_ARGUMENT,
        details:
          `entry ${index} is ${size} bytes encoded, too large for a batch of its own ` +
          `(maxBatchBytes ${maxBatchBytes}, of which the store and source names take ${header.size}) (not sent)`,
        cause: undefined,
        entryIndex: index,
      };
      return;
    }
    if (pending.length > 0 && (pendingSize + size > entriesBudget || pending.length >= maxBatchEntries)) await dispatch();
    if (!going()) return;
    if (pending.length === 0) pendingFirst = index;
    pending.push(encoded);
    pendingSize += size;
    index++;
  };

  try {
    if (isAsyncIterable(entries)) {
      const iterator = entries[Symbol.asyncIterator]();
      try {
        for (;;) {
          const next = latch.stopped ? STOPPED : await latch.until(iterator.next());
          if (next === STOPPED || next.done === true) break;
          await add(next.value);
          if (!going()) break;
        }
      } finally {
        if (!going()) void Promise.resolve(iterator.return?.()).catch(() => undefined);
      }
    } else {
      for (const entry of entries) {
        await add(entry);
        if (!going()) break;
      }
    }
    if (going() && pending.length > 0) await dispatch();
  } catch (err) {
    // The input threw.
    local ??= { code: Status.CANCELLED, details: `the entries threw at entry ${index}: ${reasonOf(err)}`, cause: err, entryIndex: index };
  }
  // An abort meanwhile still cancels the batches in flight.
  while (inFlight.size > 0) await Promise.race(inFlight);
  signal?.removeEventListener("abort", onAbort);

  const progress = { written, stored, batches: acked, bytes };
  if (refused === undefined && local === undefined) return progress;
  const resumeAt = Math.min(unwrittenFrom, pending.length > 0 ? pendingFirst : index);
  const counted = `${plural(written, "entry", "entries")} in ${plural(acked, "batch", "batches")} ${written === 1 ? "was" : "were"} written`;
  const done = written === resumeAt ? `${counted} before it` : `${counted}, all entries before ${resumeAt} among them`;
  const summary = `${done} (resume at entry ${resumeAt})`;
  if (refused !== undefined) {
    const { batch, error } = refused;
    const last = batch.firstEntry + batch.entries - 1;
    const range = batch.entries === 1 ? `entry ${batch.firstEntry}` : `entries ${batch.firstEntry}-${last}`;
    throw new WriteAllError(
      error.code,
      `batch ${batch.number} (${range}) failed: ${error.details}; ${summary}`,
      { ...progress, resumeAt, failedBatch: batch },
      error,
    );
  }
  const why = local as NonNullable<typeof local>;
  throw new WriteAllError(
    why.code,
    `${why.details}; ${summary}`,
    { ...progress, resumeAt, ...(why.entryIndex === undefined ? {} : { entryIndex: why.entryIndex }) },
    why.cause,
  );
}
