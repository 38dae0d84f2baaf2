/**
 * A fast reader of `tracee.v1beta1.Event` protobuf bytes, for the gRPC input:
 * the same objects ts-proto's generated `Event.decode` builds (every member
 * present, defaults filled, unknown fields skipped, a wrong wire type skipped,
 * the last of a repeated singular field winning), about twice as fast, with
 * ASCII strings read without a TextDecoder. The kinds Tracee rarely sends
 * (network, DNS, HTTP, hooked symbols, structs) are handed to ts-proto.
 *
 * @internal
 * @module
 */
import { decodeString } from "../codec/wire/utf8.js";
import { Struct } from "../gen/google/protobuf/struct.js";
import type { Timestamp } from "../gen/google/protobuf/timestamp.js";
import { base, type MessageSchema, PROTO_JSON_KINDS, type ScalarKind } from "./json/proto-json.js";
import type {
  Container,
  ContainerImage,
  Credentials,
  DetectedFrom,
  EventValue,
  K8s,
  Mitre,
  Pod,
  Process,
  SockAddr,
  StackAddress,
  Thread,
  Threat,
  TraceeEvent,
  Workload,
} from "./model.js";

/** Bytes that are not a valid message of the expected type. @internal */
export class EventDecodeError extends Error {
  override readonly name = "EventDecodeError";
}

const MAX_DEPTH = 100;
/**
 * ts-proto's reader decodes invalid UTF-8 with replacement characters; so does
 * this one. Unlike ts-proto's, it keeps a leading U+FEFF, as Go (and so Tracee's
 * printer) does.
 */
const lenientUtf8 = new TextDecoder("utf-8", { ignoreBOM: true });

class Reader {
  pos: number;

  constructor(
    readonly buf: Uint8Array,
    start: number,
    readonly limit: number,
  ) {
    this.pos = start;
  }

  /** A varint's low 32 bits, unsigned. */
  uint32(): number {
    const buf = this.buf;
    let b = buf[this.pos++] as number;
    let result = b & 0x7f;
    if (b < 0x80) return result;
    b = buf[this.pos++] as number;
    result |= (b & 0x7f) << 7;
    if (b < 0x80) return result;
    b = buf[this.pos++] as number;
    result |= (b & 0x7f) << 14;
    if (b < 0x80) return result;
    b = buf[this.pos++] as number;
    result |= (b & 0x7f) << 21;
    if (b < 0x80) return result;
    b = buf[this.pos++] as number;
    result |= (b & 0x0f) << 28;
    // Bytes past the fifth carry bits above 32 (a sign-extended int32): skip them.
    for (let i = 0; b >= 0x80 && i < 5; i++) b = buf[this.pos++] as number;
    if (b >= 0x80 || this.pos > this.limit) throw new EventDecodeError("malformed varint");
    return result >>> 0;
  }

  int32(): number {
    return this.uint32() | 0;
  }

  /** A varint as an unsigned 64-bit bigint. */
  uint64(): bigint {
    const buf = this.buf;
    let lo = 0;
    let hi = 0;
    let shift = 0;
    for (let i = 0; i < 10; i++) {
      const b = buf[this.pos++];
      if (b === undefined || this.pos > this.limit) throw new EventDecodeError("truncated varint");
      if (shift < 28) lo |= (b & 0x7f) << shift;
      else if (shift === 28) {
        lo |= (b & 0x0f) << 28;
        hi |= (b & 0x7f) >>> 4;
      } else hi |= (b & 0x7f) << (shift - 32);
      if (b < 0x80) return (BigInt(hi >>> 0) << 32n) | BigInt(lo >>> 0);
      shift += 7;
    }
    throw new EventDecodeError("varint longer than 10 bytes");
  }

  /** The end of a length-delimited field starting here. */
  end(): number {
    const length = this.uint32();
    const end = this.pos + length;
    if (end > this.limit) throw new EventDecodeError("a field runs past the end of its message");
    return end;
  }

  string(): string {
    const end = this.end();
    const start = this.pos;
    this.pos = end;
    // The codec's decoder: repeated short strings come from its cache.
    return decodeString(this.buf, start, end) ?? lenientUtf8.decode(this.buf.subarray(start, end));
  }

