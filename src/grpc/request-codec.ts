/**
 * `tracee.v1beta1.WriteDataSourceRequest` on the wire, without intermediate
 * message objects: the server reads the four fields straight from the
 * received bytes and hands the two `google.protobuf.Value` sub-messages to
 * the codec's binary decoder; the client writes the outer fields around the
 * codec's Value bytes.
 *
 * ```proto
 * message WriteDataSourceRequest {
 *   string id = 1; string namespace = 2;
 *   google.protobuf.Value key = 3; google.protobuf.Value value = 4;
 * }
 * ```
 *
 * @internal
 * @module
 */
import { status as Status } from "@grpc/grpc-js";
import type { JsonValue } from "type-fest";
import { isCodecError } from "../codec/errors.js";
import type { WriteKey } from "../detect/data-source.js";
import { fromValueBinary, toValueBinary } from "../codec/wire/index.js";

/** @internal What the server needs to read a request. */
export interface DecodeLimits {
  readonly maxMessageBytes: number;
  readonly maxDepth: number;
}

/**
 * One decoded request. When `code` is not OK the request is unusable:
 * `targetKnown` tells whether `namespace`/`id` were read (so target errors
 * such as NOT_FOUND can still take precedence over a bad key or value).
 *
 * @internal
 */
export class RequestFrame {
  constructor(
    readonly id: string,
    readonly namespace: string,
    readonly key: WriteKey,
    readonly value: JsonValue,
    readonly code: Status,
    readonly details: string,
    readonly targetKnown: boolean,
  ) {}
}

function failed(code: Status, details: string, id = "", namespace = "", targetKnown = false): RequestFrame {
  return new RequestFrame(id, namespace, null, null, code, details, targetKnown);
}

class Malformed extends Error {}

const utf8 = new TextDecoder("utf-8", { fatal: true });

function readString(buf: Uint8Array, start: number, end: number, field: string): string {
  for (let i = start; i < end; i++) {
    if (buf[i]! >= 0x80) {
      try {
        return utf8.decode(buf.subarray(start, end));
      } catch {
        throw new Malformed(`${field} is not valid UTF-8`);
      }
    }
  }
  // ASCII: latin1 decoding is exact and fastest.
  return latin1Slice.call(buf, start, end);
}

// Node's native latin1 slice, present on every Buffer but not in @types/node.
const latin1Slice = (Buffer.prototype as unknown as { latin1Slice(this: Uint8Array, start: number, end: number): string })
  .latin1Slice;

/** Reads a varint at `pos`; returns the value and sets `cursor.pos`. */
function varint(buf: Uint8Array, cursor: { pos: number }): number {
  let pos = cursor.pos;
  let result = 0;
  let shift = 1;
  for (let i = 0; i < 10; i++) {
    if (pos >= buf.length) throw new Malformed("truncated varint");
    const b = buf[pos++]!;
    if (i < 8) result += (b & 0x7f) * shift;
    shift *= 128;
    if (b < 0x80) {
      cursor.pos = pos;
      return result;
    }
  }
  throw new Malformed("varint longer than 10 bytes");
}

const WIRE_NAMES = ["varint", "fixed64", "length-delimited", "start-group", "end-group", "fixed32"];

function skipField(buf: Uint8Array, cursor: { pos: number }, wireType: number, field: number, depth: number): void {
  switch (wireType) {
    case 0:
      varint(buf, cursor);
      return;
    case 1:
      cursor.pos += 8;
      break;
    case 5:
      cursor.pos += 4;
      break;
    case 2: {
      const len = varint(buf, cursor);
      cursor.pos += len;
      break;
    }
    case 3: {
      if (depth > 32) throw new Malformed("groups nested too deep");
      for (;;) {
        if (cursor.pos >= buf.length) throw new Malformed(`unterminated group (field ${field})`);
        const tag = varint(buf, cursor);
        const wt = tag & 7;
        if (wt === 4) {
          if (tag >>> 3 !== field) throw new Malformed(`mismatched end-group (field ${tag >>> 3})`);
          return;
        }
        if (tag >>> 3 === 0) throw new Malformed("field number 0");
        skipField(buf, cursor, wt, tag >>> 3, depth + 1);
      }
    }
    default:
      throw new Malformed(`invalid wire type ${wireType} (field ${field})`);
  }
  if (cursor.pos > buf.length) throw new Malformed(`truncated field ${field}`);
}

