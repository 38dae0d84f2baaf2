/**
 * Legacy arguments (`{ name, type, value }`) to {@link EventValue}s and back.
 *
 * Tracee goes from one to the other in two steps: the legacy JSON reader
 * (`trace.Argument.UnmarshalJSON`, and before it the eBPF decoder) turns the
 * type name and JSON value into a Go value, and `pkg/events/conversion.go`
 * picks the EventValue kind from that Go value's type. This module does both
 * steps at once, with the same tables: the value's JSON shape comes first (a
 * string is a `str` whatever the type says, as in Tracee), the type name
 * decides what a number, array or object is.
 *
 * @internal
 * @module
 */
import type { JsonObject, JsonValue } from "type-fest";
import { type DnsQueryData, type DnsResponseData, PacketDirection } from "../../gen/tracee/v1beta1/event_data.js";
import { goFloat, parseRfc3339 } from "../json/go-format.js";
import {
  type Capability,
  type Credentials,
  type DNS,
  type EventValue,
  type EventValueKind,
  type HookedSeqOps,
  type HTTP,
  type HTTPRequest,
  type HTTPResponse,
  kindOf,
  SaFamily,
  type SockAddr,
} from "../model.js";
import { at, fail } from "./errors.js";
import type { LegacyArgument, LegacyJsonValue } from "./types.js";

type Obj = { [key: string]: LegacyJsonValue };
type HttpHeaders = HTTP["headers"];
type DnsRecord = DNS["answers"][number];

const isObj = (v: LegacyJsonValue | undefined): v is Obj =>
  typeof v === "object" && v !== null && !Array.isArray(v);

// ---------------------------------------------------------------------------
// Integers

/** An integer range, with how messages name it. */
interface IntRange {
  readonly min: bigint;
  readonly max: bigint;
  readonly what: string;
}
const signed = (bits: number): IntRange => ({
  min: -(1n << BigInt(bits - 1)),
  max: (1n << BigInt(bits - 1)) - 1n,
  what: `a ${bits}-bit integer`,
});
const unsigned = (bits: number): IntRange => ({
  min: 0n,
  max: (1n << BigInt(bits)) - 1n,
  what: `an unsigned ${bits}-bit integer`,
});
const INT8 = signed(8);
const INT16 = signed(16);
/** @internal */
export const INT32 = signed(32);
/** @internal */
export const INT64 = signed(64);
const UINT8 = unsigned(8);
const UINT16 = unsigned(16);
/** @internal */
export const UINT32 = unsigned(32);
/** @internal */
export const UINT64 = unsigned(64);

/** `v` as an exact integer, or `undefined` when it is not one (a fraction, `1e20`, not a number). @internal */
export function exactInteger(v: LegacyJsonValue | undefined): bigint | undefined {
  if (typeof v === "bigint") return v;
  if (typeof v === "number" && Number.isSafeInteger(v)) return BigInt(v);
  return undefined;
}

/** `v` as an integer within `range`; throws naming `path` otherwise. @internal */
export function integer(v: LegacyJsonValue | undefined, range: IntRange, path: string): bigint {
  const n = exactInteger(v);
  if (n === undefined || n < range.min || n > range.max) return fail(path, range.what, v);
  return n;
}

/** A 32-bit (or narrower) integer within `range`, as a number. */
const small = (v: LegacyJsonValue | undefined, range: IntRange, path: string): number =>
  Number(integer(v, range, path));

/** An integer as the legacy JSON holds it: a number when exact, else a bigint. @internal */
export const jsonInteger = (n: bigint): number | bigint =>
  n >= BigInt(Number.MIN_SAFE_INTEGER) && n <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(n) : n;

// ---------------------------------------------------------------------------
// Go's fmt.Sprint, for the places Tracee turns JSON values into strings

/**
 * `fmt.Sprint(v)` for a value Go decoded from JSON (or a signature set):
 * integers in decimal, other numbers as `%v` does (`1e+06`), `<nil>`,
 * `[a b]`, `map[k:v]` with sorted keys.
 *
 * @internal
 */
export function goSprint(v: LegacyJsonValue): string {
  if (v === null) return "<nil>";
  switch (typeof v) {
    case "string":
      return v;
    case "boolean":
      return v ? "true" : "false";
    case "bigint":
      return v.toString();
    case "number":
      return Number.isSafeInteger(v) ? String(v) : goFloat(v);
  }
  if (Array.isArray(v)) return `[${v.map(goSprint).join(" ")}]`;
  const keys = Object.keys(v).sort();
  return `map[${keys.map((k) => `${k}:${goSprint(v[k] ?? null)}`).join(" ")}]`;
}

// ---------------------------------------------------------------------------
// Type names

/** What a number means for a type name. */
type NumberRule =
  | { readonly kind: "int32" | "int64" | "u_int32" | "u_int64" | "pointer"; readonly range: IntRange }
  | { readonly kind: "timespec" };

function rules(entries: Array<[NumberRule, string[]]>): ReadonlyMap<string, NumberRule> {
  return new Map(entries.flatMap(([rule, names]) => names.map((n): [string, NumberRule] => [n, rule])));
}

/**
 * Numeric type names: the C names of older Tracee (its eBPF decoder and
 * `UnmarshalJSON` before v0.23), the Go names of newer versions, and the
 * names `getCType` gives signature findings' data.
 */