  double(): number {
    // Rare (a timespec): a view only when one is read.
    const value = new DataView(this.buf.buffer, this.buf.byteOffset + this.pos, 8).getFloat64(0, true);
    this.pos += 8;
    if (this.pos > this.limit) throw new EventDecodeError("a double runs past the end of its message");
    return value;
  }

  skip(wireType: number): void {
    switch (wireType) {
      case 0:
        this.uint64();
        return;
      case 1:
        this.pos += 8;
        break;
      case 2:
        this.pos = this.end();
        return;
      case 5:
        this.pos += 4;
        break;
      default:
        // Groups (3/4) and the unused wire types are refused, as malformed.
        throw new EventDecodeError(`unsupported wire type ${wireType}`);
    }
    if (this.pos > this.limit) throw new EventDecodeError("a field runs past the end of its message");
  }

  /** The bytes of a length-delimited field, for ts-proto to decode. */
  sub(): Uint8Array {
    const end = this.end();
    const out = this.buf.subarray(this.pos, end);
    this.pos = end;
    return out;
  }
}

/** A `google.protobuf.UInt32Value` (or Int32Value): `{ value = 1 }`. */
function wrapper(r: Reader): number {
  const end = r.end();
  let value = 0;
  while (r.pos < end) {
    const tag = r.uint32();
    if (tag === 8) value = r.uint32();
    else r.skip(tag & 7);
  }
  return value;
}

function timestamp(r: Reader): Timestamp {
  const end = r.end();
  const ts: Timestamp = { seconds: 0n, nanos: 0 };
  while (r.pos < end) {
    const tag = r.uint32();
    if (tag === 8) ts.seconds = BigInt.asIntN(64, r.uint64());
    else if (tag === 16) ts.nanos = r.int32();
    else r.skip(tag & 7);
  }
  return ts;
}

/** A message whose only field 1 is a string (Executable, MitreTactic, K8sNamespace). */
function nameOnly(r: Reader): string {
  const end = r.end();
  let s = "";
  while (r.pos < end) {
    const tag = r.uint32();
    if (tag === 10) s = r.string();
    else r.skip(tag & 7);
  }
  return s;
}

/** A map<string, string> entry: `{ key = 1; value = 2 }`, added as an own property. */
function mapEntry(r: Reader, into: { [key: string]: string }): void {
  const end = r.end();
  let key = "";
  let value = "";
  while (r.pos < end) {
    const tag = r.uint32();
    if (tag === 10) key = r.string();
    else if (tag === 18) value = r.string();
    else r.skip(tag & 7);
  }
  Object.defineProperty(into, key, { value, enumerable: true, writable: true, configurable: true });
}

function thread(r: Reader): Thread {
  const end = r.end();
  const t: Thread = {
    startTime: undefined,
    name: "",
    uniqueId: undefined,
    hostTid: undefined,
    tid: undefined,
    syscall: "",
    compat: false,
    userStackTrace: undefined,
  };
  while (r.pos < end) {
    const tag = r.uint32();
    switch (tag) {
      case 10:
        t.startTime = timestamp(r);
        break;
      case 18:
        t.name = r.string();
        break;
      case 26:
        t.uniqueId = wrapper(r);
        break;
      case 34:
        t.hostTid = wrapper(r);
        break;
      case 42:
        t.tid = wrapper(r);
        break;
      case 50:
        t.syscall = r.string();
        break;
      case 56:
        t.compat = r.uint32() !== 0;
        break;
      case 66: {
        const stackEnd = r.end();
        const addresses: StackAddress[] = [];
        while (r.pos < stackEnd) {
          const t2 = r.uint32();
          if (t2 === 10) {
            const addrEnd = r.end();
            const a: StackAddress = { address: 0n, symbol: "" };
            while (r.pos < addrEnd) {
              const t3 = r.uint32();
              if (t3 === 8) a.address = r.uint64();
              else if (t3 === 18) a.symbol = r.string();
              else r.skip(t3 & 7);
            }
            addresses.push(a);
          } else r.skip(t2 & 7);
        }
        t.userStackTrace = { addresses };
        break;
      }
      default:
        r.skip(tag & 7);
    }
  }
  return t;
}

