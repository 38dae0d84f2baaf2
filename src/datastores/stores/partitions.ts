/**
 * What the shipped stores share: {@link Partitions}, entries kept per source
 * and indexed by key, with a write counter; the checks every write makes on
 * its entries; key identities; deep freezing.
 *
 * @module
 */
import { ReadonlyDate, readonlyDate } from "./readonly-date.js";
import { isPlainObject, show } from "../../codec/schema/internal.js";
import { invalidArgument } from "../errors.js";

/** One source's entry for a key, as a store keeps it. */
export interface Slot<D> {
  /** The source that wrote it. */
  readonly source: string;
  /** The stored (frozen) data. */
  readonly data: D;
  /** The store's write counter when it was written: higher is more recent. */
  readonly seq: number;
}

/** A staged write: the key's identity and the data to store for it. */
export interface Staged<D> {
  readonly id: string;
  readonly data: D;
}

/**
 * Entries per source (`source → key id → slot`) and the same slots indexed
 * by key, so a read finds every source's entry for a key with one lookup and
 * a clear removes one source's entries only. A key held by one source (the
 * usual case) is indexed by its slot alone; a Map of holders is made only when
 * a second source writes it. A source with no entry left has no partition.
 */
export class Partitions<D> {
  readonly #bySource = new Map<string, Map<string, Slot<D>>>();
  readonly #byKey = new Map<string, Slot<D> | Map<string, Slot<D>>>();
  #seq = 0;
  #size = 0;

  /** Entries held, each source's counted separately. */
  get size(): number {
    return this.#size;
  }