const NUMBER_TYPES = rules([
  [
    { kind: "int32", range: INT32 },
    [
      "int",
      "int32",
      "pid_t",
      "uid_t",
      "gid_t",
      "mqd_t",
      "clockid_t",
      "const clockid_t",
      "key_t",
      "key_serial_t",
      "timer_t",
      "landlock_rule_type",
    ],
  ],
  [{ kind: "int32", range: INT16 }, ["short", "int16"]],
  [{ kind: "int32", range: INT8 }, ["int8"]],
  [{ kind: "int64", range: INT64 }, ["long", "int64"]],
  [{ kind: "u_int32", range: UINT32 }, ["unsigned int", "u32", "uint32", "mode_t", "dev_t"]],
  [{ kind: "u_int32", range: UINT16 }, ["unsigned short", "u16", "uint16", "umode_t", "old_uid_t", "old_gid_t"]],
  [{ kind: "u_int32", range: UINT8 }, ["u8", "uint8"]],
  [{ kind: "u_int64", range: UINT64 }, ["unsigned long", "u64", "uint64", "off_t", "loff_t", "size_t", "time.Time"]],
  [{ kind: "pointer", range: UINT64 }, ["trace.Pointer"]],
  [{ kind: "timespec" }, ["float", "float64", "double", "struct timespec*", "const struct timespec*"]],
]);
const POINTER: NumberRule = { kind: "pointer", range: UINT64 };

const names = (...list: string[]): ReadonlySet<string> => new Set(list);
const STR_ARRAY_TYPES = names("const char*const*", "const char**", "const char **", "[]string");
const INT32_ARRAY_TYPES = names("int[2]", "[2]int", "[2]int32");
const UINT64_ARRAY_TYPES = names("unsigned long[]", "[]uint64");
const BYTES_TYPES = names("bytes", "[]byte", "[]uint8");
const SOCKADDR_TYPES = names("struct sockaddr*", "const struct sockaddr*", "SockAddr");
const CRED_TYPES = names("slim_cred_t", "trace.SlimCred");

/** The type name a kind gets on the way back to legacy JSON. */
const LEGACY_TYPE: { readonly [K in EventValueKind]: string } = {
  int32: "int",
  int64: "long",
  u_int32: "unsigned int",
  u_int64: "unsigned long",
  str: "const char*",
  bytes: "bytes",
  bool: "bool",
  str_array: "const char**",
  int32_array: "int[2]",
  u_int64_array: "unsigned long[]",
  sockaddr: "struct sockaddr*",
  credentials: "slim_cred_t",
  timespec: "struct timespec*",
  hooked_syscalls: "[]trace.HookedSymbolData",
  hooked_seq_ops: "map[string]trace.HookedSymbolData",
  ipv4: "trace.ProtoIPv4",
  ipv6: "trace.ProtoIPv6",
  tcp: "trace.ProtoTCP",
  udp: "trace.ProtoUDP",
  icmp: "trace.ProtoICMP",
  icmpv6: "trace.ProtoICMPv6",
  dns: "trace.ProtoDNS",
  dns_questions: "[]trace.DnsQueryData",
  dns_responses: "[]trace.DnsResponseData",
  packet_metadata: "trace.PktMeta",
  http: "trace.ProtoHTTP",
  http_request: "trace.ProtoHTTPRequest",
  http_response: "trace.ProtoHTTPResponse",
  struct: "unknown",
  pointer: "void*",
};

/** The name of the argument (newer versions) or data entry that carries a system call's return value. @internal */
export const RETURN_VALUE = "returnValue";

/** The type name of an argument without a value (`getCType`'s fallback). @internal */
export const UNKNOWN_TYPE = "unknown";

// ---------------------------------------------------------------------------
// Fields of Tracee's structs, read from JSON

/** A string field; absent or null is "", as Go decodes it. */
function str(o: Obj, key: string, path: string): string {
  const v = o[key];
  if (v === undefined || v === null) return "";
  return typeof v === "string" ? v : fail(at(path, key), "a string", v);
}

/** An integer field within `range`; absent or null is 0, as Go decodes it. */
function num(o: Obj, key: string, range: IntRange, path: string): number {
  const v = o[key];
  return v === undefined || v === null ? 0 : small(v, range, at(path, key));
}

function int64(o: Obj, key: string, path: string): bigint {
  const v = o[key];
  return v === undefined || v === null ? 0n : integer(v, INT64, at(path, key));
}

function obj(o: Obj, key: string, path: string): Obj {
  const v = o[key];
  if (v === undefined || v === null) return {};
  return isObj(v) ? v : fail(at(path, key), "an object", v);
}

function list<T>(o: Obj, key: string, path: string, item: (v: LegacyJsonValue, path: string) => T): T[] {
  const v = o[key];
  if (v === undefined || v === null) return [];
  if (!Array.isArray(v)) return fail(at(path, key), "an array", v);
  return v.map((x, i) => item(x, `${at(path, key)}[${i}]`));
}

function asObj(v: LegacyJsonValue, path: string): Obj {
  return isObj(v) ? v : fail(path, "an object", v);
}

function asString(v: LegacyJsonValue, path: string): string {
  return typeof v === "string" ? v : fail(path, "a string", v);
}

function headers(o: Obj, key: string, path: string): HttpHeaders {
  const h = obj(o, key, path);
  return Object.fromEntries(
    Object.entries(h).map(([name, values]) => {
      const p = `${at(path, key)}[${JSON.stringify(name)}]`;
      if (values === null) return [name, { header: [] }];
      if (!Array.isArray(values)) return fail(p, "an array of strings", values);
      return [name, { header: values.map((s, i) => asString(s, `${p}[${i}]`)) }];
    }),
  );
}