function process(r: Reader, depth: number): Process {
  if (depth > MAX_DEPTH) throw new EventDecodeError("processes nested too deeply");
  const end = r.end();
  const p: Process = {
    executable: undefined,
    uniqueId: undefined,
    hostPid: undefined,
    pid: undefined,
    realUser: undefined,
    thread: undefined,
    ancestors: [],
  };
  while (r.pos < end) {
    const tag = r.uint32();
    switch (tag) {
      case 10:
        p.executable = { path: nameOnly(r) };
        break;
      case 18:
        p.uniqueId = wrapper(r);
        break;
      case 26:
        p.hostPid = wrapper(r);
        break;
      case 34:
        p.pid = wrapper(r);
        break;
      case 42: {
        const userEnd = r.end();
        let id: number | undefined;
        while (r.pos < userEnd) {
          const t2 = r.uint32();
          if (t2 === 10) id = wrapper(r);
          else r.skip(t2 & 7);
        }
        p.realUser = { id };
        break;
      }
      case 50:
        p.thread = thread(r);
        break;
      case 58:
        p.ancestors.push(process(r, depth + 1));
        break;
      default:
        r.skip(tag & 7);
    }
  }
  return p;
}

function container(r: Reader): Container {
  const end = r.end();
  const c: Container = { id: "", name: "", image: undefined, started: false };
  while (r.pos < end) {
    const tag = r.uint32();
    switch (tag) {
      case 10:
        c.id = r.string();
        break;
      case 18:
        c.name = r.string();
        break;
      case 26: {
        const imageEnd = r.end();
        const image: ContainerImage = { id: "", repoDigests: [], name: "" };
        while (r.pos < imageEnd) {
          const t2 = r.uint32();
          if (t2 === 10) image.id = r.string();
          else if (t2 === 18) image.repoDigests.push(r.string());
          else if (t2 === 26) image.name = r.string();
          else r.skip(t2 & 7);
        }
        c.image = image;
        break;
      }
      case 32:
        c.started = r.uint32() !== 0;
        break;
      default:
        r.skip(tag & 7);
    }
  }
  return c;
}

function k8s(r: Reader): K8s {
  const end = r.end();
  const k: K8s = { pod: undefined, namespace: undefined };
  while (r.pos < end) {
    const tag = r.uint32();
    if (tag === 10) {
      const podEnd = r.end();
      const pod: Pod = { name: "", uid: "", labels: {} };
      while (r.pos < podEnd) {
        const t2 = r.uint32();
        if (t2 === 10) pod.name = r.string();
        else if (t2 === 18) pod.uid = r.string();
        else if (t2 === 26) mapEntry(r, pod.labels);
        else r.skip(t2 & 7);
      }
      k.pod = pod;
    } else if (tag === 18) k.namespace = { name: nameOnly(r) };
    else r.skip(tag & 7);
  }
  return k;
}

function workload(r: Reader): Workload {
  const end = r.end();
  const w: Workload = { process: undefined, container: undefined, k8s: undefined };
  while (r.pos < end) {
    const tag = r.uint32();
    if (tag === 10) w.process = process(r, 0);
    else if (tag === 18) w.container = container(r);
    else if (tag === 26) w.k8s = k8s(r);
    else r.skip(tag & 7);
  }
  return w;
}

function threat(r: Reader): Threat {
  const end = r.end();
  const t: Threat = { description: "", mitre: undefined, severity: 0, name: "", properties: {} };
  while (r.pos < end) {
    const tag = r.uint32();
    switch (tag) {
      case 10:
        t.description = r.string();
        break;
      case 18: {
        const mitreEnd = r.end();
        const mitre: Mitre = { tactic: undefined, technique: undefined };
        while (r.pos < mitreEnd) {
          const t2 = r.uint32();
          if (t2 === 10) mitre.tactic = { name: nameOnly(r) };
          else if (t2 === 18) {
            const techEnd = r.end();
            const technique = { id: "", name: "" };
            while (r.pos < techEnd) {
              const t3 = r.uint32();
              if (t3 === 10) technique.id = r.string();
              else if (t3 === 18) technique.name = r.string();
              else r.skip(t3 & 7);
            }
            mitre.technique = technique;
          } else r.skip(t2 & 7);
        }
        t.mitre = mitre;
        break;
      }
      case 24:
        t.severity = r.int32();
        break;
      case 34:
        t.name = r.string();
        break;
      case 42:
        mapEntry(r, t.properties);
        break;
      default:
        r.skip(tag & 7);
    }
  }
  return t;
}