function describeCodecError(err: unknown): string {
  if (isCodecError(err)) return err.message;
  return err instanceof Error ? err.message : String(err);
}

/**
 * Decodes one request. Never throws: a bad request comes back as a frame
 * with an error status, because grpc-js turns a throwing deserializer into
 * INTERNAL.
 *
 * @internal
 */
export function decodeRequest(buf: Uint8Array, limits: DecodeLimits): RequestFrame {
  if (buf.length > limits.maxMessageBytes) {
    return failed(
      Status.RESOURCE_EXHAUSTED,
      `request of ${buf.length} bytes is larger than the limit of ${limits.maxMessageBytes} bytes`,
    );
  }
  let idStart = -1;
  let idEnd = -1;
  let nsStart = -1;
  let nsEnd = -1;
  let keyStart = -1;
  let keyEnd = -1;
  let valueStart = -1;
  let valueEnd = -1;
  const cursor = { pos: 0 };
  const end = buf.length;
  try {
    while (cursor.pos < end) {
      const tag = varint(buf, cursor);
      const field = tag >>> 3;
      const wireType = tag & 7;
      if (field === 0) throw new Malformed("field number 0");
      if (field <= 4) {
        if (wireType !== 2) {
          throw new Malformed(
            `field ${field} has wire type ${WIRE_NAMES[wireType] ?? wireType}, expected length-delimited`,
          );
        }
        const len = varint(buf, cursor);
        const start = cursor.pos;
        const stop = start + len;
        if (stop > end) throw new Malformed(`truncated field ${field}`);
        cursor.pos = stop;
        // A repeated field: the last occurrence wins.
        if (field === 1) (idStart = start), (idEnd = stop);
        else if (field === 2) (nsStart = start), (nsEnd = stop);
        else if (field === 3) (keyStart = start), (keyEnd = stop);
        else (valueStart = start), (valueEnd = stop);
      } else {
        skipField(buf, cursor, wireType, field, 0);
      }
    }
  } catch (err) {
    if (err instanceof Malformed) return failed(Status.INVALID_ARGUMENT, `malformed request: ${err.message}`);
    throw err;
  }
  let id: string;
  let namespace: string;
  try {
    id = idStart < 0 ? "" : readString(buf, idStart, idEnd, "id");
    namespace = nsStart < 0 ? "" : readString(buf, nsStart, nsEnd, "namespace");
  } catch (err) {
    if (err instanceof Malformed) return failed(Status.INVALID_ARGUMENT, `malformed request: ${err.message}`);
    throw err;
  }
  if (keyStart < 0) return failed(Status.INVALID_ARGUMENT, "key is missing", id, namespace, true);
  if (valueStart < 0) return failed(Status.INVALID_ARGUMENT, "value is missing", id, namespace, true);
  const options = { maxDepth: limits.maxDepth };
  let key: JsonValue;
  try {
    key = fromValueBinary(buf.subarray(keyStart, keyEnd), options);
  } catch (err) {
    return failed(Status.INVALID_ARGUMENT, `key: ${describeCodecError(err)}`, id, namespace, true);
  }
  if (typeof key === "object" && key !== null) {
    const kind = Array.isArray(key) ? "a list" : "a struct";
    return failed(
      Status.INVALID_ARGUMENT,
      `key must be a string, number, bool or null, got ${kind}`,
      id,
      namespace,
      true,
    );
  }
  let value: JsonValue;
  try {
    value = fromValueBinary(buf.subarray(valueStart, valueEnd), options);
  } catch (err) {
    return failed(Status.INVALID_ARGUMENT, `value: ${describeCodecError(err)}`, id, namespace, true);
  }
  return new RequestFrame(id, namespace, key, value, Status.OK, "", true);
}