// ---------------------------------------------------------------------------
// Legacy argument → EventValue

/** Tracee's struct types, each read from its JSON into an EventValue member. */
const OBJECT_TYPES: ReadonlyMap<string, (o: Obj, path: string) => Omit<EventValue, "name">> = new Map<
  string,
  (o: Obj, path: string) => Omit<EventValue, "name">
>([
  [
    "trace.ProtoIPv4",
    (o, p) => ({
      ipv4: {
        version: num(o, "version", UINT8, p),
        ihl: num(o, "IHL", UINT8, p),
        tos: num(o, "TOS", UINT8, p),
        length: num(o, "length", UINT16, p),
        id: num(o, "id", UINT16, p),
        flags: num(o, "flags", UINT8, p),
        fragOffset: num(o, "fragOffset", UINT16, p),
        ttl: num(o, "TTL", UINT8, p),
        protocol: str(o, "protocol", p),
        checksum: num(o, "checksum", UINT16, p),
        srcIp: str(o, "srcIP", p),
        dstIp: str(o, "dstIP", p),
      },
    }),
  ],
  [
    "trace.ProtoIPv6",
    (o, p) => ({
      ipv6: {
        version: num(o, "version", UINT8, p),
        trafficClass: num(o, "trafficClass", UINT8, p),
        flowLabel: num(o, "flowLabel", UINT32, p),
        length: num(o, "length", UINT16, p),
        nextHeader: str(o, "nextHeader", p),
        hopLimit: num(o, "hopLimit", UINT8, p),
        srcIp: str(o, "srcIP", p),
        dstIp: str(o, "dstIP", p),
      },
    }),
  ],
  [
    "trace.ProtoTCP",
    (o, p) => ({
      tcp: {
        srcPort: num(o, "srcPort", UINT16, p),
        dstPort: num(o, "dstPort", UINT16, p),
        seq: num(o, "seq", UINT32, p),
        ack: num(o, "ack", UINT32, p),
        dataOffset: num(o, "dataOffset", UINT8, p),
        finFlag: num(o, "FIN", UINT8, p),
        synFlag: num(o, "SYN", UINT8, p),
        rstFlag: num(o, "RST", UINT8, p),
        pshFlag: num(o, "PSH", UINT8, p),
        ackFlag: num(o, "ACK", UINT8, p),
        urgFlag: num(o, "URG", UINT8, p),
        eceFlag: num(o, "ECE", UINT8, p),
        cwrFlag: num(o, "CWR", UINT8, p),
        nsFlag: num(o, "NS", UINT8, p),
        window: num(o, "window", UINT16, p),
        checksum: num(o, "checksum", UINT16, p),
        urgent: num(o, "urgent", UINT16, p),
      },
    }),
  ],
  [
    "trace.ProtoUDP",
    (o, p) => ({
      udp: {
        srcPort: num(o, "srcPort", UINT16, p),
        dstPort: num(o, "dstPort", UINT16, p),
        length: num(o, "length", UINT16, p),
        checksum: num(o, "checksum", UINT16, p),
      },
    }),
  ],
  [
    "trace.ProtoICMP",
    (o, p) => ({
      icmp: {
        typeCode: str(o, "typeCode", p),
        checksum: num(o, "checksum", UINT16, p),
        id: num(o, "id", UINT16, p),
        seq: num(o, "seq", UINT16, p),
      },
    }),
  ],
  [
    "trace.ProtoICMPv6",
    (o, p) => ({ icmpv6: { typeCode: str(o, "typeCode", p), checksum: num(o, "checksum", UINT16, p) } }),
  ],
  [
    "trace.ProtoDNS",
    (o, p) => ({
      dns: {
        id: num(o, "ID", UINT16, p),
        qr: num(o, "QR", UINT8, p),
        opCode: str(o, "opCode", p),
        aa: num(o, "AA", UINT8, p),
        tc: num(o, "TC", UINT8, p),
        rd: num(o, "RD", UINT8, p),
        ra: num(o, "RA", UINT8, p),
        z: num(o, "Z", UINT8, p),
        responseCode: str(o, "responseCode", p),
        qdCount: num(o, "QDCount", UINT16, p),
        anCount: num(o, "ANCount", UINT16, p),
        nsCount: num(o, "NSCount", UINT16, p),
        arCount: num(o, "ARCount", UINT16, p),
        questions: list(o, "questions", p, (q, qp) => {
          const x = asObj(q, qp);
          return { name: str(x, "name", qp), type: str(x, "type", qp), class: str(x, "class", qp) };
        }),
        answers: list(o, "answers", p, dnsRecord),
        authorities: list(o, "authorities", p, dnsRecord),
        additionals: list(o, "additionals", p, dnsRecord),
      },
    }),
  ],
  [
    "trace.PktMeta",
    (o, p) => ({
      packetMetadata: {
        srcIp: str(o, "src_ip", p),
        dstIp: str(o, "dst_ip", p),
        srcPort: num(o, "src_port", UINT16, p),
        dstPort: num(o, "dst_port", UINT16, p),
        protocol: num(o, "protocol", UINT8, p),
        packetLen: num(o, "packet_len", UINT32, p),
        iface: str(o, "iface", p),
        direction: PacketDirection.INVALID,
      },
    }),
  ],
  [
    // Tracee's conversion keeps only the direction, as a string.
    "trace.PacketMetadata",
    (o, p) => {
      const d = num(o, "direction", UINT8, p);
      return { str: d === 1 ? "ingress" : d === 2 ? "egress" : "unknown" };
    },
  ],
  [
    "trace.ProtoHTTP",
    (o, p) => ({
      http: {
        direction: str(o, "direction", p),
        method: str(o, "method", p),
        protocol: str(o, "protocol", p),
        host: str(o, "host", p),
        uriPath: str(o, "uri_path", p),
        status: str(o, "status", p),
        statusCode: num(o, "status_code", INT32, p),
        headers: headers(o, "headers", p),
        contentLength: int64(o, "content_length", p),
      },
    }),
  ],
  [
    "trace.ProtoHTTPRequest",
    (o, p) => ({
      httpRequest: {
        method: str(o, "method", p),
        protocol: str(o, "protocol", p),
        host: str(o, "host", p),
        uriPath: str(o, "uri_path", p),
        headers: headers(o, "headers", p),
        contentLength: int64(o, "content_length", p),
      },
    }),
  ],
  [
    "trace.ProtoHTTPResponse",
    (o, p) => ({
      httpResponse: {
        status: str(o, "status", p),
        statusCode: num(o, "status_code", INT32, p),
        protocol: str(o, "protocol", p),
        headers: headers(o, "headers", p),
        contentLength: int64(o, "content_length", p),
      },
    }),
  ],
  [
    "map[string]trace.HookedSymbolData",
    (o, p) => ({
      hookedSeqOps: {
        value: Object.fromEntries(
          Object.entries(o).map(([k, v]) => [k, hookedSymbol(v, `${p}[${JSON.stringify(k)}]`)]),
        ) as HookedSeqOps["value"],
      },
    }),
  ],
]);