function sockaddr(r: Reader): SockAddr {
  const end = r.end();
  const s: SockAddr = { saFamily: 0, sunPath: "", sinAddr: "", sinPort: 0, sin6Addr: "", sin6Port: 0, sin6Flowinfo: 0, sin6Scopeid: 0 };
  while (r.pos < end) {
    const tag = r.uint32();
    switch (tag) {
      case 8:
        s.saFamily = r.int32();
        break;
      case 18:
        s.sunPath = r.string();
        break;
      case 26:
        s.sinAddr = r.string();
        break;
      case 32:
        s.sinPort = r.uint32();
        break;
      case 42:
        s.sin6Addr = r.string();
        break;
      case 48:
        s.sin6Port = r.uint32();
        break;
      case 56:
        s.sin6Flowinfo = r.uint32();
        break;
      case 64:
        s.sin6Scopeid = r.uint32();
        break;
      default:
        r.skip(tag & 7);
    }
  }
  return s;
}

const CREDENTIAL_WRAPPERS = ["uid", "gid", "suid", "sgid", "euid", "egid", "fsuid", "fsgid", "userNamespace", "secureBits"] as const;
const CAPABILITY_LISTS = ["capInheritable", "capPermitted", "capEffective", "capBounding", "capAmbient"] as const;

/** A repeated int32 field, packed (wire type 2) or not. */
function int32s(r: Reader, wireType: number, into: number[]): void {
  if (wireType === 2) {
    const end = r.end();
    while (r.pos < end) into.push(r.int32());
  } else into.push(r.int32());
}

function credentials(r: Reader): Credentials {
  const end = r.end();
  const c: Credentials = {
    uid: undefined,
    gid: undefined,
    suid: undefined,
    sgid: undefined,
    euid: undefined,
    egid: undefined,
    fsuid: undefined,
    fsgid: undefined,
    userNamespace: undefined,
    secureBits: undefined,
    capInheritable: [],
    capPermitted: [],
    capEffective: [],
    capBounding: [],
    capAmbient: [],
  };
  while (r.pos < end) {
    const tag = r.uint32();
    const field = tag >>> 3;
    const wireType = tag & 7;
    if (field >= 1 && field <= 10 && wireType === 2) c[CREDENTIAL_WRAPPERS[field - 1] as (typeof CREDENTIAL_WRAPPERS)[number]] = wrapper(r);
    else if (field >= 11 && field <= 15 && (wireType === 2 || wireType === 0)) {
      int32s(r, wireType, c[CAPABILITY_LISTS[field - 11] as (typeof CAPABILITY_LISTS)[number]]);
    } else r.skip(wireType);
  }
  return c;
}

/** A scalar of the schema-described kinds. */
function scalar(r: Reader, kind: ScalarKind, wireType: number): unknown {
  if (kind === "string") return wireType === 2 ? r.string() : undefined;
  if (wireType !== 0) return undefined;
  if (kind === "int64") return BigInt.asIntN(64, r.uint64());
  return kind === "int32" ? r.int32() : r.uint32();
}

/** A message of one of the kinds Tracee prints with protojson, read by its schema, as ts-proto builds it. */
function bySchema(r: Reader, schema: MessageSchema, depth: number): Record<string, unknown> {
  if (depth > MAX_DEPTH) throw new EventDecodeError("messages nested too deeply");
  const end = r.end();
  const out = base(schema);
  while (r.pos < end) {
    const tag = r.uint32();
    const wireType = tag & 7;
    const field = schema.numbered[tag >>> 3];
    const type = field?.type;
    let value: unknown;
    if (field === undefined || type === undefined) {
      r.skip(wireType);
      continue;
    }
    if (typeof type === "string") value = scalar(r, type, wireType);
    else if ("enum" in type) value = wireType === 0 ? r.int32() : undefined;
    else if ("message" in type) value = wireType === 2 ? bySchema(r, type.message, depth + 1) : undefined;
    else if ("list" in type) {
      const item = type.list;
      const list = out[field.member] as unknown[];
      if (typeof item !== "string") {
        if (wireType === 2) list.push(bySchema(r, item, depth + 1));
        else r.skip(wireType);
      } else if (item !== "string" && wireType === 2) {
        // A packed list of integers.
        const packedEnd = r.end();
        while (r.pos < packedEnd) list.push(scalar(r, item, 0));
      } else {
        const v = scalar(r, item, wireType);
        if (v === undefined) r.skip(wireType);
        else list.push(v);
      }
      continue;
    } else if (wireType === 2) {
      // A map entry { key = 1; value = 2 }; an entry without a value is dropped, as ts-proto drops it.
      const entryEnd = r.end();
      let key = "";
      let entry: unknown;
      while (r.pos < entryEnd) {
        const t2 = r.uint32();
        if (t2 === 10) key = r.string();
        else if (t2 === 18) entry = bySchema(r, type.map, depth + 1);
        else r.skip(t2 & 7);
      }
      if (entry !== undefined) {
        Object.defineProperty(out[field.member], key, { value: entry, enumerable: true, writable: true, configurable: true });
      }
      continue;
    }
    if (value === undefined) r.skip(wireType);
    else out[field.member] = value;
  }
  return out;
}

