/**
 * The event values Tracee prints with protojson rather than by hand (hooked
 * syscalls and seq ops, the network, DNS and HTTP kinds): proto field names,
 * fields at their default omitted, 64-bit integers as strings, enums by name,
 * map keys sorted, and the whole re-compacted by Go's `encoding/json`. A
 * small schema per message drives both printing and reading.
 *
 * @internal
 * @module
 */
import { PacketDirection } from "../../gen/tracee/v1beta1/event_data.js";
import { protoString } from "./go-format.js";

/** @internal */
export type ScalarKind = "string" | "uint32" | "int32" | "int64";

/** How one field is written: a scalar, an enum, a message, a list or a string-keyed map of them. @internal */
export type FieldType =
  | ScalarKind
  | { readonly enum: Readonly<Record<number, string>> }
  | { readonly message: MessageSchema }
  | { readonly list: ScalarKind | MessageSchema }
  | { readonly map: MessageSchema };

/** @internal */
export interface FieldSchema {
  /** The field number. */
  readonly number: number;
  /** The proto field name, as protojson prints it with UseProtoNames. */
  readonly json: string;
  /** protojson's lowerCamelCase name, which it also reads. */
  readonly camel: string;
  /** The generated TypeScript member. */
  readonly member: string;
  readonly type: FieldType;
}

/** A message's fields in declaration order (protojson's print order). @internal */
export interface MessageSchema {
  readonly name: string;
  readonly fields: readonly FieldSchema[];
  /** Reading: every accepted key (proto and camel names) → its field. */
  readonly byKey: ReadonlyMap<string, FieldSchema>;
  /** Reading protobuf bytes: field number → its field. */
  readonly byNumber: ReadonlyMap<number, FieldSchema>;
  /** The same, as an array indexed by field number (the numbers are small), for the hot path. */
  readonly numbered: readonly (FieldSchema | undefined)[];
  /** A new message with every field at its default, the way ts-proto builds one. */
  readonly create: () => Obj;
}

const camelOf = (name: string) => name.replace(/_([a-z0-9])/g, (_, c: string) => c.toUpperCase());

/**
 * A message's schema from its fields in declaration order; a field is
 * numbered by its position unless it gives its number.
 */
function message(
  name: string,
  fields: readonly (readonly [json: string, member: string, type: FieldType, number?: number])[],
): MessageSchema {
  const list = fields.map(([json, member, type, number], i) => ({ number: number ?? i + 1, json, camel: camelOf(json), member, type }));
  const byKey = new Map<string, FieldSchema>();
  const byNumber = new Map<number, FieldSchema>();
  const numbered: (FieldSchema | undefined)[] = [];
  for (const f of list) {
    byKey.set(f.json, f).set(f.camel, f);
    byNumber.set(f.number, f);
    while (numbered.length <= f.number) numbered.push(undefined);
    numbered[f.number] = f;
  }
  return { name, fields: list, byKey, byNumber, numbered, create: factory(list) };
}

/** Builds messages with every field at its default: scalars copied from a template, fresh lists and maps. */
function factory(fields: readonly FieldSchema[]): () => Obj {
  const scalars: Obj = {};
  const lists: string[] = [];
  const maps: string[] = [];
  for (const field of fields) {
    const value = defaultOf(field.type);
    if (Array.isArray(value)) lists.push(field.member);
    else if (typeof value === "object" && value !== null) maps.push(field.member);
    scalars[field.member] = Array.isArray(value) || (typeof value === "object" && value !== null) ? undefined : value;
  }
  if (lists.length === 0 && maps.length === 0) return () => ({ ...scalars });
  return () => {
    const out: Obj = { ...scalars };
    for (let i = 0; i < lists.length; i++) out[lists[i] as string] = [];
    for (let i = 0; i < maps.length; i++) out[maps[i] as string] = {};
    return out;
  };
}