  /** Stores `staged` for `source` in order (a repeated id keeps its later data); returns how many distinct ids. */
  putAll(source: string, staged: readonly Staged<D>[]): number {
    let partition = this.#bySource.get(source);
    if (partition === undefined && staged.length > 0) {
      partition = new Map();
      this.#bySource.set(source, partition);
    }
    if (partition === undefined) return 0;
    // A slot written earlier in this batch has a seq past `first`: that id was counted already.
    const first = this.#seq;
    let distinct = 0;
    for (const { id, data } of staged) {
      const previous = partition.get(id);
      if (previous === undefined) this.#size++;
      if (previous === undefined || previous.seq <= first) distinct++;
      const slot: Slot<D> = Object.freeze({ source, data, seq: ++this.#seq });
      partition.set(id, slot);
      this.#index(id, slot);
    }
    return distinct;
  }

  /** Removes `source`'s entry for `id`; whether there was one. */
  remove(source: string, id: string): boolean {
    const partition = this.#bySource.get(source);
    if (partition === undefined || !partition.delete(id)) return false;
    this.#size--;
    if (partition.size === 0) this.#bySource.delete(source);
    this.#unindex(source, id);
    return true;
  }

  /** Removes every entry of `source`; how many there were. */
  clear(source: string): number {
    const partition = this.#bySource.get(source);
    if (partition === undefined) return 0;
    this.#bySource.delete(source);
    for (const id of partition.keys()) this.#unindex(source, id);
    this.#size -= partition.size;
    return partition.size;
  }

  /** Every source's slot for `id` (in no promised order), or `undefined`. */
  holders(id: string): Iterable<Slot<D>> | undefined {
    const held = this.#byKey.get(id);
    if (held === undefined) return undefined;
    return held instanceof Map ? held.values() : [held];
  }

  /** The slot among those held for `id` that `beats` every other (no allocation: the read hot path). */
  best(id: string, beats: (a: Slot<D>, b: Slot<D>) => boolean): Slot<D> | undefined {
    const held = this.#byKey.get(id);
    if (held === undefined || !(held instanceof Map)) return held;
    let best: Slot<D> | undefined;
    for (const slot of held.values()) if (best === undefined || beats(slot, best)) best = slot;
    return best;
  }

  /** The slot `source` holds for `id`. */
  slot(source: string, id: string): Slot<D> | undefined {
    return this.#bySource.get(source)?.get(id);
  }

  /** The sources holding at least one entry, sorted by UTF-16 code units. */
  sources(): string[] {
    return [...this.#bySource.keys()].sort();
  }

  #index(id: string, slot: Slot<D>): void {
    const held = this.#byKey.get(id);
    if (held === undefined || (!(held instanceof Map) && held.source === slot.source)) {
      this.#byKey.set(id, slot);
    } else if (held instanceof Map) {
      held.set(slot.source, slot);
    } else {
      this.#byKey.set(id, new Map([[held.source, held], [slot.source, slot]]));
    }
  }

  #unindex(source: string, id: string): void {
    const held = this.#byKey.get(id);
    if (held === undefined) return;
    if (!(held instanceof Map)) {
      if (held.source === source) this.#byKey.delete(id);
      return;
    }
    held.delete(source);
    if (held.size === 1) this.#byKey.set(id, held.values().next().value as Slot<D>);
  }
}

/** For {@link Partitions.best}: the more recently written slot wins. */
export const moreRecent = (a: Slot<unknown>, b: Slot<unknown>): boolean => a.seq > b.seq;

/** What an error message puts before a problem with entry `index` of a batch (`undefined`: a single write). */
export function entryPrefix(index: number | undefined): string {
  return index === undefined ? "" : `entry ${index}: `;
}

/** Checks the list a `writeBatch` got. */
export function checkEntries(entries: unknown): asserts entries is readonly unknown[] {
  if (!Array.isArray(entries)) throw invalidArgument(`entries must be a list, got ${show(entries)}`);
}

/** Checks one entry is an object and returns its key and data (a missing entry is a client mistake, never a crash). */
export function entryParts(entry: unknown, prefix: string): { key: unknown; data: unknown } {
  if (typeof entry !== "object" || entry === null) {
    throw invalidArgument(`${prefix}an entry must be an object with a key and data, got ${show(entry)}`);
  }
  const { key, data } = entry as { key?: unknown; data?: unknown };
  return { key, data };
}

const MAX_ID_DEPTH = 64;

/**
 * A string that identifies a key by value: JSON-like text with object keys
 * sorted by code units, so `{a:1,b:2}` and `{b:2,a:1}` are one key and `"1"`
 * and `1` are two. `-0` is `0`. Also takes bigints, Dates and byte arrays (as
 * protobuf messages hold them); throws `INVALID_ARGUMENT` for anything else
 * (a Map, a class instance, a function) and for nesting deeper than 64.
 */
export function stableId(value: unknown, depth = 0): string {
  switch (typeof value) {
    case "string":
      return JSON.stringify(value);
    case "number":
      return Number.isFinite(value) ? JSON.stringify(value) : String(value);
    case "boolean":
      return value ? "true" : "false";
    case "bigint":
      return `${value}n`;
    case "undefined":
      return "undefined";
    case "object": {
      if (value === null) return "null";
      if (depth >= MAX_ID_DEPTH) throw invalidArgument(`a key nested deeper than ${MAX_ID_DEPTH} levels cannot be identified`);
      if (Array.isArray(value)) return `[${value.map((item: unknown) => stableId(item, depth + 1)).join(",")}]`;
      if (value instanceof Date) return `Date(${value.getTime()})`;
      if (value instanceof Uint8Array) return `bytes(${Buffer.from(value.buffer, value.byteOffset, value.byteLength).toString("hex")})`;
      if (isPlainObject(value)) {
        const parts: string[] = [];
        for (const key of Object.keys(value).sort()) {
          const item = value[key];
          if (item !== undefined) parts.push(`${JSON.stringify(key)}:${stableId(item, depth + 1)}`);
        }
        return `{${parts.join(",")}}`;
      }
      break;
    }
    default:
      break;
  }
  throw invalidArgument(`${show(value)} cannot identify a key: give the store a keyId`);
}

/** The bytes as a string of one code unit per byte, for use as a Map key. */
export function bytesId(bytes: Uint8Array): string {
  let out = "";
  for (let i = 0; i < bytes.length; i++) out += String.fromCharCode(bytes[i] as number);
  return out;
}

/**
 * Freezes `value` and everything reachable from it, in place, as far as
 * JavaScript allows: a Date property becomes a {@link ReadonlyDate} copy
 * (`Object.freeze` cannot stop `setTime`); byte arrays cannot be frozen and are
 * left as they are, and a frozen Map can still be changed through its methods.
 * Only for data the store made itself (a copy nobody else holds).
 */
export function deepFreeze<T>(value: T): T {
  if (typeof value !== "object" || value === null || Object.isFrozen(value) || ArrayBuffer.isView(value)) return value;
  if (value instanceof Date) return readonlyDate(value) as T;
  const record = value as Record<PropertyKey, unknown>;
  const keys = Reflect.ownKeys(record);
  for (const key of keys) {
    const item = record[key];
    if (item instanceof Date && !(item instanceof ReadonlyDate) && Object.getOwnPropertyDescriptor(record, key)?.writable === true) {
      record[key] = readonlyDate(item);
    }
  }
  // Frozen before its children: a cycle ends at an object already frozen.
  Object.freeze(value);
  for (const key of keys) deepFreeze(record[key]);
  return value;
}

/** The message of a thrown value. */
export function messageOf(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