/** The kinds read by their protojson schema, by field number. */
const SCHEMA_KINDS: Readonly<Record<number, readonly [keyof EventValue, MessageSchema]>> = {
  15: ["hookedSyscalls", PROTO_JSON_KINDS.hooked_syscalls],
  16: ["hookedSeqOps", PROTO_JSON_KINDS.hooked_seq_ops],
  17: ["ipv4", PROTO_JSON_KINDS.ipv4],
  18: ["ipv6", PROTO_JSON_KINDS.ipv6],
  19: ["tcp", PROTO_JSON_KINDS.tcp],
  20: ["udp", PROTO_JSON_KINDS.udp],
  21: ["icmp", PROTO_JSON_KINDS.icmp],
  22: ["icmpv6", PROTO_JSON_KINDS.icmpv6],
  23: ["dns", PROTO_JSON_KINDS.dns],
  24: ["dnsQuestions", PROTO_JSON_KINDS.dns_questions],
  25: ["dnsResponses", PROTO_JSON_KINDS.dns_responses],
  26: ["packetMetadata", PROTO_JSON_KINDS.packet_metadata],
  27: ["http", PROTO_JSON_KINDS.http],
  28: ["httpRequest", PROTO_JSON_KINDS.http_request],
  29: ["httpResponse", PROTO_JSON_KINDS.http_response],
};

function eventValue(r: Reader): EventValue {
  const end = r.end();
  const v: EventValue = { name: "" };
  while (r.pos < end) {
    const tag = r.uint32();
    switch (tag) {
      case 10:
        v.name = r.string();
        break;
      case 16:
        v.int32 = r.int32();
        break;
      case 24:
        v.int64 = BigInt.asIntN(64, r.uint64());
        break;
      case 32:
        v.uInt32 = r.uint32();
        break;
      case 40:
        v.uInt64 = r.uint64();
        break;
      case 50:
        v.str = r.string();
        break;
      case 58:
        v.bytes = Buffer.from(r.sub());
        break;
      case 64:
        v.bool = r.uint32() !== 0;
        break;
      case 74: {
        const arrEnd = r.end();
        const value: string[] = [];
        while (r.pos < arrEnd) {
          const t2 = r.uint32();
          if (t2 === 10) value.push(r.string());
          else r.skip(t2 & 7);
        }
        v.strArray = { value };
        break;
      }
      case 82: {
        const arrEnd = r.end();
        const value: number[] = [];
        while (r.pos < arrEnd) {
          const t2 = r.uint32();
          if ((t2 >>> 3) === 1 && ((t2 & 7) === 0 || (t2 & 7) === 2)) int32s(r, t2 & 7, value);
          else r.skip(t2 & 7);
        }
        v.int32Array = { value };
        break;
      }
      case 90: {
        const arrEnd = r.end();
        const value: bigint[] = [];
        while (r.pos < arrEnd) {
          const t2 = r.uint32();
          if (t2 === 10) {
            const packedEnd = r.end();
            while (r.pos < packedEnd) value.push(r.uint64());
          } else if (t2 === 8) value.push(r.uint64());
          else r.skip(t2 & 7);
        }
        v.uInt64Array = { value };
        break;
      }
      case 98:
        v.sockaddr = sockaddr(r);
        break;
      case 106:
        v.credentials = credentials(r);
        break;
      case 114: {
        const tsEnd = r.end();
        let value: number | undefined;
        while (r.pos < tsEnd) {
          const t2 = r.uint32();
          if (t2 === 10) {
            const dEnd = r.end();
            let d = 0;
            while (r.pos < dEnd) {
              const t3 = r.uint32();
              if (t3 === 9) d = r.double();
              else r.skip(t3 & 7);
            }
            value = d;
          } else r.skip(t2 & 7);
        }
        v.timespec = { value };
        break;
      }
      case 248:
        v.pointer = r.uint64();
        break;
      case 242:
        v.struct = Struct.unwrap(Struct.decode(r.sub()));
        break;
      default: {
        const kind = (tag & 7) === 2 ? SCHEMA_KINDS[tag >>> 3] : undefined;
        if (kind === undefined) r.skip(tag & 7);
        else (v as Record<string, unknown>)[kind[0]] = bySchema(r, kind[1], 0);
      }
    }
  }
  return v;
}

