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
import { DEFAULT_MAX_DEPTH as CODEC_DEFAULT_DEPTH, fromValueBinary, toValueBinary } from "../codec/wire/index.js";
import { Cursor, type GroupRules, Malformed, readString, skipField, varint, WIRE_NAMES } from "./wire-reader.js";

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

/** Why a request with an empty `id` or `namespace` names no data source. */
function noTarget(id: string, namespace: string): string {
  const empty = id === "" && namespace === "" ? "id and namespace are empty" : id === "" ? "id is empty" : "namespace is empty";
  return `request names no data source: ${empty}`;
}

/** Groups as this decoder has always skipped them: 33 may nest, tags inside them are read modulo 2^32. */
const GROUP_RULES: GroupRules = { maxDepth: 33, checkTagRange: false };

function describeCodecError(err: unknown): string {
  if (isCodecError(err)) return err.message;
  return err instanceof Error ? err.message : String(err);
}

/** One remembered string field: its bytes and its decoded text. */
class StringCache {
  bytes: Uint8Array = new Uint8Array(0);
  text = "";

  /**
   * The string in `buf[start, end)`: the remembered one when the bytes are
   * the same (a stream repeats its namespace and id in every message), else
   * freshly decoded and remembered.
   */
  read(buf: Uint8Array, start: number, end: number, field: string): string {
    const len = end - start;
    const cached = this.bytes;
    if (cached.length === len) {
      let i = 0;
      while (i < len && cached[i] === buf[start + i]) i++;
      if (i === len) return this.text;
    }
    const text = readString(buf, start, end, field);
    if (len <= 256) {
      this.bytes = buf.slice(start, end);
      this.text = text;
    }
    return text;
  }
}

const idCache = new StringCache();
const namespaceCache = new StringCache();
const f64 = new Float64Array(1);
const f64Bytes = new Uint8Array(f64.buffer);
const NO_SCALAR: unique symbol = Symbol("no scalar");

/**
 * Reads a Value that is exactly one scalar field (the common case: a string
 * key, a number value) without the general decoder; `NO_SCALAR` otherwise,
 * and the caller falls back to `fromValueBinary`, which decides everything
 * else (and reports errors).
 */
function readScalarValue(buf: Uint8Array, start: number, end: number): WriteKey | typeof NO_SCALAR {
  const len = end - start;
  if (len < 2) return NO_SCALAR;
  const tag = buf[start];
  if (tag === 0x1a) {
    // string_value with a one-byte length covering the rest.
    const n = buf[start + 1]!;
    if (n >= 0x80 || n !== len - 2) return NO_SCALAR;
    try {
      return readString(buf, start + 2, end, "string_value");
    } catch {
      return NO_SCALAR;
    }
  }
  if (tag === 0x11 && len === 9) {
    for (let i = 0; i < 8; i++) f64Bytes[i] = buf[start + 1 + i]!; // little-endian on the wire
    const n = f64[0]!;
    return Number.isFinite(n) ? n : NO_SCALAR;
  }
  if (len === 2) {
    const b = buf[start + 1];
    if (tag === 0x20 && (b === 0 || b === 1)) return b === 1;
    if (tag === 0x08 && b === 0) return null;
  }
  return NO_SCALAR;
}

let lastDepth = -1;
let lastDepthOption: { readonly maxDepth: number } = { maxDepth: CODEC_DEFAULT_DEPTH };
/** The codec options object for `maxDepth`, reused (the codec fast-paths its default). */
function depthOption(maxDepth: number): { readonly maxDepth: number } | undefined {
  if (maxDepth === CODEC_DEFAULT_DEPTH) return undefined;
  if (maxDepth !== lastDepth) {
    lastDepth = maxDepth;
    lastDepthOption = { maxDepth };
  }
  return lastDepthOption;
}

const LITTLE_ENDIAN = new Uint8Array(Uint16Array.of(1).buffer)[0] === 1;

/** The reader's cursor for the few fields that leave the fast path; decoding is synchronous, so one serves every call. */
const cursor = new Cursor();

