/**
 * The DataStoreService's requests and responses on the wire. Requests are
 * read straight from the received bytes by a strict decoder that never
 * throws (grpc-js would turn a throwing deserializer into `INTERNAL`): a
 * request it cannot read comes back as a {@link DecodeFailure}. The `Any`
 * fields are kept as type URL and bytes; the service unpacks them with the
 * store's message types once it knows the store.
 *
 * Protobuf rules kept: unknown fields are skipped, a repeated scalar field
 * keeps its last value, a message field given twice is merged (as if the two
 * were one message). Stricter than most decoders: a known field with the
 * wrong wire type, invalid UTF-8 in a string, or more than 32 nested groups
 * make the request malformed.
 *
 * @module
 */
import { status as Status } from "@grpc/grpc-js";
import type { AnyMessage } from "../datastores/any.js";
import { Cursor, type GroupRules, Malformed, readString, skipField, varint, WIRE_NAMES } from "./wire-reader.js";

/** The five DataStoreService methods. */
export type DataStoreMethod = "WriteData" | "WriteBatchData" | "DeleteData" | "ClearSource" | "ListSources";

/** One `DataEntry` as received: its `Any` fields, `undefined` when absent. @internal */
export interface RawEntry {
  key: MutableAny | undefined;
  data: MutableAny | undefined;
}

/** @internal */
export interface MutableAny {
  typeUrl: string;
  value: Uint8Array;
}

/**
 * A decoded request. Fields a method does not have stay empty: `entries` is
 * the one entry of `WriteData` (empty when the request has none), every entry
 * of `WriteBatchData`; `key` is `DeleteData`'s.
 *
 * @internal
 */
export interface DataStoreRequest {
  readonly ok: true;
  readonly storeName: string;
  readonly source: string;
  readonly entries: readonly RawEntry[];
  /** How many entries the request carried (more than `entries.length` when over the limit). */
  readonly entryCount: number;
  readonly key: AnyMessage | undefined;
  /** The request's size in bytes. */
  readonly size: number;
}

/** A request the decoder refused, and the status to answer it with. @internal */
export interface DecodeFailure {
  readonly ok: false;
  readonly code: Status;
  readonly details: string;
}

/** @internal */
export type DecodedRequest = DataStoreRequest | DecodeFailure;

/** What the decoder enforces. @internal */
export interface DecodeLimits {
  readonly maxMessageBytes: number;
  /** Entries past this many are counted, not kept. */
  readonly maxBatchEntries: number;
}

const LENGTH_DELIMITED = 2;
/** Groups as this decoder skips them: 32 may nest, and a tag in one must fit 32 bits. */
const GROUP_RULES: GroupRules = { maxDepth: 32, checkTagRange: true };

/**
 * Reads the next field header of the message ending at `end`: returns the
 * field number of a length-delimited field named in `known` (its payload is
 * then `buf[cursor.pos, cursor.end)`), after checking its wire type; skips
 * unknown fields; returns 0 at the end of the message.
 */
function next(buf: Uint8Array, cursor: Cursor, end: number, known: readonly string[]): number {
  while (cursor.pos < end) {
    const tag = varint(buf, cursor, end);
    if (tag > 0xffffffff) throw new Malformed("field number out of range");
    const field = Math.floor(tag / 8);
    const wireType = tag & 7;
    if (field === 0) throw new Malformed("field number 0");
    const name = known[field];
    if (name === undefined || name === "") {
      skipField(buf, cursor, end, wireType, field, 0, GROUP_RULES);
      continue;
    }
    if (wireType !== LENGTH_DELIMITED) {
      throw new Malformed(`${name} has wire type ${WIRE_NAMES[wireType] ?? wireType}, expected length-delimited`);
    }
    const len = varint(buf, cursor, end);
    const to = cursor.pos + len;
    if (to > end) throw new Malformed(`truncated ${name}`);
    cursor.end = to;
    return field;
  }
  return 0;
}

/** The last few type URLs decoded, by their bytes: a batch repeats the same two. */
class TypeUrlCache {
  readonly #bytes: Uint8Array[] = [];
  readonly #texts: string[] = [];
  #next = 0;

  read(buf: Uint8Array, from: number, to: number): string {
    const len = to - from;
    for (let c = 0; c < this.#bytes.length; c++) {
      const cached = this.#bytes[c]!;
      if (cached.length !== len) continue;
      let i = 0;
      while (i < len && cached[i] === buf[from + i]) i++;
      if (i === len) return this.#texts[c]!;
    }
    const decoded = readString(buf, from, to, "type_url");
    if (len <= 512) {
      this.#bytes[this.#next] = buf.slice(from, to);
      this.#texts[this.#next] = decoded;
      this.#next = (this.#next + 1) % 4;
    }
    return decoded;
  }
}

const typeUrls = new TypeUrlCache();
const ANY_FIELDS = ["", "type_url", "value"];
const ENTRY_FIELDS = ["", "key", "data"];
const NO_BYTES = new Uint8Array(0);