function detectedFrom(r: Reader, depth: number): DetectedFrom {
  if (depth > MAX_DEPTH) throw new EventDecodeError("detected_from nested too deeply");
  const end = r.end();
  const d: DetectedFrom = { id: 0, name: "", data: [], parent: undefined };
  while (r.pos < end) {
    const tag = r.uint32();
    if (tag === 8) d.id = r.uint32();
    else if (tag === 18) d.name = r.string();
    else if (tag === 26) d.data.push(eventValue(r));
    else if (tag === 34) d.parent = detectedFrom(r, depth + 1);
    else r.skip(tag & 7);
  }
  return d;
}

/** Reads one Event from `bytes[start, end)`; throws {@link EventDecodeError}. */
function event(r: Reader, end: number): TraceeEvent {
  const e: TraceeEvent = {
    timestamp: undefined,
    id: 0,
    name: "",
    policies: undefined,
    workload: undefined,
    data: [],
    threat: undefined,
    detectedFrom: undefined,
  };
  while (r.pos < end) {
    const tag = r.uint32();
    switch (tag) {
      case 10:
        e.timestamp = timestamp(r);
        break;
      case 16:
        e.id = r.int32();
        break;
      case 26:
        e.name = r.string();
        break;
      case 34: {
        const pEnd = r.end();
        const matched: string[] = [];
        while (r.pos < pEnd) {
          const t2 = r.uint32();
          if (t2 === 10) matched.push(r.string());
          else r.skip(t2 & 7);
        }
        e.policies = { matched };
        break;
      }
      case 42:
        e.workload = workload(r);
        break;
      case 50:
        e.data.push(eventValue(r));
        break;
      case 58:
        e.threat = threat(r);
        break;
      case 66:
        e.detectedFrom = detectedFrom(r, 0);
        break;
      default:
        r.skip(tag & 7);
    }
  }
  if (r.pos !== end) throw new EventDecodeError("a field runs past the end of the event");
  return e;
}

/** Decodes `tracee.v1beta1.Event` bytes; throws {@link EventDecodeError} for malformed bytes. @internal */
export function decodeEventBinary(bytes: Uint8Array): TraceeEvent {
  return guard(() => event(new Reader(bytes, 0, bytes.length), bytes.length));
}

/**
 * Decodes `StreamEventsResponse { Event event = 1; }` bytes: the event, or
 * `undefined` when the response holds none. @internal
 */
export function decodeStreamEventsResponse(bytes: Uint8Array): TraceeEvent | undefined {
  return guard(() => {
    const r = new Reader(bytes, 0, bytes.length);
    let found: TraceeEvent | undefined;
    while (r.pos < bytes.length) {
      const tag = r.uint32();
      if (tag === 10) {
        const end = r.end();
        found = event(r, end);
      } else r.skip(tag & 7);
    }
    return found;
  });
}

/** Out-of-range reads surface as undefined bytes; report every failure as an EventDecodeError. */
function guard<T>(read: () => T): T {
  try {
    return read();
  } catch (err) {
    if (err instanceof EventDecodeError) throw err;
    throw new EventDecodeError(`malformed event: ${(err as Error).message}`, { cause: err });
  }
}
