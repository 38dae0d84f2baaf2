/**
 * `tracee.v1beta1.datastores` requests on the wire, written by hand so a
 * batch is encoded once, straight into the buffer it is sent from: each
 * `DataEntry` is encoded when it is read (its size decides which batch it
 * joins), and a batch is the request's two strings followed by its entries'
 * bytes. Responses are read with the generated decoders.
 *
 * ```proto
 * message DataEntry { google.protobuf.Any key = 1; google.protobuf.Any data = 2; }
 * message WriteDataRequest { string store_name = 1; string source = 2; DataEntry entry = 3; }
 * message WriteBatchDataRequest { string store_name = 1; string source = 2; repeated DataEntry entries = 3; }
 * message DeleteDataRequest { string store_name = 1; string source = 2; google.protobuf.Any key = 3; }
 * message ClearSourceRequest { string store_name = 1; string source = 2; }
 * message ListSourcesRequest { string store_name = 1; }
 * ```
 *
 * @internal
 * @module
 */
import type { AnyMessage } from "../datastores/any.js";
import { DATASTORE_SERVICE_NAME } from "./datastore-service.js";
import { PREFIX_BYTES } from "./transport/framing.js";

/** The method paths of `DataStoreService`. @internal */
export const DATA_STORE_PATHS = Object.freeze({
  writeData: `/${DATASTORE_SERVICE_NAME}/WriteData`,
  writeBatchData: `/${DATASTORE_SERVICE_NAME}/WriteBatchData`,
  deleteData: `/${DATASTORE_SERVICE_NAME}/DeleteData`,
  clearSource: `/${DATASTORE_SERVICE_NAME}/ClearSource`,
  listSources: `/${DATASTORE_SERVICE_NAME}/ListSources`,
});

/** Bytes a varint of `n` (0 ≤ n < 2^32) takes. */
export function varintSize(n: number): number {
  return n < 0x80 ? 1 : n < 0x4000 ? 2 : n < 0x200000 ? 3 : n < 0x10000000 ? 4 : 5;
}

function writeVarint(buf: Buffer, pos: number, n: number): number {
  while (n >= 0x80) {
    buf[pos++] = (n & 0x7f) | 0x80;
    n >>>= 7;
  }
  buf[pos++] = n;
  return pos;
}

/** Bytes of a length-delimited field (tag < 16) holding `length` bytes. */
export function fieldSize(length: number): number {
  return 1 + varintSize(length) + length;
}

/** Writes a length-delimited field's tag and length; returns where its bytes go. */
function writeFieldHead(buf: Buffer, pos: number, field: number, length: number): number {
  buf[pos++] = (field << 3) | 2;
  return writeVarint(buf, pos, length);
}

/** Something a message is built from: a string field, or bytes already encoded. */
type Part = { readonly field: number; readonly text: string } | { readonly field: number; readonly bytes: Uint8Array };

function partLength(part: Part): number {
  return "text" in part ? Buffer.byteLength(part.text) : part.bytes.length;
}

/** Encodes fields in order, skipping empty ones (proto3 leaves defaults out), after `prefix` spare bytes. */
function encodeParts(parts: readonly Part[], prefix = 0): Buffer {
  const lengths = parts.map(partLength);
  let size = prefix;
  for (const length of lengths) if (length > 0) size += fieldSize(length);
  const buf = Buffer.allocUnsafe(size);
  let pos = prefix;
  parts.forEach((part, i) => {
    const length = lengths[i] ?? 0;
    if (length === 0) return;
    pos = writeFieldHead(buf, pos, part.field, length);
    if ("text" in part) buf.write(part.text, pos, "utf8");
    else buf.set(part.bytes, pos);
    pos += length;
  });
  return buf;
}

/** Fills in the gRPC message prefix (not compressed, the length) of a buffer built with a `PREFIX_BYTES` gap. */
function framed(buf: Buffer): Buffer {
  buf[0] = 0;
  buf.writeUInt32BE(buf.length - PREFIX_BYTES, 1);
  return buf;
}

