/**
 * What the built-in data sources share: the interface the engine drives them
 * through, their statistics, an event-time clock and small readers.
 *
 * @module
 */
import type { DataSource } from "../../detect/data-source.js";
import { ErrKeyNotSupported, wrapError, type DetectError } from "../../detect/errors.js";
import { getData } from "../../events/data.js";
import type { Timestamp, TraceeEvent } from "../../events/model.js";

/** Counters of a built-in data source. */
export interface BuiltinStats {
  /** Entries held now (processes, containers, or DNS names and addresses). Never above `maxEntries`. */
  readonly entries: number;
  /** The bound on `entries`. */
  readonly maxEntries: number;
  /** Entries dropped to stay within `maxEntries` (least recently used first). */
  readonly evictions: number;
  /** Entries dropped because they ended a while ago (exited processes, removed containers). */
  readonly expired: number;
}

/**
 * A data source the engine rebuilds from the event stream: a Tracee
 * {@link DataSource} (synchronous `get`) that also watches every input event.
 */
export interface BuiltinDataSource<Key = unknown, Result extends object = Readonly<Record<string, unknown>>>
  extends DataSource<Key, Result> {
  /**
   * The events it learns from, to select in Tracee's policy. It also reads
   * the workload (process, container) of every event it sees.
   */
  readonly events: readonly string[];
  /** Learns from `event`; called by the engine for every input event, before dispatch. Never throws for bad data. */
  observe(event: TraceeEvent): void;
  /** Its counters. */
  stats(): BuiltinStats;
  /** Forgets everything (the counters too). */
  clear(): void;
}

/**
 * A time a query asks about: nanoseconds since the epoch (`bigint`), a
 * `Date`, or a protobuf `Timestamp` (an event's `timestamp`).
 */
export type QueryTime = bigint | Date | Timestamp;

/** Nanoseconds since the epoch of a {@link QueryTime}; `undefined` for anything else. @internal */
export function nanosOf(time: unknown): bigint | undefined {
  if (typeof time === "bigint") return time;
  if (time instanceof Date) {
    const ms = time.getTime();
    return Number.isFinite(ms) ? BigInt(ms) * 1_000_000n : undefined;
  }
  if (typeof time === "object" && time !== null) {
    const { seconds, nanos } = time as Partial<Timestamp>;
    if (typeof seconds === "bigint" && typeof nanos === "number" && Number.isInteger(nanos)) {
      return seconds * 1_000_000_000n + BigInt(nanos);
    }
  }
  return undefined;
}

/**
 * The time of the newest event seen: the built-ins' clock, so that expiry
 * (DNS TTLs, how long exited processes and removed containers are kept)
 * follows the events, live or replayed from a file. @internal
 */
export class EventClock {
  /** Milliseconds since the epoch (0: no event yet). */
  ms = 0;
  private ts: Timestamp | undefined;

  /** Moves the clock to `ts` when it is newer. Cheap: no allocation. */
  tick(ts: Timestamp | undefined): void {
    if (ts === undefined) return;
    const ms = Number(ts.seconds) * 1000 + ts.nanos / 1e6;
    if (ms >= this.ms) {
      this.ms = ms;
      this.ts = ts;
    }
  }

  /** Nanoseconds since the epoch (0n: no event yet). */
  nanos(): bigint {
    return this.ts === undefined ? 0n : this.ts.seconds * 1_000_000_000n + BigInt(this.ts.nanos);
  }

  reset(): void {
    this.ms = 0;
    this.ts = undefined;
  }
}

/** An event's time in nanoseconds since the epoch, or `fallback` without one. @internal */
export function eventNanos(event: TraceeEvent, fallback: bigint): bigint {
  const ts = event.timestamp;
  return ts === undefined ? fallback : ts.seconds * 1_000_000_000n + BigInt(ts.nanos);
}

/** An integer argument, whatever integer kind (or decoded text) holds it; `undefined` when missing. @internal */
export function intArg(event: TraceeEvent, name: string): number | undefined {
  const v = getData(event, name, "int64", { tolerant: true });
  return v === undefined ? undefined : Number(v);
}

/** An unsigned 64-bit argument (a time in nanoseconds), from any integer kind. @internal */
export function u64Arg(event: TraceeEvent, name: string): bigint | undefined {
  return getData(event, name, "u_int64", { tolerant: true });
}