/**
 * Decodes one request. Never throws: a bad request comes back as a frame
 * with an error status, because grpc-js turns a throwing deserializer into
 * INTERNAL.
 *
 * A request whose `id` or `namespace` is empty (proto3 leaves them out, so an
 * empty `Write` carries neither) names no data source: it is
 * INVALID_ARGUMENT with `targetKnown` false, saying which is empty, rather
 * than a lookup that fails with NOT_FOUND.
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
  const end = buf.length;
  let pos = 0;
  try {
    while (pos < end) {
      // Fast path: fields 1-4 with one-byte tags and one-byte lengths.
      const tag = buf[pos]!;
      let field: number;
      let wireType: number;
      if (tag < 0x80) {
        field = tag >>> 3;
        wireType = tag & 7;
        pos++;
      } else {
        cursor.pos = pos;
        const long = varint(buf, cursor, end);
        pos = cursor.pos;
        field = long >>> 3;
        wireType = long & 7;
        if (long > 0xffffffff) throw new Malformed("field number out of range");
      }
      if (field === 0) throw new Malformed("field number 0");
      if (field <= 4) {
        if (wireType !== 2) {
          throw new Malformed(
            `field ${field} has wire type ${WIRE_NAMES[wireType] ?? wireType}, expected length-delimited`,
          );
        }
        let len: number;
        if (pos < end && buf[pos]! < 0x80) len = buf[pos++]!;
        else {
          cursor.pos = pos;
          len = varint(buf, cursor, end);
          pos = cursor.pos;
        }
        const start = pos;
        const stop = start + len;
        if (stop > end) throw new Malformed(`truncated field ${field}`);
        pos = stop;
        // A repeated field: the last occurrence wins.
        if (field === 1) (idStart = start), (idEnd = stop);
        else if (field === 2) (nsStart = start), (nsEnd = stop);
        else if (field === 3) (keyStart = start), (keyEnd = stop);
        else (valueStart = start), (valueEnd = stop);
      } else {
        cursor.pos = pos;
        skipField(buf, cursor, end, wireType, field, 0, GROUP_RULES);
        pos = cursor.pos;
      }
    }
  } catch (err) {
    if (err instanceof Malformed) return failed(Status.INVALID_ARGUMENT, `malformed request: ${err.message}`);
    throw err;
  }
  let id: string;
  let namespace: string;
  try {
    id = idStart < 0 ? "" : idCache.read(buf, idStart, idEnd, "id");
    namespace = nsStart < 0 ? "" : namespaceCache.read(buf, nsStart, nsEnd, "namespace");
  } catch (err) {
    if (err instanceof Malformed) return failed(Status.INVALID_ARGUMENT, `malformed request: ${err.message}`);
    throw err;
  }
  if (id === "" || namespace === "") return failed(Status.INVALID_ARGUMENT, noTarget(id, namespace), id, namespace);
  if (keyStart < 0) return failed(Status.INVALID_ARGUMENT, "key is missing", id, namespace, true);
  if (valueStart < 0) return failed(Status.INVALID_ARGUMENT, "value is missing", id, namespace, true);
  let key: WriteKey;
  const scalarKey = LITTLE_ENDIAN ? readScalarValue(buf, keyStart, keyEnd) : NO_SCALAR;
  if (scalarKey !== NO_SCALAR) key = scalarKey;
  else {
    let decoded: JsonValue;
    try {
      decoded = fromValueBinary(buf.subarray(keyStart, keyEnd), depthOption(limits.maxDepth));
    } catch (err) {
      return failed(Status.INVALID_ARGUMENT, `key: ${describeCodecError(err)}`, id, namespace, true);
    }
    if (typeof decoded === "object" && decoded !== null) {
      const kind = Array.isArray(decoded) ? "a list" : "a struct";
      return failed(
        Status.INVALID_ARGUMENT,
        `key must be a string, number, bool or null, got ${kind}`,
        id,
        namespace,
        true,
      );
    }
    key = decoded;
  }
  let value: JsonValue;
  const scalarValue = LITTLE_ENDIAN ? readScalarValue(buf, valueStart, valueEnd) : NO_SCALAR;
  if (scalarValue !== NO_SCALAR) value = scalarValue;
  else {
    try {
      value = fromValueBinary(buf.subarray(valueStart, valueEnd), depthOption(limits.maxDepth));
    } catch (err) {
      return failed(Status.INVALID_ARGUMENT, `value: ${describeCodecError(err)}`, id, namespace, true);
    }
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

const LONE_SURROGATE = /[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/;

/** Whether `s` has a UTF-8 form (no lone surrogates). */
function isWellFormed(s: string): boolean {
  const native = (s as { isWellFormed?: () => boolean }).isWellFormed;
  return native === undefined ? !LONE_SURROGATE.test(s) : native.call(s);
}