const packetDirections: Record<number, string> = {
  [PacketDirection.INVALID]: "INVALID",
  [PacketDirection.INGRESS]: "INGRESS",
  [PacketDirection.EGRESS]: "EGRESS",
};

const hookedSymbolData = message("HookedSymbolData", [
  ["symbol_name", "symbolName", "string"],
  ["module_owner", "moduleOwner", "string"],
]);
const dnsSoa = message("DNSSOA", [
  ["mname", "mname", "string"],
  ["rname", "rname", "string"],
  ["serial", "serial", "uint32"],
  ["refresh", "refresh", "uint32"],
  ["retry", "retry", "uint32"],
  ["expire", "expire", "uint32"],
  ["minimum", "minimum", "uint32"],
]);
const dnsSrv = message("DNSSRV", [
  ["priority", "priority", "uint32"],
  ["weight", "weight", "uint32"],
  ["port", "port", "uint32"],
  ["name", "name", "string"],
]);
const dnsMx = message("DNSMX", [
  ["Preference", "Preference", "uint32"],
  ["name", "name", "string"],
]);
const dnsUri = message("DNSURI", [
  ["priority", "priority", "uint32"],
  ["weight", "weight", "uint32"],
  ["target", "target", "string"],
]);
const dnsOpt = message("DNSOPT", [
  ["code", "code", "string"],
  ["data", "data", "string"],
]);
const dnsQuestion = message("DNSQuestion", [
  ["name", "name", "string"],
  ["type", "type", "string"],
  ["class", "class", "string"],
]);
const dnsResourceRecord = message("DNSResourceRecord", [
  ["name", "name", "string"],
  ["type", "type", "string"],
  ["class", "class", "string"],
  ["ttl", "ttl", "uint32"],
  ["ip", "ip", "string"],
  ["ns", "ns", "string"],
  ["cname", "cname", "string"],
  ["ptr", "ptr", "string"],
  ["txts", "txts", { list: "string" }],
  ["soa", "soa", { message: dnsSoa }],
  ["srv", "srv", { message: dnsSrv }],
  ["mx", "mx", { message: dnsMx }],
  ["opt", "opt", { list: dnsOpt }],
  ["uri", "uri", { message: dnsUri }],
  ["txt", "txt", "string"],
]);
const dnsQueryData = message("DnsQueryData", [
  ["query", "query", "string"],
  ["query_type", "queryType", "string"],
  ["query_class", "queryClass", "string"],
]);
const dnsAnswer = message("DnsAnswer", [
  ["type", "type", "string"],
  ["ttl", "ttl", "uint32"],
  ["answer", "answer", "string"],
]);
const dnsResponseData = message("DnsResponseData", [
  ["dns_query_data", "dnsQueryData", { message: dnsQueryData }],
  ["dns_answer", "dnsAnswer", { list: dnsAnswer }],
]);
const httpHeader = message("HttpHeader", [["header", "header", { list: "string" }]]);