// ---------------------------------------------------------------- encoding

function varintSize(n: number): number {
  let size = 1;
  while (n >= 0x80) {
    n = Math.floor(n / 128);
    size++;
  }
  return size;
}

function putVarint(out: Buffer, pos: number, n: number): number {
  while (n >= 0x80) {
    out[pos++] = (n & 0x7f) | 0x80;
    n = Math.floor(n / 128);
  }
  out[pos++] = n;
  return pos;
}

/** @internal Thrown by {@link RequestEncoder} for an entry it cannot encode. */
export class EncodeError extends Error {
  override readonly name = "EncodeError";
}

function checkKey(key: unknown): asserts key is WriteKey {
  const t = typeof key;
  if (key === null || t === "string" || t === "boolean" || t === "number") return;
  const kind = Array.isArray(key) ? "a list" : key === undefined ? "undefined" : t === "object" ? "an object" : t;
  throw new EncodeError(`key must be a string, number, boolean or null, got ${kind}`);
}

/**
 * Builds request bytes. Caches the id/namespace prefix of the last target,
 * since a stream usually writes to one data source.
 *
 * @internal
 */
export class RequestEncoder {
  readonly #options: { readonly maxDepth: number };
  #namespace = "";
  #id = "";
  #prefix: Buffer = Buffer.alloc(0);

  constructor(maxDepth: number) {
    this.#options = { maxDepth };
  }

  #prefixFor(namespace: string, id: string): Buffer {
    if (namespace === this.#namespace && id === this.#id) return this.#prefix;
    if (typeof namespace !== "string" || typeof id !== "string") {
      throw new EncodeError("namespace and id must be strings");
    }
    const idLen = Buffer.byteLength(id);
    const nsLen = Buffer.byteLength(namespace);
    // proto3: empty strings are not written.
    const size =
      (idLen > 0 ? 1 + varintSize(idLen) + idLen : 0) + (nsLen > 0 ? 1 + varintSize(nsLen) + nsLen : 0);
    const prefix = Buffer.allocUnsafe(size);
    let pos = 0;
    if (idLen > 0) {
      prefix[pos++] = 0x0a;
      pos = putVarint(prefix, pos, idLen);
      pos += prefix.write(id, pos);
    }
    if (nsLen > 0) {
      prefix[pos++] = 0x12;
      pos = putVarint(prefix, pos, nsLen);
      pos += prefix.write(namespace, pos);
    }
    this.#namespace = namespace;
    this.#id = id;
    this.#prefix = prefix;
    return prefix;
  }

  /** The bytes of `{ id, namespace, key, value }`; throws {@link EncodeError}. */
  encode(namespace: string, id: string, key: WriteKey, value: JsonValue): Buffer {
    const prefix = this.#prefixFor(namespace, id);
    checkKey(key);
    let keyBytes: Uint8Array;
    let valueBytes: Uint8Array;
    try {
      keyBytes = toValueBinary(key, this.#options);
    } catch (err) {
      throw new EncodeError(`key: ${describeCodecError(err)}`, { cause: err });
    }
    try {
      valueBytes = toValueBinary(value, this.#options);
    } catch (err) {
      throw new EncodeError(`value: ${describeCodecError(err)}`, { cause: err });
    }
    const size =
      prefix.length +
      2 +
      varintSize(keyBytes.length) +
      keyBytes.length +
      varintSize(valueBytes.length) +
      valueBytes.length;
    const out = Buffer.allocUnsafe(size);
    prefix.copy(out, 0);
    let pos = prefix.length;
    out[pos++] = 0x1a;
    pos = putVarint(out, pos, keyBytes.length);
    out.set(keyBytes, pos);
    pos += keyBytes.length;
    out[pos++] = 0x22;
    pos = putVarint(out, pos, valueBytes.length);
    out.set(valueBytes, pos);
    return out;
  }
}