function dnsRecord(v: LegacyJsonValue, p: string): DnsRecord {
  const o = asObj(v, p);
  const soa = obj(o, "SOA", p);
  const srv = obj(o, "SRV", p);
  const mx = obj(o, "MX", p);
  const uri = obj(o, "URI", p);
  return {
    name: str(o, "name", p),
    type: str(o, "type", p),
    class: str(o, "class", p),
    ttl: num(o, "TTL", UINT32, p),
    ip: str(o, "IP", p),
    ns: str(o, "NS", p),
    cname: str(o, "CNAME", p),
    ptr: str(o, "PTR", p),
    txts: list(o, "TXTs", p, asString),
    soa: {
      mname: str(soa, "MName", at(p, "SOA")),
      rname: str(soa, "RName", at(p, "SOA")),
      serial: num(soa, "serial", UINT32, at(p, "SOA")),
      refresh: num(soa, "refresh", UINT32, at(p, "SOA")),
      retry: num(soa, "retry", UINT32, at(p, "SOA")),
      expire: num(soa, "expire", UINT32, at(p, "SOA")),
      minimum: num(soa, "minimum", UINT32, at(p, "SOA")),
    },
    srv: {
      priority: num(srv, "priority", UINT16, at(p, "SRV")),
      weight: num(srv, "weight", UINT16, at(p, "SRV")),
      port: num(srv, "port", UINT16, at(p, "SRV")),
      name: str(srv, "name", at(p, "SRV")),
    },
    mx: { Preference: num(mx, "preference", UINT16, at(p, "MX")), name: str(mx, "name", at(p, "MX")) },
    opt: list(o, "OPT", p, (x, xp) => {
      const opt = asObj(x, xp);
      return { code: str(opt, "code", xp), data: str(opt, "data", xp) };
    }),
    uri: {
      priority: num(uri, "priority", UINT16, at(p, "URI")),
      weight: num(uri, "weight", UINT16, at(p, "URI")),
      target: str(uri, "target", at(p, "URI")),
    },
    txt: str(o, "TXT", p),
  };
}

function hookedSymbol(v: LegacyJsonValue, p: string): { symbolName: string; moduleOwner: string } {
  const o = asObj(v, p);
  return { symbolName: str(o, "SymbolName", p), moduleOwner: str(o, "ModuleOwner", p) };
}

function dnsQuery(v: LegacyJsonValue, p: string): DnsQueryData {
  const o = asObj(v, p);
  return { query: str(o, "query", p), queryType: str(o, "query_type", p), queryClass: str(o, "query_class", p) };
}

function dnsResponse(v: LegacyJsonValue, p: string): DnsResponseData {
  const o = asObj(v, p);
  return {
    dnsQueryData: dnsQuery(obj(o, "query_data", p), at(p, "query_data")),
    dnsAnswer: list(o, "dns_answer", p, (a, ap) => {
      const x = asObj(a, ap);
      return { type: str(x, "answer_type", ap), ttl: num(x, "ttl", UINT32, ap), answer: str(x, "answer", ap) };
    }),
  };
}

/** A port or id of a sockaddr: Tracee writes them as strings of digits. */
function sockaddrNumber(o: Obj, key: string, p: string): number {
  const v = o[key];
  if (v === undefined || v === null || v === "") return 0;
  if (typeof v === "string") {
    if (!/^\d+$/.test(v) || Number(v) > 0xffffffff) return fail(at(p, key), "an unsigned 32-bit integer", v);
    return Number(v);
  }
  return small(v, UINT32, at(p, key));
}