/** The schema of each protojson-printed kind, keyed by the kind's JSON name. @internal */
export const PROTO_JSON_KINDS = {
  hooked_syscalls: message("HookedSyscalls", [["value", "value", { list: hookedSymbolData }]]),
  hooked_seq_ops: message("HookedSeqOps", [["value", "value", { map: hookedSymbolData }]]),
  ipv4: message("IPv4", [
    ["version", "version", "uint32"],
    ["ihl", "ihl", "uint32"],
    ["tos", "tos", "uint32"],
    ["length", "length", "uint32"],
    ["id", "id", "uint32"],
    ["flags", "flags", "uint32"],
    ["frag_offset", "fragOffset", "uint32"],
    ["ttl", "ttl", "uint32"],
    ["protocol", "protocol", "string"],
    ["checksum", "checksum", "uint32"],
    ["src_ip", "srcIp", "string"],
    ["dst_ip", "dstIp", "string"],
  ]),
  ipv6: message("IPv6", [
    ["version", "version", "uint32"],
    ["traffic_class", "trafficClass", "uint32"],
    ["flow_label", "flowLabel", "uint32"],
    ["length", "length", "uint32"],
    ["next_header", "nextHeader", "string"],
    ["hop_limit", "hopLimit", "uint32"],
    ["src_ip", "srcIp", "string"],
    ["dst_ip", "dstIp", "string"],
  ]),
  tcp: message("TCP", [
    ["src_port", "srcPort", "uint32"],
    ["dst_port", "dstPort", "uint32"],
    ["seq", "seq", "uint32"],
    ["ack", "ack", "uint32"],
    ["data_offset", "dataOffset", "uint32"],
    ["fin_flag", "finFlag", "uint32"],
    ["syn_flag", "synFlag", "uint32"],
    ["rst_flag", "rstFlag", "uint32"],
    ["psh_flag", "pshFlag", "uint32"],
    ["ack_flag", "ackFlag", "uint32"],
    ["urg_flag", "urgFlag", "uint32"],
    ["ece_flag", "eceFlag", "uint32"],
    ["cwr_flag", "cwrFlag", "uint32"],
    ["ns_flag", "nsFlag", "uint32"],
    ["window", "window", "uint32"],
    ["checksum", "checksum", "uint32"],
    ["urgent", "urgent", "uint32"],
  ]),
  udp: message("UDP", [
    ["src_port", "srcPort", "uint32"],
    ["dst_port", "dstPort", "uint32"],
    ["length", "length", "uint32"],
    ["checksum", "checksum", "uint32"],
  ]),
  icmp: message("ICMP", [
    ["type_code", "typeCode", "string"],
    ["checksum", "checksum", "uint32"],
    ["id", "id", "uint32"],
    ["seq", "seq", "uint32"],
  ]),
  icmpv6: message("ICMPv6", [
    ["type_code", "typeCode", "string"],
    ["checksum", "checksum", "uint32"],
  ]),
  dns: message("DNS", [
    ["id", "id", "uint32"],
    ["qr", "qr", "uint32"],
    ["op_code", "opCode", "string"],
    ["aa", "aa", "uint32"],
    ["tc", "tc", "uint32"],
    ["rd", "rd", "uint32"],
    ["ra", "ra", "uint32"],
    ["z", "z", "uint32"],
    ["response_code", "responseCode", "string"],
    ["qd_count", "qdCount", "uint32"],
    ["an_count", "anCount", "uint32"],
    ["ns_count", "nsCount", "uint32"],
    ["ar_count", "arCount", "uint32"],
    ["questions", "questions", { list: dnsQuestion }],
    ["answers", "answers", { list: dnsResourceRecord }],
    ["authorities", "authorities", { list: dnsResourceRecord }],
    ["additionals", "additionals", { list: dnsResourceRecord }],
  ]),
  dns_questions: message("DnsQuestions", [["questions", "questions", { list: dnsQueryData }]]),
  dns_responses: message("DnsResponses", [["responses", "responses", { list: dnsResponseData }]]),
  packet_metadata: message("PacketMetadata", [
    ["src_ip", "srcIp", "string"],
    ["dst_ip", "dstIp", "string"],
    ["src_port", "srcPort", "uint32"],
    ["dst_port", "dstPort", "uint32"],
    ["protocol", "protocol", "uint32"],
    ["packet_len", "packetLen", "uint32"],
    ["iface", "iface", "string"],
    ["direction", "direction", { enum: packetDirections }],
  ]),
  http: message("HTTP", [
    ["direction", "direction", "string"],
    ["method", "method", "string"],
    ["protocol", "protocol", "string"],
    ["host", "host", "string"],
    ["uri_path", "uriPath", "string"],
    ["status", "status", "string"],
    ["status_code", "statusCode", "int32"],
    ["headers", "headers", { map: httpHeader }],
    ["content_length", "contentLength", "int64"],
  ]),
  http_request: message("HTTPRequest", [
    ["method", "method", "string"],
    // Tracee's HTTPRequest has no field 2.
    ["protocol", "protocol", "string", 3],
    ["host", "host", "string", 4],
    ["uri_path", "uriPath", "string", 5],
    ["headers", "headers", { map: httpHeader }, 6],
    ["content_length", "contentLength", "int64", 7],
  ]),
  http_response: message("HTTPResponse", [
    ["status", "status", "string"],
    ["status_code", "statusCode", "int32"],
    ["protocol", "protocol", "string"],
    ["headers", "headers", { map: httpHeader }],
    ["content_length", "contentLength", "int64"],
  ]),
} as const;