/** Merges the `Any` in `buf[from, to)` into `into` (a new one when undefined). */
function readAny(buf: Uint8Array, from: number, to: number, into: MutableAny | undefined, name: string): MutableAny {
  const any = into ?? { typeUrl: "", value: NO_BYTES };
  const cursor = new Cursor(from, from);
  try {
    for (let field = next(buf, cursor, to, ANY_FIELDS); field !== 0; field = next(buf, cursor, to, ANY_FIELDS)) {
      if (field === 1) any.typeUrl = typeUrls.read(buf, cursor.pos, cursor.end);
      else any.value = buf.subarray(cursor.pos, cursor.end);
      cursor.pos = cursor.end;
    }
  } catch (err) {
    if (err instanceof Malformed) throw new Malformed(`${name}: ${err.message}`);
    throw err;
  }
  return any;
}

/** Merges the `DataEntry` in `buf[from, to)` into `into`; `index` is its place in a batch, -1 for `WriteData`'s. */
function readEntry(buf: Uint8Array, from: number, to: number, into: RawEntry, index: number): RawEntry {
  const cursor = new Cursor(from, from);
  try {
    for (let field = next(buf, cursor, to, ENTRY_FIELDS); field !== 0; field = next(buf, cursor, to, ENTRY_FIELDS)) {
      if (field === 1) into.key = readAny(buf, cursor.pos, cursor.end, into.key, "key");
      else into.data = readAny(buf, cursor.pos, cursor.end, into.data, "data");
      cursor.pos = cursor.end;
    }
  } catch (err) {
    if (err instanceof Malformed) throw new Malformed(`${index < 0 ? "entry" : `entry ${index}`}: ${err.message}`);
    throw err;
  }
  return into;
}

/** The field names of each request (index = field number; "" = not a field of it). */
const REQUEST_FIELDS: Readonly<Record<DataStoreMethod, readonly string[]>> = {
  WriteData: ["", "store_name", "source", "entry"],
  WriteBatchData: ["", "store_name", "source", "entries"],
  DeleteData: ["", "store_name", "source", "key"],
  ClearSource: ["", "store_name", "source"],
  ListSources: ["", "store_name"],
};

function failure(code: Status, details: string): DecodeFailure {
  return { ok: false, code, details };
}

/**
 * Decodes one request of `method`. Never throws: bytes it cannot read give
 * an `INVALID_ARGUMENT` "malformed request: …" failure, a request over
 * `maxMessageBytes` a `RESOURCE_EXHAUSTED` one (grpc-js refuses those first
 * when it enforces the same limit).
 *
 * @internal
 */
export function decodeDataStoreRequest(method: DataStoreMethod, buf: Uint8Array, limits: DecodeLimits): DecodedRequest {
  if (buf.length > limits.maxMessageBytes) {
    return failure(
      Status.RESOURCE_EXHAUSTED,
      `request of ${buf.length} bytes is larger than the limit of ${limits.maxMessageBytes} bytes`,
    );
  }
  let storeName = "";
  let source = "";
  let key: MutableAny | undefined;
  let single: RawEntry | undefined;
  const entries: RawEntry[] = [];
  let entryCount = 0;
  try {
    const known = REQUEST_FIELDS[method];
    const cursor = new Cursor();
    for (let field = next(buf, cursor, buf.length, known); field !== 0; field = next(buf, cursor, buf.length, known)) {
      const from = cursor.pos;
      const to = cursor.end;
      cursor.pos = to;
      if (field === 1) storeName = readString(buf, from, to, "store_name");
      else if (field === 2) source = readString(buf, from, to, "source");
      else if (method === "WriteData") single = readEntry(buf, from, to, single ?? { key: undefined, data: undefined }, -1);
      else if (method === "DeleteData") key = readAny(buf, from, to, key, "key");
      else {
        const index = entryCount++;
        // Past the limit the request is refused: count, don't decode.
        if (index < limits.maxBatchEntries) {
          entries.push(readEntry(buf, from, to, { key: undefined, data: undefined }, index));
        }
      }
    }
  } catch (err) {
    // Anything else (a RangeError from a runaway input) is malformed too: never throw into grpc-js.
    const message = err instanceof Error ? err.message : String(err);
    return failure(Status.INVALID_ARGUMENT, `malformed request: ${message}`);
  }
  if (single !== undefined) {
    entries.push(single);
    entryCount = 1;
  }
  return { ok: true, storeName, source, entries, entryCount, key, size: buf.length };
}

// ---------------------------------------------------------------- responses

const EMPTY = Buffer.alloc(0);

function varintBytes(n: number): number[] {
  const out: number[] = [];
  while (n >= 0x80) {
    out.push((n & 0x7f) | 0x80);
    n = Math.floor(n / 128);
  }
  out.push(n);
  return out;
}

const INT32_MAX = 2 ** 31 - 1;

/**
 * A response whose only field is `int32 <name> = 1` (`written_count`,
 * `deleted_count`); 0 is left out, as proto3 does. Counts past int32 are sent
 * as its largest value.
 *
 * @internal
 */
export function countResponse(count: number): Buffer {
  if (count <= 0) return EMPTY;
  return Buffer.from([0x08, ...varintBytes(Math.min(count, INT32_MAX))]);
}

/** `ListSourcesResponse { repeated string sources = 1 }`. @internal */
export function sourcesResponse(sources: readonly string[]): Buffer {
  const parts: Buffer[] = [];
  for (const source of sources) {
    const bytes = Buffer.from(source, "utf8");
    parts.push(Buffer.from([0x0a, ...varintBytes(bytes.length)]), bytes);
  }
  return Buffer.concat(parts);
}

/** The empty response (`WriteDataResponse`, `DeleteDataResponse`). @internal */
export const EMPTY_RESPONSE: Buffer = EMPTY;