/**
 * A sockaddr (Tracee: a `map[string]string`) as `getSockaddr` reads it; a
 * family other than AF_INET, AF_INET6 and AF_UNIX gives an empty sockaddr,
 * as in Tracee.
 */
function sockaddr(o: Obj, p: string): SockAddr {
  const out: SockAddr = {
    saFamily: SaFamily.SA_FAMILY_T_UNSPEC,
    sunPath: "",
    sinAddr: "",
    sinPort: 0,
    sin6Addr: "",
    sin6Port: 0,
    sin6Flowinfo: 0,
    sin6Scopeid: 0,
  };
  const family = o["sa_family"];
  if (typeof family !== "string") return fail(at(p, "sa_family"), "an address family name (\"AF_INET\", …)", family);
  switch (family) {
    case "AF_INET":
      out.saFamily = SaFamily.AF_INET;
      out.sinPort = sockaddrNumber(o, "sin_port", p);
      out.sinAddr = str(o, "sin_addr", p);
      break;
    case "AF_INET6":
      out.saFamily = SaFamily.AF_INET6;
      out.sin6Port = sockaddrNumber(o, "sin6_port", p);
      out.sin6Flowinfo = sockaddrNumber(o, "sin6_flowinfo", p);
      out.sin6Scopeid = sockaddrNumber(o, "sin6_scopeid", p);
      out.sin6Addr = str(o, "sin6_addr", p);
      break;
    case "AF_UNIX":
      out.saFamily = SaFamily.AF_UNIX;
      out.sunPath = str(o, "sun_path", p);
      break;
  }
  return out;
}

/** An object of strings with a string `sa_family`: a sockaddr whatever its type name says. */
const looksLikeSockaddr = (o: Obj): boolean =>
  typeof o["sa_family"] === "string" && Object.values(o).every((v) => typeof v === "string");

/** Capability bit masks → capability lists (`getCaps`). */
function caps(o: Obj, key: string, p: string): Capability[] {
  const v = o[key];
  const mask = v === undefined || v === null ? 0n : integer(v, UINT64, at(p, key));
  const out: Capability[] = [];
  for (let i = 0; i < 64; i++) if ((mask >> BigInt(i)) & 1n) out.push(i as Capability);
  return out;
}

function credentials(o: Obj, p: string): Credentials {
  return {
    uid: num(o, "Uid", UINT32, p),
    gid: num(o, "Gid", UINT32, p),
    suid: num(o, "Suid", UINT32, p),
    sgid: num(o, "Sgid", UINT32, p),
    euid: num(o, "Euid", UINT32, p),
    egid: num(o, "Egid", UINT32, p),
    fsuid: num(o, "Fsuid", UINT32, p),
    fsgid: num(o, "Fsgid", UINT32, p),
    userNamespace: num(o, "UserNamespace", UINT32, p),
    secureBits: num(o, "SecureBits", UINT32, p),
    capInheritable: caps(o, "CapInheritable", p),
    capPermitted: caps(o, "CapPermitted", p),
    capEffective: caps(o, "CapEffective", p),
    capBounding: caps(o, "CapBounding", p),
    capAmbient: caps(o, "CapAmbient", p),
  };
}

/** A legacy JSON value as a `google.protobuf.Struct` value holds it: bigints become (rounded) numbers. */
function toJson(v: LegacyJsonValue): JsonValue {
  if (typeof v === "bigint") return Number(v);
  if (Array.isArray(v)) return v.map(toJson);
  if (isObj(v)) return toJsonObject(v);
  return v;
}

const toJsonObject = (o: Obj): JsonObject => Object.fromEntries(Object.entries(o).map(([k, v]) => [k, toJson(v)]));

function fromNull(name: string, type: string): EventValue {
  // Go writes a nil slice or map as null: the value had its kind all the same.
  if (STR_ARRAY_TYPES.has(type)) return { name, strArray: { value: [] } };
  if (INT32_ARRAY_TYPES.has(type)) return { name, int32Array: { value: [] } };
  if (UINT64_ARRAY_TYPES.has(type)) return { name, uInt64Array: { value: [] } };
  if (BYTES_TYPES.has(type)) return { name, bytes: Buffer.alloc(0) };
  switch (type) {
    case "[]trace.HookedSymbolData":
      return { name, hookedSyscalls: { value: [] } };
    case "map[string]trace.HookedSymbolData":
      return { name, hookedSeqOps: { value: {} } };
    case "[]trace.DnsQueryData":
      return { name, dnsQuestions: { questions: [] } };
    case "[]trace.DnsResponseData":
      return { name, dnsResponses: { responses: [] } };
  }
  return { name };
}

const BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;

function fromString(name: string, type: string, v: string, p: string): EventValue {
  if (BYTES_TYPES.has(type)) {
    // Go's encoding/json writes a []byte as standard base64.
    if (!BASE64.test(v)) return fail(p, `base64 bytes (the argument's type is ${JSON.stringify(type)})`, v);
    return { name, bytes: Buffer.from(v, "base64") };
  }
  if (type === "time.Time") {
    // encoding/json writes a time.Time as RFC 3339; Tracee converts it to nanoseconds.
    const ts = parseRfc3339(v);
    if (ts === undefined) return fail(p, "an RFC 3339 time (the argument's type is \"time.Time\")", v);
    return { name, uInt64: BigInt.asUintN(64, ts.seconds * 1_000_000_000n + BigInt(ts.nanos)) };
  }
  return { name, str: v };
}