/** A kind Tracee prints with protojson. @internal */
export type ProtoJsonKind = keyof typeof PROTO_JSON_KINDS;

type Obj = Record<string, unknown>;

const isScalarKind = (t: ScalarKind | MessageSchema): t is ScalarKind => typeof t === "string";

// ---------------------------------------------------------------- printing

/** Go compares strings by bytes: UTF-8 order, which differs from UTF-16 order only past U+D7FF. */
function byUtf8(a: string, b: string): number {
  if (a === b) return 0;
  return Buffer.compare(Buffer.from(a), Buffer.from(b));
}

function printScalar(kind: ScalarKind, value: unknown): string {
  switch (kind) {
    case "string":
      return protoString(value as string);
    case "int64":
      return `"${String(value)}"`;
    default:
      return String(value);
  }
}

/** protojson's text of `value`, a message of `schema`. @internal */
export function printProtoJson(schema: MessageSchema, value: Obj): string {
  let out = "{";
  let first = true;
  const emit = (key: string, text: string) => {
    out += `${first ? "" : ","}"${key}":${text}`;
    first = false;
  };
  for (const field of schema.fields) {
    const v = value[field.member];
    const type = field.type;
    if (v === undefined || v === null) continue;
    if (typeof type === "string") {
      if (v === "" || v === 0 || v === 0n) continue;
      emit(field.json, printScalar(type, v));
    } else if ("enum" in type) {
      if (v === 0) continue;
      const name = type.enum[v as number];
      emit(field.json, name === undefined ? String(v) : `"${name}"`);
    } else if ("message" in type) {
      emit(field.json, printProtoJson(type.message, v as Obj));
    } else if ("list" in type) {
      const items = v as unknown[];
      if (items.length === 0) continue;
      const item = type.list;
      emit(
        field.json,
        `[${items.map((x) => (isScalarKind(item) ? printScalar(item, x) : printProtoJson(item, x as Obj))).join(",")}]`,
      );
    } else {
      const entries = Object.keys(v as Obj);
      if (entries.length === 0) continue;
      entries.sort(byUtf8);
      emit(
        field.json,
        `{${entries.map((k) => `${protoString(k)}:${printProtoJson(type.map, (v as Obj)[k] as Obj)}`).join(",")}}`,
      );
    }
  }
  return `${out}}`;
}

// ---------------------------------------------------------------- reading

/** A problem reading protojson, with the path below the value that has it. @internal */
export class ProtoJsonError extends Error {
  constructor(
    readonly path: string,
    readonly reason: string,
  ) {
    super(reason);
  }
}

const isObject = (v: unknown): v is Obj => typeof v === "object" && v !== null && !Array.isArray(v);

function describe(v: unknown): string {
  if (v === null) return "null";
  if (Array.isArray(v)) return "an array";
  if (typeof v === "string") return `the string ${JSON.stringify(v.length > 40 ? `${v.slice(0, 40)}…` : v)}`;
  return typeof v === "object" ? "an object" : `${typeof v} ${String(v)}`;
}

function readInteger(v: unknown, min: number, max: number, what: string, path: string, key = ""): number {
  const n = typeof v === "string" && /^-?\d+$/.test(v) ? Number(v) : v;
  if (typeof n !== "number" || !Number.isInteger(n) || n < min || n > max) {
    throw new ProtoJsonError(joined(path, key), `expected ${what}, got ${describe(v)}`);
  }
  return n;
}