/** A string argument; `undefined` when missing or of another kind. @internal */
export function strArg(event: TraceeEvent, name: string): string | undefined {
  return getData(event, name, "str");
}

/** `ErrKeyNotSupported`, wrapped with what was wrong with the key. @internal */
export function keyNotSupported(source: string, why: string): DetectError {
  return wrapError(ErrKeyNotSupported, `${source}: ${why}`);
}

/** Describes a key for an error message. @internal */
export function describeKey(key: unknown): string {
  if (key === null) return "null";
  if (Array.isArray(key)) return "an array";
  if (key instanceof Date) return "a Date";
  const t = typeof key;
  if (t === "object") return "an object";
  return t === "undefined" ? "undefined" : `a ${t}`;
}

/** Checks a bound option: an integer ≥ 1. @internal */
export function checkMax(name: string, value: number | undefined, fallback: number): number {
  if (value === undefined) return fallback;
  if (!Number.isSafeInteger(value) || value < 1) throw new RangeError(`${name}: expected an integer ≥ 1, got ${value}`);
  return value;
}

/** Checks a duration option in milliseconds: finite and ≥ 0. @internal */
export function checkDuration(name: string, value: number | undefined, fallback: number): number {
  if (value === undefined) return fallback;
  if (typeof value !== "number" || !Number.isFinite(value) || value < 0) {
    throw new RangeError(`${name}: expected a duration in milliseconds ≥ 0, got ${value}`);
  }
  return value;
}

/** Go's `json.Marshal` of a `map[string]string`: keys sorted. @internal */
export function goSchema(fields: Readonly<Record<string, string>>): string {
  const sorted: Record<string, string> = {};
  for (const k of Object.keys(fields).sort()) sorted[k] = fields[k] as string;
  return JSON.stringify(sorted);
}

/** What an {@link LruList} links: its entries carry their neighbours. @internal */
export interface LruEntry<T> {
  older: T | undefined;
  newer: T | undefined;
}

/**
 * A recency list whose entries link themselves: moving an entry to the
 * newest end is a few pointer writes. (Reordering a `Map` by delete and
 * set instead slows down badly when one key moves over and over: V8 keeps
 * the deleted slots in the key's bucket until it rehashes.) @internal
 */
export class LruList<T extends LruEntry<T>> {
  /** The least recently used entry. */
  oldest: T | undefined;
  /** The most recently used entry. */
  newest: T | undefined;

  /** Adds `entry` (not in the list) at the newest end. */
  push(entry: T): void {
    entry.older = this.newest;
    entry.newer = undefined;
    if (this.newest === undefined) this.oldest = entry;
    else this.newest.newer = entry;
    this.newest = entry;
  }

  /** Takes `entry` (in the list) out. */
  remove(entry: T): void {
    const { older, newer } = entry;
    if (older === undefined) this.oldest = newer;
    else older.newer = newer;
    if (newer === undefined) this.newest = older;
    else newer.older = older;
    entry.older = undefined;
    entry.newer = undefined;
  }

  /** Moves `entry` (in the list) to the newest end. */
  touch(entry: T): void {
    if (this.newest === entry) return;
    this.remove(entry);
    this.push(entry);
  }

  clear(): void {
    this.oldest = undefined;
    this.newest = undefined;
  }
}

/**
 * A first-in first-out queue of things to expire, in the order they became
 * due (removals, exits), consumed from the front without shifting the array:
 * the consumed prefix is dropped once it is most of the array. @internal
 */
export class ExpiryQueue<T> {
  #items: T[] = [];
  #head = 0;

  push(item: T): void {
    this.#items.push(item);
  }

  /**
   * Offers the items from the front, in order, to `step`, which consumes one
   * by returning `true` and stops the walk by returning `false` (the item
   * stays, not yet due). Pass a function made once: this runs per event.
   */
  consume(step: (item: T) => boolean): void {
    const items = this.#items;
    while (this.#head < items.length && step(items[this.#head] as T)) this.#head++;
    if (this.#head > 1024 && this.#head * 2 > items.length) {
      this.#items = items.slice(this.#head);
      this.#head = 0;
    }
  }

  clear(): void {
    this.#items = [];
    this.#head = 0;
  }
}