function kindOf(value: unknown): string {
  if (Array.isArray(value)) return "a list";
  if (value === undefined) return "undefined";
  return typeof value === "object" ? "an object" : typeof value;
}

/**
 * The size of a scalar's `google.protobuf.Value` bytes, or -1 when `value` is
 * not a scalar this fast path writes (objects, lists, and anything invalid go
 * through the codec's `toValueBinary`, which also reports the errors).
 */
function scalarValueSize(value: unknown): number {
  switch (typeof value) {
    case "number":
      return Number.isFinite(value) ? 9 : -1;
    case "boolean":
      return 2;
    case "string": {
      if (!isWellFormed(value)) return -1;
      const len = Buffer.byteLength(value);
      return 1 + varintSize(len) + len;
    }
    default:
      return value === null ? 2 : -1;
  }
}

/** Writes a scalar Value (sized by {@link scalarValueSize}) at `pos`; returns the end. */
function putScalarValue(out: Buffer, pos: number, value: string | number | boolean | null): number {
  if (value === null) {
    out[pos] = 0x08; // null_value = NULL_VALUE (0)
    out[pos + 1] = 0;
    return pos + 2;
  }
  switch (typeof value) {
    case "number":
      out[pos] = 0x11; // number_value, fixed64
      out.writeDoubleLE(value, pos + 1);
      return pos + 9;
    case "boolean":
      out[pos] = 0x20; // bool_value, varint
      out[pos + 1] = value ? 1 : 0;
      return pos + 2;
    default: {
      out[pos] = 0x1a; // string_value, length-delimited
      const len = Buffer.byteLength(value);
      pos = putVarint(out, pos + 1, len);
      return pos + out.write(value, pos);
    }
  }
}

/**
 * Builds request bytes: `id` and `namespace` (a cached prefix, since a stream
 * usually writes to one data source), then key and value as
 * `google.protobuf.Value` sub-messages. Scalars are written straight into the
 * one output buffer; lists and objects are encoded by the codec's
 * `toValueBinary`. Either way the bytes are google-protobuf's.
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
    if (!isWellFormed(namespace) || !isWellFormed(id)) {
      throw new EncodeError("namespace and id must be well-formed Unicode (no lone surrogates)");
    }
    const idLen = Buffer.byteLength(id);
    const nsLen = Buffer.byteLength(namespace);
    // proto3: empty strings are not written.
    const size =
      (idLen > 0 ? 1 + varintSize(idLen) + idLen : 0) + (nsLen > 0 ? 1 + varintSize(nsLen) + nsLen : 0);
    const prefix = Buffer.alloc(size);
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
    const keySize = key === null || typeof key !== "object" ? scalarValueSize(key) : -1;
    if (keySize < 0) {
      const t = typeof key;
      if (!(key === null || t === "string" || t === "boolean" || t === "number")) {
        throw new EncodeError(`key must be a string, number, boolean or null, got ${kindOf(key)}`);
      }
    }
    // Keys and values the fast path does not take go through the codec, which
    // encodes them or throws the precise reason (NaN, a lone surrogate, …).
    let keyBytes: Uint8Array | undefined;
    let valueBytes: Uint8Array | undefined;
    if (keySize < 0) {
      try {
        keyBytes = toValueBinary(key, this.#options);
      } catch (err) {
        throw new EncodeError(`key: ${describeCodecError(err)}`, { cause: err });
      }
    }
    const valueSize = scalarValueSize(value);
    if (valueSize < 0) {
      try {
        valueBytes = toValueBinary(value, this.#options);
      } catch (err) {
        throw new EncodeError(`value: ${describeCodecError(err)}`, { cause: err });
      }
    }
    const k = keyBytes === undefined ? keySize : keyBytes.length;
    const v = valueBytes === undefined ? valueSize : valueBytes.length;
    const out = Buffer.allocUnsafe(prefix.length + 2 + varintSize(k) + k + varintSize(v) + v);
    prefix.copy(out, 0);
    let pos = prefix.length;
    out[pos++] = 0x1a;
    pos = putVarint(out, pos, k);
    if (keyBytes === undefined) pos = putScalarValue(out, pos, key);
    else {
      out.set(keyBytes, pos);
      pos += k;
    }
    out[pos++] = 0x22;
    pos = putVarint(out, pos, v);
    if (valueBytes === undefined) putScalarValue(out, pos, value as string | number | boolean | null);
    else out.set(valueBytes, pos);
    return out;
  }
}