function fromNumber(name: string, type: string, v: number | bigint, p: string): EventValue {
  const rule = NUMBER_TYPES.get(type) ?? (type.endsWith("*") ? POINTER : undefined);
  if (rule === undefined) {
    // A type name Tracee's reader does not know: decide by the value.
    const n = exactInteger(v);
    if (n === undefined) return { name, timespec: { value: Number(v) } };
    if (n >= INT64.min && n <= INT64.max) return { name, int64: n };
    return { name, uInt64: integer(n, UINT64, p) };
  }
  const of = ` for type ${JSON.stringify(type)}`;
  switch (rule.kind) {
    case "timespec":
      return { name, timespec: { value: Number(v) } };
    case "int32":
      return { name, int32: Number(integer(v, withWhat(rule.range, of), p)) };
    case "u_int32":
      return { name, uInt32: Number(integer(v, withWhat(rule.range, of), p)) };
    case "int64":
      return { name, int64: integer(v, withWhat(rule.range, of), p) };
    case "u_int64":
      return { name, uInt64: integer(v, withWhat(rule.range, of), p) };
    case "pointer":
      return { name, pointer: integer(v, { ...rule.range, what: `an address (0 to 2^64 − 1)${of}` }, p) };
  }
}

const withWhat = (range: IntRange, suffix: string): IntRange => ({ ...range, what: range.what + suffix });

function fromArray(name: string, type: string, v: LegacyJsonValue[], p: string): EventValue {
  const each = <T>(f: (x: LegacyJsonValue, p: string) => T): T[] => v.map((x, i) => f(x, `${p}[${i}]`));
  // Tracee's reader turns every element into a string with fmt.Sprint.
  if (STR_ARRAY_TYPES.has(type)) return { name, strArray: { value: v.map(goSprint) } };
  if (INT32_ARRAY_TYPES.has(type)) return { name, int32Array: { value: each((x, xp) => small(x, INT32, xp)) } };
  if (UINT64_ARRAY_TYPES.has(type)) return { name, uInt64Array: { value: each((x, xp) => integer(x, UINT64, xp)) } };
  switch (type) {
    case "[]trace.HookedSymbolData":
      return { name, hookedSyscalls: { value: each(hookedSymbol) } };
    case "[]trace.DnsQueryData":
      return { name, dnsQuestions: { questions: each(dnsQuery) } };
    case "[]trace.DnsResponseData":
      return { name, dnsResponses: { responses: each(dnsResponse) } };
  }
  // A type name Tracee's reader does not know: decide by the elements.
  if (v.every((x) => typeof x === "string")) return { name, strArray: { value: v } };
  if (v.every((x) => { const n = exactInteger(x); return n !== undefined && n >= 0n && n <= UINT64.max; })) {
    return { name, uInt64Array: { value: v.map((x) => exactInteger(x) ?? 0n) } };
  }
  // Tracee wraps lists of maps in a struct the same way.
  return { name, struct: { items: v.map(toJson) } };
}

function fromObject(name: string, type: string, v: Obj, p: string): EventValue {
  const read = OBJECT_TYPES.get(type);
  if (read !== undefined) return { name, ...read(v, p) };
  if (SOCKADDR_TYPES.has(type) || looksLikeSockaddr(v)) return { name, sockaddr: sockaddr(v, p) };
  if (CRED_TYPES.has(type)) return { name, credentials: credentials(v, p) };
  return { name, struct: toJsonObject(v) };
}

/**
 * One legacy argument as an {@link EventValue}. `path` locates the argument
 * (`args[2]`) in errors. An integer `returnValue` is an `int64` whatever its
 * type name. Throws a `LegacyEventJsonError` when the value does
 * not fit its type (a negative `unsigned int`, a `trace.ProtoTCP` whose
 * `srcPort` is a string, bytes that are not base64).
 *
 * @internal
 */
export function argToEventValue(arg: LegacyArgument, path: string): EventValue {
  const { name, type, value } = arg;
  const p = at(path, "value");
  // Newer versions list the return value among the arguments; Tracee's definitions type it int64.
  if (name === RETURN_VALUE && exactInteger(value) !== undefined) return { name, int64: integer(value, INT64, p) };
  if (value === null) return fromNull(name, type);
  switch (typeof value) {
    case "string":
      return fromString(name, type, value, p);
    case "boolean":
      return { name, bool: value };
    case "number":
    case "bigint":
      return fromNumber(name, type, value, p);
  }
  if (Array.isArray(value)) return fromArray(name, type, value, p);
  return fromObject(name, type, value, p);
}

// ---------------------------------------------------------------------------
// EventValue → legacy argument

const json = (n: number | bigint | undefined): number | bigint => jsonInteger(BigInt(n ?? 0));

function fromHeaders(h: HttpHeaders): Obj {
  return Object.fromEntries(Object.entries(h).map(([k, v]) => [k, [...(v?.header ?? [])]]));
}

function mask(list: readonly Capability[]): number | bigint {
  let m = 0n;
  for (const c of list) if (c >= 0 && c < 64) m |= 1n << BigInt(c);
  return jsonInteger(m);
}

const FAMILY_NAMES: ReadonlyMap<SaFamily, string> = new Map([
  [SaFamily.AF_UNIX, "AF_UNIX"],
  [SaFamily.AF_INET, "AF_INET"],
  [SaFamily.AF_INET6, "AF_INET6"],
]);