const joined = (path: string, key: string) => (key === "" ? path : `${path}.${key}`);

/** Reads a scalar at `path` + `key` (the key only joined into the path for an error). */
function readScalar(kind: ScalarKind, v: unknown, path: string, key = ""): unknown {
  switch (kind) {
    case "string":
      if (typeof v !== "string") throw new ProtoJsonError(joined(path, key), `expected a string, got ${describe(v)}`);
      return v;
    case "uint32":
      return readInteger(v, 0, 0xffffffff, "an unsigned 32-bit integer", path, key);
    case "int32":
      return readInteger(v, -0x80000000, 0x7fffffff, "a 32-bit integer", path, key);
    case "int64": {
      const text = typeof v === "number" && Number.isSafeInteger(v) ? String(v) : v;
      if (typeof text !== "string" || !/^-?\d+$/.test(text)) {
        throw new ProtoJsonError(joined(path, key), `expected a 64-bit integer (a decimal string), got ${describe(v)}`);
      }
      const n = BigInt(text);
      if (BigInt.asIntN(64, n) !== n) throw new ProtoJsonError(joined(path, key), `out of range for a 64-bit integer: ${text}`);
      return n;
    }
  }
}

/** Per schema: its scalar defaults (copied in one spread), and the members that need a fresh list or map. */
/** A new message of `schema` with every field at its default, the way ts-proto builds one. @internal */
export function base(schema: MessageSchema): Obj {
  return schema.create();
}

function defaultOf(type: FieldType): unknown {
  if (typeof type === "string") return type === "string" ? "" : type === "int64" ? 0n : 0;
  if ("enum" in type) return 0;
  if ("message" in type) return undefined;
  if ("list" in type) return [];
  return {};
}

/** Reads protojson `json` as a message of `schema`; unknown keys are skipped. @internal */
export function readProtoJson(schema: MessageSchema, json: unknown, path: string): Obj {
  if (!isObject(json)) throw new ProtoJsonError(path, `expected an object (${schema.name}), got ${describe(json)}`);
  const out = base(schema);
  for (const key in json) {
    const field = schema.byKey.get(key);
    if (field === undefined) continue;
    const v = json[key];
    if (v === null) continue; // protojson: null is the field's default
    const type = field.type;
    if (typeof type === "string") {
      out[field.member] = readScalar(type, v, path, key);
      continue;
    }
    const at = `${path}.${key}`;
    if ("enum" in type) {
      if (typeof v === "string") {
        const entry = Object.entries(type.enum).find(([, name]) => name === v);
        if (entry === undefined) throw new ProtoJsonError(at, `unknown enum value ${JSON.stringify(v)}`);
        out[field.member] = Number(entry[0]);
      } else {
        out[field.member] = readInteger(v, -0x80000000, 0x7fffffff, "an enum name or number", at);
      }
    } else if ("message" in type) {
      out[field.member] = readProtoJson(type.message, v, at);
    } else if ("list" in type) {
      if (!Array.isArray(v)) throw new ProtoJsonError(at, `expected an array, got ${describe(v)}`);
      const item = type.list;
      out[field.member] = v.map((x, i) =>
        isScalarKind(item) ? readScalar(item, x, `${at}[${i}]`) : readProtoJson(item, x, `${at}[${i}]`),
      );
    } else {
      if (!isObject(v)) throw new ProtoJsonError(at, `expected an object (a map), got ${describe(v)}`);
      const map: Obj = {};
      for (const k of Object.keys(v)) {
        Object.defineProperty(map, k, {
          value: readProtoJson(type.map, v[k], `${at}.${k}`),
          enumerable: true,
          writable: true,
          configurable: true,
        });
      }
      out[field.member] = map;
    }
  }
  return out;
}