/** `google.protobuf.Any` bytes (an empty Any, both fields default, is zero bytes). */
export function encodeAny(any: AnyMessage): Buffer {
  return encodeParts([
    { field: 1, text: any.typeUrl },
    { field: 2, bytes: any.value },
  ]);
}

/**
 * `DataEntry` bytes. A missing key or data is left out; an `Any` present but
 * empty is still written, so the server sees it present.
 */
export function encodeDataEntry(key: AnyMessage | undefined, data: AnyMessage | undefined): Buffer {
  const keyBytes = key === undefined ? undefined : encodeAny(key);
  const dataBytes = data === undefined ? undefined : encodeAny(data);
  const size = (keyBytes === undefined ? 0 : fieldSize(keyBytes.length)) + (dataBytes === undefined ? 0 : fieldSize(dataBytes.length));
  const buf = Buffer.allocUnsafe(size);
  let pos = 0;
  if (keyBytes !== undefined) {
    pos = writeFieldHead(buf, pos, 1, keyBytes.length);
    buf.set(keyBytes, pos);
    pos += keyBytes.length;
  }
  if (dataBytes !== undefined) {
    pos = writeFieldHead(buf, pos, 2, dataBytes.length);
    buf.set(dataBytes, pos);
  }
  return buf;
}

/** A framed `WriteDataRequest`. `entry` is `DataEntry` bytes; an empty entry is still sent (present). */
export function writeDataRequest(store: string, source: string, entry: Buffer | undefined): Buffer {
  const head = encodeParts([
    { field: 1, text: store },
    { field: 2, text: source },
  ], PREFIX_BYTES);
  if (entry === undefined) return framed(head);
  const buf = Buffer.allocUnsafe(head.length + fieldSize(entry.length));
  head.copy(buf);
  const pos = writeFieldHead(buf, head.length, 3, entry.length);
  buf.set(entry, pos);
  return framed(buf);
}

/** A framed `DeleteDataRequest`. */
export function deleteDataRequest(store: string, source: string, key: AnyMessage | undefined): Buffer {
  const head = encodeParts([
    { field: 1, text: store },
    { field: 2, text: source },
  ], PREFIX_BYTES);
  if (key === undefined) return framed(head);
  const keyBytes = encodeAny(key);
  const buf = Buffer.allocUnsafe(head.length + fieldSize(keyBytes.length));
  head.copy(buf);
  const pos = writeFieldHead(buf, head.length, 3, keyBytes.length);
  buf.set(keyBytes, pos);
  return framed(buf);
}

/** A framed `ClearSourceRequest`. */
export function clearSourceRequest(store: string, source: string): Buffer {
  return framed(encodeParts([
    { field: 1, text: store },
    { field: 2, text: source },
  ], PREFIX_BYTES));
}

/** A framed `ListSourcesRequest`. */
export function listSourcesRequest(store: string): Buffer {
  return framed(encodeParts([{ field: 1, text: store }], PREFIX_BYTES));
}

/**
 * The start of every `WriteBatchDataRequest` to one store and source: the two
 * strings, encoded once; each batch appends its entries.
 */
export class BatchHeader {
  readonly #bytes: Buffer;

  constructor(store: string, source: string) {
    this.#bytes = encodeParts([
      { field: 1, text: store },
      { field: 2, text: source },
    ]);
  }

  /** The header's size: what every batch message spends before its entries. */
  get size(): number {
    return this.#bytes.length;
  }

  /**
   * A framed `WriteBatchDataRequest` of the header and `entries` (`DataEntry`
   * bytes each), whose fields take `entriesSize` bytes in all.
   */
  frame(entries: readonly Buffer[], entriesSize: number): Buffer {
    const buf = Buffer.allocUnsafe(PREFIX_BYTES + this.#bytes.length + entriesSize);
    this.#bytes.copy(buf, PREFIX_BYTES);
    let pos = PREFIX_BYTES + this.#bytes.length;
    for (const entry of entries) {
      pos = writeFieldHead(buf, pos, 3, entry.length);
      buf.set(entry, pos);
      pos += entry.length;
    }
    return framed(buf);
  }
}