function toSockaddr(s: SockAddr): Obj {
  const family = FAMILY_NAMES.get(s.saFamily) ?? "AF_UNSPEC";
  switch (s.saFamily) {
    case SaFamily.AF_INET:
      return { sa_family: family, sin_port: String(s.sinPort), sin_addr: s.sinAddr };
    case SaFamily.AF_INET6:
      return {
        sa_family: family,
        sin6_port: String(s.sin6Port),
        sin6_flowinfo: String(s.sin6Flowinfo),
        sin6_scopeid: String(s.sin6Scopeid),
        sin6_addr: s.sin6Addr,
      };
    case SaFamily.AF_UNIX:
      return { sa_family: family, sun_path: s.sunPath };
    default:
      return { sa_family: family };
  }
}

function toDnsRecord(r: DnsRecord): Obj {
  return {
    name: r.name,
    type: r.type,
    class: r.class,
    TTL: r.ttl,
    IP: r.ip,
    NS: r.ns,
    CNAME: r.cname,
    PTR: r.ptr,
    TXTs: [...r.txts],
    SOA: {
      MName: r.soa?.mname ?? "",
      RName: r.soa?.rname ?? "",
      serial: r.soa?.serial ?? 0,
      refresh: r.soa?.refresh ?? 0,
      retry: r.soa?.retry ?? 0,
      expire: r.soa?.expire ?? 0,
      minimum: r.soa?.minimum ?? 0,
    },
    SRV: { priority: r.srv?.priority ?? 0, weight: r.srv?.weight ?? 0, port: r.srv?.port ?? 0, name: r.srv?.name ?? "" },
    MX: { preference: r.mx?.Preference ?? 0, name: r.mx?.name ?? "" },
    OPT: r.opt.map((o) => ({ code: o.code, data: o.data })),
    URI: { priority: r.uri?.priority ?? 0, weight: r.uri?.weight ?? 0, target: r.uri?.target ?? "" },
    TXT: r.txt,
  };
}

const toDnsQuery = (q: DnsQueryData | undefined): Obj => ({
  query: q?.query ?? "",
  query_type: q?.queryType ?? "",
  query_class: q?.queryClass ?? "",
});

/**
 * A double as the legacy readers hold it: an integer from 2^53 up to 10^21
 * prints as bare digits, which read back as a bigint of those digits, so it
 * is that bigint here too.
 */
const exactDouble = (d: number): number | bigint =>
  Number.isInteger(d) && !Number.isSafeInteger(d) && Math.abs(d) < 1e21 ? BigInt(String(d)) : d;

function fromJson(v: JsonValue | undefined): LegacyJsonValue {
  if (v === undefined) return null;
  if (typeof v === "number") return exactDouble(v);
  if (Array.isArray(v)) return v.map(fromJson);
  if (typeof v === "object" && v !== null) return fromJsonObject(v as JsonObject);
  return v as LegacyJsonValue;
}

const fromJsonObject = (o: JsonObject): Obj =>
  Object.fromEntries(
    Object.entries(o)
      .filter(([, v]) => v !== undefined)
      .map(([k, v]) => [k, fromJson(v)]),
  );

/** The legacy JSON value of one kind's member. */
function legacyValue(v: EventValue, kind: EventValueKind): LegacyJsonValue {
  switch (kind) {
    case "int32":
      return v.int32 ?? 0;
    case "int64":
      return json(v.int64);
    case "u_int32":
      return v.uInt32 ?? 0;
    case "u_int64":
      return json(v.uInt64);
    case "str":
      return v.str ?? "";
    case "bytes":
      return Buffer.from(v.bytes ?? []).toString("base64");
    case "bool":
      return v.bool ?? false;
    case "str_array":
      return [...(v.strArray?.value ?? [])];
    case "int32_array":
      return [...(v.int32Array?.value ?? [])];
    case "u_int64_array":
      return (v.uInt64Array?.value ?? []).map(json);
    case "sockaddr":
      return v.sockaddr === undefined ? null : toSockaddr(v.sockaddr);
    case "credentials": {
      const c = v.credentials;
      if (c === undefined) return null;
      return {
        Uid: c.uid ?? 0,
        Gid: c.gid ?? 0,
        Suid: c.suid ?? 0,
        Sgid: c.sgid ?? 0,
        Euid: c.euid ?? 0,
        Egid: c.egid ?? 0,
        Fsuid: c.fsuid ?? 0,
        Fsgid: c.fsgid ?? 0,
        UserNamespace: c.userNamespace ?? 0,
        SecureBits: c.secureBits ?? 0,
        CapInheritable: mask(c.capInheritable),
        CapPermitted: mask(c.capPermitted),
        CapEffective: mask(c.capEffective),
        CapBounding: mask(c.capBounding),
        CapAmbient: mask(c.capAmbient),
      };
    }
    case "timespec":
      return v.timespec?.value === undefined ? null : exactDouble(v.timespec.value);
    case "hooked_syscalls":
      return (v.hookedSyscalls?.value ?? []).map((s) => ({ SymbolName: s.symbolName, ModuleOwner: s.moduleOwner }));
    case "hooked_seq_ops":
      return Object.fromEntries(
        Object.entries(v.hookedSeqOps?.value ?? {}).map(([k, s]) => [
          k,
          { SymbolName: s?.symbolName ?? "", ModuleOwner: s?.moduleOwner ?? "" },
        ]),
      );
    case "ipv4": {
      const x = v.ipv4;
      if (x === undefined) return null;
      return {
        version: x.version,
        IHL: x.ihl,
        TOS: x.tos,
        length: x.length,
        id: x.id,
        flags: x.flags,
        fragOffset: x.fragOffset,
        TTL: x.ttl,
        protocol: x.protocol,
        checksum: x.checksum,
        srcIP: x.srcIp,
        dstIP: x.dstIp,
      };
    }
    case "ipv6": {
      const x = v.ipv6;
      if (x === undefined) return null;
      return {
        version: x.version,
        trafficClass: x.trafficClass,
        flowLabel: x.flowLabel,
        length: x.length,
        nextHeader: x.nextHeader,
        hopLimit: x.hopLimit,
        srcIP: x.srcIp,
        dstIP: x.dstIp,
      };
    }
    case "tcp": {
      const x = v.tcp;
      if (x === undefined) return null;
      return {
        srcPort: x.srcPort,
        dstPort: x.dstPort,
        seq: x.seq,
        ack: x.ack,
        dataOffset: x.dataOffset,
        FIN: x.finFlag,
        SYN: x.synFlag,
        RST: x.rstFlag,
        PSH: x.pshFlag,
        ACK: x.ackFlag,
        URG: x.urgFlag,
        ECE: x.eceFlag,
        CWR: x.cwrFlag,
        NS: x.nsFlag,
        window: x.window,
        checksum: x.checksum,
        urgent: x.urgent,
      };
    }
    case "udp": {
      const x = v.udp;
      if (x === undefined) return null;
      return { srcPort: x.srcPort, dstPort: x.dstPort, length: x.length, checksum: x.checksum };
    }
    case "icmp": {
      const x = v.icmp;
      if (x === undefined) return null;
      return { typeCode: x.typeCode, checksum: x.checksum, id: x.id, seq: x.seq };
    }
    case "icmpv6": {
      const x = v.icmpv6;
      if (x === undefined) return null;
      return { typeCode: x.typeCode, checksum: x.checksum };
    }
    case "dns": {
      const x = v.dns;
      if (x === undefined) return null;
      return {
        ID: x.id,
        QR: x.qr,
        opCode: x.opCode,
        AA: x.aa,
        TC: x.tc,
        RD: x.rd,
        RA: x.ra,
        Z: x.z,
        responseCode: x.responseCode,
        QDCount: x.qdCount,
        ANCount: x.anCount,
        NSCount: x.nsCount,
        ARCount: x.arCount,
        questions: x.questions.map((q) => ({ name: q.name, type: q.type, class: q.class })),
        answers: x.answers.map(toDnsRecord),
        authorities: x.authorities.map(toDnsRecord),
        additionals: x.additionals.map(toDnsRecord),
      };
    }
    case "dns_questions":
      return (v.dnsQuestions?.questions ?? []).map(toDnsQuery);
    case "dns_responses":
      return (v.dnsResponses?.responses ?? []).map((r) => ({
        query_data: toDnsQuery(r.dnsQueryData),
        dns_answer: r.dnsAnswer.map((a) => ({ answer_type: a.type, ttl: a.ttl, answer: a.answer })),
      }));
    case "packet_metadata": {
      const x = v.packetMetadata;
      if (x === undefined) return null;
      return {
        src_ip: x.srcIp,
        dst_ip: x.dstIp,
        src_port: x.srcPort,
        dst_port: x.dstPort,
        protocol: x.protocol,
        packet_len: x.packetLen,
        iface: x.iface,
      };
    }
    case "http": {
      const x: HTTP | undefined = v.http;
      if (x === undefined) return null;
      return {
        direction: x.direction,
        method: x.method,
        protocol: x.protocol,
        host: x.host,
        uri_path: x.uriPath,
        status: x.status,
        status_code: x.statusCode,
        headers: fromHeaders(x.headers),
        content_length: json(x.contentLength),
      };
    }
    case "http_request": {
      const x: HTTPRequest | undefined = v.httpRequest;
      if (x === undefined) return null;
      return {
        method: x.method,
        protocol: x.protocol,
        host: x.host,
        uri_path: x.uriPath,
        headers: fromHeaders(x.headers),
        content_length: json(x.contentLength),
      };
    }
    case "http_response": {
      const x: HTTPResponse | undefined = v.httpResponse;
      if (x === undefined) return null;
      return {
        status: x.status,
        status_code: x.statusCode,
        protocol: x.protocol,
        headers: fromHeaders(x.headers),
        content_length: json(x.contentLength),
      };
    }
    case "struct":
      return v.struct === undefined ? null : fromJsonObject(v.struct);
    case "pointer":
      return json(v.pointer);
  }
}

/**
 * One {@link EventValue} as a legacy argument: its kind's legacy type name
 * (`u_int64` → `"unsigned long"`, see {@link LEGACY_TYPE}) and its value as
 * the legacy JSON holds it. A value without a kind becomes `null` of type
 * `"unknown"`.
 *
 * @internal
 */
export function eventValueToArg(v: EventValue): LegacyArgument {
  const kind = kindOf(v);
  if (kind === undefined) return { name: v.name, type: UNKNOWN_TYPE, value: null };
  return { name: v.name, type: LEGACY_TYPE[kind], value: legacyValue(v, kind) };
}

export { LEGACY_TYPE };
